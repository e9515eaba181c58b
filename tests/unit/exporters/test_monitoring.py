"""Generated monitoring config: accepted by the real tools, scoped to the inventory, no secrets."""

from __future__ import annotations

import shutil
import stat
import subprocess

import pytest
import yaml

from provdc.errors import ScopeError
from provdc.exporters import monitoring

needs = pytest.mark.skipif(shutil.which("promtool") is None, reason="Prometheus tools not installed")


@pytest.fixture(scope="module")
def config_dir(lab_inventory, tmp_path_factory):
    out = tmp_path_factory.mktemp("monitoring")
    monitoring.write(lab_inventory, out)
    return out


@needs
def test_promtool_checks_config_and_rules(config_dir):
    r = subprocess.run(["promtool", "check", "config", str(config_dir / "prometheus.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["promtool", "check", "rules", *map(str, (config_dir / "rules").glob("*.yml"))], capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def _with_community_file(inv, path):
    """The lab inventory with its SNMP community and v3 passphrases read from `path` (the lab's
    own files exist only while the lab is up)."""
    refs = lambda snmp: {k: f"file:{path}" for k in ("community", "auth_password", "priv_password") if getattr(snmp, k)}  # noqa: E731
    devices = [d.model_copy(update={"snmp": d.snmp.model_copy(update=refs(d.snmp))}) if d.snmp else d
               for d in inv.doc.devices]
    return inv.__class__(doc=inv.doc.model_copy(update={"devices": devices}), base=inv.base)


@needs
def test_exporters_accept_their_configs(config_dir, lab_inventory, tmp_path):
    r = subprocess.run(["prometheus-blackbox-exporter", "--config.check", f"--config.file={config_dir / 'blackbox.yml'}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tmp_path / "community").write_text("c0mmunity\n")
    monitoring.write_snmp_secrets(_with_community_file(lab_inventory, tmp_path / "community"), tmp_path / "snmp.yml")
    r = subprocess.run(["prometheus-snmp-exporter", "--dry-run", f"--config.file={tmp_path / 'snmp.yml'}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((tmp_path / "snmp.yml").stat().st_mode) == 0o600


def test_written_config_holds_no_secret(config_dir, lab_inventory, tmp_path):
    community_file = tmp_path / "community"
    community_file.write_text("very-secret-community\n")
    inv = _with_community_file(lab_inventory, community_file)
    files = monitoring.generate(inv)
    assert not any("very-secret-community" in text for text in files.values())
    assert "very-secret-community" in yaml.safe_dump(monitoring.render_snmp_secrets(inv))


def test_every_declared_tcp_service_is_probed_once(lab_inventory):
    targets = monitoring.probe_targets(lab_inventory)
    probed = sum(len(g["targets"]) for kind in ("tcp", "tls", "ssh", "http", "https", "node") for g in targets[kind])
    declared = sum(1 for s in lab_inventory.doc.servers for svc in s.services if svc.proto == "tcp")
    assert probed == declared
    assert {g["labels"]["device"] for g in targets["snmp"]} == {"wan-rtr", "inet-rtr"}
    https = [t for g in targets["https"] for t in g["targets"]]
    assert "https://10.99.20.13:8443/" in https


def test_rules_are_generated_per_system_and_link(lab_inventory):
    rules = monitoring.recording_rules(lab_inventory, monitoring.Settings())
    systems = [r["labels"]["system"] for g in rules["groups"] for r in g["rules"] if r["record"] == "provdc:system_availability:sli"]
    assert sorted(systems) == sorted(lab_inventory.systems)
    rates = [r for g in rules["groups"] for r in g["rules"] if r["record"] == "provdc:link_bytes_per_second:rate"]
    measured = [link for link in lab_inventory.doc.links if link.measured_by]
    assert len(rates) == 2 * len(measured)
    out = next(r for r in rates if r["labels"] == {"link": "wan-xa-dong-son", "direction": "a_to_b"})
    assert out["expr"] == 'rate(ifHCOutOctets{job="snmp",device="wan-rtr",ifName="wan3"}[5m])'
    octets = {(r["labels"]["link"], r["labels"]["direction"]): r["expr"] for g in rules["groups"] for r in g["rules"]
              if r["record"] == monitoring.LINK_OCTETS}
    assert octets[("wan-xa-dong-son", "b_to_a")] == 'ifHCInOctets{job="snmp",device="wan-rtr",ifName="wan3"}'


def test_scope_guard_refuses_addresses_outside_the_inventory(lab_inventory):
    monitoring.check_scope(lab_inventory, ["10.99.10.11", "10.99.100.10"])
    with pytest.raises(ScopeError, match="203.0.113.5"):
        monitoring.check_scope(lab_inventory, ["10.99.10.11", "203.0.113.5"])


def test_an_snmpv3_device_is_polled_with_its_authpriv_user(lab_inventory):
    targets = {g["labels"]["device"]: g["labels"]["__param_module"] for g in monitoring.probe_targets(lab_inventory)["snmp"]}
    assert targets["inet-rtr"].startswith("if_mib_v3_") and targets["wan-rtr"].startswith("if_mib_")
    v3 = monitoring.snmp_config(lab_inventory)[targets["inet-rtr"]]
    assert v3["version"] == 3
    assert v3["auth"] == {"security_level": "authPriv", "username": "provdc-mon",
                          "password": "__provdc_secret__:file:/run/provdc/lab-pd/snmp-auth", "auth_protocol": "SHA256",
                          "priv_protocol": "AES", "priv_password": "__provdc_secret__:file:/run/provdc/lab-pd/snmp-priv"}


def test_the_reports_link_rates_are_recorded_once_per_rate_window_by_the_one_expression(lab_inventory):
    rules = monitoring.recording_rules(lab_inventory, monitoring.Settings())
    group = next(g for g in rules["groups"] if g["name"] == monitoring.LINK_RATES_GROUP)
    assert group["interval"] == "5m"
    assert group["rules"] == [
        {"record": monitoring.LINK_RATE, "expr": "8 * rate(provdc:link_octets:total[5m])"},
        {"record": monitoring.LINK_RATE_INTERVAL, "expr": "vector(300)"}]
    assert monitoring.link_rate_expr("5m") == group["rules"][0]["expr"]


def test_the_reports_probe_counts_are_recorded_once_per_bucket_by_the_one_expression(lab_inventory):
    rules = monitoring.recording_rules(lab_inventory, monitoring.Settings())
    group = next(g for g in rules["groups"] if g["name"] == monitoring.PROBE_COUNTS_GROUP)
    assert group["interval"] == "5m"
    # a probe on the edge between two buckets counts in the one it ends
    assert group["rules"] == [
        {"record": monitoring.PROBE_COUNT, "expr": 'count_over_time(probe_success{job=~"blackbox_.*"}[299999ms])'},
        {"record": monitoring.PROBE_SUCCESSES, "expr": 'sum_over_time(probe_success{job=~"blackbox_.*"}[299999ms])'},
        {"record": monitoring.PROBE_COUNT_INTERVAL, "expr": "vector(300)"}]
    assert monitoring.probe_count_exprs("5m") == (group["rules"][0]["expr"], group["rules"][1]["expr"])
