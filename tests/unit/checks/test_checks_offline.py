"""Every check judged offline on facts: one PASS and one FAIL case each; parsers on recorded output."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from provdc.checks.engine import DEFAULT, _judge
from provdc.checks import facts, zonematrix
from provdc.checks.effective import PamRule
from provdc.checks.facts import FactError, parse_facts
from provdc.checks.results import Status
from provdc.inventory import load_inventory
from provdc.inventory.catalogue import bar_for
from provdc.inventory.model import Framework
from tests.conftest import EXAMPLES

HERE = Path(__file__).parent
LAB = load_inventory(EXAMPLES / "lab")
HUE = load_inventory(EXAMPLES / "thua-thien-hue")
SERVER = LAB.servers["db1"]
SSHD_OK = {"port": "2222", "passwordauthentication": "no", "permitrootlogin": "prohibit-password", "permitemptypasswords": "no",
           "ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com", "macs": "hmac-sha2-512-etm@openssh.com",
           "kexalgorithms": "curve25519-sha256", "clientaliveinterval": "300", "clientalivecountmax": "1", "maxauthtries": "3"}
TODAY = date(2026, 11, 22)


def sshd(**changes):
    return {"sshd": {**SSHD_OK, **changes}}


def system(sid, **d14):
    s = LAB.systems[sid]
    return {"system": s.model_copy(update={"d14": s.d14.model_copy(update=d14)} if d14 else {}), "today": TODAY}


NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def web(tls=True, old=(), not_after="2027-11-22T00:00:00+00:00", status=200, headers=None, pages=None, location="",
        weak=(), non_fs=(), tls12="ECDHE-ECDSA-AES256-GCM-SHA384", san=("portal-web1",), chain_errors=(), hostname="portal-web1"):
    home = {"status": status, "headers": {**({"location": location} if location else {}), **(headers or {})}}
    chain = {"trust": "/run/provdc/lab-pd/tls-ca.pem", "hostname": hostname, "verify_code": chain_errors[0]["code"] if chain_errors else 0,
             "verify_reason": chain_errors[0]["reason"] if chain_errors else "ok", "errors": list(chain_errors)}
    return {"target": f"{'https' if tls else 'http'}://10.99.10.11:{443 if tls else 80}/", "tls": tls, "old_protocols": list(old),
            "certificate": {"not_after": not_after, "san": {"dns": list(san), "ip": ["10.99.10.11"]}}, "home": home,
            "default_pages": pages or {"/server-status": 404},
            "ciphers": {"weak_offered": 33, "weak": list(weak), "non_fs_offered": 19, "non_fs": list(non_fs), "tls12": tls12},
            "chain": chain}


def backups(age_seconds: float, restored: float | None = None) -> dict:
    """backup1's facts: portal's set `age_seconds` old under the declared path, and its restore marker."""
    sets = {"/var/backups/provdc/portal": NOW.timestamp() - age_seconds}
    marks = {"/var/backups/provdc/portal": NOW.timestamp() - restored} if restored is not None else {}
    return {"backup1": {"backups": {"sets": sets, "restored": marks}}}


def lockout(deny, unlock, wired=True) -> dict:
    """pam_faillock as login's auth stack calls it (wired=False: faillock.conf set, no stack calls the module)."""
    return {"login": {"preauth": wired, "authfail": wired, "deny": deny if wired else None,
                      "unlock_time": unlock if wired else None, "files": ["/etc/pam.d/common-auth"] if wired else []}}


def tmout(value) -> dict:
    return {"root": {"value": value, "readonly": value is not None}}


AGING_OK = {"accounts": {"ops": {"max_days": 60, "inactive": 30}}, "default_inactive": 30}
NOW_TS = NOW.timestamp()
NFT_OK = """table inet provdc {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif "lo" accept
    ip saddr { 10.99.20.0/24, 10.99.40.0/24 } tcp dport 5432 accept
    ip saddr { 10.99.40.0/24 } tcp dport 22 accept
    ip saddr { 10.99.40.0/24 } tcp dport 9100 accept
  }
}"""


def pam_rule(control: str, module: str, *args: str) -> PamRule:
    return PamRule("auth", control, module, args, "/etc/pam.d/sshd")


SECURITY_TXT = {"status": 200, "plain_text": True, "contact": ["mailto:csirt@lab.gov.vn"], "expires": "2027-06-30T00:00:00Z"}


def cookie_web(cookie: str) -> dict:
    w = web()
    return {**w, "home": {**w["home"], "cookies": [cookie]}}


