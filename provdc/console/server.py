"""Running the console: uvicorn over TLS (a certificate the operator gives, else a
self-signed one made once in STATE/console/tls/ for a first start on loopback)."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path

import uvicorn

from provdc.console.app import Config, create_app
from provdc.console.auth import ConsoleError
from provdc.proc import run_command


def self_signed(state: Path, host: str) -> tuple[Path, Path]:
    """STATE/console/tls/{cert,key}.pem, made with openssl the first time (valid for `host`)."""
    tls = state / "console" / "tls"
    cert, key = tls / "cert.pem", tls / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    tls.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        ipaddress.ip_address(host)
        san = f"IP:{host},DNS:localhost"
    except ValueError:
        san = f"DNS:{host}"
    result = run_command(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-days", "825", "-subj", "/CN=provdc-console", "-addext", f"subjectAltName={san}",
                          "-keyout", str(key), "-out", str(cert)], timeout=30)
    if result.returncode != 0:
        raise ConsoleError(f"openssl could not make a certificate: {result.stderr.strip()[:300]}")
    key.chmod(0o600)
    return cert, key


def server(config: Config, host: str, port: int, cert: Path | None, key: Path | None, tls: bool = True) -> uvicorn.Server:
    if tls and (cert is None or key is None):
        cert, key = self_signed(config.state, host)
    return uvicorn_server(create_app(config), host, port, (cert, key) if tls else None)


def uvicorn_server(app, host: str, port: int, tls: tuple[Path, Path] | None) -> uvicorn.Server:
    """uvicorn as the console runs under it: no Server header, no access log (the console keeps
    its own activity log), client addresses as the socket gives them (never a proxy's header)."""
    kwargs = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    uv = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                        server_header=False, proxy_headers=False, **kwargs)
    return uvicorn.Server(uv)


def serve_in_thread(srv: uvicorn.Server) -> threading.Thread:
    """For `provdc serve`: the console beside the service's own loop (uvicorn leaves signals alone off the main thread)."""
    thread = threading.Thread(target=srv.run, name="console", daemon=True)
    thread.start()
    return thread
