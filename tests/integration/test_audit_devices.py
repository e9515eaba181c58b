"""Network devices on real lab hosts: the lab's Linux routers (wan-rtr, inet-rtr: network
namespaces with their own sshd and their own view of files) are audited like servers. Each
device check PASSes on the router where its setting is planted right and FAILs on the other,
where it is missing or hidden where the program reads it (a Match block, a /run drop-in, a
later apt file, a daemon configured but not running, a rule admitting the DMZ); the host layer
runs there too. Every test restores what it planted (tests/integration/conftest.py `planted`).

The core firewall is an appliance: its checks read the configuration backup written for the
lab (inventory/examples/lab/configs/core-fw.cfg) and pass there.
"""

from __future__ import annotations

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.registry import DEFAULT, CheckRegistry
from provdc.checks.results import Status
from tests.integration.conftest import planted

pytestmark = pytest.mark.twin

GOOD, BAD = "wan-rtr", "inet-rtr"
ROUTERS = {GOOD, BAD}
# the device checks and the host layer: no nmap sweep, only the two routers' fact scripts
DEVICE_AND_HOST = CheckRegistry()
for _c in DEFAULT:
    if _c.scope in ("device", "appliance") or (_c.scope == "host" and _c.layer == "host"):
        DEVICE_AND_HOST.add(_c)


def audit(inv, hosts=ROUTERS):
    run = run_audit(inv, Options(hosts=set(hosts)), registry=DEVICE_AND_HOST)
    return {(f.check, f.host): f for f in run.findings}, run


def both(findings, check: str) -> tuple[Status, Status]:
    return findings[(check, GOOD)].status, findings[(check, BAD)].status