SAFE = {"strict-transport-security": "max-age=31536000", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
        "server": "nginx"}
SYSCTL_OK = {"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0, "net.ipv4.conf.all.send_redirects": 0,
             "net.ipv4.conf.all.accept_source_route": 0, "net.ipv4.tcp_syncookies": 1, "net.ipv4.conf.all.rp_filter": 1}


PG_OK = {"installed": True, "hba": [["host", "all", "all", "10.99.20.0/24", "scram-sha-256"]], "listen": ["10.99.30.11"],
         "datadirs": [("/var/lib/postgresql/15/main", 0o700, "postgres")]}
PERMS_OK = {"/etc/passwd": (0o644, "root", "root"), "/etc/shadow": (0o640, "root", "shadow")}
PORTAL = LAB.systems["portal"]
EXPOSED = SERVER.model_copy(update={"services": [svc.model_copy(update={"from_": ["wan"]}) if svc.kind == "ssh" else svc
                                                   for svc in SERVER.services]})
# the bar of a level-3 system under Decree 85, and of one under Decree 331
BAR_ND85 = bar_for([PORTAL])
BAR_ND331 = bar_for([PORTAL.model_copy(update={"framework": Framework.nd331_tcvn14423})])
BAR_L4 = bar_for([PORTAL.model_copy(update={"level": 4})])
MON1 = LAB.servers["mon1"]
WITH_COLLECTOR = LAB.__class__(doc=LAB.doc.model_copy(update={"servers": [
    s.model_copy(update={"services": [*s.services, s.services[0].model_copy(update={"name": "syslog", "port": 514, "kind": "syslog"})]})
    if s.id == "mon1" else s for s in LAB.doc.servers]}), base=LAB.base)
STARTED_LATE = LAB.systems["portal"].model_copy(update={"started": date(2026, 8, 1)})
# db2's row of the zone matrix: denied pairs filtered (PASS); the DMZ reaching its 5432 (FAIL)
DB2_PAIRS = zonematrix.expected(LAB, [LAB.servers["db2"]])
DB2_ROW = [zonematrix.Observation(p, "open" if p.allowed else "filtered", "v") for p in DB2_PAIRS]
DB2_DMZ_OPEN = [zonematrix.Observation(o.pair, "open", "v") if (o.pair.source, o.pair.port) == ("dc-dmz", 5432) else o
                for o in DB2_ROW]
