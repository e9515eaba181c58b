"""Our collector on a fresh private registry: inventory metrics, audit results, health, HTTP."""

from __future__ import annotations

import base64
import http.client
import urllib.parse
import json
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from provdc.checks.results import AuditRun, Finding, Status, WaiverRecord, load_run, score
from provdc.exporters.collector import build_registry
from provdc.exporters.server import make_app, serve
from provdc.inventory import load_inventory

MINIMAL = Path(__file__).parent.parent / "inventory" / "valid" / "minimal.yaml"


def _run(**kw) -> AuditRun:
    findings = [
        Finding(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.PASS, host="db1"),
        Finding(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.FAIL, host="db2"),
        Finding(check="tls_min_version", layer="application", severity="critical", status=Status.WAIVED, host="mail1"),
        Finding(check="backup_fresh", layer="data", severity="medium", status=Status.ERROR, host="db1"),
    ]
    return AuditRun(province="lab", started=datetime(2026, 11, 22, 1, tzinfo=timezone.utc),
                    finished=datetime(2026, 11, 22, 1, 0, 5, tzinfo=timezone.utc), findings=findings,
                    waivers=[WaiverRecord(check="tls_min_version", scope="host:mail1", approver="CIO", expires=date(2026, 12, 1))], **kw)


@pytest.fixture
def results(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    (d / "audit-20261122T010005Z.json").write_text(_run().to_json())
    return d


def test_inventory_metrics(lab_inventory):
    reg = build_registry(lab_inventory)
    assert reg.get_sample_value("provdc_up") == 1
    assert reg.get_sample_value("provdc_link_contracted_bytes_per_second", {"link": "wan-phuong-trung-tam", "direction": "b_to_a"}) == 5e6 / 8
    assert reg.get_sample_value("provdc_system_sla_target_ratio", {"system": "portal"}) == pytest.approx(0.999)
    assert reg.get_sample_value("provdc_system_security_level", {"system": "qlvb"}) == 2
    assert reg.get_sample_value("provdc_agencies_on_wan", {"tier": "commune"}) == 2
    assert reg.get_sample_value("provdc_agencies_with_lan", {"tier": "commune"}) == 2
    assert reg.get_sample_value("provdc_link_info", {"link": "wan-xa-dong-son", "kind": "wan", "provider": "", "device": "wan-rtr",
                                                     "interface": "wan3", "measured_end": "a"}) == 1


def test_maintenance_is_active_only_inside_its_window(lab_inventory):
    inside = datetime(2026, 11, 14, 22, 30, tzinfo=timezone(timedelta(hours=7)))
    labels = {"window": "mw-portal-2026-11", "target_kind": "system", "target": "portal"}
    assert build_registry(lab_inventory, now=lambda: inside).get_sample_value("provdc_maintenance_active", labels) == 1
    after = inside + timedelta(hours=2)
    assert build_registry(lab_inventory, now=lambda: after).get_sample_value("provdc_maintenance_active", labels) == 0


def test_audit_results_are_exported(lab_inventory, results):
    reg = build_registry(lab_inventory, results)
    assert reg.get_sample_value("provdc_audit_results_up") == 1
    assert reg.get_sample_value("provdc_check_status", {"check": "ssh_password_auth_disabled", "host": "db2", "layer": "host",
                                                        "severity": "high", "status": "FAIL"}) == 1
    expiry = datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=7))).timestamp()
    assert reg.get_sample_value("provdc_waiver_expiry_timestamp_seconds", {"check": "tls_min_version", "scope": "host:mail1"}) == expiry
    assert reg.get_sample_value("provdc_audit_last_run_timestamp_seconds") == datetime(2026, 11, 22, 1, 0, 5, tzinfo=timezone.utc).timestamp()
    # host: one PASS and one FAIL of equal weight; application: only a waived critical check
    assert reg.get_sample_value("provdc_audit_score_ratio", {"layer": "host", "waivers": "counted"}) == 0.5
    assert reg.get_sample_value("provdc_audit_score_ratio", {"layer": "application", "waivers": "counted"}) == 1.0
    assert reg.get_sample_value("provdc_audit_score_ratio", {"layer": "application", "waivers": "ignored"}) == 0.0
    assert reg.get_sample_value("provdc_audit_score_ratio", {"layer": "data", "waivers": "counted"}) == 0.0  # ERROR is not PASS


def test_scores_leave_out_not_applicable_and_manual():
    run = _run().model_copy(update={"findings": [
        Finding(check="a", layer="network", severity="low", status=Status.NOT_APPLICABLE),
        Finding(check="b", layer="network", severity="low", status=Status.MANUAL)]})
    assert score(run.findings) is None


