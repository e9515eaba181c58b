"""`provdc serve` on the lab twin, for a few minutes with shortened schedules: a stopped host
pages its system's owner agency by e-mail (through a real SMTP sink on loopback, STARTTLS and
AUTH required) and its return resolves it; a scheduled audit and report run and are kept, the
report e-mail carries its PDFs; killed Prometheus and Alertmanager children are restarted; an
invalid inventory is refused while the running configuration stays; SIGTERM then a restart
loses no run (the slot missed while stopped runs at start-up, marked late)."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from provdc.lab import faults
from tests.conftest import LAB_INVENTORY

pytestmark = pytest.mark.twin

aiosmtpd = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult  # noqa: E402

PORT_BASE = 32600                     # this test's own range: children at 32690, 32693, 32715, 32716, 32900
LISTEN = ("127.0.0.1", 32950)
PASSWORD = "sink-pa55word"
HOST = "portal-web1"                  # serves `portal`, owned by ubnd-tinh
AUDIT_EVERY, REPORT_EVERY = 30, 60    # seconds: slots come often enough that the test mostly works, not waits


class Sink:
    """An SMTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def find(self, predicate) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if predicate(m)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(tmp_path):
    cert, key = tmp_path / "sink.pem", tmp_path / "sink.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"provdc" and auth_data.password == PASSWORD.encode())

    sink = Sink()
    port = _free_port()
    controller = aiosmtpd.Controller(sink, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                                     authenticator=authenticate, auth_required=True,
                                     # aiosmtpd's LOGIN prompts differ from what Go's client expects;
                                     # PLAIN (over the STARTTLS session) is what Alertmanager uses then
                                     auth_exclude_mechanism=["LOGIN"])
    controller.start()
    yield sink, port, cert
    controller.stop()


def _inventory(tmp_path: Path, smtp_port: int, ca: Path) -> Path:
    inv = tmp_path / "inventory"
    shutil.copytree(LAB_INVENTORY, inv)
    (tmp_path / "smtp-password").write_text(PASSWORD + "\n")
    (tmp_path / "soc-token").write_text("soc-token-value\n")
    (inv / "alerting.yaml").write_text(f"""
alerting:
  smtp: {{smarthost: "127.0.0.1:{smtp_port}", from: provdc@lab.example.gov.vn, username: provdc,
         password: "file:{tmp_path / 'smtp-password'}", ca: "{ca}"}}
  receivers:
    - {{id: dc-ops, email: [trucvanhanh@lab.example.gov.vn]}}
    - {{id: ubnd-tinh-cntt, email: [cntt@ubnd.lab.example.gov.vn]}}
    - {{id: soc-webhook, webhook: {{url: "http://127.0.0.1:{_free_port()}/alerts", token: "file:{tmp_path / 'soc-token'}"}}}}
  routes:
    - {{agency: ubnd-tinh, severity: page, receiver: ubnd-tinh-cntt}}
    - {{severity: ticket, receiver: soc-webhook}}
  default_receiver: dc-ops
schedule:
  audit: {{when: "every {AUDIT_EVERY}s"}}
  report: {{when: "every {REPORT_EVERY}s", receivers: [dc-ops, ubnd-tinh-cntt], langs: [vi, en]}}
""")
    return inv


def _serve(inv: Path, state: Path, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "provdc.cli", "serve", str(inv), "--state", str(state), "--listen", f"{LISTEN[0]}:{LISTEN[1]}",
            "--port-base", str(PORT_BASE), "--scrape-interval", "2s", "--sli-window", "20s", "--rate-window", "20s",
            "--alert-wait", "10s"]
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _metrics() -> dict[str, float]:
    with urllib.request.urlopen(f"http://{LISTEN[0]}:{LISTEN[1]}/metrics", timeout=5) as r:  # noqa: S310 - loopback
        text = r.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}


def _until(condition, timeout: float, what: str, step: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except OSError:
            pass
        time.sleep(step)
    raise AssertionError(f"{what() if callable(what) else what}: not within {timeout:.0f} s")


def _alerts() -> list:
    """What Prometheus holds as alerts, for a failure message."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT_BASE + 90}/api/v1/alerts", timeout=5) as r:  # noqa: S310
            return [(a["labels"].get("alertname"), a["labels"].get("server"), a["state"])
                    for a in json.loads(r.read())["data"]["alerts"]]
    except OSError as exc:
        return [str(exc)]


def _children(pid: int) -> dict[str, int]:
    """The serve process' children by program (prometheus, alertmanager, ...)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            out[Path(argv[0].decode()).name] = int(child)
    return out


def _runs(state: Path, job: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((state / "runs" / job).glob("*/run.json"))] \
        if (state / "runs" / job).is_dir() else []


def _stop(proc: subprocess.Popen, timeout: float = 180) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout)