CASES = {  # check id -> (facts that pass, facts that fail); judged with BAR_ND85 unless a case brings its own
    "open_ports_match_declared": ({"open_ports": {22, 5432}, "server": SERVER}, {"open_ports": {22, 5432, 3306}, "server": SERVER}),
    "no_plaintext_management": ({"open_ports": {22}}, {"open_ports": {22, 23}}),
    "zone_matrix_enforced": ({"zone_reach": DB2_ROW}, {"zone_reach": DB2_DMZ_OPEN}),
    "admin_services_not_exposed": ({"server": SERVER}, {"server": EXPOSED}),
    "unknown_hosts_in_zones": ({"network": {"alive": {"db": []}, "known": set()}},
                               {"network": {"alive": {"db": ["10.99.30.99"]}, "known": set()}}),
    "kernel_ip_forward_off": ({"sysctl": SYSCTL_OK}, {"sysctl": {**SYSCTL_OK, "net.ipv4.ip_forward": 1}}),
    "icmp_redirects_ignored": ({"sysctl": SYSCTL_OK}, {"sysctl": {**SYSCTL_OK, "net.ipv4.conf.all.accept_redirects": 1}}),
    "source_routing_off": ({"sysctl": SYSCTL_OK}, {"sysctl": {**SYSCTL_OK, "net.ipv4.conf.all.accept_source_route": 1}}),
    "tcp_syncookies_on": ({"sysctl": SYSCTL_OK}, {"sysctl": {**SYSCTL_OK, "net.ipv4.tcp_syncookies": 0}}),
    "reverse_path_filter_on": ({"sysctl": SYSCTL_OK}, {"sysctl": {**SYSCTL_OK, "net.ipv4.conf.all.rp_filter": 0}}),
    "identity_files_permissions": ({"perms": PERMS_OK}, {"perms": {**PERMS_OK, "/etc/shadow": (0o644, "root", "shadow")}}),
    "reboot_not_pending": ({"reboot": False}, {"reboot": True}),
    "db_no_trust_auth": ({"postgres": PG_OK}, {"postgres": {**PG_OK, "hba": [["host", "all", "all", "0.0.0.0/0", "trust"]]}}),
    "db_data_dir_private": ({"postgres": PG_OK}, {"postgres": {**PG_OK, "datadirs": [("/var/lib/postgresql/15/main", 0o755, "postgres")]}}),
    "db_listen_restricted": ({"postgres": PG_OK, "server": SERVER}, {"postgres": {**PG_OK, "listen": ["*"]}, "server": SERVER}),
    "backup_policy_declared": ({"system": PORTAL}, {"system": LAB.systems["email"]}),
    "backup_fresh": ({"system": PORTAL, "host_facts": backups(3600), "now": NOW},
                     {"system": PORTAL, "host_facts": backups(3 * 86400), "now": NOW}),
    "backup_restore_tested": ({"system": PORTAL, "host_facts": backups(3600, restored=30 * 86400), "now": NOW},
                              {"system": PORTAL, "host_facts": backups(3600), "now": NOW}),
    "mysql_exposure_and_auth": ({"mysql": {"installed": True, "options": {"bind-address": "10.99.30.11"}}, "listening": [],
                                 "server": SERVER},
                                {"mysql": {"installed": True, "options": {"bind-address": "0.0.0.0"}}, "listening": [], "server": SERVER}),
    "temp_mounts_hardened": ({"mounts": {"mounts": {"/tmp": {"nodev", "nosuid"}, "/var/tmp": {"nodev", "nosuid"},
                                                    "/dev/shm": {"nodev", "nosuid", "noexec"}}, "vartmp_on": "/var/tmp"}},
                             {"mounts": {"mounts": {"/dev/shm": {"rw"}}, "vartmp_on": "/"}}),
    "kernel_modules_disabled": ({"modules": {"usb-storage": {"loaded": False, "disabled": True, "absent": False, "modprobe": "install /bin/false"}}},
                                {"modules": {"usb-storage": {"loaded": False, "disabled": False, "absent": False, "modprobe": "insmod x.ko"}}}),
    "cron_permissions_safe": ({"cron": {"perms": {"/etc/crontab": (0o600, "root")}, "cron": True, "at": False}},
                              {"cron": {"perms": {"/etc/cron.d": (0o777, "root")}, "cron": True, "at": False}}),
    "login_banner_legal": ({"banner": {"sshd_banner": "/etc/issue.net", "files": {"/etc/issue.net": ["Authorised use only."]}}},
                           {"banner": {"sshd_banner": "none", "files": {"/etc/issue.net": ["Debian GNU/Linux 12"]}}}),
    "apparmor_enforcing": ({"apparmor": {"enabled": True, "profiles": {"/usr/sbin/nginx": "enforce"}}},
                           {"apparmor": {"enabled": True, "profiles": {"/usr/sbin/nginx": "complain"}}}),
    "audit_rules_immutable": ({"audit_state": {"kernel_enabled": 2, "rule_e": "2"}, "bar": BAR_L4.fresh()},
                              {"audit_state": {"kernel_enabled": 1, "rule_e": "2"}, "bar": BAR_L4.fresh()}),
    "antimalware_signatures_fresh": ({"clamav": {"installed": ["clamscan"], "running": ["freshclam"],
                                                 "signatures": {"/var/lib/clamav/daily.cld": NOW_TS - 3600}, "now": NOW_TS}},
                                     {"clamav": {"installed": ["clamscan"], "running": ["freshclam"],
                                                 "signatures": {"/var/lib/clamav/daily.cld": NOW_TS - 5 * 86400}, "now": NOW_TS}}),
    "file_integrity_monitored": ({"aide": {"installed": True, "databases": {"/var/lib/aide/aide.db": (NOW_TS, 4096)},
                                           "schedule": ["/etc/cron.daily/dailyaidecheck"], "now": NOW_TS}},
                                 {"aide": {"installed": True, "databases": {}, "schedule": ["/etc/cron.daily/dailyaidecheck"], "now": NOW_TS}}),
    "sudoers_safe": ({"sudoers": {"present": True, "rules": [("/etc/sudoers", "%sudo ALL=(ALL:ALL) ALL")]}},
                     {"sudoers": {"present": True, "rules": [("/etc/sudoers.d/zz", "ops ALL=(ALL) NOPASSWD: ALL")]}}),
    "accounts_inactive_disabled": ({"lastlog": {"users": {"ops": NOW_TS - 86400}, "now": NOW_TS}, "aging": AGING_OK},
                                   {"lastlog": {"users": {"ops": None}, "now": NOW_TS}, "aging": AGING_OK}),
    "ssh_admin_mfa": ({**sshd(authenticationmethods="publickey,keyboard-interactive", usepam="yes"),
                       "sshd_pam": [pam_rule("required", "pam_google_authenticator.so"), pam_rule("required", "pam_unix.so")],
                       "bar": BAR_ND331.fresh()},
                      {**sshd(), "sshd_pam": [pam_rule("required", "pam_unix.so")], "bar": BAR_ND331.fresh()}),
    "logs_forwarded_to_collector": ({"forwarding": {"targets": [("rsyslog", "10.99.40.10:514", "/etc/rsyslog.d/90-provdc.conf")],
                                                    "running": ["rsyslogd"]}, "inv": WITH_COLLECTOR, "server": SERVER},
                                    {"forwarding": {"targets": [], "running": ["rsyslogd"]}, "inv": WITH_COLLECTOR, "server": SERVER}),
    "log_storage_headroom": ({"log_storage": {"used_percent": 40, "mount": "/var/log"}},
                             {"log_storage": {"used_percent": 97, "mount": "/var/log"}}),
    "monitoring_agent_running": ({"node_agent": True, "listening": [("tcp", "10.99.30.11", 9100)], "server": SERVER},
                                 {"node_agent": False, "listening": [], "server": SERVER}),
    "firewall_sources_match_declared": ({"nft": {"installed": True, "input_policy": "drop", "text": NFT_OK}, "server": LAB.servers["db2"], "inv": LAB},
                                        {"nft": {"installed": True, "input_policy": "drop", "text": NFT_OK.replace(
                                            "10.99.20.0/24, 10.99.40.0/24 } tcp dport 5432", "10.99.10.0/24, 10.99.40.0/24 } tcp dport 5432")},
                                         "server": LAB.servers["db2"], "inv": LAB}),
    "cookies_secure_httponly": ({"web": [cookie_web("sid=1; Path=/; Secure; HttpOnly")]}, {"web": [cookie_web("sid=1; Path=/")]}),
    "security_txt_published": ({"web": [{**web(), "security_txt": SECURITY_TXT}], "now": NOW},
                               {"web": [{**web(), "security_txt": {**SECURITY_TXT, "status": 404}}], "now": NOW}),
    "links_on_separate_paths": ({"inv": LAB}, {"inv": LAB.__class__(doc=LAB.doc.model_copy(update={
        "links": [link.model_copy(update={"path_id": "one-duct"}) for link in LAB.doc.links]}), base=LAB.base)}),
    "monitoring_retention_sufficient": ({"prometheus": {"running": True, "days": 400.0, "flag": "--storage.tsdb.retention.time=400d"}},
                                        {"prometheus": {"running": True, "days": 15.0, "flag": None}}),
    "web_access_logged": ({"nginx": {"installed": True, "access_log": [("/etc/nginx/nginx.conf", "/var/log/nginx/access.log")]}},
                          {"nginx": {"installed": True, "access_log": [("/etc/nginx/nginx.conf", "/var/log/nginx/access.log"),
                                                                       ("/etc/nginx/sites-enabled/portal", "off")]}}),
    "tls_protocols_modern": ({"web": [web()]}, {"web": [web(old=("TLSv1",))]}),
    "tls_ciphers_strong": ({"web": [web()]}, {"web": [web(weak=("AECDH-AES128-SHA",))]}),
    "tls_certificate_chain_valid": ({"web": [web()]}, {"web": [web(san=("other-host",))]}),
    "tls_certificate_not_expiring": ({"web": [web()], "now": NOW}, {"web": [web(not_after="2026-12-01T00:00:00+00:00")], "now": NOW}),
    "http_redirects_to_https": ({"web": [web(), web(tls=False, status=301, location="https://10.99.10.11/")]},
                                {"web": [web(), web(tls=False, status=200)]}),
    "security_headers_present": ({"web": [web(headers=SAFE)]}, {"web": [web(headers={"server": "nginx"})]}),
    "server_banner_hides_version": ({"web": [web(headers=SAFE)]}, {"web": [web(headers={"server": "nginx/1.22.1"})]}),
    "no_default_pages_exposed": ({"web": [web()]}, {"web": [web(pages={"/server-status": 200})]}),
    "ssh_password_auth_disabled": (sshd(), sshd(passwordauthentication="yes")),
    "ssh_root_login_restricted": (sshd(), sshd(permitrootlogin="yes")),
    "ssh_empty_passwords_refused": (sshd(), sshd(permitemptypasswords="yes")),
    "ssh_strong_crypto": (sshd(), sshd(ciphers="aes128-cbc,aes256-gcm@openssh.com")),
    "ssh_idle_timeout": (sshd(), sshd(clientaliveinterval="0")),
    "ssh_max_auth_tries": (sshd(), sshd(maxauthtries="6")),
    "ssh_port_not_default": (sshd(), sshd(port="22")),
    "accounts_no_empty_passwords": ({"shadow": {"root": "LOCKED", "ops": "SET"}}, {"shadow": {"root": "LOCKED", "guest": "EMPTY"}}),
    "accounts_only_root_uid0": ({"passwd": [{"name": "root", "uid": 0, "shell": ""}]},
                                {"passwd": [{"name": "root", "uid": 0, "shell": ""}, {"name": "toor", "uid": 0, "shell": ""}]}),
    "password_complexity": ({"pwquality": {"minlen": 14, "minclass": 4, "in_stack": True}},
                            {"pwquality": {"minlen": 14, "minclass": 4, "in_stack": False}}),
    "password_max_age": ({"login_defs": {"pass_max_days": 90}, "aging": AGING_OK},
                         {"login_defs": {"pass_max_days": 90}, "aging": {**AGING_OK, "accounts": {"ops": {"max_days": 99999, "inactive": None}}}}),
    "login_lockout": ({"lockout": lockout(5, 900)}, {"lockout": lockout(5, 900, wired=False)}),
    "shell_idle_timeout": ({"tmout": tmout(900)}, {"tmout": tmout(None)}),
    "firewall_default_deny": ({"nft": {"installed": True, "input_policy": "drop", "text": ""}},
                              {"nft": {"installed": True, "input_policy": "accept", "text": ""}}),
    "listening_ports_declared": ({"listening": [("tcp", "10.99.30.11", 5432), ("tcp", "127.0.0.1", 25)], "server": SERVER},
                                 {"listening": [("tcp", "0.0.0.0", 3306)], "server": SERVER}),
    "time_synchronised": ({"ntp": {"servers": ["10.99.40.10"], "running": True}, "inv": LAB, "server": SERVER},
                          {"ntp": {"servers": ["pool.ntp.org"], "running": True}, "inv": LAB, "server": SERVER}),
    "security_updates_automatic": ({"autoupdates": {"installed": True, "lists_days": 1, "upgrade_days": 1}},
                                   {"autoupdates": {"installed": True, "lists_days": 1, "upgrade_days": 0}}),
    "log_retention_for_level": ({"retention": {"journal_days": 92, "logrotate_days": 28, "persistent": True}},
                                {"retention": {"journal_days": None, "logrotate_days": 28, "persistent": True}}),
    "auditd_running": ({"auditd": {"running": True, "rules": ["provdc.rules"]}}, {"auditd": {"running": False, "rules": []}}),
    "no_world_writable_system_files": ({"world_writable": []}, {"world_writable": ["/etc/cron.d/evil"]}),
    "suid_files_known": ({"suid": ["/usr/bin/passwd"]}, {"suid": ["/usr/bin/passwd", "/usr/local/bin/rootme"]}),
    "d14_onsite_team": (system("portal"), system("email")),
    "d14_soc_contract_valid": (system("portal"), system("qlvb")),
    "d14_assessment_fresh": (system("portal"), system("mcdt")),
    "d14_national_monitoring": (system("portal"), system("mcdt")),
    "level_approval_recorded": (system("portal"), system("mcdt")),
    "framework_current": (system("lgsp"), {"system": STARTED_LATE, "today": TODAY}),
    "required_zones_for_level": ({"inv": LAB}, {"inv": LAB.__class__(doc=LAB.doc.model_copy(update={
        "zones": [z for z in LAB.doc.zones if z.kind.value != "database"]}), base=LAB.base)}),
    "core_device_redundancy": ({"inv": HUE}, {"inv": LAB}),
    "internet_uplink_redundancy": ({"inv": LAB}, {"inv": LAB.__class__(doc=LAB.doc.model_copy(update={
        "links": [link for link in LAB.doc.links if link.id != "inet-international"]}), base=LAB.base)}),
    "dr_site_distance": ({"inv": HUE.__class__(doc=HUE.doc.model_copy(update={"sites": [
        s.model_copy(update={"location": s.location.model_copy(update={"lat": 16.0})}) if s.kind.value == "backup" else s
        for s in HUE.doc.sites]}), base=HUE.base)}, {"inv": HUE}),
}

