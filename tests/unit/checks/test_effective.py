"""Effective state: a setting is judged where and how the program reads it (checks/effective.py).

Each test feeds fact-script output as a host would print it, with the defect hidden in a place
the old parsers did not look (a drop-in, an include, a module argument, a Match block, a
user's dot file), and asserts the verdict the program's own rules give.
"""

from __future__ import annotations

from provdc.checks import effective, facts, nftables
from provdc.checks.engine import DEFAULT, _judge
from provdc.checks.results import Status
from provdc.inventory import load_inventory
from provdc.inventory.catalogue import bar_for
from tests.conftest import EXAMPLES

LAB = load_inventory(EXAMPLES / "lab")
BAR = bar_for([LAB.systems["portal"]])  # Decree 85, level 3

COMMON_AUTH_PLAIN = ["--- /etc/pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so nullok",
                     "auth requisite pam_deny.so", "auth required pam_permit.so"]
COMMON_AUTH_FAILLOCK = ["--- /etc/pam.d/common-auth", "auth required pam_faillock.so preauth",
                        "auth [success=1 default=ignore] pam_unix.so nullok", "auth [default=die] pam_faillock.so authfail",
                        "auth requisite pam_deny.so", "auth required pam_permit.so"]
SERVICES = ["--- /etc/pam.d/login", "@include common-auth", "--- /etc/pam.d/sshd", "@include common-auth",
            "--- /etc/pam.d/passwd", "@include common-password"]
FAILLOCK_CONF = ["--- /etc/security/faillock.conf", "deny = 5", "unlock_time = 900"]
SSHD_PAM = ["usepam yes", "port 22"]


def lockout_verdict(pam: list[str], conf: list[str] = FAILLOCK_CONF):
    fact = facts.parse_lockout(conf, pam + SERVICES, SSHD_PAM)
    return _judge(DEFAULT["login_lockout"], {"lockout": fact, "bar": BAR.fresh()})


def test_faillock_conf_without_pam_faillock_in_the_stack_is_a_fail():
    """The known false PASS: the role wrote faillock.conf, no PAM stack calls the module."""
    verdict = lockout_verdict(COMMON_AUTH_PLAIN)
    assert verdict.status is Status.FAIL and "preauth and authfail not in the auth stack" in verdict.found


def test_pam_faillock_in_common_auth_reached_through_include_passes():
    assert lockout_verdict(COMMON_AUTH_FAILLOCK).status is Status.PASS


def test_a_module_argument_overrides_faillock_conf():
    weakened = [line.replace("authfail", "authfail deny=50") for line in COMMON_AUTH_FAILLOCK]
    verdict = lockout_verdict(weakened)
    assert verdict.status is Status.FAIL and "deny 50" in verdict.found


def test_a_conf_argument_reads_its_own_file():
    pointed = [line.replace("pam_faillock.so", "pam_faillock.so conf=/etc/security/other.conf") for line in COMMON_AUTH_FAILLOCK]
    other = FAILLOCK_CONF + ["--- /etc/security/other.conf", "deny = 99"]
    assert lockout_verdict(pointed, other).status is Status.FAIL


def test_a_substack_and_a_vendor_directory_file_are_followed():
    files = effective.split_files(["--- /etc/pam.d/login", "auth substack system-login",
                                   "--- /usr/lib/pam.d/system-login", "auth required pam_faillock.so preauth"])
    assert [r.module for r in effective.pam_stack(files, "login", "auth")] == ["pam_faillock.so"]


def journald_days(lines: list[str]) -> float | None:
    return facts.parse_retention(lines, [])["journal_days"]


def test_three_minutes_in_a_journald_drop_in_is_three_minutes():
    """The other false PASS: `m` is minutes in systemd; a drop-in overrides the main file."""
    lines = ["--- /etc/systemd/journald.conf", "[Journal]", "MaxRetentionSec=1y",
             "--- /etc/systemd/journald.conf.d/50-short.conf", "[Journal]", "MaxRetentionSec=3m"]
    assert journald_days(lines) < 0.01
    verdict = _judge(DEFAULT["log_retention_for_level"], {"retention": facts.parse_retention(lines, []), "bar": BAR.fresh()})
    assert verdict.status is Status.FAIL


