"""Application checks on real lab web servers: nginx reconfigured inside one host's own view
(and reloaded) turns each check from its default verdict to the opposite one."""

from __future__ import annotations

import time

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status

pytestmark = pytest.mark.twin

CONF = "/etc/provdc-lab/nginx.conf"


def verdicts(lab, hosts):
    run = run_audit(lab.inventory, Options(layers={"application"}, hosts=set(hosts)))
    return {(f.check, f.host): f for f in run.findings}


def reconfigure(lab, host: str, edit) -> None:
    path = lab.host_path(host, CONF)
    path.write_text(edit(path.read_text()))
    r = lab.in_host(host, "nginx", "-c", CONF, "-s", "reload")
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)  # new workers take over


@pytest.fixture
def restore(lab):
    saved = {}

    def keep(host):
        saved[host] = lab.host_path(host, CONF).read_text()
        if lab.host_path(host, "/etc/provdc-lab/tls/cert.pem").exists():
            saved[(host, "cert")] = lab.host_path(host, "/etc/provdc-lab/tls/cert.pem").read_bytes()
            saved[(host, "key")] = lab.host_path(host, "/etc/provdc-lab/tls/key.pem").read_bytes()
    yield keep
    for key, value in saved.items():
        if isinstance(key, tuple):
            lab.host_path(key[0], f"/etc/provdc-lab/tls/{key[1]}.pem").write_bytes(value)
    for host, text in saved.items():
        if isinstance(host, str):
            lab.host_path(host, CONF).write_text(text)
            lab.in_host(host, "nginx", "-c", CONF, "-s", "reload")


def test_defaults_of_a_clean_nginx(lab):
    v = verdicts(lab, {"portal-web1"})
    assert v[("tls_protocols_modern", "portal-web1")].status is Status.PASS
    assert v[("tls_certificate_not_expiring", "portal-web1")].status is Status.PASS
    assert v[("http_redirects_to_https", "portal-web1")].status is Status.PASS
    assert v[("no_default_pages_exposed", "portal-web1")].status is Status.PASS
    assert v[("security_headers_present", "portal-web1")].status is Status.FAIL     # nginx adds none by default
    assert v[("server_banner_hides_version", "portal-web1")].status is Status.FAIL  # "nginx/1.22.1"
    assert v[("tls_protocols_modern", "db1")].status is Status.NOT_APPLICABLE if ("tls_protocols_modern", "db1") in v else True


def test_hardened_headers_and_banner_pass(lab, restore):
    restore("portal-web2")
    reconfigure(lab, "portal-web2", lambda t: t.replace("http {", "http {\n  server_tokens off;\n  add_header Strict-Transport-Security "
                                                        "\"max-age=31536000\" always;\n  add_header X-Content-Type-Options nosniff always;\n"
                                                        "  add_header X-Frame-Options DENY always;", 1))
    v = verdicts(lab, {"portal-web2", "portal-web1"})
    assert v[("security_headers_present", "portal-web2")].status is Status.PASS
    assert v[("server_banner_hides_version", "portal-web2")].status is Status.PASS
    assert v[("security_headers_present", "portal-web1")].status is Status.FAIL


def test_old_tls_plain_http_and_default_pages_fail(lab, restore):
    restore("mcdt-app1")
    restore("portal-web2")
    reconfigure(lab, "mcdt-app1", lambda t: t.replace("http {", "http {\n  ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n"
                                                      "  ssl_ciphers ALL:@SECLEVEL=0;", 1)
                .replace("location / { return 404; }", "location = /server-status { return 200 'Active connections: 1'; } location / { return 404; }"))
    reconfigure(lab, "portal-web2", lambda t: t.replace("return 301 https://$host$request_uri;", "return 200 'plain';"))
    v = verdicts(lab, {"mcdt-app1", "portal-web2"})
    assert v[("tls_protocols_modern", "mcdt-app1")].status is Status.FAIL
    assert "TLSv1" in v[("tls_protocols_modern", "mcdt-app1")].found
    assert v[("no_default_pages_exposed", "mcdt-app1")].status is Status.FAIL
    assert v[("http_redirects_to_https", "portal-web2")].status is Status.FAIL


def test_certificate_close_to_expiry_fails(lab, restore):
    restore("lgsp1")
    tls = "/etc/provdc-lab/tls"
    r = lab.in_host("lgsp1", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "10", "-subj", "/CN=lgsp1", "-keyout", f"{tls}/key.pem", "-out", f"{tls}/cert.pem")
    assert r.returncode == 0, r.stderr
    reconfigure(lab, "lgsp1", lambda t: t)
    v = verdicts(lab, {"lgsp1", "portal-web1"})
    assert v[("tls_certificate_not_expiring", "lgsp1")].status is Status.FAIL
    assert v[("tls_certificate_not_expiring", "portal-web1")].status is Status.PASS
