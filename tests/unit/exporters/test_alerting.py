"""Alerting generated from the inventory: accepted by amtool and promtool, evaluated by
promtool's rule tests, routed per owner agency and severity, secrets only by reference."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess

import pytest
import yaml

from provdc.exporters import alerting, monitoring

needs_am = pytest.mark.skipif(shutil.which("amtool") is None, reason="prometheus-alertmanager not installed")
needs_prom = pytest.mark.skipif(shutil.which("promtool") is None, reason="Prometheus tools not installed")


def _with_env_secrets(inv):
    """The lab inventory with its SMTP password and webhook token in environment variables."""
    a = inv.doc.alerting
    receivers = [r.model_copy(update={"webhook": r.webhook.model_copy(update={"token": "env:PROVDC_SOC_TOKEN"})})
                 if r.webhook else r for r in a.receivers]
    a = a.model_copy(update={"smtp": a.smtp.model_copy(update={"password": "env:PROVDC_SMTP_PASSWORD"}), "receivers": receivers})
    return inv.__class__(doc=inv.doc.model_copy(update={"alerting": a}), base=inv.base)


@pytest.fixture
def env_inventory(lab_inventory, monkeypatch):
    monkeypatch.setenv("PROVDC_SMTP_PASSWORD", "smtp-pa55word-value")
    monkeypatch.setenv("PROVDC_SOC_TOKEN", "soc-t0ken-value")
    return _with_env_secrets(lab_inventory)


@pytest.fixture
def config_dir(env_inventory, tmp_path):
    out = tmp_path / "monitoring"
    monitoring.write(env_inventory, out)
    return out


@needs_am
def test_amtool_accepts_the_alertmanager_config(config_dir):
    r = subprocess.run(["amtool", "check-config", str(config_dir / "alertmanager.yml")], capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    assert "4 receivers" in r.stdout and "4 inhibit rules" in r.stdout, r.stdout


@needs_prom
def test_prometheus_config_has_its_alerting_block_and_passes_promtool(config_dir):
    prom = yaml.safe_load((config_dir / "prometheus.yml").read_text())
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:19093"]
    assert "rules/provdc-operations.yml" in prom["rule_files"]
    r = subprocess.run(["promtool", "check", "config", str(config_dir / "prometheus.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_routes_follow_the_inventory_in_order_after_the_maintenance_marker(lab_inventory):
    am = alerting.alertmanager_config(lab_inventory)
    routes = am["route"]["routes"]
    assert routes[0] == {"receiver": "provdc-null", "matchers": ['alertname="ProvdcMaintenanceWindow"']}
    assert routes[1] == {"receiver": "ubnd-tinh-cntt", "matchers": ['agency="ubnd-tinh"', 'severity="page"']}
    assert routes[2] == {"receiver": "soc-webhook", "matchers": ['severity="ticket"']}
    assert am["route"]["receiver"] == "dc-ops"
    assert "agency" in am["route"]["group_by"]


def test_email_requires_tls_and_secrets_are_files_never_values(config_dir):
    text = "\n".join(p.read_text() for p in config_dir.rglob("*") if p.is_file() and "secrets" not in p.parts)
    assert "smtp-pa55word-value" not in text and "soc-t0ken-value" not in text
    am = yaml.safe_load((config_dir / "alertmanager.yml").read_text())
    email = next(r for r in am["receivers"] if r["name"] == "dc-ops")["email_configs"][0]
    assert email["require_tls"] is True and email["tls_config"]["ca_file"] == "/run/provdc/lab-pd/smtp-ca.pem"
    assert email["auth_password_file"] == "secrets/env-PROVDC_SMTP_PASSWORD"
    hook = next(r for r in am["receivers"] if r["name"] == "soc-webhook")["webhook_configs"][0]
    assert hook["http_config"]["authorization"]["credentials_file"] == "secrets/env-PROVDC_SOC_TOKEN"


def test_env_secrets_are_written_at_start_only_and_root_readable(config_dir, env_inventory):
    written = alerting.write_runtime(env_inventory, config_dir)
    assert sorted(p.name for p in written) == ["env-PROVDC_SMTP_PASSWORD", "env-PROVDC_SOC_TOKEN"]
    assert (config_dir / "secrets" / "env-PROVDC_SMTP_PASSWORD").read_text() == "smtp-pa55word-value"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert stat.S_IMODE((config_dir / "secrets").stat().st_mode) == 0o700
    # the running copy names them by absolute path, whatever Alertmanager's working directory
    am = yaml.safe_load((config_dir / "alertmanager.yml").read_text())
    assert am["receivers"][1]["email_configs"][0]["auth_password_file"] == str(config_dir / "secrets" / "env-PROVDC_SMTP_PASSWORD")
    assert "smtp-pa55word-value" not in (config_dir / "alertmanager.yml").read_text()


def test_file_references_are_copied_stripped_for_alertmanager(lab_inventory, tmp_path):
    # Alertmanager sends a file's bytes verbatim: `echo secret > file` would add a newline to
    # the password. The copy holds the reference's value, as provdc reads it.
    (tmp_path / "smtp").write_text("file-pa55word\n")
    a = lab_inventory.doc.alerting
    smtp = a.smtp.model_copy(update={"password": f"file:{tmp_path / 'smtp'}"})
    receivers = [r.model_copy(update={"webhook": None, "email": ["x@y.gov.vn"]}) if r.webhook else r for r in a.receivers]
    inv = lab_inventory.__class__(doc=lab_inventory.doc.model_copy(update={"alerting": a.model_copy(
        update={"smtp": smtp, "receivers": receivers})}), base=tmp_path)
    conf = tmp_path / "conf"
    (conf / "rules").mkdir(parents=True)
    (written,) = alerting.write_runtime(inv, conf)
    assert written.read_text() == "file-pa55word"
    am = yaml.safe_load((conf / "alertmanager.yml").read_text())
    assert am["receivers"][1]["email_configs"][0]["auth_password_file"] == str(written)
    assert "file-pa55word" not in (conf / "alertmanager.yml").read_text()


def test_no_alerting_section_writes_no_alertmanager_config(lab_inventory, tmp_path):
    inv = lab_inventory.__class__(doc=lab_inventory.doc.model_copy(update={"alerting": None}), base=lab_inventory.base)
    assert "alertmanager.yml" not in monitoring.generate(inv)


RULE_TESTS = {
    "rule_files": ["rules/provdc-operations.yml", "rules/provdc-alerts.yml"],
    "evaluation_interval": "1m",
    "tests": [
        {"interval": "1m",
         "input_series": [
             {"series": 'probe_success{job="blackbox_icmp", server="db1", owner="so-khcn", systems=",portal,mcdt,"}',
              "values": "1 1 0 0 0 0 0"},
             {"series": 'probe_success{job="blackbox_tcp", server="backup1", owner="so-khcn", service="rsync"}',
              "values": "0 0 0 0 0 0 0"},
             {"series": 'provdc_soc_contract_end_timestamp_seconds{system="qlvb", agency="so-khcn"}',
              "values": f"{20 * 86400}x20"},
             {"series": 'provdc_soc_contract_end_timestamp_seconds{system="portal", agency="ubnd-tinh"}',
              "values": f"{90 * 86400}x20"},
             {"series": 'provdc_serve_job_due_timestamp_seconds{job_name="audit"}', "values": "0x20"},
         ],
         "alert_rule_test": [
             {"eval_time": "3m", "alertname": "ProvdcHostDown", "exp_alerts": []},
             {"eval_time": "5m", "alertname": "ProvdcHostDown", "exp_alerts": [
                 {"exp_labels": {"severity": "page", "job": "blackbox_icmp", "server": "db1", "owner": "so-khcn",
                                 "system": system, "agency": "ubnd-tinh", "systems": ",portal,mcdt,"},
                  "exp_annotations": {
                      "summary": f"Server db1 does not answer (system {system}; owner ubnd-tinh)",
                      "summary_vi": f"Máy chủ db1 không phản hồi (hệ thống {system}; đơn vị chủ quản ubnd-tinh)"}}
                 for system in ("portal", "mcdt")]},
             {"eval_time": "5m", "alertname": "ProvdcServiceDown", "exp_alerts": [
                 {"exp_labels": {"severity": "page", "job": "blackbox_tcp", "server": "backup1", "owner": "so-khcn",
                                 "agency": "so-khcn", "service": "rsync"},
                  "exp_annotations": {
                      "summary": "Service rsync on backup1 is down (no system; owner so-khcn)",
                      "summary_vi": "Dịch vụ rsync trên backup1 ngừng hoạt động (không thuộc hệ thống nào; "
                                    "đơn vị chủ quản so-khcn)"}}]},
             {"eval_time": "1m", "alertname": "ProvdcSOCContractDue", "exp_alerts": [{
                 "exp_labels": {"severity": "ticket", "system": "qlvb", "agency": "so-khcn"},
                 "exp_annotations": {
                     "summary": "The SOC contract of system qlvb (owner so-khcn) ends in 20 days (Directive 14 layer 2)",
                     "summary_vi": "Hợp đồng giám sát (SOC) của hệ thống qlvb (đơn vị chủ quản so-khcn) hết hạn sau "
                                   "20 ngày (Chỉ thị 14, lớp 2)"}}]},
             {"eval_time": "10m", "alertname": "ProvdcScheduledJobLate", "exp_alerts": []},
             {"eval_time": "16m", "alertname": "ProvdcScheduledJobLate", "exp_alerts": [{
                 "exp_labels": {"severity": "ticket", "job_name": "audit"},
                 "exp_annotations": {"summary": "The scheduled audit run is late",
                                     "summary_vi": "Lần chạy theo lịch của audit bị trễ"}}]},
         ]},
    ],
}


@needs_prom
def test_promtool_evaluates_host_down_soc_due_and_late_job(config_dir):
    tests = config_dir / "tests.yml"
    tests.write_text(json.dumps(RULE_TESTS, ensure_ascii=False))
    r = subprocess.run(["promtool", "test", "rules", str(tests)], capture_output=True, text=True, cwd=config_dir)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_exporter_publishes_the_due_dates_the_alerts_read(lab_inventory):
    from datetime import date, datetime

    from provdc.checks.governance import assessment_due
    from provdc.exporters.collector import VN_TIME, build_registry

    reg = build_registry(lab_inventory)
    vn = lambda d: datetime.combine(d, datetime.min.time(), VN_TIME).timestamp()  # noqa: E731
    assert reg.get_sample_value("provdc_soc_contract_end_timestamp_seconds", {"system": "qlvb", "agency": ""}) == vn(date(2026, 6, 30))
    # level 3, assessed 2026-06-15: due a year later; level 2 systems are never assessed
    portal = lab_inventory.systems["portal"]
    assert assessment_due(portal) == date(2027, 6, 15)
    assert reg.get_sample_value("provdc_assessment_due_timestamp_seconds", {"system": "portal", "agency": "ubnd-tinh"}) == vn(date(2027, 6, 15))
    assert reg.get_sample_value("provdc_assessment_due_timestamp_seconds", {"system": "qlvb", "agency": ""}) is None
    # dc-infra is level 3 with no assessment recorded: due since forever
    assert reg.get_sample_value("provdc_assessment_due_timestamp_seconds", {"system": "dc-infra", "agency": ""}) == 0
    assert reg.get_sample_value("provdc_system_owner", {"system": "portal", "agency": "ubnd-tinh"}) == 1
