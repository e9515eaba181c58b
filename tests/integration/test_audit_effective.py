"""Effective state on real lab hosts: each defect is planted where the program reads it but a
simple reader would not look (a drop-in, a PAM stack, a Match block, a dot file, an included
sudoers file, a firewall rule), the audit FAILs there and PASSes on an untouched host; every
test restores what it planted, so none depends on another's order."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status

pytestmark = pytest.mark.twin


def finding(run, check: str, host: str):
    return next(f for f in run.findings if f.check == check and f.host == host)


@contextmanager
def planted(lab, host: str, files: dict[str, str]):
    """Write `files` into `host`'s own view, and put back what was there afterwards."""
    saved = {}
    for path, text in files.items():
        p = lab.host_path(host, path)
        saved[p] = p.read_bytes() if p.exists() else None
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    try:
        yield
    finally:
        for p, data in saved.items():
            p.unlink(missing_ok=True) if data is None else p.write_bytes(data)


def audit(lab, *hosts: str):
    return run_audit(lab.inventory, Options(layers={"host"}, hosts=set(hosts)))


def test_faillock_conf_without_the_pam_stack_fails_and_with_it_passes(lab):
    conf = {"/etc/security/faillock.conf": "deny = 5\nunlock_time = 43200\n"}
    wired = lab.host_path("lgsp1", "/etc/pam.d/common-auth").read_text().replace(
        "auth\t[success=1 default=ignore]\tpam_unix.so nullok",
        "auth\trequired\tpam_faillock.so preauth\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
        "auth\t[default=die]\tpam_faillock.so authfail\nauth\tsufficient\tpam_faillock.so authsucc")
    assert "pam_faillock.so authfail" in wired
    with planted(lab, "mcdt-app1", conf), planted(lab, "lgsp1", {**conf, "/etc/pam.d/common-auth": wired}):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "login_lockout", "mcdt-app1").status is Status.FAIL
        assert "not in the auth stack" in finding(run, "login_lockout", "mcdt-app1").found
        assert finding(run, "login_lockout", "lgsp1").status is Status.PASS, finding(run, "login_lockout", "lgsp1")


def test_three_minutes_of_journal_in_a_run_drop_in_fails(lab):
    keep = {"/etc/systemd/journald.conf.d/provdc.conf": "[Journal]\nStorage=persistent\nMaxRetentionSec=1year\n"}
    short = {**keep, "/run/systemd/journald.conf.d/zz-short.conf": "[Journal]\nMaxRetentionSec=3m\n"}
    with planted(lab, "mcdt-app1", short), planted(lab, "lgsp1", keep):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "log_retention_for_level", "mcdt-app1").status is Status.FAIL
        assert finding(run, "log_retention_for_level", "lgsp1").status is Status.PASS


def test_a_match_block_for_the_dmz_that_allows_passwords_fails(lab):
    base = "PasswordAuthentication no\n"
    match = base + "Match Address 10.99.10.0/24\n    PasswordAuthentication yes\n"
    with planted(lab, "mcdt-app1", {"/etc/ssh/sshd_config.d/05-match.conf": match}), \
            planted(lab, "lgsp1", {"/etc/ssh/sshd_config.d/05-match.conf": base}):
        run = audit(lab, "mcdt-app1", "lgsp1")
        f = finding(run, "ssh_password_auth_disabled", "mcdt-app1")
        assert f.status is Status.FAIL and "addr=10.99.10.0" in f.found
        assert finding(run, "ssh_password_auth_disabled", "lgsp1").status is Status.PASS


def test_tmout_reset_in_roots_own_profile_fails(lab):
    profile = {"/etc/profile.d/provdc-tmout.sh": "TMOUT=300\nexport TMOUT\n"}
    with planted(lab, "mcdt-app1", {**profile, "/root/.profile": "TMOUT=0\n"}), planted(lab, "lgsp1", profile):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "shell_idle_timeout", "mcdt-app1").status is Status.FAIL
        assert finding(run, "shell_idle_timeout", "lgsp1").status is Status.PASS