def test_journald_drop_ins_sort_by_name_across_trees_and_etc_hides_the_same_name():
    lines = ["--- /etc/systemd/journald.conf", "[Journal]", "MaxRetentionSec=1y",
             "--- /usr/lib/systemd/journald.conf.d/90-vendor.conf", "[Journal]", "MaxRetentionSec=1d",
             "--- /run/systemd/journald.conf.d/10-early.conf", "[Journal]", "MaxRetentionSec=1w"]
    assert journald_days(lines) == 1  # 90-vendor sorts last, whatever its tree
    masked = lines + ["--- /etc/systemd/journald.conf.d/90-vendor.conf", "[Journal]", "MaxRetentionSec=2y"]
    assert journald_days(masked) > 700  # /etc's 90-vendor.conf replaces /usr/lib's
    other_section = ["--- /etc/systemd/journald.conf", "[Other]", "MaxRetentionSec=1y"]
    assert journald_days(other_section) is None


def test_a_pwquality_drop_in_and_a_pam_argument_override_the_main_file():
    pw = ["--- /etc/security/pwquality.conf", "minlen = 14", "minclass = 4",
          "--- /etc/security/pwquality.conf.d/99-local.conf", "minlen = 6"]
    pam = ["--- /etc/pam.d/common-password", "password requisite pam_pwquality.so retry=3"] + SERVICES
    assert facts.parse_pwquality(pw, pam)["minlen"] == 6
    argued = ["--- /etc/pam.d/common-password", "password requisite pam_pwquality.so minclass=1"] + SERVICES
    assert facts.parse_pwquality(pw[:3], argued)["minclass"] == 1
    assert facts.parse_pwquality(pw[:3], ["--- /etc/pam.d/common-password", "password required pam_unix.so"] + SERVICES)[
        "in_stack"] is False


def test_login_defs_last_value_wins_and_shadow_is_what_applies_now():
    assert facts.parse_numbers(["PASS_MAX_DAYS 90", "PASS_MAX_DAYS 99999"])["pass_max_days"] == 99999
    aging = facts.parse_aging(["ops:19000:99999:", "INACTIVE=-1"])
    verdict = _judge(DEFAULT["password_max_age"], {"login_defs": {"pass_max_days": 90}, "aging": aging, "bar": BAR.fresh()})
    assert verdict.status is Status.FAIL and "ops 99999" in verdict.found


def test_tmout_is_what_each_login_shell_ends_with():
    shells = facts.parse_tmout(["root TMOUT=900 readonly=1", "", "ops TMOUT=0 readonly=0", ""])
    verdict = _judge(DEFAULT["shell_idle_timeout"], {"tmout": shells, "bar": BAR.fresh()})
    assert verdict.status is Status.FAIL and "ops 0" in verdict.found


def test_a_shell_that_printed_nothing_is_an_error_not_a_pass():
    assert isinstance(facts.parse_facts("==> tmout\nops \n==> end\n")["tmout"], facts.FactError)


SSHD_OK = {"port": "22", "passwordauthentication": "no", "permitrootlogin": "prohibit-password", "permitemptypasswords": "no"}


def test_a_match_block_that_enables_passwords_for_one_source_fails_and_is_named():
    contexts = facts.parse_sshd_contexts(["+++ user=root addr=10.99.40.254", "passwordauthentication no",
                                          "+++ user=root addr=10.99.10.254", "passwordauthentication yes"])
    verdict = _judge(DEFAULT["ssh_password_auth_disabled"], {"sshd": SSHD_OK, "sshd_contexts": contexts})
    assert verdict.status is Status.FAIL and "addr=10.99.10.254" in verdict.found
    clean = {k: {"passwordauthentication": "no"} for k in contexts}
    assert _judge(DEFAULT["ssh_password_auth_disabled"], {"sshd": SSHD_OK, "sshd_contexts": clean}).status is Status.PASS


