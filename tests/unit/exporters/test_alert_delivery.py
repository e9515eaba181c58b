"""The generated Alertmanager configuration delivers: a real Alertmanager on loopback e-mails an
alert, routed by its owner agency, to a real SMTP sink that demands STARTTLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest

from provdc.exporters import alerting
from provdc.inventory import load_inventory
from tests.conftest import LAB_INVENTORY

pytestmark = pytest.mark.skipif(shutil.which("prometheus-alertmanager") is None, reason="Alertmanager not installed")
controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def test_a_page_for_ubnd_tinh_reaches_its_receiver_over_starttls(tmp_path):
    cert, key = tmp_path / "sink.pem", tmp_path / "sink.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    (tmp_path / "pw").write_text("sink-pa55word\n")  # as `echo` writes it
    smtp_port, am_port = _free_port(), _free_port()
    inv_dir = tmp_path / "inventory"
    shutil.copytree(LAB_INVENTORY, inv_dir)
    text = (inv_dir / "alerting.yaml").read_text().replace("127.0.0.1:32525", f"127.0.0.1:{smtp_port}")
    text = text.replace("file:/run/provdc/lab-pd/smtp-password", f"file:{tmp_path / 'pw'}").replace("/run/provdc/lab-pd/smtp-ca.pem", str(cert))
    text = text.replace("file:/run/provdc/lab-pd/soc-token", f"file:{tmp_path / 'pw'}")
    (inv_dir / "alerting.yaml").write_text(text)
    conf = tmp_path / "conf"
    (conf / "rules").mkdir(parents=True)
    alerting.write_runtime(load_inventory(inv_dir), conf, alerting.AlertSettings(group_wait="1s", group_interval="1s"))

    def auth(server, session, envelope, mechanism, data):
        return AuthResult(success=data.login == b"provdc" and data.password == b"sink-pa55word")

    sink = Sink()
    smtp = controller.Controller(sink, hostname="127.0.0.1", port=smtp_port, tls_context=ctx, require_starttls=True,
                                 authenticator=auth, auth_required=True, auth_exclude_mechanism=["LOGIN"])
    smtp.start()
    with open(tmp_path / "am.log", "wb") as log:
        am = subprocess.Popen(["prometheus-alertmanager", f"--config.file={conf / 'alertmanager.yml'}",
                               f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
    try:
        alert = [{"labels": {"alertname": "ProvdcHostDown", "severity": "page", "agency": "ubnd-tinh", "system": "portal",
                             "server": "portal-web1"},
                  "annotations": {"summary": "Server portal-web1 does not answer (system portal; owner ubnd-tinh)"}}]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{am_port}/api/v2/alerts", json.dumps(alert).encode(),
                                             {"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=2).close()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sink.messages, (tmp_path / "am.log").read_text()[-2000:]
        mail = sink.messages[0]
        assert mail["To"] == "cntt@ubnd.lab.example.gov.vn"
        assert mail["Subject"] == "[FIRING] Server portal-web1 does not answer (system portal; owner ubnd-tinh)"
        assert "agency = ubnd-tinh" in mail.get_body(("plain",)).get_content()
    finally:
        am.terminate()
        am.wait(10)
        smtp.stop()