# a device check judges a device on the same facts as its host check judges a server
DEVICE_OF = {"device_ssh_password_auth_disabled": "ssh_password_auth_disabled", "device_ssh_strong_crypto": "ssh_strong_crypto",
             "device_ssh_max_auth_tries": "ssh_max_auth_tries", "device_time_synchronised": "time_synchronised",
             "device_logs_forwarded": "logs_forwarded_to_collector", "device_audit_logging": "auditd_running",
             "device_log_retention": "log_retention_for_level", "device_admin_sources_restricted": "firewall_sources_match_declared",
             "device_security_updates": "security_updates_automatic"}
CASES.update({device: CASES[host] for device, host in DEVICE_OF.items()})

# a router's forward hook against the lab's declared zone matrix (db2 declares 5432 from dc-srv only)
FORWARD_OK = ("table inet f {\n chain forward {\n  type filter hook forward priority 0; policy drop;\n"
              "  ct state established,related accept\n  ip saddr 10.99.20.0/24 ip daddr 10.99.30.12 tcp dport 5432 accept\n }\n}")
FORWARD_DMZ = FORWARD_OK.replace("ip saddr 10.99.20.0/24", "ip saddr { 10.99.20.0/24, 10.99.10.0/24 }")
CASES["device_forwarding_restricted"] = (
    {"nft": {"installed": True, "input_policy": None, "text": FORWARD_OK}, "sysctl": {"net.ipv4.ip_forward": 1}, "inv": LAB},
    {"nft": {"installed": True, "input_policy": None, "text": FORWARD_DMZ}, "sysctl": {"net.ipv4.ip_forward": 1}, "inv": LAB})