@pytest.mark.parametrize("content,reason", [
    (None, "no audit-*.json"),
    ("{not json", "not a readable JSON file"),
    ('{"schema": "something-else/9"}', "not a provdc-audit/1 or provdc-audit/2 results file"),
])
def test_missing_or_corrupt_results_keep_inventory_metrics(lab_inventory, tmp_path, content, reason):
    if content is not None:
        (tmp_path / "audit-20261122T000000Z.json").write_text(content)
    reg = build_registry(lab_inventory, tmp_path)
    assert reg.get_sample_value("provdc_audit_results_up") == 0
    assert reg.get_sample_value("provdc_up") == 1
    assert reg.get_sample_value("provdc_system_security_level", {"system": "portal"}) == 3
    text = generate_latest(reg).decode()
    assert reason in text


def test_latest_file_wins_and_changes_are_picked_up_at_scrape(lab_inventory, results):
    reg = build_registry(lab_inventory, results)
    newer = _run().model_copy(update={"findings": []})
    (results / "audit-20261123T000000Z.json").write_text(newer.to_json())
    assert reg.get_sample_value("provdc_check_status", {"check": "ssh_password_auth_disabled", "host": "db2", "layer": "host",
                                                        "severity": "high", "status": "FAIL"}) is None


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_exposition(lab_inventory, results):
    text = generate_latest(build_registry(lab_inventory, results)).decode()
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ----------------------------------------------------------------------------------- HTTP

def _serving(app, **tls):
    server = serve(app, "127.0.0.1", 0, **tls)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # a quick shutdown
    return server


def _get(url, headers=None, context=None):
    """GET with a connection closed explicitly (urllib may leave a TLS socket to the GC)."""
    parts = urllib.parse.urlsplit(url)
    conn = (http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=5) if parts.scheme == "https"
            else http.client.HTTPConnection(parts.hostname, parts.port, timeout=5))
    try:
        conn.request("GET", parts.path, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode()
        if response.status >= 400:
            raise urllib.error.HTTPError(url, response.status, response.reason, response.headers, None)
        return response.status, body
    finally:
        conn.close()


def test_landing_page_escapes_inventory_strings(tmp_path):
    text = MINIMAL.read_text().replace("name: Tỉnh Kiểm Thử", 'name: "<script>alert(1)</script>"')
    (tmp_path / "inv.yaml").write_text(text)
    inv = load_inventory(tmp_path / "inv.yaml")
    server = _serving(make_app(inv, build_registry(inv)))
    try:
        status, body = _get(f"http://127.0.0.1:{server.server_port}/")
        assert status == 200 and "<script>" not in body and "&lt;script&gt;" in body
        status, metrics = _get(f"http://127.0.0.1:{server.server_port}/metrics")
        assert "provdc_up 1.0" in metrics
    finally:
        server.shutdown()
        server.server_close()


def test_basic_auth_is_required_when_configured(lab_inventory):
    server = _serving(make_app(lab_inventory, build_registry(lab_inventory), ("prom", "s3cret")))
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as denied:
            _get(url)
        assert denied.value.code == 401
        with pytest.raises(urllib.error.HTTPError):
            _get(url, {"Authorization": "Basic " + base64.b64encode(b"prom:wrong").decode()})
        status, _ = _get(url, {"Authorization": "Basic " + base64.b64encode(b"prom:s3cret").decode()})
        assert status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_tls(lab_inventory, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")], check=True, capture_output=True)
    server = _serving(make_app(lab_inventory, build_registry(lab_inventory)), certfile=str(tmp_path / "c.pem"), keyfile=str(tmp_path / "k.pem"))
    try:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "c.pem"))
        status, body = _get(f"https://127.0.0.1:{server.server_port}/metrics", context=ctx)
        assert status == 200 and "provdc_up" in body
    finally:
        server.shutdown()
        server.server_close()


def test_results_file_round_trips():
    run = _run(partial=True)
    again = AuditRun.model_validate(json.loads(run.to_json()))
    assert again == run and json.loads(run.to_json())["schema"] == "provdc-audit/2"


def test_a_schema_1_run_is_still_read_with_its_layer_scores(tmp_path):
    legacy = json.loads(_run().to_json())
    legacy["schema"] = "provdc-audit/1"
    for key in ("requirements", "scores", "coverage", "d14", "transition"):
        legacy.pop(key)
    for f in legacy["findings"]:
        f.pop("requirements"), f.pop("bar")
    path = tmp_path / "audit-20261101T000000Z.json"
    path.write_text(json.dumps(legacy))
    run = load_run(path)
    assert run.schema_ == "provdc-audit/1" and run.score("layer", "host") == 0.5
