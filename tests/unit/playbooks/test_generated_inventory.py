"""Offline: the Ansible inventory generated from the mini lab's model (no host is contacted)."""

from __future__ import annotations

from provdc.inventory import load_inventory
from provdc.playbooks.runner import ansible_inventory
from tests.conftest import ROOT

MINI_INVENTORY = ROOT / "tests" / "integration" / "lab_mini" / "inventory.yaml"


def test_generated_inventory_holds_only_the_model():
    inv = load_inventory(MINI_INVENTORY)
    hosts = ansible_inventory(inv)["all"]["hosts"]
    assert sorted(hosts) == ["app1", "db1", "rtr"]
    assert hosts["db1"]["ansible_host"] == "10.98.1.12" and hosts["db1"]["provdc_services"][1]["sources"] == ["10.98.1.0/24"]
    assert "UserKnownHostsFile=/run/provdc/lab-pt/known_hosts" in hosts["db1"]["ansible_ssh_common_args"]
    rtr = hosts["rtr"]
    assert rtr["ansible_host"] == "10.98.2.2" and "UserKnownHostsFile=/run/provdc/lab-pt/known_hosts" in rtr["ansible_ssh_common_args"]
    assert rtr["provdc_snmp"]["community_file"] == "/run/provdc/lab-pt/snmp-community"
    assert rtr["provdc_snmp"]["sources"] == ["10.98.2.0/24"] and rtr["provdc_snmp"]["interfaces"] == ["wan1"]
    assert "provdc_services" not in rtr  # a device gets the snmpd play only, not the server baseline