# an appliance check judges a configuration backup written for the tests (configs/, see test_appliance.py)
from provdc.checks.appliance import parse_config  # noqa: E402

CLEAN_BACKUP, WEAK_BACKUP = (parse_config((HERE / "configs" / name).read_text().splitlines()) for name in ("clean-ios.cfg", "weak-ios.cfg"))
COLLECTED = LAB.__class__(doc=LAB.doc.model_copy(update={"servers": [
    s.model_copy(update={"services": [*s.services, s.services[0].model_copy(update={"name": "syslog", "port": 514, "kind": "syslog"})]})
    if s.id == "mon1" else s for s in LAB.doc.servers]}), base=LAB.base)   # mon1 also collects logs
CASES.update({c.id: ({"config": CLEAN_BACKUP, "inv": COLLECTED}, {"config": WEAK_BACKUP, "inv": COLLECTED})
              for c in DEFAULT if c.scope == "appliance"})


def test_every_registered_check_has_a_pass_and_a_fail_case():
    assert sorted(CASES) == sorted(c.id for c in DEFAULT)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_pass_case(check_id):
    verdict = _judge(DEFAULT[check_id], {"bar": BAR_ND85.fresh(), **CASES[check_id][0]})
    assert verdict.status is Status.PASS, verdict


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_fail_case(check_id):
    verdict = _judge(DEFAULT[check_id], {"bar": BAR_ND85.fresh(), **CASES[check_id][1]})
    assert verdict.status is Status.FAIL, verdict
    assert verdict.expected and verdict.found