def write(lab, host: str, files: dict[str, str]) -> None:
    for path, text in files.items():
        p = lab.host_path(host, path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def sh(lab, host: str, script: str) -> None:
    r = lab.in_host(host, "sh", "-c", script)
    assert r.returncode == 0, (host, script, r.stdout, r.stderr)


def _variant(inv, **changes):
    return inv.__class__(doc=inv.doc.model_copy(update=changes), base=inv.base)


def test_routers_are_host_audited_like_servers_and_the_appliance_from_its_backup(lab):
    findings, run = audit(lab.inventory, ROUTERS | {"core-fw"})
    assert not [f for f in run.findings if f.status is Status.ERROR], [(f.check, f.host, f.found) for f in run.findings
                                                                       if f.status is Status.ERROR]
    host_layer = {c for c, h in findings if h == GOOD and findings[(c, h)].layer == "host"}
    assert {"accounts_only_root_uid0", "login_lockout", "identity_files_permissions", "shell_idle_timeout"} <= host_layer
    assert "ssh_password_auth_disabled" not in host_layer          # judged as device_ssh_password_auth_disabled
    ip_forward = findings[("kernel_ip_forward_off", GOOD)]
    assert ip_forward.status is Status.NOT_APPLICABLE and "router forwards by design" in ip_forward.found
    assert both(findings, "accounts_only_root_uid0") == (Status.PASS, Status.PASS)
    # the clean lab routers forward unfiltered: a finding, named as such
    assert both(findings, "device_forwarding_restricted") == (Status.FAIL, Status.FAIL)
    assert "no forward hook" in findings[("device_forwarding_restricted", BAD)].found
    appliance = {c: f.status for (c, h), f in findings.items() if h == "core-fw"}
    assert len(appliance) == 5 and set(appliance.values()) == {Status.PASS}, appliance


def test_a_host_layer_check_passes_and_fails_on_routers(lab):
    profile = "/etc/profile.d/provdc-tmout.sh"
    with planted(lab, files={GOOD: [profile], BAD: [profile, "/root/.profile"]}):
        write(lab, GOOD, {profile: "readonly TMOUT=300\nexport TMOUT\n"})
        write(lab, BAD, {profile: "TMOUT=300\nexport TMOUT\n", "/root/.profile": "TMOUT=0\n"})  # root's own file resets it
        findings, _ = audit(lab.inventory)
    assert both(findings, "shell_idle_timeout") == (Status.PASS, Status.FAIL)
    assert "provdc provision" not in findings[("shell_idle_timeout", BAD)].remediation  # no role runs on a device


def test_sshd_settings_on_routers_are_judged_as_sshd_evaluates_them(lab):
    dropin = "/etc/ssh/sshd_config.d/10-hardening.conf"
    strong = ("PasswordAuthentication no\nMaxAuthTries 3\nCiphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"
              "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\nKexAlgorithms curve25519-sha256\n")
    # inet-rtr: the same global lines, but Debian's default algorithms, and Match blocks that
    # loosen passwords for the DMZ and the attempts for the management zone
    hidden = ("PasswordAuthentication no\nMaxAuthTries 3\n"
              "Match Address 10.99.10.0/24\n    PasswordAuthentication yes\n"
              "Match Address 10.99.40.0/24\n    MaxAuthTries 10\n")
    with planted(lab, files={GOOD: [dropin], BAD: [dropin]}):
        write(lab, GOOD, {dropin: strong})
        write(lab, BAD, {dropin: hidden})
        findings, _ = audit(lab.inventory)
    assert both(findings, "device_ssh_password_auth_disabled") == (Status.PASS, Status.FAIL)
    assert "addr=10.99.10." in findings[("device_ssh_password_auth_disabled", BAD)].found
    assert both(findings, "device_ssh_max_auth_tries") == (Status.PASS, Status.FAIL)
    assert "maxauthtries 10" in findings[("device_ssh_max_auth_tries", BAD)].found
    assert both(findings, "device_ssh_strong_crypto") == (Status.PASS, Status.FAIL)
    assert "hmac-sha1" in findings[("device_ssh_strong_crypto", BAD)].found


def test_time_audit_and_update_daemons_on_routers(lab):
    # chronyd for real (-x: it never sets the machine's shared clock), towards mon1 only; inet-rtr
    # has the same configuration but no daemon. auditd: a stand-in with its name, because a real
    # one would take the machine's single audit subsystem. apt: inet-rtr's later file turns the
    # upgrades off, and apt-config reads the last value.
    chrony = {"/etc/chrony/chrony.conf": "server 10.99.40.10 iburst\n", "/etc/default/chrony": 'DAEMON_OPTS="-F 1 -x"\n'}
    apt_on = {"/etc/apt/apt.conf.d/20auto-upgrades": 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'}
    apt_off = {**apt_on, "/etc/apt/apt.conf.d/99zz-local": 'APT::Periodic::Unattended-Upgrade "0";\n'}
    audit_rules = {"/etc/audit/rules.d/provdc.rules": "-w /etc/passwd -p wa\n"}
    paths = [*chrony, *apt_off, "/etc/audit", *audit_rules, "/run/auditd"]
    with planted(lab, files={GOOD: paths, BAD: paths}):
        try:
            write(lab, GOOD, {**chrony, **apt_on, **audit_rules})
            write(lab, BAD, {**chrony, **apt_off, **audit_rules})
            sh(lab, GOOD, "/etc/init.d/chrony start >/dev/null")
            sh(lab, GOOD, "cp /bin/sleep /run/auditd && (setsid /run/auditd 600 >/dev/null 2>&1 &) && sleep 0.3")
            findings, _ = audit(lab.inventory)
        finally:
            lab.in_host(GOOD, "sh", "-c", "pkill -f '^/run/auditd 600'; /etc/init.d/chrony stop >/dev/null 2>&1; true")
    assert both(findings, "device_time_synchronised") == (Status.PASS, Status.FAIL)
    assert "not running" in findings[("device_time_synchronised", BAD)].found
    assert both(findings, "device_audit_logging") == (Status.PASS, Status.FAIL)
    assert both(findings, "device_security_updates") == (Status.PASS, Status.FAIL)
    assert "upgrades every never" in findings[("device_security_updates", BAD)].found


def test_log_retention_and_forwarding_on_routers(lab):
    keep = {"/etc/systemd/journald.conf.d/provdc.conf": "[Journal]\nStorage=persistent\nMaxRetentionSec=2year\n"}
    short = {**keep, "/run/systemd/journald.conf.d/zz-short.conf": "[Journal]\nMaxRetentionSec=3m\n"}  # read after /etc
    # no input module: imuxsock would replace /dev/log, and a lab host's /dev is the machine's
    forward = {"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.d/*.conf\n",
               "/etc/rsyslog.d/90-provdc.conf": "*.* @@10.99.40.10:514\n"}
    # the lab declares no log collector: a variant in which mon1 collects (syslog on 514/tcp)
    from provdc.inventory.model import Service

    inv = lab.inventory
    collecting = _variant(inv, servers=[s.model_copy(update={"services": [*s.services, Service(
        name="syslog", port=514, kind="syslog", **{"from": ["internal"]})]}) if s.id == "mon1" else s for s in inv.doc.servers])
    paths = ["/etc/systemd/journald.conf.d", *keep, "/run/systemd/journald.conf.d", *short, *forward]
    with planted(lab, files={GOOD: paths, BAD: paths}):
        try:
            write(lab, GOOD, {**keep, **forward})
            write(lab, BAD, {**short, **forward})                    # configured, but no rsyslogd runs
            sh(lab, GOOD, "rsyslogd -i /run/provdc-test-rsyslogd.pid && sleep 0.3")
            findings, _ = audit(collecting)
            plain, _ = audit(inv)
        finally:
            lab.in_host(GOOD, "sh", "-c", "kill $(cat /run/provdc-test-rsyslogd.pid) 2>/dev/null; rm -f /run/provdc-test-rsyslogd.pid; true")
    assert both(findings, "device_log_retention") == (Status.PASS, Status.FAIL)
    assert both(findings, "device_logs_forwarded") == (Status.PASS, Status.FAIL)
    assert "running nothing" in findings[("device_logs_forwarded", BAD)].found
    assert both(plain, "device_logs_forwarded") == (Status.FAIL, Status.FAIL)  # no collector declared: never a PASS


def test_router_firewall_rules_against_the_management_zones_and_the_zone_matrix(lab):
    def ruleset(ssh_sources: str, forward_rule: str) -> str:
        return ("table inet provdc_test {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
                "  ct state established,related accept\n  iif lo accept\n"
                f"  ip saddr {{ {ssh_sources} }} tcp dport 22 accept\n"
                "  ip saddr { 10.99.40.0/24, 10.99.50.0/24 } udp dport 161 accept\n }\n"
                " chain forward {\n  type filter hook forward priority 0; policy drop;\n"
                f"  ct state established,related accept\n  {forward_rule}\n }}\n}}\n")
    loads = {GOOD: ruleset("10.99.40.0/24, 10.99.50.0/24", "ip saddr 10.99.20.0/24 ip daddr 10.99.30.12 tcp dport 5432 accept"),
             # inet-rtr admits SSH from the DMZ and forwards the DMZ to db2's PostgreSQL (db2 declares dc-srv only)
             BAD: ruleset("10.99.40.0/24, 10.99.50.0/24, 10.99.10.0/24",
                          "ip saddr 10.99.10.0/24 ip daddr 10.99.30.12 tcp dport 5432 accept")}
    try:
        for host, text in loads.items():
            r = lab.in_host(host, "sh", "-c", f"printf '{text}' | nft -f -")
            assert r.returncode == 0, r.stderr
        findings, _ = audit(lab.inventory)
    finally:
        for host in loads:
            lab.in_host(host, "nft", "delete", "table", "inet", "provdc_test")
    assert both(findings, "device_admin_sources_restricted") == (Status.PASS, Status.FAIL)
    assert "10.99.10.0/24 (dc-dmz)" in findings[("device_admin_sources_restricted", BAD)].found
    assert both(findings, "device_forwarding_restricted") == (Status.PASS, Status.FAIL)
    found = findings[("device_forwarding_restricted", BAD)].found
    assert "5432/tcp forwarded to db2 from 10.99.10.0/24 (dc-dmz)" in found, found
    assert both(findings, "firewall_default_deny") == (Status.PASS, Status.PASS)   # the host layer reads the same ruleset


APPLIANCE_CHECKS = ("appliance_plaintext_management_off", "appliance_snmp_default_communities_refused",
                    "appliance_aaa_configured", "appliance_logging_host_set", "appliance_ntp_server_set")
# written for this test (no device exported it): telnet and HTTP on, default communities, no
# AAA, no 'logging host' or 'ntp server' at all
WEAK_BACKUP = ("! written for provdc's lab test, not a real device's export\nhostname core-fw\nip http server\n"
               "snmp-server community public RO\nsnmp-server community private RW\n"
               "line vty 0 4\n transport input telnet ssh\nend\n")


def test_the_core_firewall_is_judged_on_its_configuration_backup(lab, tmp_path):
    import shutil

    clean, _ = audit(lab.inventory, {"core-fw"})
    weak_dir = tmp_path / "lab"
    shutil.copytree(lab.inventory.base, weak_dir)
    (weak_dir / "configs" / "core-fw.cfg").write_text(WEAK_BACKUP)
    weak, _ = audit(lab.inventory.__class__(doc=lab.inventory.doc, base=weak_dir), {"core-fw"})
    none, _ = audit(_variant(lab.inventory, devices=[d.model_copy(update={"config_backup": None}) if d.id == "core-fw" else d
                                                     for d in lab.inventory.doc.devices]), {"core-fw"})
    for check in APPLIANCE_CHECKS:
        assert (clean[(check, "core-fw")].status, weak[(check, "core-fw")].status) == (Status.PASS, Status.FAIL), check
        assert none[(check, "core-fw")].status is Status.NOT_ASSESSED, check
    assert "configs/core-fw.cfg" in clean[("appliance_aaa_configured", "core-fw")].evidence
