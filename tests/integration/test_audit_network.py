"""Network checks from nmap on the real lab: planted listeners and addresses make them fail."""

from __future__ import annotations

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from provdc.lab import net

pytestmark = pytest.mark.twin


def verdicts(lab, hosts=None):
    run = run_audit(lab.inventory, Options(layers={"network"}, hosts=set(hosts) if hosts else None))
    return {(f.check, f.host or "inventory"): f for f in run.findings}


def test_clean_lab_passes_the_network_view(lab):
    v = verdicts(lab)
    assert v[("unknown_hosts_in_zones", "inventory")].status is Status.PASS
    for host in lab.inventory.servers:
        assert v[("open_ports_match_declared", host)].status is Status.PASS, v[("open_ports_match_declared", host)].found
        assert v[("no_plaintext_management", host)].status is Status.PASS
        assert v[("admin_services_not_exposed", host)].status is Status.PASS


def test_undeclared_and_plaintext_ports_fail_only_where_they_listen(lab):
    start = ("setsid python3 -c \"import socket,time\nss=[]\nfor p in (23, 3306):\n s=socket.socket(); "
             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.99.40.20', p)); s.listen(5); ss.append(s)\n"
             "time.sleep(600)\" >/dev/null 2>&1 & sleep 1")
    assert lab.in_host("backup1", "sh", "-c", start).returncode == 0
    try:
        v = verdicts(lab, {"backup1", "mon1"})
        assert v[("open_ports_match_declared", "backup1")].status is Status.FAIL
        assert "23, 3306" in v[("open_ports_match_declared", "backup1")].found
        assert v[("no_plaintext_management", "backup1")].status is Status.FAIL
        assert v[("open_ports_match_declared", "mon1")].status is Status.PASS
    finally:
        lab.in_host("backup1", "pkill", "-f", r"time\.sleep\(600\)")  # a regex: escape the parentheses


def test_an_unknown_host_in_a_zone_is_found(lab):
    net.run(["ip", "-n", "pd-db1", "addr", "add", "10.99.30.99/24", "dev", "eth0"])
    try:
        v = verdicts(lab)
        finding = v[("unknown_hosts_in_zones", "inventory")]
        assert finding.status is Status.FAIL and finding.found == "10.99.30.99"
    finally:
        net.run(["ip", "-n", "pd-db1", "addr", "del", "10.99.30.99/24", "dev", "eth0"])


def test_admin_service_declared_towards_the_wan_fails(lab):
    db1 = lab.inventory.servers["db1"]
    exposed = db1.model_copy(update={"services": [s.model_copy(update={"from_": ["wan", "dc-mgmt"]}) if s.kind == "ssh" else s
                                                  for s in db1.services]})
    inv = lab.inventory.__class__(doc=lab.inventory.doc.model_copy(update={"servers": [
        exposed if s.id == "db1" else s for s in lab.inventory.doc.servers]}), base=lab.inventory.base)
    run = run_audit(inv, Options(layers={"network"}, hosts={"db1", "db2"}))
    v = {(f.check, f.host): f.status for f in run.findings}
    assert v[("admin_services_not_exposed", "db1")] is Status.FAIL and v[("admin_services_not_exposed", "db2")] is Status.PASS
