"""The TLS probes (checks/probes.py) against real TLS servers started here on loopback only, with
certificates made by `openssl` in tmp_path, and the checks' verdicts on what they recorded: a
server offering weak and static-RSA suites beside a good one, and chains that verify, are
self-signed, carry an expired intermediate or another host's name."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provdc.checks.engine import DEFAULT, _judge
from provdc.checks.probes import certificate, chain_facts, cipher_facts
from provdc.checks.results import Status
from provdc.inventory import load_inventory
from provdc.inventory.catalogue import bar_for

LOOPBACK = "127.0.0.1"
LAB = Path(__file__).resolve().parents[3] / "inventory/examples/lab"
LEVEL3 = bar_for([load_inventory(LAB).systems["portal"]])  # a level-3 system under Decree 85


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA, a leaf for `localhost` signed by it (RSA, so static-RSA suites can be served), a
    self-signed leaf, and a leaf under an intermediate that has expired."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=Test Root",
            "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", str(d / "leaf.key"),
            "-out", str(d / "leaf.csr"))
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(d / "leaf.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
            "-CAcreateserial", "-days", "30", "-extfile", str(d / "san.ext"), "-out", str(d / "leaf.pem"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", str(d / "self.key"),
            "-out", str(d / "self.pem"))
    _expired_intermediate(d)
    return d


def _expired_intermediate(d: Path) -> None:
    """openssl cannot date a certificate in the past: the expired intermediate is built with
    cryptography, signed by the same test root; the leaf under it is valid itself."""
    root_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), None)
    root = x509.load_pem_x509_certificate((d / "ca.pem").read_bytes())
    now = dt.datetime.now(dt.timezone.utc)

    def cert(subject, key, issuer, issuer_key, start, end, ca):
        b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    mid_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    mid = cert("Expired Intermediate", mid_key, root.subject, root_key, now - dt.timedelta(days=60),
               now - dt.timedelta(days=1), True)
    leaf = cert("localhost", leaf_key, mid.subject, mid_key, now - dt.timedelta(days=2), now + dt.timedelta(days=30), False)
    (d / "chained.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + mid.public_bytes(serialization.Encoding.PEM))
    (d / "chained.key").write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))


class Server:
    """A TLS server on loopback that completes handshakes and hangs up, until closed."""

    def __init__(self, cert: Path, key: Path, ciphers: str | None = None, max_tls12: bool = False) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        if ciphers:
            self.ctx.set_ciphers(ciphers)
        if max_tls12:
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.sock = socket.create_server((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(3)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the serving thread
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    servers = []

    def start(*args, **kwargs) -> Server:
        servers.append(Server(*args, **kwargs))
        return servers[-1]
    yield start
    for s in servers:
        s.close()


def web_fact(server: Server, hostname: str = "localhost", cafile: Path | None = None) -> dict:
    return {"target": f"https://{LOOPBACK}:{server.port}/", "tls": True,
            "certificate": certificate(LOOPBACK, server.port, 3),
            "ciphers": cipher_facts(LOOPBACK, server.port, hostname, 3),
            "chain": {**chain_facts(LOOPBACK, server.port, hostname, str(cafile) if cafile else None, 3), "hostname": hostname}}


def judge(check_id: str, fact: dict):
    return _judge(DEFAULT[check_id], {"web": [fact], "bar": LEVEL3.fresh()})


def test_weak_and_static_rsa_suites_are_seen_and_fail(pki, serve):
    # anonymous ECDH and static RSA beside a good suite; @SECLEVEL=0 so this OpenSSL serves them
    s = serve(pki / "leaf.pem", pki / "leaf.key", "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:AECDH-AES128-SHA:@SECLEVEL=0",
              max_tls12=True)
    fact = web_fact(s, cafile=pki / "ca.pem")
    assert "AECDH-AES128-SHA" in fact["ciphers"]["weak"]
    assert "AES128-SHA" in fact["ciphers"]["non_fs"]
    v = judge("tls_ciphers_strong", fact)
    assert v.status is Status.FAIL
    assert "weak AECDH-AES128-SHA" in v.found and "without forward secrecy AES128-SHA" in v.found


def test_a_modern_server_passes_both_checks(pki, serve):
    s = serve(pki / "leaf.pem", pki / "leaf.key", "ECDHE+AESGCM")
    fact = web_fact(s, cafile=pki / "ca.pem")
    assert fact["ciphers"]["weak"] == [] and fact["ciphers"]["non_fs"] == []
    assert fact["ciphers"]["tls12"].startswith("ECDHE-RSA-")
    assert judge("tls_ciphers_strong", fact).status is Status.PASS
    v = judge("tls_certificate_chain_valid", fact)
    assert v.status is Status.PASS, v.found


def test_self_signed_not_in_the_declared_trust_fails(pki, serve):
    s = serve(pki / "self.pem", pki / "self.key")
    v = judge("tls_certificate_chain_valid", web_fact(s, cafile=pki / "ca.pem"))
    assert v.status is Status.FAIL and "the server's certificate (CN = localhost): self-signed certificate" in v.found


def test_expired_intermediate_fails_naming_it(pki, serve):
    s = serve(pki / "chained.pem", pki / "chained.key")
    v = judge("tls_certificate_chain_valid", web_fact(s, cafile=pki / "ca.pem"))
    assert v.status is Status.FAIL
    assert "CA certificate at depth 1 (CN = Expired Intermediate): certificate has expired" in v.found


def test_wrong_name_fails(pki, serve):
    s = serve(pki / "leaf.pem", pki / "leaf.key")
    v = judge("tls_certificate_chain_valid", web_fact(s, hostname="portal.example.test", cafile=pki / "ca.pem"))
    assert v.status is Status.FAIL and "name portal.example.test not in subjectAltName (localhost, 127.0.0.1)" in v.found


def test_unreachable_service_and_missing_ca_file_are_errors(pki, tmp_path):
    with socket.socket() as unused:  # bound, never listening: connections to it are refused
        unused.bind((LOOPBACK, 0))
        port = unused.getsockname()[1]
        closed = {"chain": {**chain_facts(LOOPBACK, port, "localhost", str(pki / "ca.pem"), 3), "hostname": "localhost"},
                  "target": "x", "tls": True, "certificate": {"san": {"dns": ["localhost"], "ip": []}}}
    assert judge("tls_certificate_chain_valid", closed).status is Status.ERROR
    assert "no TLS handshake" in closed["chain"]["error"]
    missing = chain_facts(LOOPBACK, port, "localhost", str(tmp_path / "none.pem"), 3)
    assert "none.pem is not a readable file" in missing["error"]
