"""Host hardening, malware, integrity, logging and access checks (TCVN 11930 x.2.2, TCVN 14423 5.6).

Each judges the effective state the fact script read (checks/facts.py, checks/effective.py):
mounts as mounted now, modules as modprobe would load them, sudo rules in sudo's include order,
the firewall ruleset the kernel holds. Numbers come from the host's bar.
"""

from __future__ import annotations

import re

from provdc.checks import nftables
from provdc.checks.registry import Verdict, check

MOUNT_OPTIONS = {"/tmp": ("nodev", "nosuid"), "/var/tmp": ("nodev", "nosuid"), "/dev/shm": ("nodev", "nosuid", "noexec")}
SECOND_FACTOR_MODULES = ("pam_google_authenticator.so", "pam_oath.so", "pam_u2f.so", "pam_yubico.so", "pam_duo.so",
                         "pam_radius_auth.so", "pam_totp.so")
BANNER_LEAKS = re.compile(r"\\[srvmo]|debian|ubuntu|centos|red hat|linux \d", re.I)


@check(layer="host", level=3, severity="medium", title="/tmp, /var/tmp and /dev/shm are mounted nodev, nosuid (and /dev/shm noexec)",
       rationale="World-writable directories must not let anyone plant set-UID programs or device files (hardening, 7.2.2.4).",
       remediation="Mount /tmp and /dev/shm as tmpfs with nodev,nosuid (noexec on /dev/shm) and bind /var/tmp to /tmp, in /etc/fstab.",
       facts=("mounts",))
def temp_mounts_hardened(mounts: dict) -> Verdict:
    problems = []
    for path, wanted in MOUNT_OPTIONS.items():
        options = mounts["mounts"].get(path)
        if options is None and not (path == "/var/tmp" and mounts.get("vartmp_on") == "/tmp"):
            problems.append(f"{path} is not a mount of its own")
            continue
        options = options if options is not None else mounts["mounts"].get("/tmp", set())
        missing = [o for o in wanted if o not in options]
        if missing:
            problems.append(f"{path} without {','.join(missing)}")
    expected = "; ".join(f"{p} {','.join(o)}" for p, o in MOUNT_OPTIONS.items())
    return Verdict.failed(expected, "; ".join(problems)) if problems else Verdict.passed(expected)


@check(layer="host", level=2, severity="low", title="unneeded kernel modules cannot be loaded",
       rationale="Rare file systems, USB storage and little-used protocols are attack surface and a data-exfiltration path.",
       remediation="Add 'install NAME /bin/false' and 'blacklist NAME' in /etc/modprobe.d/provdc-modules.conf and unload them.",
       facts=("modules",))
def kernel_modules_disabled(modules: dict) -> Verdict:
    loaded = sorted(m for m, s in modules.items() if s["loaded"])
    loadable = sorted(m for m, s in modules.items() if not s["loaded"] and not (s["disabled"] or s["absent"]))
    problems = ([f"loaded: {', '.join(loaded)}"] if loaded else []) + ([f"loadable: {', '.join(loadable)}"] if loadable else [])
    return Verdict.failed("none of them loaded or loadable (modprobe -n shows install /bin/false)", "; ".join(problems)) \
        if problems else Verdict.passed(f"{len(modules)} modules disabled or absent")


@check(layer="host", level=2, severity="medium", title="cron and at files are root-owned and not writable by others",
       rationale="A job file others can write runs their commands as root (hardening, 7.2.2.4).",
       remediation="chown root and chmod go-w /etc/crontab and /etc/cron.{d,hourly,daily,weekly,monthly}; restrict with cron.allow/at.allow.",
       tags=("permissions",), facts=("cron",))
def cron_permissions_safe(cron: dict) -> Verdict:
    wrong = sorted(f"{path} {mode:o} {owner}" for path, (mode, owner) in cron["perms"].items() if owner != "root" or mode & 0o022)
    if not cron["perms"]:
        return Verdict.passed("no cron or at files")
    return Verdict.failed("root-owned, no group or other write", "; ".join(wrong)) if wrong else \
        Verdict.passed(f"{len(cron['perms'])} files and directories root-owned, not writable by others")


