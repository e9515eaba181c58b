"""Discovery on the lab twin: sweeping every declared zone recovers the declared servers and
their TCP services and invents nothing; a planted listener and a planted address show in the diff."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from provdc.cli import main
from provdc.inventory import discovery
from provdc.lab import net

pytestmark = pytest.mark.twin


def _discover(lab, out, *extra: str) -> dict:
    zones = [f"--zone={z.id}={z.cidr}" for z in lab.inventory.doc.zones]
    r = CliRunner().invoke(main, ["inventory", "discover", *zones, "--inventory", str(lab.inventory.base), "--out", str(out),
                                  *extra])
    assert r.exit_code == 0, r.output
    return yaml.safe_load((out / "discovered.yaml").read_text())


def _diff(lab, out) -> tuple[int, dict]:
    r = CliRunner().invoke(main, ["inventory", "diff", str(lab.inventory.base), str(out), "--format", "json"])
    return r.exit_code, json.loads(r.output)


def _declared(lab) -> dict:
    from provdc.commands.inventory import _declared_servers

    return _declared_servers(lab.inventory)


def test_every_zone_swept_recovers_the_servers_and_services_and_invents_nothing(lab, tmp_path):
    ssh = lab.inventory.doc.servers[0].ssh
    found = _discover(lab, tmp_path, "--ssh-key", ssh.key, "--known-hosts", ssh.known_hosts)
    # over SSH each host names itself as the inventory does, and says its OS
    by_address = {str(s.address): s for s in lab.inventory.doc.servers}
    named = [s for s in found["servers"] if s["address"] in by_address]
    assert sum(s["id"] == by_address[s["address"]].hostname for s in named) >= 0.95 * len(by_address)
    assert all(s.get("discovered_over_ssh", {}).get("os") for s in named)
    hosts, services = discovery.recovery(_declared(lab), found)
    assert hosts >= 0.95 and services >= 0.95, (hosts, services)
    code, d = _diff(lab, tmp_path)
    assert d["only_discovered_hosts"] == [] and d["only_discovered_services"] == [], d
    assert d["outside_swept"] == []
    assert code == (0 if not (d["only_declared_hosts"] or d["only_declared_services"]) else 1)


def test_a_planted_listener_and_address_are_in_the_diff(lab, tmp_path):
    start = ("setsid python3 -c \"import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
             "s.bind(('10.99.40.20', 3306)); s.listen(5)\ntime.sleep(600)\" >/dev/null 2>&1 & sleep 1")
    assert lab.in_host("backup1", "sh", "-c", start).returncode == 0
    net.run(["ip", "-n", "pd-db1", "addr", "add", "10.99.30.99/24", "dev", "eth0"])
    try:
        _discover(lab, tmp_path)
        code, d = _diff(lab, tmp_path)
    finally:
        net.run(["ip", "-n", "pd-db1", "addr", "del", "10.99.30.99/24", "dev", "eth0"])
        lab.in_host("backup1", "pkill", "-f", r"time\.sleep\(600\)")
    assert code == 1
    assert d["only_discovered_hosts"] == ["10.99.30.99"]
    assert [s for s in d["only_discovered_services"] if s.startswith("backup1: 3306/tcp")], d