def test_sudo_rules_in_an_included_directory_are_read_and_dotted_files_are_not():
    lines = ["SUDO-INSTALLED", "--- /etc/sudoers", "root ALL=(ALL:ALL) ALL", "@includedir /etc/sudoers.d",
             "--- /etc/sudoers.d/ops", "ops ALL=(ALL) NOPASSWD: ALL",
             "--- /etc/sudoers.d/old.bak", "x ALL=(ALL) NOPASSWD: ALL"]
    parsed = facts.parse_sudoers(lines)
    assert [path for path, _ in parsed["rules"]] == ["/etc/sudoers", "/etc/sudoers.d/ops"]
    assert _judge(DEFAULT["sudoers_safe"], {"sudoers": parsed}).status is Status.FAIL


def test_a_database_port_opened_to_the_dmz_names_the_dmz():
    ruleset = """table inet provdc {
  chain input {
    type filter hook input priority 0; policy drop;
    jump extra
  }
  chain extra {
    ip saddr @dmz tcp dport 5432 accept
  }
  set dmz {
    type ipv4_addr; flags interval;
    elements = { 10.99.10.0/24 }
  }
}"""
    verdict = _judge(DEFAULT["firewall_sources_match_declared"],
                     {"nft": {"installed": True, "input_policy": "drop", "text": ruleset}, "server": LAB.servers["db2"], "inv": LAB})
    assert verdict.status is Status.FAIL and "5432/tcp accepted from 10.99.10.0/24 (dc-dmz)" in verdict.found


def test_an_accept_rule_without_a_port_is_never_ignored():
    rs = nftables.parse_ruleset("table inet t {\n chain input {\n type filter hook input priority 0; policy drop;\n"
                                " iifname \"eth0\" accept\n }\n}")
    assert nftables.compare(rs, {}) and "not understood" in nftables.compare(rs, {})[0]


def test_modprobe_decides_whether_a_module_can_load():
    mods = facts.parse_modules(["usb-storage 0 install /bin/false", "cramfs 0 modprobe: FATAL: Module cramfs not found",
                                "sctp 0 insmod /lib/modules/6.1/kernel/net/sctp/sctp.ko"])
    verdict = _judge(DEFAULT["kernel_modules_disabled"], {"modules": mods})
    assert verdict.status is Status.FAIL and "loadable: sctp" in verdict.found


def test_rsyslog_forwarding_targets_in_both_syntaxes():
    lines = ["--- /etc/rsyslog.d/90-a.conf", "*.* @@10.99.40.10:514",
             "--- /etc/rsyslog.d/91-b.conf", 'action(type="omfwd" target="10.99.40.11" port="6514" protocol="tcp")',
             "+++ running rsyslogd"]
    fwd = facts.parse_forwarding(lines)
    assert [t for _, t, _ in fwd["targets"]] == ["10.99.40.10:514", "10.99.40.11:6514"] and fwd["running"] == ["rsyslogd"]


def test_linux_devices_reached_over_ssh_are_audited_by_the_device_checks():
    from provdc.checks.engine import Options, _audited_hosts

    hosts = {h.id: scope for h, scope in _audited_hosts(LAB, Options())}
    assert hosts["wan-rtr"] == hosts["inet-rtr"] == "device" and hosts["db1"] == "host"
    assert "core-fw" not in hosts  # an appliance without ssh is not a host
    router = next(h for h, _ in _audited_hosts(LAB, Options()) if h.id == "wan-rtr")
    assert {(s.kind, s.port) for s in router.services} >= {("ssh", 22)}
    assert all(c.scope != "device" or c.layer == "network" for c in DEFAULT)


def test_a_merged_nft_range_is_judged_by_the_prefixes_it_covers():
    rs = nftables.parse_ruleset("table inet t {\n chain input {\n type filter hook input priority 0; policy drop;\n"
                                " ip saddr { 10.98.1.0-10.98.2.255 } tcp dport 5432 accept\n }\n}")
    assert nftables.compare(rs, {("tcp", 5432): {"10.98.1.0/24", "10.98.2.0/24"}}) == []
    assert nftables.compare(rs, {("tcp", 5432): {"10.98.1.0/24"}})


def test_pam_faillock_after_pam_deny_is_never_reached_and_fails():
    """What a lineinfile that missed its anchor leaves: the faillock lines after pam_deny."""
    late = COMMON_AUTH_PLAIN + ["auth required pam_faillock.so preauth", "auth [default=die] pam_faillock.so authfail"]
    assert lockout_verdict(late).status is Status.FAIL


