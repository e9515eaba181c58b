"""The remaining checks on the real lab: sshd variants planted per host, daemons, and the
inventory-level design and governance checks judged on the lab's inventory and variants of it."""

from __future__ import annotations

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from tests.integration.conftest import planted

pytestmark = pytest.mark.twin

LAB_DROPIN = "/etc/ssh/sshd_config.d/00-provdc-lab.conf"


def verdicts(inv, layers, hosts=None):
    run = run_audit(inv, Options(layers=set(layers), hosts=set(hosts) if hosts else None))
    return {(f.check, f.host or f.system or "inventory"): f.status for f in run.findings}


def test_sshd_root_login_empty_passwords_and_port(lab):
    path = lab.host_path("lgsp1", LAB_DROPIN)
    original = path.read_text()
    # first value wins in sshd: the lab's own drop-in is read first, so the variants go there
    path.write_text(original.replace("Port 22", "Port 22\nPermitRootLogin yes\nPermitEmptyPasswords yes"))
    moved = lab.host_path("mcdt-app1", LAB_DROPIN)
    moved_original = moved.read_text()
    moved.write_text(moved_original.replace("Port 22", "Port 2222"))  # read by sshd -T; the running sshd keeps 22
    try:
        v = verdicts(lab.inventory, {"host"}, {"lgsp1", "mcdt-app1"})
    finally:
        path.write_text(original)
        moved.write_text(moved_original)
    assert (v[("ssh_root_login_restricted", "mcdt-app1")], v[("ssh_root_login_restricted", "lgsp1")]) == (Status.PASS, Status.FAIL)
    assert (v[("ssh_empty_passwords_refused", "mcdt-app1")], v[("ssh_empty_passwords_refused", "lgsp1")]) == (Status.PASS, Status.FAIL)
    assert (v[("ssh_port_not_default", "mcdt-app1")], v[("ssh_port_not_default", "lgsp1")]) == (Status.PASS, Status.FAIL)


def test_time_sync_and_auditd(lab):
    # Time: a real chronyd (-x: it serves but never sets the machine's shared clock) on mcdt-app1,
    # pointed at mon1, the lab's time server; backup1 has none. auditd: the daemon is a stand-in
    # with its name, because a real one would take over the machine's single audit subsystem.
    setup_time = ("printf 'server 10.99.40.10 iburst\\n' > /etc/chrony/chrony.conf && "
                  "echo 'DAEMON_OPTS=\"-F 1 -x\"' > /etc/default/chrony && /etc/init.d/chrony start >/dev/null")
    setup_audit = ("mkdir -p /etc/audit/rules.d && printf -- '-w /etc/passwd -p wa\\n' > /etc/audit/rules.d/provdc.rules && "
                   "cp /bin/sleep /run/auditd && (setsid /run/auditd 600 >/dev/null 2>&1 &) && sleep 0.3")
    unwaived = _variant(lab.inventory, waivers=[])  # the lab inventory waives auditd for this reason
    with planted(lab, files={"mcdt-app1": ["/etc/chrony/chrony.conf", "/etc/default/chrony"],
                             "mon1": ["/etc/audit/rules.d/provdc.rules", "/run/auditd"]}):
        try:
            assert lab.in_host("mcdt-app1", "sh", "-c", setup_time).returncode == 0
            assert lab.in_host("mon1", "sh", "-c", setup_audit).returncode == 0
            v = verdicts(unwaived, {"host"}, {"mon1", "mcdt-app1", "backup1"})
        finally:
            lab.in_host("mon1", "sh", "-c", "pkill -f '/run/auditd 600'")
            lab.in_host("mcdt-app1", "sh", "-c", "/etc/init.d/chrony stop >/dev/null")
    assert (v[("time_synchronised", "mcdt-app1")], v[("time_synchronised", "backup1")]) == (Status.PASS, Status.FAIL)
    assert v[("time_synchronised", "mon1")] is Status.PASS  # the time server itself, serving
    assert (v[("auditd_running", "mon1")], v[("auditd_running", "backup1")]) == (Status.PASS, Status.FAIL)


def _variant(inv, **changes):
    return inv.__class__(doc=inv.doc.model_copy(update=changes), base=inv.base)