def test_a_pwquality_drop_in_that_lowers_minlen_fails(lab):
    conf = {"/etc/security/pwquality.conf": "minlen = 14\nminclass = 4\n"}
    with planted(lab, "mcdt-app1", {**conf, "/etc/security/pwquality.conf.d/50-local.conf": "minlen = 6\n"}), \
            planted(lab, "lgsp1", conf):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "password_complexity", "mcdt-app1").status is Status.FAIL
        assert finding(run, "password_complexity", "lgsp1").status is Status.PASS


def test_nopasswd_all_in_an_included_sudoers_file_fails(lab):
    with planted(lab, "mcdt-app1", {"/etc/sudoers.d/ops": "ops ALL=(ALL) NOPASSWD: ALL\n"}):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "sudoers_safe", "mcdt-app1").status is Status.FAIL
        assert finding(run, "sudoers_safe", "lgsp1").status is Status.PASS


def test_a_world_writable_cron_directory_fails(lab):
    assert lab.in_host("mcdt-app1", "chmod", "0777", "/etc/cron.d").returncode == 0
    try:
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "cron_permissions_safe", "mcdt-app1").status is Status.FAIL
        assert finding(run, "cron_permissions_safe", "lgsp1").status is Status.PASS
    finally:
        lab.in_host("mcdt-app1", "chmod", "0755", "/etc/cron.d")


def test_a_legal_banner_passes_and_the_distributions_fails(lab):
    banner = {"/etc/issue.net": "Authorised use only. Activity is logged.\n",
              "/etc/ssh/sshd_config.d/06-banner.conf": "Banner /etc/issue.net\n"}
    with planted(lab, "lgsp1", banner):
        run = audit(lab, "mcdt-app1", "lgsp1")
        assert finding(run, "login_banner_legal", "lgsp1").status is Status.PASS
        assert finding(run, "login_banner_legal", "mcdt-app1").status is Status.FAIL


def test_a_database_port_opened_to_the_dmz_fails_naming_the_dmz(lab):
    def ruleset(sources: str) -> str:
        return ("table inet provdc {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
                "  ct state established,related accept\n  iif lo accept\n"
                "  ip saddr { 10.99.40.0/24, 10.99.50.0/24 } tcp dport { 22, 9100 } accept\n"
                f"  ip saddr {{ {sources} }} tcp dport 5432 accept\n }}\n}}\n")
    loads = {"db2": ruleset("10.99.10.0/24, 10.99.20.0/24"), "db1": ruleset("10.99.20.0/24, 10.99.10.0/24")}
    try:
        for host, text in loads.items():
            r = lab.in_host(host, "sh", "-c", f"printf '{text}' | nft -f -")
            assert r.returncode == 0, r.stderr
        run = audit(lab, "db1", "db2")
        f = finding(run, "firewall_sources_match_declared", "db2")   # db2 declares 5432 from dc-srv only
        assert f.status is Status.FAIL and "10.99.10.0/24 (dc-dmz)" in f.found
        assert finding(run, "firewall_sources_match_declared", "db1").status is Status.PASS  # db1 declares the DMZ
    finally:
        for host in loads:
            lab.in_host(host, "nft", "delete", "table", "inet", "provdc")


def test_the_backup_path_declared_in_the_inventory_is_read_and_a_restore_marker_counts(lab):
    backup = next(s for s in lab.inventory.doc.systems if s.backup and s.backup.target == "backup1")
    root = f"{backup.backup.path.rstrip('/')}/{backup.id}"
    assert lab.in_host("backup1", "sh", "-c", f"mkdir -p {root} && touch {root}/.restore-tested").returncode == 0
    try:
        run = run_audit(lab.inventory, Options(layers={"data"}))
        fresh = next(f for f in run.findings if f.check == "backup_fresh" and f.system == backup.id)
        tested = next(f for f in run.findings if f.check == "backup_restore_tested" and f.system == backup.id)
        assert fresh.status is Status.PASS and tested.status is Status.PASS, (fresh, tested)
        assert lab.in_host("backup1", "rm", f"{root}/.restore-tested").returncode == 0
        run = run_audit(lab.inventory, Options(layers={"data"}))
        tested = next(f for f in run.findings if f.check == "backup_restore_tested" and f.system == backup.id)
        assert tested.status is Status.FAIL and "no restore test recorded" in tested.found
    finally:
        lab.in_host("backup1", "rm", "-rf", root)
