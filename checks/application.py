"""Application-layer checks (TCVN 11930 x.2.3), judged from probes of the declared HTTP(S)
services of each host. A host without web services is NOT_APPLICABLE."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from provdc.checks.registry import Verdict, check



def _web(web: list[dict], tls_only: bool = False) -> list[dict]:
    return [w for w in web if w["tls"] or not tls_only]


@check(layer="application", level=3, severity="high", title="TLS 1.0 and 1.1 are refused",
       rationale="Communications carrying important data must be confidential (TCVN 11930 7.2.3.4): only TLS 1.2+.",
       remediation="Set 'ssl_protocols TLSv1.2 TLSv1.3;' (nginx) or the server's equivalent.",
       tags=(), facts=("web",))
def tls_protocols_modern(web: list[dict]) -> Verdict:
    services = _web(web, tls_only=True)
    if not services:
        return Verdict.not_applicable("no TLS service declared")
    old = [f"{w['target']} accepts {', '.join(w['old_protocols'])}" for w in services if w["old_protocols"]]
    return Verdict.failed("TLS 1.2 or newer only", "; ".join(old)) if old else Verdict.passed(f"{len(services)} TLS services, 1.2+ only")


@check(layer="application", level=3, severity="high", title="certificates stay valid for the renewal margin",
       rationale="An expired certificate breaks confidentiality or trains users to click through warnings (7.2.3.4).",
       remediation="Renew the certificate before the renewal margin (30 days); automate renewal.",
       tags=(), facts=("web", "now", "bar"))
def tls_certificate_not_expiring(web: list[dict], now: datetime, bar) -> Verdict:
    services = _web(web, tls_only=True)
    if not services:
        return Verdict.not_applicable("no TLS service declared")
    margin = timedelta(days=bar["tls_certificate_min_days"])
    short = [f"{w['target']} until {w['certificate']['not_after'][:10]}" for w in services
             if datetime.fromisoformat(w["certificate"]["not_after"]) - now < margin]
    return Verdict.failed(f"valid for {margin.days} days or more", "; ".join(short)) if short else \
        Verdict.passed(f"earliest expiry {min(w['certificate']['not_after'][:10] for w in services)}")


@check(layer="application", level=1, severity="high", title="TLS cipher suites are strong",
       rationale="A weak suite (NULL, anonymous, EXPORT, RC4, DES/3DES, MD5) lets traffic be read or forged; from "
                 "the level the catalogue sets, a suite without forward secrecy lets one stolen key decrypt "
                 "everything recorded (7.2.3.4).",
       remediation="Set 'ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM; ssl_prefer_server_ciphers on;' (nginx) "
                   "or the server's equivalent.",
       tags=(), facts=("web", "bar"))
def tls_ciphers_strong(web: list[dict], bar) -> Verdict:
    services = _web(web, tls_only=True)
    if not services:
        return Verdict.not_applicable("no TLS service declared")
    fs = bool(bar.get("tls_forward_secrecy_required"))
    bad = []
    for w in services:
        c = w["ciphers"]
        if c["weak"]:
            bad.append(f"{w['target']} accepts weak {', '.join(c['weak'])}")
        if fs and (non_fs := [s for s in [*c["non_fs"], c["tls12"]] if s and not forward_secret(s)]):
            bad.append(f"{w['target']} accepts without forward secrecy {', '.join(dict.fromkeys(non_fs))}")
    expected = "no weak suite" + (f"; ECDHE/DHE only for TLS 1.2 ({bar.why('tls_forward_secrecy_required')})" if fs else "")
    if bad:
        return Verdict.failed(expected, "; ".join(bad))
    normal = sorted({w["ciphers"]["tls12"] or "no suite (TLS 1.3 only)" for w in services})
    return Verdict.passed(f"{len(services)} TLS services refuse weak suites{', forward secret' if fs else ''}; "
                          f"TLS 1.2 negotiates {', '.join(normal)}")


def forward_secret(suite: str) -> bool:
    """An OpenSSL suite name with an ephemeral key exchange (TLS 1.3 suites always are)."""
    return suite.startswith(("TLS_", "ECDHE-", "DHE-", "EDH-"))


@check(layer="application", level=1, severity="high", title="certificate chains verify and match the host name",
       rationale="Only a chain to a trusted CA for the name users type proves the server is the province's "
                 "(7.2.3.4): a self-signed, badly chained, expired or misnamed certificate trains users to click "
                 "through warnings and admits an impostor.",
       remediation="Serve the full chain (certificate then intermediates) issued by the CA the inventory declares "
                   "(tls_ca) or a public CA, with the server's hostname in subjectAltName.",
       tags=(), facts=("web",))
def tls_certificate_chain_valid(web: list[dict]) -> Verdict:
    services = _web(web, tls_only=True)
    if not services:
        return Verdict.not_applicable("no TLS service declared")
    errors = [f"{w['target']}: {w['chain']['error']}" for w in services if w["chain"].get("error")]
    if errors:
        return Verdict.error("; ".join(errors))
    bad = []
    for w in services:
        chain, name = w["chain"], w["chain"]["hostname"]
        problems = [chain_problem(e) for e in chain["errors"]] or \
            ([f"verify code {chain['verify_code']} ({chain['verify_reason']})"] if chain["verify_code"] else [])
        if not name_matches(name, w["certificate"]["san"]):
            san = w["certificate"]["san"]
            problems.append(f"name {name} not in subjectAltName ({', '.join(san['dns'] + san['ip']) or 'none'})")
        if problems:
            bad.append(f"{w['target']} (trust: {chain['trust']}): {'; '.join(problems)}")
    trusts = sorted({w["chain"]["trust"] for w in services})
    return Verdict.failed("a chain to the declared trust, the host name in subjectAltName", "; ".join(bad)) if bad else \
        Verdict.passed(f"{len(services)} TLS services verify against {', '.join(trusts)} and match their names")


def chain_problem(error: dict) -> str:
    """One OpenSSL verification error, said of the certificate it is about."""
    depth = error["depth"]
    which = "the server's certificate" if depth == 0 else f"the CA certificate at depth {depth}" if depth else "a certificate"
    return f"{which} ({error['subject']}): {error['reason']}"


def name_matches(name: str, san: dict) -> bool:
    """RFC 6125: `name` equals a DNS name of the certificate (case-insensitive) or matches a
    wildcard in its leftmost label only; an address matches an IP entry. The subject CN is not read."""
    name = name.lower().rstrip(".")
    if name in san["ip"]:
        return True
    for dns in (d.lower().rstrip(".") for d in san["dns"]):
        if dns == name:
            return True
        if dns.startswith("*.") and "." in name and name.split(".", 1)[1] == dns[2:] and dns.count(".") >= 2:
            return True
    return False


@check(layer="application", level=3, severity="medium", title="plain HTTP redirects to HTTPS",
       rationale="Logins and data must not travel in clear; the HTTP port should only redirect (7.2.3.4).",
       remediation="Answer every plain-HTTP request with a 301 to the https:// URL.",
       tags=(), facts=("web",))
def http_redirects_to_https(web: list[dict]) -> Verdict:
    plain = [w for w in web if not w["tls"]]
    if not plain or not any(w["tls"] for w in web):
        return Verdict.not_applicable("no plain HTTP service beside an HTTPS one")
    bad = [f"{w['target']} answers {w['home']['status']}" for w in plain
           if not (w["home"]["status"] in (301, 302, 307, 308) and w["home"]["headers"].get("location", "").startswith("https://"))]
    return Verdict.failed("301/308 to https://", "; ".join(bad)) if bad else Verdict.passed("redirects to HTTPS")


@check(layer="application", level=2, severity="medium", title="HTTPS responses carry security headers",
       rationale="HSTS, nosniff and framing protection resist downgrade, MIME confusion and clickjacking (7.2.3.6).",
       remediation="Add Strict-Transport-Security, X-Content-Type-Options: nosniff and X-Frame-Options (or CSP frame-ancestors).",
       tags=(), facts=("web",))
def security_headers_present(web: list[dict]) -> Verdict:
    services = _web(web, tls_only=True)
    if not services:
        return Verdict.not_applicable("no HTTPS service declared")
    missing = []
    for w in services:
        h = w["home"]["headers"]
        lacks = [name for name, ok in (("strict-transport-security", "strict-transport-security" in h),
                                       ("x-content-type-options", h.get("x-content-type-options", "").lower() == "nosniff"),
                                       ("x-frame-options or csp", "x-frame-options" in h or "frame-ancestors" in h.get("content-security-policy", "")))
                 if not ok]
        if lacks:
            missing.append(f"{w['target']} lacks {', '.join(lacks)}")
    return Verdict.failed("HSTS, nosniff, framing protection", "; ".join(missing)) if missing else Verdict.passed("all present")


@check(layer="application", level=2, severity="low", title="server banners do not reveal versions",
       rationale="Version banners tell an attacker which vulnerabilities to try (7.2.3.6).",
       remediation="Set 'server_tokens off;' (nginx) or the server's equivalent; remove X-Powered-By.",
       tags=(), facts=("web",))
def server_banner_hides_version(web: list[dict]) -> Verdict:
    if not web:
        return Verdict.not_applicable("no HTTP service declared")
    leaks = sorted({f"{k}: {v}" for w in web for k, v in w["home"]["headers"].items()
                    if k in ("server", "x-powered-by") and re.search(r"\d", v)})
    return Verdict.failed("no version in Server or X-Powered-By", "; ".join(leaks)) if leaks else Verdict.passed("no version shown")


@check(layer="application", level=2, severity="medium", title="no default, status or admin pages are exposed",
       rationale="Default and test pages leak configuration; admin pages belong to the management zone (7.2.3.2, 7.2.3.6).",
       remediation="Remove default/status pages; serve admin interfaces only to the management zone.",
       tags=(), facts=("web",))
def no_default_pages_exposed(web: list[dict]) -> Verdict:
    if not web:
        return Verdict.not_applicable("no HTTP service declared")
    exposed = [f"{w['target'].rstrip('/')}{page} -> {code}" for w in web if not (not w["tls"] and any(x["tls"] for x in web))
               for page, code in w["default_pages"].items() if 200 <= code < 300]
    return Verdict.failed("404 or 403 for default pages", "; ".join(exposed)) if exposed else Verdict.passed("none answered")


@check(layer="application", level=2, severity="medium", title="cookies of HTTPS applications are Secure and HttpOnly",
       rationale="A session cookie sent without Secure leaks over HTTP; one readable by scripts is stolen by XSS (session "
                 "management, TCVN 11930 7.2.3).",
       remediation="Set the Secure and HttpOnly attributes (and SameSite) on every cookie the application sets over HTTPS.",
       facts=("web",))
def cookies_secure_httponly(web: list[dict]) -> Verdict:
    https = [w for w in web if w["tls"]]
    if not https:
        return Verdict.not_applicable("no HTTPS service declared")
    weak = []
    for w in https:
        for cookie in w["home"].get("cookies", []):
            attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
            missing = [a for a in ("secure", "httponly") if a not in attrs]
            if missing:
                weak.append(f"{w['target']}: {cookie.split('=')[0]} without {', '.join(missing)}")
    found = f"{sum(len(w['home'].get('cookies', [])) for w in https)} cookies on {len(https)} HTTPS services"
    return Verdict.failed("Secure and HttpOnly on every cookie", "; ".join(weak)) if weak else Verdict.passed(found)


@check(layer="application", level=3, severity="low", title="HTTPS applications publish a vulnerability-reporting contact (security.txt)",
       rationale="A reporting channel lets finders tell the province before they tell anyone else (RFC 9116; TCVN 14423).",
       remediation="Publish /.well-known/security.txt (text/plain) with Contact and a future Expires on every HTTPS application.",
       facts=("web", "now"))
def security_txt_published(web: list[dict], now: datetime) -> Verdict:
    https = [w for w in web if w["tls"]]
    if not https:
        return Verdict.not_applicable("no HTTPS service declared")
    missing = []
    for w in https:
        txt = w.get("security_txt") or {}
        if txt.get("status") != 200:
            missing.append(f"{w['target']} -> {txt.get('status')}")
        elif not txt.get("plain_text") or not txt.get("contact"):
            missing.append(f"{w['target']} answers 200 without a Contact field in text/plain")
        elif not _future(txt.get("expires"), now):
            missing.append(f"{w['target']} Expires {txt.get('expires') or 'missing'}")
    return Verdict.failed("/.well-known/security.txt: 200, text/plain, Contact and a future Expires", "; ".join(missing)) \
        if missing else Verdict.passed(f"{len(https)} services publish it")


def _future(expires: str | None, now: datetime) -> bool:
    try:
        return expires is not None and datetime.fromisoformat(expires.replace("Z", "+00:00")) > now
    except ValueError:
        return False
