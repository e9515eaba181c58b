"""Appliance checks on configuration backups written for these tests (tests/unit/checks/configs/,
none exported from a real device): each check PASSes on clean-ios.cfg and FAILs on weak-ios.cfg;
the engine reads the inventory's `config_backup`, a device without one is NOT_ASSESSED (never
PASS) and an unreadable one is ERROR naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provdc.checks import appliance
from provdc.checks.engine import Options, _appliance_findings, _judge, appliance_config
from provdc.checks.facts import FactError
from provdc.checks.registry import DEFAULT
from provdc.checks.results import Status, summarise
from provdc.errors import InventoryError
from provdc.inventory import load_inventory
from tests.conftest import EXAMPLES

CONFIGS = Path(__file__).parent / "configs"
LAB = load_inventory(EXAMPLES / "lab")
CHECKS = [c for c in DEFAULT if c.scope == "appliance"]


def _with_collector(inv):
    """The lab inventory with mon1 (10.99.40.10) declaring a syslog service: a log collector."""
    from provdc.inventory.model import Service

    servers = [s.model_copy(update={"services": [*s.services, Service(name="syslog", port=514, proto="udp", kind="syslog")]})
               if s.id == "mon1" else s for s in inv.doc.servers]
    return inv.__class__(doc=inv.doc.model_copy(update={"servers": servers}), base=inv.base)


COLLECTED = _with_collector(LAB)


def parsed(name: str) -> dict:
    return appliance.parse_config((CONFIGS / name).read_text().splitlines())


def verdict(check_id: str, config: dict, inv=COLLECTED):
    return _judge(DEFAULT[check_id], {"config": config, "inv": inv})


def test_the_appliance_checks_are_the_five_management_plane_checks():
    assert {c.id for c in CHECKS} == {"appliance_plaintext_management_off", "appliance_snmp_default_communities_refused",
                                      "appliance_aaa_configured", "appliance_logging_host_set", "appliance_ntp_server_set"}
    assert all(c.layer == "network" for c in CHECKS)


@pytest.mark.parametrize("check_id", [c.id for c in CHECKS])
def test_each_check_passes_the_clean_config_and_fails_the_weak_one(check_id):
    good, bad = verdict(check_id, parsed("clean-ios.cfg")), verdict(check_id, parsed("weak-ios.cfg"))
    assert good.status is Status.PASS, good
    assert bad.status is Status.FAIL and bad.expected, bad


def test_what_the_weak_config_fails_on_is_named():
    weak = parsed("weak-ios.cfg")
    plain = verdict("appliance_plaintext_management_off", weak).found
    assert "line vty 0 4: transport input telnet ssh" in plain and "line vty 5 15: no 'transport input'" in plain
    assert "feature telnet" in plain and "ip http server" in plain
    assert "private, public" in verdict("appliance_snmp_default_communities_refused", weak).found
    assert "10.99.40.10" in verdict("appliance_logging_host_set", weak).expected   # the lab's collector
    assert "192.0.2.123" in verdict("appliance_ntp_server_set", weak).found


def test_less_common_forms_are_read():
    v = parsed("variants-ios.cfg")
    assert v["logging_hosts"] == ["10.99.40.10"] and v["ntp_servers"] == ["10.99.40.10"]
    assert [(c["name"], c["access"], c["acl"]) for c in v["snmp_communities"]] == [("Ops-test-1", "ro", None), ("PUBLIC", "ro", "10")]
    assert v["snmp_trap_communities"] == ["private"]          # the v3 trap host names a user, not a community
    snmp = verdict("appliance_snmp_default_communities_refused", v)
    assert snmp.status is Status.FAIL and "private, public" in snmp.found   # case does not hide the default
    assert verdict("appliance_plaintext_management_off", v).status is Status.FAIL  # transport input all
    assert verdict("appliance_aaa_configured", v).status is Status.PASS
    assert verdict("appliance_logging_host_set", v).status is Status.PASS


def test_community_values_other_than_the_defaults_are_never_printed():
    for name in ("clean-ios.cfg", "variants-ios.cfg"):
        v = verdict("appliance_snmp_default_communities_refused", parsed(name))
        assert "Xk29" not in v.found + v.expected and "Ops-test-1" not in v.found + v.expected


def test_without_a_declared_collector_any_logging_host_passes_and_none_fails():
    assert verdict("appliance_logging_host_set", parsed("weak-ios.cfg"), LAB).status is Status.PASS
    assert verdict("appliance_logging_host_set", {**parsed("weak-ios.cfg"), "logging_hosts": []}, LAB).status is Status.FAIL


def test_a_no_logging_on_fails_even_with_a_host():
    config = {**parsed("clean-ios.cfg"), "logging_off": True}
    assert verdict("appliance_logging_host_set", config).status is Status.FAIL


def test_text_that_is_not_a_configuration_is_a_fact_error():
    for lines in ([], ["", "   "], ["<html><body>login</body></html>"]):
        with pytest.raises(FactError):
            appliance.parse_config(lines)


# ---------------------------------------------------------------------- the engine and inventory

def _inventory(tmp_path: Path, backup: str | None, content: str | None = None):
    inv_dir = tmp_path / "lab"
    shutil.copytree(EXAMPLES / "lab", inv_dir)
    network = inv_dir / "network.yaml"
    text = network.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("- {id: core-fw"))
    entry = line.replace(", config_backup: configs/core-fw.cfg", "")
    if backup is not None:
        entry = entry.rstrip("}") + f", config_backup: {backup}}}"
    network.write_text(text.replace(line, entry))
    if content is not None:
        (inv_dir / backup).parent.mkdir(parents=True, exist_ok=True)
        (inv_dir / backup).write_text(content)
    return load_inventory(inv_dir)


def _statuses(inv) -> dict[str, tuple[Status, str]]:
    findings, _ = _appliance_findings(inv, CHECKS, Options(), lambda _: None)
    assert {f.host for f in findings} == {"core-fw"}
    return {f.check: (f.status, f.found) for f in findings}


def test_the_lab_core_firewall_has_a_clean_backup():
    assert LAB.devices["core-fw"].config_backup == "configs/core-fw.cfg"
    assert {s for s, _ in _statuses(LAB).values()} == {Status.PASS}


def test_no_backup_is_not_assessed_and_its_requirements_too(tmp_path):
    inv = _inventory(tmp_path, None)
    found = _statuses(inv)
    assert {s for s, _ in found.values()} == {Status.NOT_ASSESSED}
    assert "set config_backup for core-fw" in found["appliance_ntp_server_set"][1]
    findings, _ = _appliance_findings(inv, CHECKS, Options(), lambda _: None)
    summary = summarise(inv, findings, LAB.doc.maintenance[0].start.date())
    net10 = {r.status for r in summary.requirements if r.id == "NET-10"}
    assert net10 == {Status.NOT_ASSESSED}  # never PASS on an appliance nobody looked at


def test_an_unreadable_backup_is_error_naming_the_file(tmp_path):
    inv = _inventory(tmp_path, "configs/missing.cfg")
    found = _statuses(inv)
    assert {s for s, _ in found.values()} == {Status.ERROR}
    assert all("configs/missing.cfg unreadable" in why for _, why in found.values())
    binary = _inventory(tmp_path / "b", "configs/fw.bin", None)
    (binary.base / "configs").mkdir(exist_ok=True)
    (binary.base / "configs/fw.bin").write_bytes(b"\xff\xfe\x00garbage")
    assert "configs/fw.bin is not UTF-8" in str(appliance_config(binary, binary.devices["core-fw"]))


def test_a_weak_backup_fails_through_the_engine(tmp_path):
    inv = _with_collector(_inventory(tmp_path, "configs/weak.cfg", (CONFIGS / "weak-ios.cfg").read_text()))
    assert {s for s, _ in _statuses(inv).values()} == {Status.FAIL}


def test_an_absolute_backup_path_is_refused_on_its_line(tmp_path):
    with pytest.raises(InventoryError) as caught:
        _inventory(tmp_path, "/etc/core-fw.cfg")
    (problem,) = caught.value.problems
    assert problem.field == "devices[core-fw].config_backup" and "relative to the inventory directory" in problem.message
    assert problem.pos.file.endswith("network.yaml") and problem.pos.line == 21