# The same facts, the same level 3: the framework's own numbers decide (regulations/*.yaml).
DIFFERING = {
    "password_max_age": {"login_defs": {"pass_max_days": 75}, "aging": {"accounts": {}, "default_inactive": 30}},  # 90 vs 60
    "login_lockout": {"lockout": lockout(5, 3600)},                                  # 900 s vs 12 h
    "password_complexity": {"pwquality": {"minlen": 14, "minclass": 3}},             # 3 vs 4 classes
    "shell_idle_timeout": {"tmout": tmout(600)},                                     # 900 vs 300 s
}


@pytest.mark.parametrize("check_id", sorted(DIFFERING))
def test_a_level_3_host_passes_decree_85_and_fails_decree_331_where_the_numbers_differ(check_id):
    facts_ = DIFFERING[check_id]
    assert _judge(DEFAULT[check_id], {"bar": BAR_ND85.fresh(), **facts_}).status is Status.PASS
    under_331 = _judge(DEFAULT[check_id], {"bar": BAR_ND331.fresh(), **facts_})
    assert under_331.status is Status.FAIL and "nd331_tcvn14423" in under_331.expected


def test_online_services_keep_logs_a_year_under_decree_331_only():
    kept = {"retention": {"journal_days": 120, "logrotate_days": None, "persistent": True}}
    c = DEFAULT["log_retention_for_level"]
    assert _judge(c, {"bar": BAR_ND85.fresh(), **kept}).status is Status.PASS          # portal, level 3: 90 days
    verdict = _judge(c, {"bar": BAR_ND331.fresh(), **kept})                               # portal is an online service
    assert verdict.status is Status.FAIL and ">= 365 days" in verdict.expected


