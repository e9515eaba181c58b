"""Discovery's pure half: zone specs and scope, nmap XML (as nmap 7.93 writes it) to hosts, the
draft, and the declared/discovered difference. The sweep itself is tested on the lab twin
(tests/integration/test_discover.py)."""

from __future__ import annotations

import ipaddress
import json

import pytest
from click.testing import CliRunner

from provdc.inventory import discovery

XML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sT -Pn -n" start="1796288953" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="3" services="22,443,5432"/>
{hosts}
<runstats><finished time="1796288953" elapsed="0.02" exit="success"/><hosts up="3" down="0" total="3"/></runstats>
</nmaprun>"""
HOST = """<host><status state="up" reason="user-set" reason_ttl="0"/><address addr="{addr}" addrtype="ipv4"/>
<hostnames>{names}</hostnames><ports>{ports}</ports></host>"""
PORT = ('<port protocol="tcp" portid="{port}"><state state="{state}" reason="syn-ack" reason_ttl="0"/>'
        '<service name="{name}" method="table" conf="3"/></port>')


def _scan(hosts: dict[str, dict[int, tuple[str, str]]], names: dict[str, str] | None = None) -> dict:
    import nmap

    body = "".join(HOST.format(addr=a, names=f'<hostname name="{(names or {}).get(a)}" type="PTR"/>' if (names or {}).get(a) else "",
                               ports="".join(PORT.format(port=p, state=st, name=n) for p, (st, n) in ports.items()))
                   for a, ports in hosts.items())
    return nmap.PortScanner().analyse_nmap_xml_scan(XML.format(hosts=body))["scan"]


ZONES = discovery.parse_zones(["dc-dmz=10.99.10.0/24", "dc-db=10.99.30.0/24"])
SCAN = _scan({"10.99.10.11": {22: ("open", "ssh"), 443: ("open", "https"), 80: ("closed", "http")},
              "10.99.30.11": {22: ("open", "ssh"), 5432: ("open", "postgresql"), 6379: ("open", "redis")},
              "10.99.40.1": {22: ("open", "ssh")},            # outside the swept zones: dropped
              "10.99.10.1": {22: ("open", "ssh")}},           # this machine's own address: excluded
             names={"10.99.10.11": "portal-web1.lab"})


def test_zone_specs_report_every_defect_at_once():
    with pytest.raises(discovery.DiscoveryError) as e:
        discovery.parse_zones(["a=10.0.0.0/8", "b", "c=10.1.2.3/24", "d=10.9.0.0/24", "d=10.9.1.0/24"])
    text = str(e.value)
    assert "/8 is wider than /16" in text and "'b': expected NAME=CIDR" in text and "has host bits set" in text
    assert "d: named twice" in text


def test_scope_refuses_what_the_inventory_does_not_declare_and_public_ranges_without_one():
    declared = [ipaddress.IPv4Network("10.99.10.0/24")]
    discovery.check_zones_in_scope(discovery.parse_zones(["dmz=10.99.10.0/25"]), declared)
    with pytest.raises(discovery.DiscoveryError, match=r"db=10.99.30.0/24 \(not inside"):
        discovery.check_zones_in_scope(ZONES, declared)
    discovery.check_zones_in_scope(ZONES, None)
    with pytest.raises(discovery.DiscoveryError, match="public range"):
        discovery.check_zones_in_scope(discovery.parse_zones(["x=8.8.8.0/24"]), None)


def test_hosts_from_nmap_keep_open_ports_in_swept_zones_only():
    hosts = discovery.hosts_from_scan(SCAN, ZONES, exclude={"10.99.10.1"})
    assert [(h.address, h.zone, h.hostname) for h in hosts] == [("10.99.10.11", "dc-dmz", "portal-web1.lab"),
                                                                 ("10.99.30.11", "dc-db", None)]
    assert hosts[0].ports == {22: "ssh", 443: "https"}
    assert hosts[1].ports == {22: "ssh", 5432: "postgresql", 6379: "redis"}


def test_the_draft_uses_the_inventory_s_service_kinds():
    proposal = discovery.draft(ZONES, discovery.hosts_from_scan(SCAN, ZONES, exclude={"10.99.10.1"}))
    web, db = proposal["servers"]
    assert web["id"] == "portal-web1" and db["id"] == "host-10-99-30-11"
    assert {s["port"]: s["kind"] for s in db["services"]} == {22: "ssh", 5432: "postgresql", 6379: "generic"}
    assert [s for s in web["services"] if s["port"] == 443] == [{"name": "https-443", "port": 443, "kind": "https", "tls": True}]
    assert proposal["zones"] == [{"id": "dc-dmz", "cidr": "10.99.10.0/24"}, {"id": "dc-db", "cidr": "10.99.30.0/24"}]


DECLARED = {"servers": [
    {"id": "web1", "address": "10.99.10.11", "services": [{"name": "https", "port": 443, "proto": "tcp"},
                                                          {"name": "ntp", "port": 123, "proto": "udp"}]},
    {"id": "db1", "address": "10.99.30.11", "services": [{"name": "pg", "port": 5432, "proto": "tcp"}]},
    {"id": "db2", "address": "10.99.30.12", "services": [{"name": "pg", "port": 5432, "proto": "tcp"}]},
    {"id": "mon1", "address": "10.99.40.11", "services": [{"name": "prom", "port": 9090, "proto": "tcp"}]}]}


def test_the_diff_names_each_side_and_leaves_out_what_was_not_swept():
    proposal = discovery.draft(ZONES, discovery.hosts_from_scan(SCAN, ZONES, exclude=set()))
    d = discovery.diff(DECLARED, proposal, known_addresses={"10.99.10.1"})   # a gateway: declared, not a server
    assert d.only_declared_hosts == ["db2 (10.99.30.12)"]
    assert d.only_discovered_hosts == []
    assert d.only_discovered_services == ["db1: 6379/tcp (redis-6379)"]   # ssh on 22 is expected
    assert d.only_declared_services == [] and d.not_probed == ["web1: 123/udp (ntp)"]
    assert d.outside_swept == ["mon1 (10.99.40.11)"] and not d.empty
    assert discovery.recovery(DECLARED, proposal) == (pytest.approx(2 / 3), pytest.approx(2 / 3))


def test_an_unknown_host_and_a_silent_service_are_differences():
    scan = _scan({"10.99.30.11": {22: ("open", "ssh")}, "10.99.30.99": {22: ("open", "ssh")}})
    proposal = discovery.draft(ZONES, discovery.hosts_from_scan(scan, ZONES, exclude=set()))
    d = discovery.diff({"servers": DECLARED["servers"][1:2]}, proposal)
    assert d.only_declared_services == ["db1: 5432/tcp (pg)"] and d.only_discovered_hosts == ["10.99.30.99"]


def test_the_diff_command_reads_a_discovery_and_exits_1_on_differences(lab_inventory, tmp_path):
    import yaml

    from provdc.cli import main

    servers = [{"id": s.id, "address": str(s.address), "zone": s.zone,
                "services": [{"name": v.name, "port": v.port} for v in s.services if v.proto == "tcp"]}
               for s in lab_inventory.doc.servers if s.zone == "dc-db"]
    found = {"zones": [{"id": "dc-db", "cidr": "10.99.30.0/24"}], "servers": servers}
    (tmp_path / "discovered.yaml").write_text(yaml.safe_dump(found))
    same = CliRunner().invoke(main, ["inventory", "diff", str(lab_inventory.base), str(tmp_path), "--lang", "en"])
    assert same.exit_code == 0 and "declared and discovered agree" in same.output, same.output
    found["servers"].append({"id": "x", "address": "10.99.30.200", "zone": "dc-db", "services": []})
    (tmp_path / "discovered.yaml").write_text(yaml.safe_dump(found))
    other = CliRunner().invoke(main, ["inventory", "diff", str(lab_inventory.base), str(tmp_path), "--format", "json"])
    assert other.exit_code == 1 and json.loads(other.output)["only_discovered_hosts"] == ["10.99.30.200"]
    vi = CliRunner().invoke(main, ["inventory", "diff", str(lab_inventory.base), str(tmp_path)])
    assert "máy đang trả lời nhưng chưa khai báo" in vi.output


def test_a_file_that_is_not_a_discovery_is_a_clean_error(lab_inventory, tmp_path):
    from provdc.cli import main

    (tmp_path / "discovered.yaml").write_text("- just\n- a list\n")
    r = CliRunner().invoke(main, ["inventory", "diff", str(lab_inventory.base), str(tmp_path / "discovered.yaml")])
    assert r.exit_code == 1 and "not a discovery" in r.output and "Traceback" not in r.output


def test_discover_refuses_a_zone_outside_the_inventory_before_any_packet(lab_inventory, tmp_path, monkeypatch):
    from provdc.cli import main
    from provdc.commands import inventory as command

    monkeypatch.setattr(command, "_sweep", lambda *a: pytest.fail("swept despite the scope guard"))
    r = CliRunner().invoke(main, ["inventory", "discover", "--zone", "x=10.98.0.0/24", "--inventory",
                                  str(lab_inventory.base), "--out", str(tmp_path / "d")])
    assert r.exit_code == 1 and "refusing to sweep outside the declared scope" in r.output
    assert not (tmp_path / "d").exists()


SSH_OUTPUT = """db1
---
Debian GNU/Linux 12 (bookworm)
---
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*
LISTEN 0      244      10.99.30.11:5432      0.0.0.0:*
LISTEN 0      100        127.0.0.1:25        0.0.0.0:*
LISTEN 0      128             [::]:9100         [::]:*
LISTEN 0      100            [::1]:25           [::]:*
---
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.99.30.11/24 brd 10.99.30.255 scope global eth0\\       valid_lft forever preferred_lft forever
"""


def test_ssh_facts_give_the_host_s_own_name_os_addresses_and_unreached_listeners():
    assert discovery.parse_ssh_facts(SSH_OUTPUT) == ("db1", "Debian GNU/Linux 12 (bookworm)", {22, 5432, 9100},
                                                     ["10.99.30.11"])
    host = next(h for h in discovery.hosts_from_scan(SCAN, ZONES, exclude=set()) if h.address == "10.99.30.11")
    described = discovery.with_ssh_facts(host, SSH_OUTPUT)
    assert described.hostname == "db1" and described.listening == [9100]   # 22 and 5432 answered the sweep
    server = discovery.draft(ZONES, [described])["servers"][0]
    assert server["id"] == "db1"
    assert server["discovered_over_ssh"] == {"os": "Debian GNU/Linux 12 (bookworm)", "addresses": ["10.99.30.11"],
                                             "listening_not_reachable": [9100]}


def test_empty_or_partial_ssh_output_is_no_fact_rather_than_a_guess():
    assert discovery.parse_ssh_facts("") == (None, None, set(), [])
    assert discovery.parse_ssh_facts("web1\n") == ("web1", None, set(), [])


def test_a_malformed_key_reference_is_refused_before_any_packet(tmp_path, monkeypatch):
    from provdc.cli import main
    from provdc.commands import inventory as command

    monkeypatch.setattr(command, "_sweep", lambda *a: pytest.fail("swept with a malformed key reference"))
    r = CliRunner().invoke(main, ["inventory", "discover", "--zone", "z=10.99.30.0/24", "--ssh-key", "/root/.ssh/id",
                                  "--out", str(tmp_path / "d")])
    assert r.exit_code == 1 and "not a secret reference" in r.output and "Traceback" not in r.output