@check(layer="host", level=2, severity="low", title="logins show a legal warning banner that names no software",
       rationale="A warning banner supports prosecution of unauthorised use; the distribution's banner names the OS to an attacker.",
       remediation="Write the province's warning to /etc/issue.net (and /etc/issue) and set 'Banner /etc/issue.net' in sshd_config.",
       facts=("banner",))
def login_banner_legal(banner: dict) -> Verdict:
    problems = []
    if banner["sshd_banner"] in ("", "none"):
        problems.append("sshd shows no banner")
    for path in ("/etc/issue.net", banner["sshd_banner"]):
        body = " ".join(banner["files"].get(path, [])) if path not in ("", "none") else ""
        if path not in ("", "none") and (not body.strip() or BANNER_LEAKS.search(body)):
            problems.append(f"{path}: {'empty' if not body.strip() else 'names the system: ' + body.strip()[:60]}")
    return Verdict.failed("an sshd Banner with a warning that names no OS or version", "; ".join(dict.fromkeys(problems))) \
        if problems else Verdict.passed(f"banner {banner['sshd_banner']}")


@check(layer="host", level=3, severity="medium", title="AppArmor is enabled and its profiles enforce",
       rationale="Mandatory access control confines a compromised service (host intrusion prevention, 7.2.2.4).",
       remediation="Boot with apparmor=1 security=apparmor, install apparmor-profiles and 'aa-enforce' the complain-mode profiles.",
       facts=("apparmor",))
def apparmor_enforcing(apparmor: dict) -> Verdict:
    if not apparmor["enabled"]:
        return Verdict.failed("AppArmor enabled with profiles in enforce mode", "AppArmor is not enabled in the kernel")
    enforcing = sorted(p for p, mode in apparmor["profiles"].items() if mode == "enforce")
    complain = sorted(p for p, mode in apparmor["profiles"].items() if mode != "enforce")
    found = f"{len(enforcing)} enforcing" + (f", not enforcing: {', '.join(complain[:5])}" if complain else "")
    return Verdict.passed(found) if enforcing and not complain else Verdict.failed("every loaded profile in enforce mode", found)


@check(layer="host", level=3, severity="medium", title="audit rules are locked against change where the level asks",
       rationale="Logs and the rules that write them must be protected from tampering (TCVN 11930 7.2.2.3); "
                 "an immutable rule set (-e 2) can only change with a reboot.",
       remediation="End /etc/audit/rules.d/99-finalize.rules with '-e 2' and reload (augenrules --load) or reboot.",
       facts=("audit_state", "bar"))
def audit_rules_immutable(audit_state: dict, bar) -> Verdict:
    if not bar.get("audit_immutable_required"):
        return Verdict.not_applicable(f"not required ({bar.why('audit_immutable_required')})")
    enabled = audit_state["kernel_enabled"]
    found = f"kernel audit enabled={enabled}, rules files end with -e {audit_state['rule_e']}"
    return Verdict.passed(found) if enabled == 2 else \
        Verdict.failed(f"kernel audit enabled=2, immutable ({bar.why('audit_immutable_required')})", found)


@check(layer="host", level=1, severity="high", title="anti-malware is installed, updates itself and its signatures are fresh",
       rationale="Servers need anti-malware with automatic signature updates (TCVN 11930 7.2.2.5); ClamAV is the reference.",
       remediation="Install clamav and clamav-freshclam (the freshclam daemon updates signatures) and check /var/lib/clamav.",
       facts=("clamav", "bar"))
def antimalware_signatures_fresh(clamav: dict, bar) -> Verdict:
    most = bar["av_signature_max_age_hours"]
    expected = f"clamscan or clamd, freshclam running, signatures <= {most:g} h old ({bar.why('av_signature_max_age_hours')})"
    if not clamav["installed"]:
        return Verdict.failed(expected, "no anti-malware scanner installed")
    newest = max(clamav["signatures"].values(), default=None)
    age = (clamav["now"] - newest) / 3600 if newest is not None else None
    found = (f"{', '.join(clamav['installed'])}; running {', '.join(clamav['running']) or 'nothing'}; "
             f"signatures {'missing' if age is None else f'{age:.0f} h old'}")
    ok = "freshclam" in clamav["running"] and age is not None and age <= most
    return Verdict.passed(found) if ok else Verdict.failed(expected, found)