def test_a_device_runs_the_host_layer_like_a_server_except_what_its_device_checks_stand_for():
    from provdc.checks import devices
    from provdc.checks.engine import checks_for

    everything = list(DEFAULT)
    router = {c.id for c in checks_for("device", everything)}
    server = {c.id for c in checks_for("host", everything)}
    assert {c.id for c in everything if c.scope == "device"} <= router
    assert {c.id for c in everything if c.scope == "host" and c.layer == "host"} - set(devices.STANDS_FOR) <= router
    assert not set(devices.STANDS_FOR) & router and set(devices.STANDS_FOR) <= server
    assert set(devices.STANDS_FOR.values()) <= {c.id for c in everything if c.scope == "device"}
    assert "login_lockout" in router and "web_access_logged" not in router      # application checks stay with servers
    assert set(devices.NOT_ON_ROUTERS) <= router                                 # judged NOT_APPLICABLE, with the reason


def test_a_failed_host_check_on_a_device_is_manual_in_the_remediation_plan():
    from datetime import datetime, timezone

    from provdc.checks.engine import _finding
    from provdc.checks.results import AuditRun
    from provdc.playbooks.remediate import plan_remediation

    verdict = _judge(DEFAULT["shell_idle_timeout"], {"tmout": {"root": {"value": None, "readonly": False}}, "bar": BAR.fresh()})
    on = lambda host, provisioned: _finding(DEFAULT["shell_idle_timeout"], verdict, host, None, 0, "", {"nd85_tcvn11930"},  # noqa: E731
                                            BAR.fresh(), provisioned)
    device, server = on("wan-rtr", False), on("db1", True)
    assert "provdc provision" not in device.remediation and "--tags shell" in server.remediation
    now = datetime.now(timezone.utc)
    run = AuditRun(province="lab", started=now, finished=now, partial=False, findings=[device, server], waivers=[])
    plan = plan_remediation(run, DEFAULT, frozenset(LAB.devices))
    assert plan.tags == ["shell"] and plan.hosts == ["db1"]
    only_device = plan_remediation(run.model_copy(update={"findings": [device]}), DEFAULT, frozenset(LAB.devices))
    assert only_device.tags == [] and only_device.manual == ["shell_idle_timeout"]


FORWARD_HEAD = "table inet f {\n chain forward {\n  type filter hook forward priority 0; policy %s;\n  ct state established,related accept\n"


def _forward(policy: str, *rules: str) -> list[str]:
    rs = nftables.parse_ruleset(FORWARD_HEAD % policy + "".join(f"  {r}\n" for r in rules) + " }\n}\n")
    return nftables.compare_forward(rs, nftables.declared_matrix(LAB), {str(z.cidr): z.id for z in LAB.doc.zones})


def test_forward_rules_are_judged_against_the_declared_zone_matrix():
    assert _forward("drop", "ip saddr 10.99.20.0/24 ip daddr 10.99.30.12 tcp dport 5432 accept") == []
    assert _forward("accept") == ["forward chain f/forward has policy accept: what no rule names is forwarded"]
    dmz = _forward("drop", "ip saddr 10.99.10.0/24 ip daddr 10.99.30.12 tcp dport 5432 accept")
    assert dmz and "to db2 from 10.99.10.0/24 (dc-dmz)" in dmz[0]
    zone_wide = _forward("drop", "ip saddr 10.99.20.0/24 ip daddr 10.99.30.0/24 tcp dport 5432 accept")
    assert zone_wide == []   # both database servers in dc-db declare 5432 from dc-srv
    nowhere = _forward("drop", "ip daddr 10.99.30.12 tcp dport 3306 accept")
    assert nowhere and "no server there declares it" in nowhere[0]
    everything = _forward("drop", "ip saddr 10.99.20.0/24 accept")
    assert everything and "rule not understood" in everything[0]
    assert nftables.compare_forward(nftables.parse_ruleset(""), {}) == [
        "no forward hook: every packet between its interfaces is forwarded"]
