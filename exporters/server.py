"""`provdc exporter serve`: our collector over HTTP(S), with a landing page and optional basic auth.

A small threaded WSGI server from the standard library; `/metrics` is prometheus_client's own
WSGI app (content negotiation, gzip), `/` a landing page that escapes every inventory string.
"""

from __future__ import annotations

import base64
import hmac
import html
import ssl
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.core import CollectorRegistry

from provdc.inventory import Inventory


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = True  # server_close() waits for requests in flight: no socket left half-closed
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs when many Prometheus servers scrape at once,
    # and each drop costs the scraper a 1 s retransmission
    request_queue_size = 256


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per scrape would drown the log; errors still reach the response


def landing_page(inv: Inventory) -> bytes:
    name = html.escape(inv.province.name)
    rows = "".join(f"<li>{html.escape(s.id)}: {html.escape(s.name)} (cấp độ {s.level})</li>" for s in inv.doc.systems)
    return (f"<!doctype html><meta charset='utf-8'><title>provdc exporter — {name}</title>"
            f"<h1>provdc exporter</h1><p>{name}: {len(inv.doc.servers)} servers, {len(inv.doc.links)} links, "
            f"{len(inv.doc.agencies)} agencies.</p><p><a href='/metrics'>/metrics</a></p><ul>{rows}</ul>").encode()


def make_app(inv: Inventory, registry: CollectorRegistry, credentials: tuple[str, str] | None = None):
    metrics = make_wsgi_app(registry)
    page = landing_page(inv)

    def app(environ, start_response):
        if credentials and not _authorised(environ.get("HTTP_AUTHORIZATION", ""), credentials):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="provdc"'), ("Content-Type", "text/plain")])
            return [b"authentication required\n"]
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [page]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics\n"]

    return app


def _authorised(header: str, credentials: tuple[str, str]) -> bool:
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    # constant-time comparisons: the answer must not leak how much of a guess was right
    return hmac.compare_digest(user, credentials[0]) & hmac.compare_digest(password, credentials[1])


def serve(app, host: str, port: int, certfile: str | None = None, keyfile: str | None = None) -> _ThreadingServer:
    """Bind and return the server (call serve_forever on it)."""
    server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(certfile, keyfile)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server