@check(layer="host", level=3, severity="medium", title="file-integrity monitoring (AIDE) is initialised and checks on a schedule",
       rationale="Changes to critical files must be detected (TCVN 11930 7.2.4.1; TCVN 14423 FIM).",
       remediation="Install aide, run 'aideinit' to create /var/lib/aide/aide.db and keep the daily check (dailyaidecheck timer or cron).",
       facts=("aide",))
def file_integrity_monitored(aide: dict) -> Verdict:
    database = ("missing" if not aide["databases"] else
                "present" if any(size > 0 for _, size in aide["databases"].values()) else "empty")
    found = (f"aide {'installed' if aide['installed'] else 'missing'}, database {database}, "
             f"schedule {', '.join(aide['schedule']) or 'none'}")
    ok = aide["installed"] and any(size > 0 for _, size in aide["databases"].values()) and aide["schedule"]
    return Verdict.passed(found) if ok else Verdict.failed("aide installed, its database initialised, a scheduled check", found)


@check(layer="host", level=2, severity="high", title="sudo rules require a password and grant no unrestricted shell without one",
       rationale="Privileged access must be authenticated and accountable (TCVN 11930 7.2.2.1).",
       remediation="Remove NOPASSWD from rules that grant ALL, and any 'Defaults !authenticate', in /etc/sudoers and every included file.",
       facts=("sudoers",))
def sudoers_safe(sudoers: dict) -> Verdict:
    unsafe = []
    for path, rule in sudoers["rules"]:
        flat = " ".join(rule.split())
        if re.search(r"\bDefaults\b.*!\s*authenticate", flat):
            unsafe.append(f"{path}: {flat}")
        elif "NOPASSWD" in flat and re.search(r"NOPASSWD\s*:\s*(\w+\s*:\s*)*ALL\b", flat):
            unsafe.append(f"{path}: {flat}")
    if not sudoers["present"]:
        return Verdict.passed("sudo not installed")
    return Verdict.failed("no NOPASSWD: ALL and no !authenticate", "; ".join(unsafe)) if unsafe else \
        Verdict.passed(f"{len(sudoers['rules'])} rules, none unsafe")


@check(layer="host", level=3, severity="medium", title="unused login accounts are disabled",
       rationale="Unused and invalid accounts must be removed (TCVN 11930 7.2.2.4); TCVN 14423 asks for a 45-day rule.",
       remediation="Lock (usermod -L -e 1) or remove the listed accounts, and set INACTIVE in /etc/default/useradd to the limit.",
       facts=("lastlog", "aging", "bar"))
def accounts_inactive_disabled(lastlog: dict, aging: dict, bar) -> Verdict:
    days = bar["inactive_account_days"]
    idle = []
    today = lastlog["now"] // 86400
    # an expired account (usermod -e 1) is refused by PAM's account stack whatever the login
    # method; a locked password (usermod -L) alone still lets an SSH key in, so it counts
    expired = {u for u, day in lastlog.get("expires", {}).items() if day <= today}
    for user, last in sorted(lastlog["users"].items()):
        if user in expired:
            continue
        if last is None or (lastlog["now"] - last) / 86400 > days:
            idle.append(f"{user} never logged in" if last is None else f"{user} idle {(lastlog['now'] - last) / 86400:.0f} d")
    default = aging.get("default_inactive")
    if default is None or default < 0 or default > days:
        idle.append(f"useradd INACTIVE {default}")
    return Verdict.failed(f"no login account idle > {days:g} days, INACTIVE <= {days:g} ({bar.why('inactive_account_days')})",
                          "; ".join(idle)) if idle else \
        Verdict.passed(f"{len(lastlog['users']) - len(expired & set(lastlog['users']))} login accounts in use"
                       + (f", {len(expired & set(lastlog['users']))} expired" if expired & set(lastlog["users"]) else ""))


@check(layer="host", level=3, severity="high", title="administrators log in over SSH with a second factor where the level requires it",
       rationale="TCVN 14423 5.6.2.2 b asks multi-factor authentication for administrators from level 3.",
       remediation="Set 'AuthenticationMethods publickey,keyboard-interactive' with a TOTP module (pam_google_authenticator or "
                   "pam_oath) in /etc/pam.d/sshd, or admit SSH only from a bastion that enforces MFA.",
       facts=("sshd", "sshd_pam", "bar"))
