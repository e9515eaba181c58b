"""Kernel, file and data-layer checks on real lab hosts: planted per host, in its own view and
its own network namespace (per-namespace sysctls), never on the machine."""

from __future__ import annotations

import time

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from tests.integration.conftest import planted

pytestmark = pytest.mark.twin

PG = "/etc/postgresql/15/main"
DATA = "/var/lib/postgresql/15/main"


def verdicts(lab, layers, hosts=None):
    run = run_audit(lab.inventory, Options(layers=set(layers), hosts=set(hosts) if hosts else None))
    return {(f.check, f.host or f.system): f.status for f in run.findings}


KERNEL = {"db2": ["net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.rp_filter"],
          "db1": ["net.ipv4.ip_forward", "net.ipv4.tcp_syncookies", "net.ipv4.conf.all.accept_source_route"]}


def test_kernel_settings_pass_and_fail_per_host(lab):
    with planted(lab, sysctls=KERNEL):
        _hardened_db2_kernel_passes_where_db1_fails(lab)


def _hardened_db2_kernel_passes_where_db1_fails(lab):
    # fresh namespaces accept redirects and do no rp filtering; db2 gets the hardened values
    assert lab.in_host("db2", "sysctl", "-q", "-w", "net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.all.send_redirects=0",
                       "net.ipv4.conf.all.rp_filter=1").returncode == 0
    assert lab.in_host("db1", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.tcp_syncookies=0",
                       "net.ipv4.conf.all.accept_source_route=1").returncode == 0
    v = verdicts(lab, {"host"}, {"db1", "db2"})
    for check in ("icmp_redirects_ignored", "reverse_path_filter_on"):
        assert (v[(check, "db2")], v[(check, "db1")]) == (Status.PASS, Status.FAIL), check
    for check in ("kernel_ip_forward_off", "tcp_syncookies_on", "source_routing_off"):
        assert (v[(check, "db2")], v[(check, "db1")]) == (Status.PASS, Status.FAIL), check


def test_account_file_permissions_and_pending_reboot(lab):
    with planted(lab, files={"mcdt-app1": ["/etc/shadow", "/run/reboot-required"]}):
        assert lab.in_host("mcdt-app1", "sh", "-c", "chmod 0644 /etc/shadow && touch /var/run/reboot-required").returncode == 0
        v = verdicts(lab, {"host"}, {"mcdt-app1", "mon1"})  # both serve level 3 systems
    assert (v[("identity_files_permissions", "mon1")], v[("identity_files_permissions", "mcdt-app1")]) == (Status.PASS, Status.FAIL)
    assert (v[("reboot_not_pending", "mon1")], v[("reboot_not_pending", "mcdt-app1")]) == (Status.PASS, Status.FAIL)


def test_database_configuration(lab):
    good = (f"mkdir -p {PG} {DATA} && printf 'local all postgres peer\\nhost all all 10.99.20.0/24 scram-sha-256\\n' > {PG}/pg_hba.conf"
            f" && printf \"listen_addresses = '10.99.30.12'\\n\" > {PG}/postgresql.conf && chmod 700 {DATA}")
    bad = (f"mkdir -p {PG} {DATA} && printf 'host all all 0.0.0.0/0 trust\\n' > {PG}/pg_hba.conf"
           f" && printf \"listen_addresses = '*'\\n\" > {PG}/postgresql.conf && chmod 755 {DATA}")
    postgres = ["/etc/postgresql", "/var/lib/postgresql"]
    with planted(lab, files={"db1": postgres, "db2": postgres}):
        assert lab.in_host("db2", "sh", "-c", good).returncode == 0
        assert lab.in_host("db1", "sh", "-c", bad).returncode == 0
        v = verdicts(lab, {"data"}, {"db1", "db2"})
    for check in ("db_no_trust_auth", "db_data_dir_private", "db_listen_restricted"):
        assert (v[(check, "db2")], v[(check, "db1")]) == (Status.PASS, Status.FAIL), check


def test_backup_freshness_from_the_backup_host(lab):
    day = 24 * 3600
    plant = (f"mkdir -p /var/backups/provdc/portal /var/backups/provdc/qlvb && touch /var/backups/provdc/portal && "
             f"touch -d @{int(time.time()) - 3 * day} /var/backups/provdc/qlvb")
    with planted(lab, files={"backup1": ["/var/backups/provdc"]}):
        assert lab.in_host("backup1", "sh", "-c", plant).returncode == 0
        v = verdicts(lab, {"data"})
    assert v[("backup_fresh", "portal")] is Status.PASS
    assert v[("backup_fresh", "qlvb")] is Status.FAIL          # 3 days old, policy 24 h
    assert v[("backup_fresh", "mcdt")] is Status.FAIL          # no backup set at all
    assert v[("backup_policy_declared", "portal")] is Status.PASS and v[("backup_policy_declared", "email")] is Status.FAIL
