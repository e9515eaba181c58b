"""Application facts probed from this machine: TLS protocol versions, the certificate, HTTP
answers and headers of every declared HTTP(S) service of a host. Only inventory addresses are
probed (the engine passes declared services only)."""

from __future__ import annotations

import http.client
import socket
import ssl
import warnings
from datetime import datetime, timezone
from typing import Any

from cryptography import x509

OLD_TLS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1}
DEFAULT_PAGES = ("/server-status", "/phpinfo.php", "/.git/HEAD", "/admin/", "/manager/html")


def _context(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # we judge the certificate ourselves
    if version is not None:
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer what an old server would accept
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = version
    return ctx


def tls_accepts(address: str, port: int, version: ssl.TLSVersion, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw, _context(version).wrap_socket(raw):
            return True
    except (ssl.SSLError, OSError):
        return False


def certificate(address: str, port: int, timeout: float) -> dict[str, Any]:
    with socket.create_connection((address, port), timeout=timeout) as raw, _context().wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
        version = tls.version()
    cert = x509.load_der_x509_certificate(der)
    return {"not_after": cert.not_valid_after_utc.isoformat(), "subject": cert.subject.rfc4514_string(),
            "self_signed": cert.subject == cert.issuer, "key_bits": getattr(cert.public_key(), "key_size", 0),
            "negotiated": version}


def http_get(address: str, port: int, tls: bool, path: str, timeout: float, body: bool = False) -> dict[str, Any]:
    conn = (http.client.HTTPSConnection(address, port, timeout=timeout, context=_context()) if tls
            else http.client.HTTPConnection(address, port, timeout=timeout))
    try:
        conn.request("GET", path, headers={"Host": address, "User-Agent": "provdc-audit"})
        r = conn.getresponse()
        data = r.read(4096)
        out = {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()},
               "cookies": list(r.msg.get_all("set-cookie") or [])}  # every Set-Cookie, not only the last
        return {**out, "body": data.decode("utf-8", "replace")} if body else out
    finally:
        conn.close()


def security_txt(answer: dict[str, Any]) -> dict[str, Any]:
    """What /.well-known/security.txt says (RFC 9116): its status, whether it is plain text, its
    Contact fields and Expires. An application that answers every path with its home page
    answers 200 here too, with no Contact: that is no security.txt."""
    fields: dict[str, list[str]] = {}
    plain = answer["headers"].get("content-type", "").split(";")[0].strip().lower() == "text/plain"
    for line in answer.get("body", "").splitlines() if plain else []:
        key, sep, value = line.partition(":")
        if sep and not line.startswith("#") and key.strip():
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    return {"status": answer["status"], "plain_text": plain, "contact": fields.get("contact", []),
            "expires": (fields.get("expires") or [None])[0]}


def probe_service(address: str, port: int, tls: bool, path: str, timeout: float = 5.0) -> dict[str, Any]:
    """Everything the application checks judge about one HTTP(S) service."""
    out: dict[str, Any] = {"target": f"{'https' if tls else 'http'}://{address}:{port}{path}", "tls": tls}
    if tls:
        out["old_protocols"] = [name for name, v in OLD_TLS.items() if tls_accepts(address, port, v, timeout)]
        out["certificate"] = certificate(address, port, timeout)
    out["home"] = http_get(address, port, tls, path, timeout)
    out["default_pages"] = {p: http_get(address, port, tls, p, timeout)["status"] for p in DEFAULT_PAGES}
    out["security_txt"] = security_txt(http_get(address, port, tls, "/.well-known/security.txt", timeout, body=True)) if tls else None
    out["probed_at"] = datetime.now(timezone.utc).isoformat()
    return out