def ssh_admin_mfa(sshd: dict, sshd_pam: list, bar) -> Verdict:
    # judged on the global configuration and, by the engine, again on each Match context
    if not bar.get("admin_mfa_required"):
        return Verdict.not_applicable(f"not required ({bar.why('admin_mfa_required')})")
    second = [r.module for r in sshd_pam if r.module in SECOND_FACTOR_MODULES and _mandatory(r)]
    weak = [f"{r.module} {r.control}{' nullok' if r.arg('nullok') is not None else ''}" for r in sshd_pam
            if r.module in SECOND_FACTOR_MODULES and not _mandatory(r)]
    methods = sshd.get("authenticationmethods", "any")
    found = (f"authenticationmethods {methods}; sshd PAM second factor {', '.join(second) or 'none'}"
             + (f" (not enforced: {', '.join(weak)})" if weak else ""))
    return Verdict.passed(found) if _two_factors(sshd, bool(second)) else \
        Verdict.failed(f"every AuthenticationMethods list needs two factors ({bar.why('admin_mfa_required')})", found)


def log_collectors(inv) -> dict[str, object]:
    """The inventory's log collectors by address: the servers that declare a syslog service."""
    return {str(s.address): s for s in inv.doc.servers if any(svc.kind == "syslog" for svc in s.services)}


def _mandatory(rule) -> bool:
    """A PAM rule whose failure fails the stack, for every user (nullok lets a user without a
    secret through)."""
    control = rule.control.replace(" ", "")
    can_fail = control in ("required", "requisite") or (control.startswith("[") and
                                                         re.search(r"default=(die|bad)", control) is not None)
    return can_fail and rule.arg("nullok") is None


def _two_factors(values: dict, pam_second_factor: bool) -> bool:
    methods = values.get("authenticationmethods", "any")
    if methods == "any":
        return False
    lists = [m.split(",") for m in methods.split()]
    two = all(len(set(x.split(":")[0] for x in lst)) >= 2 for lst in lists)
    kbd = any(x.split(":")[0] == "keyboard-interactive" for lst in lists for x in lst)
    return two and (not kbd or (values.get("usepam", "yes") == "yes" and pam_second_factor))


@check(layer="host", level=3, severity="medium", title="logs are forwarded to the inventory's log collector",
       rationale="Server logs must be managed and stored centrally (TCVN 11930 7.2.2.3 #4; SIEM feed TT 12/2022).",
       remediation="Forward with rsyslog ('*.* @@COLLECTOR:PORT' or omfwd) or systemd-journal-upload to a server that declares "
                   "a syslog service in the inventory, and keep the daemon running.",
       facts=("forwarding", "inv", "server"))
def logs_forwarded_to_collector(forwarding: dict, inv, server) -> Verdict:
    collectors = log_collectors(inv)
    if not collectors:
        return Verdict.failed("a log collector declared in the inventory (a server with a syslog service)", "none declared")
    if str(server.address) in collectors:
        return Verdict.passed("this host is the log collector")
    hits = [(daemon, target) for daemon, target, _ in forwarding["targets"]
            if any(addr in target for addr in collectors) or any(collectors[a].hostname in target for a in collectors)]
    running = [d for d, _ in hits if (d == "rsyslog" and "rsyslogd" in forwarding["running"])
               or (d == "journal-upload" and "systemd-journal-upload" in forwarding["running"])]
    found = f"targets {', '.join(t for _, t, _ in forwarding['targets']) or 'none'}; running {', '.join(forwarding['running']) or 'nothing'}"
    return Verdict.passed(found) if running else \
        Verdict.failed(f"a running forwarder to {', '.join(sorted(collectors))}", found)


@check(layer="host", level=2, severity="medium", title="the log file system has room left",
       rationale="Log storage must be large enough that logs are neither lost nor overflow (TCVN 11930 7.2.2.3).",
       remediation="Grow /var/log or move it to its own file system, and cap journald (SystemMaxUse) below it.",
       facts=("log_storage", "bar"))
def log_storage_headroom(log_storage: dict, bar) -> Verdict:
    most = bar["log_storage_max_used_percent"]
    found = f"{log_storage['used_percent']} % used on {log_storage['mount']}"
    return Verdict.passed(found) if log_storage["used_percent"] <= most else \
        Verdict.failed(f"<= {most:g} % used ({bar.why('log_storage_max_used_percent')})", found)


