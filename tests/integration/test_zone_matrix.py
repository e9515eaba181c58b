"""The zone matrix on the real lab, swept from inside every zone: the hosts firewalled as the
firewall role provisions them (its own template, rendered from the inventory), then one
database port opened to the DMZ, and a zone left without a managed host. Whatever a test
loads into a host's nftables it puts back as it was."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from provdc.checks.engine import DEFAULT, Options, run_audit
from provdc.checks.registry import CheckRegistry
from provdc.checks.results import Status
from provdc.inventory.exports import server_hostvars, to_ansible_dict
from provdc.lab import faults
from provdc.lab.hosts import role_template

pytestmark = pytest.mark.twin

ONLY_THE_MATRIX = CheckRegistry()
ONLY_THE_MATRIX.add(DEFAULT["zone_matrix_enforced"])
RULES = "/tmp/provdc-zone-matrix.nft"


def provisioned_ruleset(inv, server) -> str:
    """/etc/nftables.conf as the firewall role writes it for this server."""
    management = to_ansible_dict(inv)["all"]["vars"]["provdc_management_cidrs"]
    return role_template("firewall", "nftables.conf.j2", {**server_hostvars(inv, server), "provdc_management_cidrs": management})


def _load(lab, host: str, text: str) -> None:
    lab.host_path(host, RULES).write_text(text)
    r = lab.in_host(host, "nft", "-f", RULES)
    lab.host_path(host, RULES).unlink()
    assert r.returncode == 0, (host, r.stderr)


@contextmanager
def firewalled(lab):
    """Every server's host firewall as provisioned; each host's ruleset back as it was after."""
    inv = lab.inventory
    saved = {}
    try:
        for server in inv.doc.servers:
            saved[server.id] = lab.in_host(server.id, "nft", "list", "ruleset").stdout
            _load(lab, server.id, provisioned_ruleset(inv, server))
        yield
    finally:
        for host, text in saved.items():
            _load(lab, host, "flush ruleset\n" + text)


def matrix(inv, **opts):
    run = run_audit(inv, Options(**opts), registry=ONLY_THE_MATRIX)
    return {f.host: f for f in run.findings if f.check == "zone_matrix_enforced"}


def test_the_zone_matrix_from_inside_each_zone(lab):
    inv = lab.inventory
    no_edge = inv.__class__(doc=inv.doc.model_copy(update={"devices": [
        d.model_copy(update={"ssh": None}) if d.zone == "dc-edge" else d for d in inv.doc.devices]}), base=inv.base)
    with firewalled(lab):
        # (1) the provisioned lab: no FAIL; every pair measured but those from the zone without a managed host
        clean = matrix(inv)
        assert set(clean) == set(inv.servers)
        for host, f in clean.items():
            assert f.status is Status.PASS, (host, f.found)
            assert "unmeasured, allowed: from dc-devmgmt (no managed host in the zone)" in f.found, f.found
            assert "unmeasured, denied" not in f.found and "allowed but not answering" not in f.found, f.found
        assert clean["db2"].found.startswith("12 pairs measured from 4 zones (dc-dmz, dc-edge, dc-mgmt, dc-srv): "
                                             "4 allowed open, 8 denied closed or filtered"), clean["db2"].found

        # (3) the edge zone without a managed host (its routers not reached over SSH): its denied
        # pairs are unmeasured, never a PASS
        f = matrix(no_edge, hosts={"db2"})["db2"]
        assert f.status is Status.ERROR, f.found
        assert f.found.startswith("unmeasured, denied: from dc-edge (no managed host in the zone): 22, 5432, 9100"), f.found

        # (2) db2's host firewall admits the DMZ on 5432: a FAIL naming the DMZ as the source zone
        r = lab.in_host("db2", "nft", "insert", "rule", "inet", "provdc", "input",
                        "ip", "saddr", "10.99.10.0/24", "tcp", "dport", "5432", "accept")
        assert r.returncode == 0, r.stderr
        opened = matrix(inv, hosts={"db1", "db2"})
        assert opened["db2"].status is Status.FAIL, opened["db2"].found
        assert DMZ_TO_DB2 in opened["db2"].found, opened["db2"].found
        assert opened["db1"].status is Status.PASS, opened["db1"].found   # db1 declares 5432 from the DMZ

        # a vantage host that does not answer gives way to the next managed host of its zone
        faults.stop_host(lab, "mail1")
        try:
            f = matrix(inv, hosts={"db2"}, timeout=6)["db2"]
        finally:
            faults.start_host(lab, "mail1")
        assert f.status is Status.FAIL and DMZ_TO_DB2.replace("via mail1", "via portal-web1") in f.found, f.found

    # ... and so it is where no host firewall blocks it (the lab as built, before provisioning)
    bare = matrix(inv, hosts={"db2"})["db2"]
    assert bare.status is Status.FAIL and DMZ_TO_DB2 in bare.found, bare.found


DMZ_TO_DB2 = ("from dc-dmz via mail1: 10.99.30.12:5432 (postgresql) open, expected denied "
              "(postgresql admits dc-srv and the management zones only)")
