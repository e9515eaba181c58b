"""The zone matrix offline: what the lab inventory allows per (source zone, target service),
the sweep's script (run here by bash against loopback only) and its parser, and the judging."""

from __future__ import annotations

import ipaddress
import socket
import subprocess

import pytest

from provdc.checks import zonematrix
from provdc.checks.engine import DEFAULT, zone_sweep_plan
from provdc.checks.results import Status
from provdc.checks.zonematrix import Observation, Sweep
from provdc.errors import ScopeError
from provdc.inventory import load_inventory
from tests.conftest import EXAMPLES

LAB = load_inventory(EXAMPLES / "lab")
PAIRS = zonematrix.expected(LAB, LAB.doc.servers)


def pair(source: str, target: str, port: int) -> zonematrix.Pair:
    return next(p for p in PAIRS if (p.source, p.target, p.port) == (source, target, port))


def clean_sweeps(pairs=PAIRS, **override) -> dict[str, Sweep]:
    """What a provisioned lab answers: allowed pairs open, denied ones filtered; `override`
    maps a zone to its own Sweep."""
    sweeps = {}
    for zone, hosts in zonematrix.vantages(LAB).items():
        if not hosts:
            sweeps[zone] = Sweep(None, error="no managed host in the zone")
            continue
        states = {(p.address, p.port): "open" if p.allowed else "filtered" for p in pairs if p.source == zone}
        sweeps[zone] = Sweep(hosts[0].id, states)
    return {**sweeps, **override}


def test_the_inventory_allows_each_service_from_its_declared_zones_and_the_management_zones():
    assert pair("dc-srv", "db2", 5432).allowed and pair("dc-srv", "db2", 5432).why == "from: dc-srv"
    denied = pair("dc-dmz", "db2", 5432)
    assert not denied.allowed and denied.why == "postgresql admits dc-srv and the management zones only"
    assert pair("dc-dmz", "db1", 5432).allowed                                   # db1 declares the DMZ
    assert pair("dc-mgmt", "db2", 5432).allowed and "management zone" in pair("dc-mgmt", "db2", 5432).why
    assert pair("dc-edge", "portal-web1", 443).why == "from: internet"           # the Internet is any address
    assert not pair("dc-edge", "mcdt-app1", 443).allowed                         # wan is the agencies' subnets, not the edge
    assert not pair("dc-db", "portal-web1", 22).allowed                          # ssh from dc-mgmt only


def test_pairs_cross_a_zone_boundary_and_only_tcp_is_swept():
    assert all(LAB.servers[p.target].zone != p.source for p in PAIRS)
    assert not any(p.target == "mon1" and p.port == 123 for p in PAIRS)           # ntp is udp
    assert {p.source for p in PAIRS} == {z.id for z in LAB.doc.zones}


def test_every_swept_address_is_a_declared_server_inside_a_declared_zone():
    nets = [z.cidr for z in LAB.doc.zones]
    declared = {str(s.address) for s in LAB.doc.servers}
    for zone in zonematrix.vantages(LAB):
        for address, port in zonematrix.probes(PAIRS, zone):
            assert address in declared and any(ipaddress.IPv4Address(address) in n for n in nets)
            assert 1 <= port <= 65535


def test_vantage_points_are_managed_hosts_of_the_zone_servers_first():
    hosts = {zone: [h.id for h in found] for zone, found in zonematrix.vantages(LAB).items()}
    assert hosts["dc-dmz"][0] == "mail1" and set(hosts["dc-dmz"]) == {"mail1", "portal-web1", "portal-web2"}
    assert hosts["dc-edge"] == ["inet-rtr", "wan-rtr"]                           # Linux routers with ssh
    assert hosts["dc-devmgmt"] == []                                             # only the core firewall appliance


def test_a_database_port_answering_from_the_dmz_fails_naming_the_zone_target_port_and_why():
    sweeps = clean_sweeps()
    dmz = sweeps["dc-dmz"]
    sweeps["dc-dmz"] = Sweep(dmz.vantage, {**dmz.states, ("10.99.30.12", 5432): "open"})
    rows = zonematrix.observe(PAIRS, sweeps)
    verdict = zonematrix.judge(rows["db2"])
    assert verdict.status is Status.FAIL
    assert verdict.found.startswith("from dc-dmz via mail1: 10.99.30.12:5432 (postgresql) open, expected denied "
                                    "(postgresql admits dc-srv and the management zones only)")
    assert "unmeasured, allowed: from dc-devmgmt (no managed host in the zone)" in verdict.found
    assert zonematrix.judge(rows["db1"]).status is Status.PASS                   # the same port, declared for the DMZ


def test_a_clean_matrix_passes_and_names_what_it_could_not_measure():
    rows = zonematrix.observe(PAIRS, clean_sweeps())
    for target, row in rows.items():
        verdict = zonematrix.judge(row)
        assert verdict.status is Status.PASS, (target, verdict)
    found = zonematrix.judge(rows["db2"]).found
    assert found.startswith("12 pairs measured from 4 zones (dc-dmz, dc-edge, dc-mgmt, dc-srv): 4 allowed open, 8 denied")
    assert "unmeasured, allowed: from dc-devmgmt (no managed host in the zone): 22, 5432, 9100" in found