@check(layer="host", level=1, severity="medium", title="the monitoring agent runs",
       rationale="Every IT component must be monitored centrally (TT 12/2022 §II.1.b.xi; TT 31/2017).",
       remediation="Provision node_exporter (role node_exporter) and keep it running on its declared port.",
       tags=("node_exporter",), facts=("node_agent", "listening", "server"))
def monitoring_agent_running(node_agent: bool, listening: list, server) -> Verdict:
    ports = sorted({svc.port for svc in server.services if svc.kind == "node_exporter"})
    if not ports:
        return Verdict.not_applicable("no node_exporter service declared for this host in the inventory")
    expected = f"node_exporter running and listening on port {', '.join(map(str, ports))} (where the monitoring scrapes it)"
    if not node_agent:
        return Verdict.failed(expected, "not running")
    tcp = sorted({port for proto, _, port in listening if proto == "tcp"})
    missing = [p for p in ports if p not in tcp]
    return Verdict.failed(expected, f"running, but nothing listens on {', '.join(map(str, missing))}") if missing else \
        Verdict.passed(f"node_exporter running, listening on {', '.join(map(str, ports))}")


@check(layer="host", level=3, severity="high", title="the host firewall admits each service only from its declared sources",
       rationale="Only allowed addresses may reach a service, and only allowed addresses may administer the server "
                 "(TCVN 11930 7.2.2.4, 7.2.2.2); the rules, not only the policy, must match the inventory.",
       remediation="Provision the firewall role (its rules come from each service's from: list and the management zones).",
       tags=("firewall",), facts=("nft", "server", "inv"))
def firewall_sources_match_declared(nft: dict, server, inv) -> Verdict:
    if not nft["installed"]:
        return Verdict.failed("an nftables ruleset", "nftables not installed")
    if nft["input_policy"] != "drop":  # without a dropping input hook every port is open to everyone
        return Verdict.failed("an input hook with policy drop and accept rules equal to the declared sources",
                              f"input policy {nft['input_policy'] or 'none (no input chain)'}: every source admitted")
    zones = {str(z.cidr): z.id for z in inv.doc.zones}
    problems = nftables.compare(nftables.parse_ruleset(nft["text"]), nftables.declared(inv, server), zones)
    return Verdict.failed("accept rules equal to the declared sources per port", "; ".join(problems)) if problems else \
        Verdict.passed("accept rules equal the declared sources")


@check(layer="host", level=3, severity="medium", title="the monitoring server keeps its data as long as the level requires",
       rationale="Monitoring data is kept at least 30 days (TT 31/2017 Art. 5.3.h); judged on the running Prometheus' "
                 "own command line, whose default is 15 days.",
       remediation="Start Prometheus with --storage.tsdb.retention.time of at least the required days "
                   "(ARGS in /etc/default/prometheus).",
       facts=("prometheus", "bar"))
def monitoring_retention_sufficient(prometheus: dict, bar) -> Verdict:
    if not prometheus["running"]:
        return Verdict.not_applicable("no Prometheus runs on this host")
    need = bar.get("monitoring_retention_days")
    if need is None:
        return Verdict.not_applicable("no system here requires a monitoring retention")
    days = prometheus["days"]
    found = f"{prometheus['flag'] or 'no retention flag (15 days by default)'}"
    return Verdict.passed(found) if days is not None and days >= need else \
        Verdict.failed(f">= {need:g} days ({bar.why('monitoring_retention_days')})", found)


@check(layer="application", level=2, severity="medium", title="the web server logs every access",
       rationale="Application logs record access, administration and errors (TCVN 11930 7.2.3); judged on the "
                 "configuration the running nginx was started with (nginx -T -c: every included file, every statement).",
       remediation="Remove 'access_log off' (and access_log /dev/null) from the nginx configuration and every file it "
                   "includes, and reload nginx.",
       facts=("nginx",))
def web_access_logged(nginx: dict) -> Verdict:
    if not nginx["installed"]:
        return Verdict.not_applicable("no nginx on this host")
    off = [f"{path}: access_log {args}" for path, args in nginx["access_log"] if args.split()[:1] in (["off"], ["/dev/null"])]
    return Verdict.failed("no 'access_log off' or /dev/null", "; ".join(off)) if off else \
        Verdict.passed(f"{len(nginx['access_log'])} access_log directives, none off")
