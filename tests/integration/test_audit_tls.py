"""TLS suites and certificate chains on real lab web servers, judged by real handshakes from the
controller: the clean lab (every certificate issued by the lab CA the inventory declares as
`tls_ca`) passes; a weak suite, a self-signed certificate and a certificate for another name,
each planted in one host's own nginx files (and reloaded), fail saying which. Every test puts
the host's files back and reloads nginx, so none depends on another's order."""

from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from provdc.lab.hosts import lab_ca_path
from tests.integration.conftest import planted

pytestmark = pytest.mark.twin

CONF = "/etc/provdc-lab/nginx.conf"
TLS = "/etc/provdc-lab/tls"


def verdicts(lab, *hosts: str):
    run = run_audit(lab.inventory, Options(layers={"application"}, hosts=set(hosts)))
    return {(f.check, f.host): f for f in run.findings}


def reload(lab, host: str) -> None:
    r = lab.in_host(host, "nginx", "-c", CONF, "-s", "reload")
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)  # new workers take over


@contextmanager
def nginx_planted(lab, host: str):
    """The host's nginx.conf, certificate and key as they were, and nginx reloaded on them."""
    try:
        with planted(lab, {host: [CONF, f"{TLS}/cert.pem", f"{TLS}/key.pem"]}):
            yield
    finally:
        reload(lab, host)


def test_clean_lab_certificates_verify_against_the_declared_ca_and_suites_are_strong(lab):
    v = verdicts(lab, "portal-web1", "lgsp1")
    for host in ("portal-web1", "lgsp1"):
        chain = v[("tls_certificate_chain_valid", host)]
        assert chain.status is Status.PASS, chain.found
        assert str(lab_ca_path(lab.inventory)) in chain.found
        ciphers = v[("tls_ciphers_strong", host)]
        assert ciphers.status is Status.PASS, ciphers.found
        assert "ECDHE-ECDSA-" in ciphers.found


def test_weak_anonymous_suite_fails_naming_it(lab):
    with nginx_planted(lab, "mcdt-app1"):
        path = lab.host_path("mcdt-app1", CONF)
        path.write_text(path.read_text().replace(
            "http {", "http {\n  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:AECDH-AES128-SHA:@SECLEVEL=0;", 1))
        reload(lab, "mcdt-app1")
        v = verdicts(lab, "mcdt-app1", "portal-web1")
        weak = v[("tls_ciphers_strong", "mcdt-app1")]
        assert weak.status is Status.FAIL and "weak AECDH-AES128-SHA" in weak.found
        assert v[("tls_ciphers_strong", "portal-web1")].status is Status.PASS
    assert verdicts(lab, "mcdt-app1")[("tls_ciphers_strong", "mcdt-app1")].status is Status.PASS


def test_self_signed_and_wrong_name_certificates_fail_saying_which(lab):
    ca = lab_ca_path(lab.inventory)
    with nginx_planted(lab, "lgsp1"), nginx_planted(lab, "portal-web2"):
        # lgsp1: a self-signed certificate for its own name, not issued by the declared CA
        r = lab.in_host("lgsp1", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "90", "-subj", "/CN=lgsp1", "-addext", "subjectAltName=DNS:lgsp1",
                        "-keyout", f"{TLS}/key.pem", "-out", f"{TLS}/cert.pem")
        assert r.returncode == 0, r.stderr
        # portal-web2: issued by the lab CA, but for another host's name
        cert, key = lab.host_path("portal-web2", f"{TLS}/cert.pem"), lab.host_path("portal-web2", f"{TLS}/key.pem")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-subj", "/CN=mail1", "-keyout", str(key), "-out", str(cert.with_suffix(".csr"))],
                       check=True, capture_output=True)
        ext = cert.with_suffix(".ext")
        ext.write_text("subjectAltName=DNS:mail1\n")
        subprocess.run(["openssl", "x509", "-req", "-in", str(cert.with_suffix(".csr")), "-CA", str(ca),
                        "-CAkey", str(ca.with_suffix(".key")), "-set_serial", "4242", "-days", "90",
                        "-extfile", str(ext), "-out", str(cert)], check=True, capture_output=True)
        cert.with_suffix(".csr").unlink()
        ext.unlink()
        reload(lab, "lgsp1")
        reload(lab, "portal-web2")
        v = verdicts(lab, "lgsp1", "portal-web2", "portal-web1")
        untrusted = v[("tls_certificate_chain_valid", "lgsp1")]
        assert untrusted.status is Status.FAIL
        assert "the server's certificate (CN = lgsp1): self-signed certificate" in untrusted.found
        misnamed = v[("tls_certificate_chain_valid", "portal-web2")]
        assert misnamed.status is Status.FAIL
        assert "name portal-web2 not in subjectAltName (mail1)" in misnamed.found
        assert v[("tls_certificate_chain_valid", "portal-web1")].status is Status.PASS
    v = verdicts(lab, "lgsp1", "portal-web2")
    assert v[("tls_certificate_chain_valid", "lgsp1")].status is Status.PASS
    assert v[("tls_certificate_chain_valid", "portal-web2")].status is Status.PASS
