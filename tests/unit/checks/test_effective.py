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


# nginx -T as the fact script sends it: the running master's own -c file and each include
NGINX_T = ["INSTALLED", "--- /etc/provdc-lab/nginx.conf", "pid /run/nginx.pid;",
           "http {", "  access_log /var/log/nginx/access.log;", "  include /etc/nginx/conf.d/*.conf;",
           "  server { listen 10.99.10.11:443 ssl; server_name portal-web1; return 200 'a; access_log off;'; }", "}",
           "--- /etc/nginx/conf.d/admin.conf",
           "server { listen 10.99.10.11:8080; access_log off; location / { return 404; } }  # quiet admin vhost"]


def test_access_log_off_after_another_directive_on_the_same_line_of_an_included_file_fails():
    """The old reader took lines that begin with access_log; nginx reads statements."""
    parsed = facts.parse_nginx(NGINX_T)
    assert parsed["access_log"] == [("/etc/provdc-lab/nginx.conf", "/var/log/nginx/access.log"),
                                    ("/etc/nginx/conf.d/admin.conf", "off")]  # the quoted string is no directive
    verdict = _judge(DEFAULT["web_access_logged"], {"nginx": parsed})
    assert verdict.status is Status.FAIL and "/etc/nginx/conf.d/admin.conf: access_log off" in verdict.found
    to_null = [line.replace("access_log off;", "access_log /dev/null combined;") for line in NGINX_T]
    assert _judge(DEFAULT["web_access_logged"], {"nginx": facts.parse_nginx(to_null)}).status is Status.FAIL
    logged = [line.replace("access_log off;", "") for line in NGINX_T]
    assert _judge(DEFAULT["web_access_logged"], {"nginx": facts.parse_nginx(logged)}).status is Status.PASS


def test_nginx_installed_whose_configuration_cannot_be_read_is_an_error():
    parsed = facts.parse_facts("==> nginx\nINSTALLED\n==> end\n")["nginx"]
    assert isinstance(parsed, facts.FactError)
    assert facts.parse_nginx([]) == {"installed": False, "access_log": []}


def test_the_fact_script_asks_the_running_daemons_for_their_own_configuration():
    """nginx -T and rsyslogd -N1 -o on the file each running daemon was started with: a
    forwarding rule in an rsyslog.d file the main file does not include is read by nobody."""
    assert 'nginx -T -c "${c:-/etc/nginx/nginx.conf}"' in facts.FACT_SCRIPT
    assert 'rsyslogd -N1 -f "${c:-/etc/rsyslog.conf}" -o /dev/stdout' in facts.FACT_SCRIPT
    assert "dump /etc/rsyslog.conf" not in facts.FACT_SCRIPT


def test_rsyslogs_expanded_configuration_is_judged_not_the_files_beside_it():
    # rsyslogd -N1 -o output (BEGIN CONFIG markers turned into file headers by the fact script)
    included = ["--- /etc/rsyslog.conf", 'module(load="imuxsock" SysSock.Use="off")', "$IncludeConfig /etc/rsyslog.d/*.conf",
                "--- /etc/rsyslog.d/90-forward.conf", "*.* @@10.99.40.10:514", "+++ running rsyslogd"]
    alone = ["--- /etc/rsyslog.conf", 'module(load="imuxsock" SysSock.Use="off")', "*.* /var/log/syslog", "+++ running rsyslogd"]
    inv = _with_collector()
    judge = lambda lines: _judge(DEFAULT["logs_forwarded_to_collector"],  # noqa: E731
                                 {"forwarding": facts.parse_forwarding(lines), "inv": inv, "server": LAB.servers["db1"]})
    assert judge(included).status is Status.PASS
    assert judge(alone).status is Status.FAIL


def _with_collector():
    syslog = LAB.servers["mon1"].services[0].model_copy(update={"name": "syslog", "port": 514, "kind": "syslog", "proto": "tcp"})
    return LAB.__class__(doc=LAB.doc.model_copy(update={"servers": [
        s.model_copy(update={"services": [*s.services, syslog]}) if s.id == "mon1" else s for s in LAB.doc.servers]}),
        base=LAB.base)


LASTLOG = ["user ops **Never logged in**", "user ana lastlog localhost Thu Dec  3 12:01:50 +0000 2026", "now 1796385600"]


def test_an_expired_account_is_disabled_and_a_locked_password_is_not():
    """usermod -e 1 makes PAM refuse the account whatever the method; usermod -L alone still
    lets an SSH key in."""
    aging = {"accounts": {}, "default_inactive": 30}
    judge = lambda lines: _judge(DEFAULT["accounts_inactive_disabled"],  # noqa: E731
                                 {"lastlog": facts.parse_lastlog(lines), "aging": aging, "bar": BAR.fresh()})
    expired = judge(LASTLOG + ["expires ops 1"])
    assert expired.status is Status.PASS and "1 expired" in expired.found
    later = judge(LASTLOG + ["expires ops 99999"])                 # expires in 2243: still usable
    assert later.status is Status.FAIL and "ops never logged in" in later.found
    assert judge(LASTLOG).status is Status.FAIL


def mfa(methods: str, pam: list[str], contexts: list[str] = ()):
    rules = effective.pam_stack(effective.split_files(["--- /etc/pam.d/sshd", *pam]), "sshd", "auth")
    return _judge(DEFAULT["ssh_admin_mfa"], {"sshd": {**SSHD_OK, "authenticationmethods": methods, "usepam": "yes"},
                                             "sshd_contexts": facts.parse_sshd_contexts(list(contexts)), "sshd_pam": rules,
                                             "bar": bar_for([LAB.systems["lgsp"]]).fresh()})


