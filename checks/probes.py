"""Application facts probed from this machine: TLS protocol versions, the certificate, HTTP
answers and headers of every declared HTTP(S) service of a host. Only inventory addresses are
probed (the engine passes declared services only)."""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import warnings
from datetime import datetime, timezone
from typing import Any

from cryptography import x509

from provdc.proc import run_command

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
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = {"dns": san.get_values_for_type(x509.DNSName), "ip": [str(a) for a in san.get_values_for_type(x509.IPAddress)]}
    except x509.ExtensionNotFound:
        names = {"dns": [], "ip": []}
    return {"not_after": cert.not_valid_after_utc.isoformat(), "subject": cert.subject.rfc4514_string(), "san": names,
            "self_signed": cert.subject == cert.issuer, "key_bits": getattr(cert.public_key(), "key_size", 0),
            "negotiated": version}


# Cipher strings the probe offers, one class per handshake, TLS 1.0-1.2 only (TLS 1.3 suites are
# all strong). "@SECLEVEL=0": OpenSSL 3 (Debian's default security level 2) refuses to even
# offer NULL, anonymous, MD5 or static-RSA suites otherwise, and a suite the client cannot offer
# is one the probe can never see the server accept.
WEAK_OFFER = "eNULL:aNULL:EXPORT:RC4:DES:3DES:MD5:@SECLEVEL=0"
NON_FS_OFFER = "kRSA:kECDHr:kECDHe:kDHr:kDHd:!eNULL:!aNULL:!EXPORT:!RC4:!DES:!3DES:!MD5:@SECLEVEL=0"
MAX_SUITES = 8  # bounded enumeration: one handshake per accepted suite, each offer without the last


def _offer(ciphers: str) -> ssl.SSLContext | None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        ctx.set_ciphers(ciphers)
    except ssl.SSLError:  # this OpenSSL has none of them
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version, ctx.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2
    return ctx


def _negotiated(address: str, port: int, ctx: ssl.SSLContext, server_name: str | None, timeout: float) -> str | None:
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return (tls.cipher() or (None,))[0]
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):  # refused: by alert or by hanging up
        return None


def accepted_suites(address: str, port: int, offer: str, server_name: str | None, timeout: float) -> tuple[list[str], list[str]]:
    """The suites of `offer` this machine's OpenSSL can offer, and those the server accepts
    (TLS 1.2 and older): offer all, note the one chosen, offer again without it."""
    ctx = _offer(offer)
    if ctx is None:
        return [], []
    offered = [c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]
    accepted: list[str] = []
    while len(accepted) < MAX_SUITES:
        ctx = _offer(":".join([n for n in offered if n not in accepted]) + ":@SECLEVEL=0")
        suite = _negotiated(address, port, ctx, server_name, timeout) if ctx is not None else None
        if suite is None or suite in accepted:
            break
        accepted.append(suite)
    return offered, accepted


def cipher_facts(address: str, port: int, server_name: str | None, timeout: float) -> dict[str, Any]:
    """What the server negotiates: the weak and the non-forward-secret suites it accepts when
    offered only those, and the suite of a normal TLS 1.2 handshake."""
    weak_offered, weak = accepted_suites(address, port, WEAK_OFFER, server_name, timeout)
    nonfs_offered, non_fs = accepted_suites(address, port, NON_FS_OFFER, server_name, timeout)
    normal = _offer("DEFAULT")
    return {"weak_offered": len(weak_offered), "weak": weak, "non_fs_offered": len(nonfs_offered), "non_fs": non_fs,
            "tls12": _negotiated(address, port, normal, server_name, timeout) if normal is not None else None}


_DEPTH = re.compile(r"^depth=(\d+)\s+(.*)$")
_VERIFY_ERROR = re.compile(r"^verify error:num=(\d+):(.*)$")
_RETURN = re.compile(r"Verify return code: (\d+) \((.*)\)")


def parse_s_client(out: str) -> dict[str, Any]:
    """`openssl s_client` output: each verification error with the depth and subject of the
    certificate it is about (0 = the server's own), and the final verify code."""
    errors, depth, subject = [], None, ""
    for line in out.splitlines():
        if m := _DEPTH.match(line.strip()):
            depth, subject = int(m.group(1)), m.group(2).strip()
        elif m := _VERIFY_ERROR.match(line.strip()):
            error = {"depth": depth, "subject": subject, "code": int(m.group(1)), "reason": m.group(2).strip()}
            if error not in errors:
                errors.append(error)
    code = _RETURN.search(out)
    return {"verify_code": int(code.group(1)) if code else None, "verify_reason": code.group(2) if code else None,
            "errors": errors}


def chain_facts(address: str, port: int, server_name: str, cafile: str | None, timeout: float) -> dict[str, Any]:
    """The chain the server sends, verified by OpenSSL against `cafile` (the trust the inventory
    declares) or, without one, the system trust store. Never raises: an unreachable service or
    an unreadable CA file is an `error`."""
    trust = ["-CAfile", cafile, "-no-CApath", "-no-CAstore"] if cafile else []
    if cafile and not (os.path.isfile(cafile) and os.access(cafile, os.R_OK)):
        return {"trust": cafile, "error": f"CA file {cafile} is not a readable file"}
    r = run_command(["openssl", "s_client", "-connect", f"{address}:{port}", "-servername", server_name,
                     "-verify_depth", "10", *trust], input="", timeout=timeout + 2)
    parsed = parse_s_client(f"{r.stderr}\n{r.stdout}")  # the verify callback writes to stderr, the summary to stdout
    if r.returncode != 0 or parsed["verify_code"] is None:
        why = (r.stderr or r.stdout).strip().splitlines()
        return {"trust": cafile or "system", "error": f"no TLS handshake: {why[-1] if why else r.describe()}"}
    return {"trust": cafile or "system", **parsed}


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


def probe_service(address: str, port: int, tls: bool, path: str, timeout: float = 5.0,
                  hostname: str | None = None, cafile: str | None = None) -> dict[str, Any]:
    """Everything the application checks judge about one HTTP(S) service. `hostname` is the
    name the service is reached by (sent as SNI, matched against the certificate); `cafile`
    the trust the inventory declares for it (None: the system trust store)."""
    out: dict[str, Any] = {"target": f"{'https' if tls else 'http'}://{address}:{port}{path}", "tls": tls}
    if tls:
        out["old_protocols"] = [name for name, v in OLD_TLS.items() if tls_accepts(address, port, v, timeout)]
        out["certificate"] = certificate(address, port, timeout)
        out["ciphers"] = cipher_facts(address, port, hostname, timeout)
        out["chain"] = {**chain_facts(address, port, hostname or address, cafile, timeout), "hostname": hostname or address}
    out["home"] = http_get(address, port, tls, path, timeout)
    out["default_pages"] = {p: http_get(address, port, tls, p, timeout)["status"] for p in DEFAULT_PAGES}
    out["security_txt"] = security_txt(http_get(address, port, tls, "/.well-known/security.txt", timeout, body=True)) if tls else None
    out["probed_at"] = datetime.now(timezone.utc).isoformat()
    return out