def test_a_zone_without_a_managed_host_leaves_its_denied_pairs_unmeasured_never_pass():
    sweeps = clean_sweeps(**{"dc-dmz": Sweep(None, error="no managed host in the zone")})
    verdict = zonematrix.judge(zonematrix.observe(PAIRS, sweeps)["db2"])
    assert verdict.status is Status.ERROR
    assert verdict.found.startswith("unmeasured, denied: from dc-dmz (no managed host in the zone): 22, 5432, 9100")


def test_a_sweep_that_could_not_run_or_was_cut_short_is_unmeasured():
    unreachable = Sweep(None, error="mail1: unreachable over SSH: Connection timed out")
    verdict = zonematrix.judge(zonematrix.observe(PAIRS, clean_sweeps(**{"dc-dmz": unreachable}))["db2"])
    assert verdict.status is Status.ERROR and "mail1: unreachable over SSH" in verdict.found
    cut = zonematrix.parse_sweep("filtered 10.99.30.12 22\n", "mail1")
    assert cut.error == "sweep cut short" and cut.states == {("10.99.30.12", 22): "filtered"}
    verdict = zonematrix.judge(zonematrix.observe(PAIRS, clean_sweeps(**{"dc-dmz": cut}))["db2"])
    assert verdict.status is Status.ERROR and "from dc-dmz (sweep cut short): 5432, 9100" in verdict.found


def test_allowed_pairs_that_do_not_answer_are_named_but_do_not_fail():
    sweeps = clean_sweeps()
    srv = sweeps["dc-srv"]
    sweeps["dc-srv"] = Sweep(srv.vantage, {**srv.states, ("10.99.30.12", 5432): "filtered"})
    verdict = zonematrix.judge(zonematrix.observe(PAIRS, sweeps)["db2"])
    assert verdict.status is Status.PASS
    assert "allowed but not answering: from dc-srv via docs-app1: 10.99.30.12:5432 (postgresql) filtered" in verdict.found


def test_the_sweep_output_parses_and_ignores_noise():
    text = "open 10.99.30.12 5432\nclosed 10.99.30.11 22\nbash: warning\nfiltered 10.99.10.11 9100\nprovdc-sweep-done\n"
    sweep = zonematrix.parse_sweep(text, "mail1")
    assert sweep.error == "" and sweep.vantage == "mail1"
    assert sweep.states == {("10.99.30.12", 5432): "open", ("10.99.30.11", 22): "closed", ("10.99.10.11", 9100): "filtered"}


def test_the_sweep_script_tells_open_from_closed_with_bash_alone():
    """The real script, run by this machine's bash against loopback only."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))          # bound, not listening: the kernel refuses connects
    try:
        ports = [listener.getsockname()[1], closed.getsockname()[1]]
        script = zonematrix.sweep_script([("127.0.0.1", p) for p in ports])
        out = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, timeout=10).stdout
    finally:
        listener.close()
        closed.close()
    sweep = zonematrix.parse_sweep(out, "here")
    assert sweep.error == "", out
    assert sweep.states == {("127.0.0.1", ports[0]): "open", ("127.0.0.1", ports[1]): "closed"}


def test_the_sweep_is_bounded():
    assert zonematrix.CONNECT_TIMEOUT <= 1 and zonematrix.CONCURRENCY >= 16
    biggest = max(len(zonematrix.probes(PAIRS, zone)) for zone in zonematrix.vantages(LAB))
    assert zonematrix.sweep_seconds(biggest) <= 3


def test_the_check_is_registered_in_the_network_layer_and_judges_the_row():
    c = DEFAULT["zone_matrix_enforced"]
    assert c.layer == "network" and c.scope == "host" and c.facts == ("zone_reach",) and c.tags == ("firewall",)
    assert c.func([]).status is Status.NOT_APPLICABLE
    row = [Observation(pair("dc-dmz", "db2", 5432), "open", "mail1")]
    assert c.func(row).status is Status.FAIL


def test_a_wide_open_host_names_the_first_breaches_and_counts_the_rest():
    wide = {zone: Sweep(s.vantage, {k: "open" for k in s.states}, s.error) for zone, s in clean_sweeps().items()}
    verdict = zonematrix.judge(zonematrix.observe(PAIRS, wide)["db2"])
    assert verdict.status is Status.FAIL
    assert verdict.found.count("expected denied") == 8 and "more denied pairs open" not in verdict.found
    many = [Observation(zonematrix.Pair("dc-dmz", "x", "10.99.30.12", port, "p", False, "why"), "open", "mail1")
            for port in range(1000, 1020)]
    found = zonematrix.judge(many).found
    assert found.count("expected denied") == zonematrix.SHOWN and "and 8 more denied pairs open" in found


def test_the_scope_guard_refuses_a_sweep_towards_an_address_outside_the_declared_zones():
    pairs, plan = zone_sweep_plan(LAB, LAB.doc.servers)
    assert pairs == PAIRS and "dc-devmgmt" in plan and plan["dc-devmgmt"][0] == []
    stray = LAB.__class__(doc=LAB.doc.model_copy(update={"servers": [
        s.model_copy(update={"address": ipaddress.IPv4Address("192.0.2.7")}) if s.id == "db2" else s
        for s in LAB.doc.servers]}), base=LAB.base)
    with pytest.raises(ScopeError, match="192.0.2.7"):
        zone_sweep_plan(stray, stray.doc.servers)          # refused before any packet: nothing is swept