def test_a_match_block_that_drops_the_second_factor_for_the_management_zone_fails():
    """The engine judges ssh_admin_mfa again in every Match context, like every sshd check."""
    otp = ["auth required pam_google_authenticator.so", "auth required pam_unix.so"]
    assert mfa("publickey,keyboard-interactive", otp).status is Status.PASS
    match = ["+++ user=root addr=10.99.40.254", "authenticationmethods publickey,keyboard-interactive",
             "+++ user=root addr=10.99.40.1", "authenticationmethods publickey"]
    verdict = mfa("publickey,keyboard-interactive", otp, match)
    assert verdict.status is Status.FAIL and "for user=root addr=10.99.40.1 (Match)" in verdict.found
    assert mfa("publickey,password", ["auth required pam_unix.so"]).status is Status.PASS  # key and password


def test_a_second_factor_that_cannot_fail_the_stack_is_no_second_factor():
    for rule in ("auth optional pam_google_authenticator.so", "auth required pam_google_authenticator.so nullok",
                 "auth sufficient pam_oath.so usersfile=/etc/users.oath"):
        verdict = mfa("publickey,keyboard-interactive", [rule, "auth required pam_permit.so"])
        assert verdict.status is Status.FAIL and "not enforced" in verdict.found, rule
    assert mfa("publickey,keyboard-interactive", ["auth [success=ok default=die] pam_oath.so usersfile=/etc/users.oath",
                                                  "auth required pam_permit.so"]).status is Status.PASS


def test_a_node_exporter_that_runs_but_does_not_listen_on_its_declared_port_fails():
    server = LAB.servers["db1"]
    judge = lambda listening: _judge(DEFAULT["monitoring_agent_running"],  # noqa: E731
                                     {"node_agent": True, "listening": listening, "server": server})
    assert judge([("tcp", "10.99.30.11", 9100)]).status is Status.PASS
    moved = judge([("tcp", "127.0.0.1", 9101)])
    assert moved.status is Status.FAIL and "nothing listens on 9100" in moved.found


# MariaDB's Debian layout as the fact script dumps it where no my_print_defaults is installed
MY_CNF = ["--- /etc/mysql/my.cnf", "[client-server]", "!includedir /etc/mysql/conf.d/", "!includedir /etc/mysql/mariadb.conf.d/",
          "--- /etc/mysql/mariadb.conf.d/50-server.cnf", "[mysqld]", "bind-address            = 10.99.30.11",
          "--- /etc/mysql/mariadb.conf.d/60-client.cnf", "[client]", "bind-address = 0.0.0.0"]


def mysql_verdict(lines, listening=()):
    return _judge(DEFAULT["mysql_exposure_and_auth"], {"mysql": facts.parse_mysql(["installed mariadbd", *lines]),
                                                       "listening": list(listening), "server": LAB.servers["db1"]})


def test_mysql_option_files_are_read_as_the_server_reads_them():
    assert mysql_verdict(MY_CNF).status is Status.PASS                     # a client group binds nothing
    later = MY_CNF + ["--- /etc/mysql/mariadb.conf.d/99-local.cnf", "[mariadb]", "loose_skip_grant_tables"]
    verdict = mysql_verdict(later)
    assert verdict.status is Status.FAIL and "skip-grant-tables" in verdict.found
    hidden = MY_CNF + ["--- /etc/mysql/conf.d/zz.cnf", "[server]", "bind_address=0.0.0.0"]  # conf.d is read first
    assert mysql_verdict(hidden).status is Status.PASS                      # mariadb.conf.d/50-server.cnf wins
    unread = MY_CNF + ["--- /etc/mysql/mariadb.conf.d/99-local.conf", "[mysqld]", "skip-grant-tables"]  # not .cnf
    assert mysql_verdict(unread).status is Status.PASS
    off = MY_CNF + ["--- /etc/mysql/mariadb.conf.d/99-local.cnf", "[mysqld]", "skip-grant-tables = 0"]
    assert mysql_verdict(off).status is Status.PASS


def test_a_server_listening_on_every_address_fails_whatever_its_files_say():
    """mariadbd --bind-address=0.0.0.0 on the command line overrides every option file."""
    verdict = mysql_verdict(MY_CNF, [("tcp", "0.0.0.0", 3306)])
    assert verdict.status is Status.FAIL and "listening on 0.0.0.0:3306" in verdict.found
    assert mysql_verdict(MY_CNF, [("tcp", "10.99.30.11", 3306)]).status is Status.PASS


def test_a_home_page_answering_every_path_is_no_security_txt():
    """An application that answers 200 with its home page for any path passed the old check."""
    from datetime import datetime, timezone

    from provdc.checks.probes import security_txt

    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    page = {"status": 200, "headers": {"content-type": "text/html"}, "body": "<!doctype html><p>Contact: us</p>"}
    real = {"status": 200, "headers": {"content-type": "text/plain; charset=utf-8"},
            "body": "# RFC 9116\nContact: mailto:csirt@lab.gov.vn\nExpires: 2027-06-30T00:00:00Z\n"}
    stale = {**real, "body": "Contact: mailto:csirt@lab.gov.vn\nExpires: 2026-01-01T00:00:00Z\n"}
    web = lambda answer: [{"target": "https://10.99.10.11:443/", "tls": True, "security_txt": security_txt(answer)}]  # noqa: E731
    judge = lambda answer: _judge(DEFAULT["security_txt_published"], {"web": web(answer), "now": now})  # noqa: E731
    assert judge(real).status is Status.PASS
    assert judge(page).status is Status.FAIL and "without a Contact" in judge(page).found
    assert judge(stale).status is Status.FAIL and "Expires 2026-01-01" in judge(stale).found