def test_design_checks_on_the_lab_inventory_and_variants(lab):
    inv = lab.inventory
    v = verdicts(inv, {"network"})
    assert v[("required_zones_for_level", "inventory")] is Status.PASS
    assert v[("internet_uplink_redundancy", "inventory")] is Status.PASS
    assert v[("core_device_redundancy", "inventory")] is Status.FAIL           # one core firewall
    assert v[("dr_site_distance", "inventory")] is Status.NOT_APPLICABLE        # no level-5 system
    paired = _variant(inv, devices=[*inv.doc.devices,
                                    inv.devices["core-fw"].model_copy(update={"id": "core-fw2", "address": None}),
                                    inv.devices["core-fw"].model_copy(update={"id": "core-sw1", "role": "core_switch", "address": None}),
                                    inv.devices["core-fw"].model_copy(update={"id": "core-sw2", "role": "core_switch", "address": None})],
                      zones=[z for z in inv.doc.zones if z.kind.value != "database"],
                      links=[link for link in inv.doc.links if link.id != "inet-international"])
    # only the design checks: the variant moved servers out of every zone, which the scanner
    # (rightly) refuses to probe
    from provdc.checks import design
    from provdc.checks.registry import DEFAULT, CheckRegistry

    only_design = CheckRegistry()
    for c in DEFAULT:
        if c.func.__module__ == design.__name__:
            only_design.add(c)
    run = run_audit(paired, Options(), registry=only_design)
    v = {(f.check, "inventory"): f.status for f in run.findings}
    assert v[("core_device_redundancy", "inventory")] is Status.PASS
    assert v[("required_zones_for_level", "inventory")] is Status.FAIL
    assert v[("internet_uplink_redundancy", "inventory")] is Status.FAIL


def test_governance_checks_on_the_lab_inventory(lab):
    v = verdicts(lab.inventory, {"governance"})
    assert (v[("d14_onsite_team", "portal")], v[("d14_onsite_team", "email")]) == (Status.PASS, Status.FAIL)
    assert (v[("d14_soc_contract_valid", "portal")], v[("d14_soc_contract_valid", "qlvb")]) == (Status.PASS, Status.NOT_APPLICABLE)
    assert v[("d14_soc_contract_valid", "dc-infra")] is Status.FAIL
    assert (v[("d14_assessment_fresh", "portal")], v[("d14_assessment_fresh", "mcdt")]) == (Status.PASS, Status.FAIL)
    assert (v[("d14_national_monitoring", "lgsp")], v[("d14_national_monitoring", "mcdt")]) == (Status.PASS, Status.FAIL)
    assert (v[("level_approval_recorded", "portal")], v[("level_approval_recorded", "lgsp")]) == (Status.PASS, Status.FAIL)


def test_dr_site_distance_at_level_5(lab):
    from provdc.checks import design
    from provdc.checks.registry import DEFAULT, CheckRegistry
    from provdc.inventory.model import Location, Site, SiteKind

    only = CheckRegistry()
    only.add(DEFAULT["dr_site_distance"])
    inv = lab.inventory
    level5 = [s.model_copy(update={"level": 5}) if s.id == "portal" else s for s in inv.doc.systems]
    dc = inv.sites["dc"]
    near = Site(id="dr", name="DR", kind=SiteKind.backup, location=Location(lat=dc.location.lat + 0.1, lon=dc.location.lon))
    far = near.model_copy(update={"location": Location(lat=dc.location.lat + 0.5, lon=dc.location.lon)})
    verdict = {}
    for name, site in (("near", near), ("far", far)):
        variant = _variant(inv, systems=level5, sites=[*inv.doc.sites, site])
        verdict[name] = run_audit(variant, Options(), registry=only).findings[0]
    assert verdict["near"].status is Status.FAIL and verdict["near"].found.startswith("11.")   # 0.1 degree = 11.1 km
    assert verdict["far"].status is Status.PASS
    assert design.haversine_km(dc.location, far.location) > 30


def test_automatic_security_updates(lab):
    conf = "/etc/apt/apt.conf.d/20auto-upgrades"
    daily = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
    with planted(lab, files={"mon1": [conf], "backup1": [conf]}):
        lab.host_path("mon1", conf).write_text(daily)
        lab.host_path("backup1", conf).write_text(daily.replace('Unattended-Upgrade "1"', 'Unattended-Upgrade "0"'))
        v = verdicts(lab.inventory, {"host"}, {"mon1", "backup1"})
    assert (v[("security_updates_automatic", "mon1")], v[("security_updates_automatic", "backup1")]) == (Status.PASS, Status.FAIL)