def test_a_host_serving_two_systems_is_held_to_the_stricter_and_says_which():
    lgsp = LAB.systems["lgsp"]  # Decree 331, level 3
    bar = bar_for([LAB.systems["qlvb"], lgsp])
    assert bar["password_max_days"] == 60 and str(bar.setter("password_max_days")) == "lgsp (nd331_tcvn14423, level 3)"
    assert bar["log_retention_days"] == 90 and bar.setter("log_retention_days").system == "lgsp"
    judged = bar.fresh()
    verdict = _judge(DEFAULT["password_max_age"], {"bar": judged, "login_defs": {"pass_max_days": 90}, "aging": AGING_OK})
    assert verdict.status is Status.FAIL and "set by lgsp (nd331_tcvn14423, level 3)" in verdict.expected
    assert judged.describe_used() == "password_max_days 60 set by lgsp (nd331_tcvn14423, level 3)"


def test_a_missing_or_broken_fact_is_error_never_pass():
    c = DEFAULT["ssh_password_auth_disabled"]
    assert _judge(c, {"sshd": FactError("sshd -T failed: Missing privilege separation directory: /run/sshd")}).status is Status.ERROR
    assert _judge(c, {}).status is Status.ERROR


def test_a_crashing_check_is_error():
    assert _judge(DEFAULT["ssh_max_auth_tries"], sshd(maxauthtries="many")).status is Status.ERROR


def test_recorded_debian_output_parses():
    facts = parse_facts((HERE / "facts" / "debian12-default.txt").read_text())
    assert isinstance(facts["sshd"], FactError) and "privilege separation" in str(facts["sshd"])  # sshd -T failed there
    assert facts["login_defs"]["pass_max_days"] == 99999
    assert facts["passwd"][0] == {"name": "root", "uid": 0, "shell": "/bin/bash"}
    assert facts["shadow"]["root"] == "LOCKED"
    assert facts["os"] == ["debian", "12"]


def test_a_cut_short_script_makes_its_facts_errors():
    text = (HERE / "facts" / "debian12-default.txt").read_text()
    facts = parse_facts(text.split("==> nft")[0])
    assert isinstance(facts["nft"], FactError) and isinstance(facts["ntp"], FactError)
    assert not isinstance(facts["passwd"], FactError)


def test_registry_rejects_bad_definitions():
    from provdc.checks.registry import CheckRegistry

    reg = CheckRegistry()
    with pytest.raises(ValueError, match="id differs"):
        reg.add(DEFAULT["ssh_port_not_default"].__class__(**{**DEFAULT["ssh_port_not_default"].__dict__, "id": "other"}))
    with pytest.raises(ValueError, match="level outside"):
        reg.add(DEFAULT["ssh_port_not_default"].__class__(**{**DEFAULT["ssh_port_not_default"].__dict__, "level": 9}))


def test_the_ntp_server_itself_passes_when_its_daemon_serves():
    mon1 = LAB.servers["mon1"]  # province.ntp is mon1's address
    serving = _judge(DEFAULT["time_synchronised"], {"ntp": {"servers": [], "running": True}, "inv": LAB, "server": mon1})
    stopped = _judge(DEFAULT["time_synchronised"], {"ntp": {"servers": [], "running": False}, "inv": LAB, "server": mon1})
    assert (serving.status, stopped.status) == (Status.PASS, Status.FAIL)


def test_apt_periodic_settings_parse():
    lines = ['APT::Periodic::Update-Package-Lists "1";', 'APT::Periodic::Unattended-Upgrade "0";', "UU-INSTALLED"]
    assert facts.parse_autoupdates(lines) == {"installed": True, "lists_days": 1, "upgrade_days": 0}
    assert facts.parse_autoupdates([]) == {"installed": False, "lists_days": 0, "upgrade_days": 0}