def test_serve_alerts_runs_its_schedule_survives_crashes_and_restarts(lab, smtp_sink, tmp_path):
    sink, smtp_port, ca = smtp_sink
    inv, state, log = _inventory(tmp_path, smtp_port, ca), tmp_path / "state", tmp_path / "serve.log"
    proc = _serve(inv, state, log)
    try:
        _until(lambda: _metrics().get('provdc_serve_child_up{child="alertmanager"}') == 1, 60, "children up")
        second = subprocess.run([sys.executable, "-m", "provdc.cli", "serve", str(inv), "--state", str(state),
                                 "--listen", "127.0.0.1:32951", "--port-base", "32500"], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "already running" in second.stderr, second.stderr

        # a stopped host pages its system's owner agency; its return resolves it
        faults.stop_host(lab, HOST)
        try:
            fired = _until(lambda: sink.find(lambda m: m["Subject"].startswith("[FIRING]") and HOST in m["Subject"]
                                             and "system portal" in m["Subject"]), 120,
                           lambda: f"host-down e-mail (received: {[m['Subject'] for m in sink.messages]}; "
                                   f"alerts: {_alerts()})")
        finally:
            faults.start_host(lab, HOST)
        mail = fired[0]
        assert mail["To"] == "cntt@ubnd.lab.example.gov.vn"  # the route for ubnd-tinh's pages
        assert "owner ubnd-tinh" in mail["Subject"]
        body = mail.get_body(("plain",)).get_content()
        assert "agency = ubnd-tinh" in body and "system = portal" in body and "Máy chủ portal-web1 không phản hồi" in body
        _until(lambda: sink.find(lambda m: m["Subject"].startswith("[RESOLVED]") and HOST in m["Subject"]), 120,
               "resolved e-mail")

        # the schedule: an audit and a report ran and are kept; the report was e-mailed with its PDFs
        audit = _until(lambda: [r for r in _runs(state, "audit") if r["status"] == "ok"], 150, "a scheduled audit")[0]
        assert any(o.startswith("audits/audit-") for o in audit["outputs"])
        report = _until(lambda: [r for r in _runs(state, "report") if r["status"] == "ok"], 240, "a scheduled report")[0]
        assert {Path(o).suffix for o in report["outputs"]} == {".html", ".pdf"}
        delivered = _until(lambda: sink.find(lambda m: "Compliance report" in m["Subject"]), 30, "report e-mail")[0]
        pdfs = [p for p in delivered.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 2 and all(p.get_content().startswith(b"%PDF") for p in pdfs)
        link = next(line.strip() for line in delivered.get_body(("plain",)).get_content().splitlines() if "/reports/" in line)
        assert link.startswith(f"http://{LISTEN[0]}:{LISTEN[1]}/reports/")
        with urllib.request.urlopen(link, timeout=5) as r:  # noqa: S310 - loopback
            assert b"<html" in r.read(2000).lower()

        # crashed children come back, and serve says so in its own metrics
        kids = _children(proc.pid)
        for name in ("prometheus", "prometheus-alertmanager"):
            os.kill(kids[name], signal.SIGKILL)
        _until(lambda: _metrics().get('provdc_serve_child_restarts_total{child="prometheus"}', 0) >= 1
               and _metrics().get('provdc_serve_child_restarts_total{child="alertmanager"}', 0) >= 1
               and _metrics().get('provdc_serve_child_up{child="prometheus"}') == 1
               and _metrics().get('provdc_serve_child_up{child="alertmanager"}') == 1, 30, "children restarted")

        # an invalid inventory is refused; the running configuration stays
        servers = inv / "servers.yaml"
        good = servers.read_text()
        servers.write_text(good.replace("zone: dc-dmz", "zone: nowhere", 1))
        _until(lambda: _metrics().get("provdc_serve_inventory_valid") == 0, 20, "invalid inventory noticed")
        assert "unknown zone 'nowhere'" in (state / "inventory-problems.txt").read_text()
        assert _metrics().get('provdc_serve_child_up{child="prometheus"}') == 1
        servers.write_text(good)
        _until(lambda: _metrics().get("provdc_serve_inventory_valid") == 1, 30, "fixed inventory reloaded")

        assert _stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not [r for job in ("audit", "report") for r in _runs(state, job) if r["status"] == "running"]

    # stopped across a slot: the restart runs the missed audit first, marked late
    anchor = datetime.fromisoformat(json.loads((state / "jobs.json").read_text())["audit"]["anchor"])
    time.sleep(max(0.0, anchor.timestamp() + AUDIT_EVERY - time.time()) + 3)
    done = {r["slot"] for r in _runs(state, "audit")}
    proc = _serve(inv, state, log)
    try:
        late = _until(lambda: [r for r in _runs(state, "audit") if r["slot"] not in done and r["status"] != "running"],
                      120, "the missed audit")[0]
        assert late["late"] is True and late["status"] == "ok", late
        assert _stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
