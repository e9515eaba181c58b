"""The lab plan is a pure function of the inventory: tested offline, no root needed."""

from __future__ import annotations

import ipaddress

import pytest

from provdc.inventory import load_inventory
from provdc.lab.plan import MAX_IFNAME, LabError, plan_lab
from tests.conftest import EXAMPLES, ROOT


@pytest.fixture(scope="module")
def plan(lab_inventory):
    return plan_lab(lab_inventory)


def test_every_server_device_agency_and_provider_gets_a_namespace(plan, lab_inventory):
    kinds = [ns.kind for ns in plan.namespaces.values()]
    assert kinds.count("server") == len(lab_inventory.servers)
    assert set(plan.devices) == set(lab_inventory.devices)
    assert kinds.count("agency") == 4 and kinds.count("provider") == 2
    assert all(name.startswith("pd-") for name in plan.namespaces)


def test_every_zone_is_a_bridge_and_names_fit_the_kernel(plan, lab_inventory):
    assert sorted(plan.bridges.values()) == sorted(lab_inventory.zones)
    names = [*plan.bridges, *plan.root_veths] + [i.name for ns in plan.namespaces.values() for i in ns.ifaces]
    assert all(len(n) <= MAX_IFNAME for n in names)
    assert len(set(plan.root_veths)) == len(plan.root_veths)


def test_servers_have_their_inventory_address_and_route_only_the_supernet(plan, lab_inventory):
    for sid, server in lab_inventory.servers.items():
        ns = plan.ns_of_server(sid)
        assert [a.ip for a in ns.addresses] == [server.address]
        assert [str(r.dest) for r in ns.routes] == ["10.99.0.0/16"]
    for ns in plan.namespaces.values():  # no default route anywhere
        assert all(r.dest.prefixlen > 0 for r in ns.routes)


def test_all_addresses_stay_inside_the_supernet(plan):
    addresses = [a for ns in plan.namespaces.values() for a in ns.addresses] + [plan.controller]
    assert all(a.ip in plan.supernet for a in addresses)


def test_core_firewall_is_the_site_router_with_its_management_address_as_an_alias(plan):
    core = plan.namespaces["pd-core-fw"]
    assert core.forwarding
    gateways = sorted(str(i.address) for i in core.ifaces)
    assert gateways == sorted(f"10.99.{n}.1/24" for n in (0, 10, 20, 30, 40, 50))
    assert [str(a) for i in core.ifaces for a in i.aliases] == ["10.99.50.2/24"]


def test_links_are_shaped_per_direction_to_their_contract(plan):
    lp = plan.links["wan-phuong-trung-tam"]
    assert (lp.a_to_b_bps, lp.b_to_a_bps) == (10_000_000, 5_000_000)
    a_if = next(i for i in plan.namespaces[lp.a_ns].ifaces if i.name == lp.a_if)
    b_if = next(i for i in plan.namespaces[lp.b_ns].ifaces if i.name == lp.b_if)
    assert (a_if.rate_bps, b_if.rate_bps) == (10_000_000, 5_000_000)
    assert lp.a_if == "wan4"  # the inventory's interface name, so SNMP ifName matches measured_by


def test_the_core_router_reaches_agency_subnets_through_the_wan_router(plan):
    core = plan.namespaces["pd-core-fw"]
    via = {str(r.dest): str(r.via) for r in core.routes}
    assert via["10.99.100.8/30"] == "10.99.0.2" and via["10.99.200.4/30"] == "10.99.0.3"
    agency = plan.namespaces["pd-ag-ubnd-xa-dong-son"]
    assert [(str(r.dest), str(r.via)) for r in agency.routes] == [("10.99.0.0/16", "10.99.100.9")]


def test_this_machine_joins_the_management_zone_at_a_free_address(plan):
    assert str(plan.controller) == "10.99.40.254/24"
    assert plan.bridges[plan.controller_bridge] == "dc-mgmt"
    assert {str(r.dest) for r in plan.root_routes} >= {"10.99.10.0/24", "10.99.100.8/30"}


def test_a_production_inventory_is_not_a_lab():
    with pytest.raises(LabError, match="no `lab:` section"):
        plan_lab(load_inventory(EXAMPLES / "thua-thien-hue"))


def test_the_mini_lab_is_planned_with_its_own_prefix():
    plan = plan_lab(load_inventory(ROOT / "tests/integration/lab_mini/inventory.yaml"))
    assert plan.prefix == "pt" and plan.supernet == ipaddress.IPv4Network("10.98.0.0/16")
    assert set(plan.namespaces) == {"pt-rtr", "pt-app1", "pt-db1", "pt-ag-xa-a"}


def test_nginx_config_serves_only_declared_ports(lab_inventory):
    from provdc.lab.hosts import nginx_config

    web = lab_inventory.servers["portal-web1"]
    conf = nginx_config(web, [s for s in web.services if s.kind in ("http", "https")])
    assert "listen 10.99.10.11:443 ssl;" in conf and "listen 10.99.10.11:80;" in conf
    assert "return 301 https://$host$request_uri;" in conf
    assert "include" not in conf  # not Debian's default site on port 80 of every address


def test_linux_devices_are_lab_hosts_with_sshd_and_their_snmp_agent(plan, lab_inventory):
    from provdc.lab.hosts import is_device, lab_hosts

    hosts = {h.id: h for h in lab_hosts(lab_inventory)}
    assert set(hosts) == {*lab_inventory.servers, "wan-rtr", "inet-rtr"}  # the core firewall is an appliance
    rtr = hosts["wan-rtr"]
    assert is_device(rtr) and not is_device(hosts["db1"])
    assert str(rtr.address) == "10.99.0.2" and [(s.kind, s.proto, s.port) for s in rtr.services] == \
        [("ssh", "tcp", 22), ("snmp", "udp", 161)]
    assert plan.host_namespace("wan-rtr") == "pd-wan-rtr" and plan.host_namespace("db1") == "pd-db1"


def test_a_lab_device_starts_with_the_snmpd_role_s_own_configuration(lab_inventory, tmp_path, monkeypatch):
    from provdc.inventory.exports import device_hostvars
    from provdc.lab.hosts import role_template

    variables = {**device_hostvars(lab_inventory, lab_inventory.devices["wan-rtr"]), "provdc_snmp_community": "c0mm"}
    conf = role_template("snmpd", "snmpd.conf.j2", variables)
    assert "agentAddress udp:10.99.0.2:161,udp:127.0.0.1:161\n" in conf
    # one line per monitoring zone, read-only, restricted to the interface view; no blank lines
    assert [line for line in conf.splitlines() if line.startswith("rocommunity")] == [
        "rocommunity c0mm 10.99.40.0/24 -V provdc", "rocommunity c0mm 10.99.50.0/24 -V provdc"]
    assert "\n\n" not in conf and conf.endswith("includeDir /etc/snmp/snmpd.conf.d\n")
    assert "rwcommunity" not in conf


def test_a_device_reached_over_ssh_needs_a_zone_in_the_lab(tmp_path):
    text = (ROOT / "tests/integration/lab_mini/inventory.yaml").read_text()
    text = text.replace("    zone: mgmt\n    address: 10.98.2.2\n", "    address: 10.98.2.2\n")
    (tmp_path / "inv.yaml").write_text(text)
    with pytest.raises(LabError, match="device 'rtr': a device reached over SSH needs a zone"):
        plan_lab(load_inventory(tmp_path / "inv.yaml"))