def test_waivers_turn_a_fail_into_waived_but_never_an_error_or_an_expired_one():
    from provdc.checks.engine import apply_waivers
    from provdc.checks.results import Finding
    from provdc.inventory.model import Waiver

    waiver = Waiver(check="auditd_running", justification="one auditd per kernel in the lab", approver="lab",
                    expires=date(2027, 1, 1))

    def finding(status: Status, host: str) -> Finding:
        return Finding(check="auditd_running", layer="host", severity="medium", status=status, host=host)

    out = apply_waivers([finding(Status.FAIL, "db1"), finding(Status.ERROR, "db2"), finding(Status.PASS, "mon1")],
                        [waiver], LAB, date(2026, 11, 22))
    assert [f.status for f in out] == [Status.WAIVED, Status.ERROR, Status.PASS]
    expired = apply_waivers([finding(Status.FAIL, "db1")], [waiver], LAB, date(2027, 2, 1))
    assert expired[0].status is Status.FAIL and "waiver expired" in expired[0].found


# ------------------------------------------------------------------ TLS suites and certificate chain

SELF_SIGNED = {"depth": 0, "subject": "CN = portal-web1", "code": 18, "reason": "self-signed certificate"}
EXPIRED_CA = {"depth": 1, "subject": "CN = Lab Intermediate", "code": 10, "reason": "certificate has expired"}


def _tls(check_id: str, service: dict, bar=None):
    return _judge(DEFAULT[check_id], {"web": [service], "bar": (bar or BAR_ND85).fresh()})


def test_non_forward_secret_suite_fails_from_level_3_only():
    static = web(tls12="AES256-GCM-SHA384", non_fs=("AES256-GCM-SHA384", "AES128-SHA"))
    v = _tls("tls_ciphers_strong", static)
    assert v.status is Status.FAIL and "without forward secrecy AES256-GCM-SHA384, AES128-SHA" in v.found
    level2 = bar_for([PORTAL.model_copy(update={"level": 2})])
    assert _tls("tls_ciphers_strong", static, level2).status is Status.PASS
    assert _tls("tls_ciphers_strong", web(weak=("NULL-SHA256",)), level2).status is Status.FAIL


def test_tls13_only_server_passes_and_names_what_it_negotiates():
    v = _tls("tls_ciphers_strong", web(tls12=None))
    assert v.status is Status.PASS and "TLS 1.3 only" in v.found


def test_chain_failures_say_which_certificate_and_why():
    v = _tls("tls_certificate_chain_valid", web(chain_errors=(SELF_SIGNED,)))
    assert v.status is Status.FAIL and "the server's certificate (CN = portal-web1): self-signed certificate" in v.found
    v = _tls("tls_certificate_chain_valid", web(chain_errors=(EXPIRED_CA,)))
    assert v.status is Status.FAIL and "CA certificate at depth 1 (CN = Lab Intermediate): certificate has expired" in v.found
    v = _tls("tls_certificate_chain_valid", web(hostname="portal.lab.gov.vn", san=("portal-web1",)))
    assert v.status is Status.FAIL and "name portal.lab.gov.vn not in subjectAltName (portal-web1, 10.99.10.11)" in v.found


def test_unreachable_chain_probe_is_error_never_pass():
    broken = web()
    broken["chain"] = {"trust": "system", "hostname": "portal-web1", "error": "no TLS handshake: connect: Connection refused"}
    assert _tls("tls_certificate_chain_valid", broken).status is Status.ERROR


def test_names_match_as_rfc_6125_says():
    from provdc.checks.application import name_matches
    san = {"dns": ["*.lab.gov.vn", "Portal-Web1"], "ip": ["10.99.10.11"]}
    assert name_matches("portal-web1", san) and name_matches("a.lab.gov.vn", san) and name_matches("10.99.10.11", san)
    assert not name_matches("a.b.lab.gov.vn", san) and not name_matches("lab.gov.vn", san)
    assert name_matches("x.gov.vn", {"dns": ["*.gov.vn"], "ip": []})  # two labels after the star: allowed
    assert not name_matches("vn", {"dns": ["*.vn"], "ip": []})


def test_s_client_output_is_parsed_per_depth():
    from provdc.checks.probes import parse_s_client
    out = ("depth=1 CN = Lab Intermediate\nverify error:num=10:certificate has expired\nnotAfter=Jan  1 00:00:00 2026 GMT\n"
           "depth=1 CN = Lab Intermediate\nnotAfter=Jan  1 00:00:00 2026 GMT\ndepth=0 CN = portal-web1\n"
           "---\n    Verify return code: 10 (certificate has expired)\n")
    assert parse_s_client(out) == {"verify_code": 10, "verify_reason": "certificate has expired", "errors": [EXPIRED_CA]}
    assert parse_s_client("depth=0 CN = x\n    Verify return code: 0 (ok)\n")["errors"] == []
