"""Host-layer checks (TCVN 11930 x.2.2, server security), judged from one host's facts.

Context facts the engine adds to the gathered ones: `server` (the inventory's server), `level`
(the highest level among the systems it runs) and `inv` (the whole inventory).
"""

from __future__ import annotations

from provdc.checks.registry import Verdict, check

WEAK_CIPHER = ("cbc", "arcfour", "3des")
WEAK_MAC = ("hmac-sha1", "hmac-md5", "umac-64@")
WEAK_KEX = ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1")
# Every number below comes from the host's bar: the strictest value among the systems it serves,
# each under its own framework and level (inventory/regulations/); none is a constant here.


@check(layer="host", level=1, severity="high", title="sshd refuses password authentication",
       rationale="Passwords can be guessed or reused; keys (or MFA through a bastion) resist brute force.",
       remediation="Set 'PasswordAuthentication no' in sshd_config and reload sshd (validated with sshd -t).",
       tags=("sshd",), facts=("sshd",))
def ssh_password_auth_disabled(sshd: dict[str, str]) -> Verdict:
    value = sshd.get("passwordauthentication", "yes")
    return Verdict.passed(f"passwordauthentication {value}") if value == "no" else \
        Verdict.failed("passwordauthentication no", f"passwordauthentication {value}")


@check(layer="host", level=1, severity="high", title="root cannot log in with a password over SSH",
       rationale="Default administrator accounts must be disabled or restricted (TCVN 11930 7.2.2.1).",
       remediation="Set 'PermitRootLogin no' (or prohibit-password where keys are managed) and reload sshd.",
       tags=("sshd",), facts=("sshd",))
def ssh_root_login_restricted(sshd: dict[str, str]) -> Verdict:
    value = sshd.get("permitrootlogin", "yes")
    ok = value in ("no", "prohibit-password", "without-password", "forced-commands-only")
    return Verdict.passed(f"permitrootlogin {value}") if ok else Verdict.failed("permitrootlogin no or prohibit-password", f"permitrootlogin {value}")


@check(layer="host", level=1, severity="critical", title="sshd refuses empty passwords",
       rationale="An account without a password must never be reachable remotely.",
       remediation="Set 'PermitEmptyPasswords no' in sshd_config and reload sshd.",
       tags=("sshd",), facts=("sshd",))
def ssh_empty_passwords_refused(sshd: dict[str, str]) -> Verdict:
    value = sshd.get("permitemptypasswords", "no")
    return Verdict.passed(f"permitemptypasswords {value}") if value == "no" else \
        Verdict.failed("permitemptypasswords no", f"permitemptypasswords {value}")


@check(layer="host", level=3, severity="medium", title="SSH offers no weak ciphers, MACs or key exchanges",
       rationale="Remote administration must use secure connections only (TCVN 11930 7.2.2.2): no CBC, SHA-1 or group1.",
       remediation="Restrict Ciphers, MACs and KexAlgorithms in sshd_config to modern algorithms and reload sshd.",
       tags=("sshd",), facts=("sshd",))
def ssh_strong_crypto(sshd: dict[str, str]) -> Verdict:
    weak = [c for c in sshd.get("ciphers", "").split(",") if any(w in c for w in WEAK_CIPHER)]
    weak += [m for m in sshd.get("macs", "").split(",") if any(m.startswith(w) for w in WEAK_MAC)]
    weak += [k for k in sshd.get("kexalgorithms", "").split(",") if k in WEAK_KEX]
    return Verdict.failed("no CBC ciphers, SHA-1/MD5 MACs or SHA-1 key exchange", ", ".join(weak)) if weak else \
        Verdict.passed("modern algorithms only")


@check(layer="host", level=3, severity="medium", title="idle SSH sessions are closed within the framework's limit",
       rationale="TCVN 11930 7.2.2.2 asks for idle timeouts; TCVN 14423 suggests 5 minutes for administrators.",
       remediation="Set ClientAliveInterval and ClientAliveCountMax in sshd_config so their product is within the limit.",
       tags=("sshd",), facts=("sshd", "bar"))
def ssh_idle_timeout(sshd: dict[str, str], bar) -> Verdict:
    limit = bar["ssh_idle_seconds"]
    interval = int(sshd.get("clientaliveinterval", "0") or 0)
    count = int(sshd.get("clientalivecountmax", "3") or 3)
    total = interval * max(count, 1)
    found = f"clientaliveinterval {interval} x clientalivecountmax {count}"
    return Verdict.passed(found) if 0 < total <= limit else \
        Verdict.failed(f"0 < interval x count <= {limit:g} s ({bar.why('ssh_idle_seconds')})", found)


@check(layer="host", level=3, severity="medium", title="SSH limits authentication attempts per connection",
       rationale="Failed logins must be limited (TCVN 11930 7.2.2.1).",
       remediation="Set MaxAuthTries in sshd_config to the framework's limit (4) or less.",
       tags=("sshd",), facts=("sshd", "bar"))
def ssh_max_auth_tries(sshd: dict[str, str], bar) -> Verdict:
    limit = bar["ssh_max_auth_tries"]
    value = int(sshd.get("maxauthtries", "6"))
    return Verdict.passed(f"maxauthtries {value}") if value <= limit else \
        Verdict.failed(f"maxauthtries <= {limit:g} ({bar.why('ssh_max_auth_tries')})", f"maxauthtries {value}")


@check(layer="host", level=3, severity="low", title="SSH does not listen on the default administration port",
       rationale="TCVN 11930 7.2.2.2 literally asks to change the default administration port; where it is kept, "
                 "record a compensating control (firewalled to the management zone) as a waiver.",
       remediation="Set Port in sshd_config and in the inventory's ssh.port together, or waive with justification.",
       tags=(), facts=("sshd",))
def ssh_port_not_default(sshd: dict[str, str]) -> Verdict:
    port = sshd.get("port", "22")
    return Verdict.passed(f"port {port}") if port != "22" else Verdict.failed("a port other than 22", "port 22")


@check(layer="host", level=1, severity="critical", title="no account has an empty password",
       rationale="An authentication policy must apply to everyone who accesses the server (TCVN 11930 7.2.2.1).",
       remediation="Lock or set a password for the listed accounts (passwd -l NAME).",
       tags=(), facts=("shadow",))
def accounts_no_empty_passwords(shadow: dict[str, str]) -> Verdict:
    empty = sorted(name for name, state in shadow.items() if state == "EMPTY")
    return Verdict.failed("no empty password field", ", ".join(empty)) if empty else Verdict.passed(f"{len(shadow)} accounts checked")


@check(layer="host", level=1, severity="critical", title="only root has UID 0",
       rationale="A second UID-0 account is an unmanaged administrator (default accounts renamed or disabled).",
       remediation="Remove the extra UID-0 accounts or give them their own UID.",
       tags=(), facts=("passwd",))
def accounts_only_root_uid0(passwd: list[dict]) -> Verdict:
    extra = sorted(a["name"] for a in passwd if a["uid"] == 0 and a["name"] != "root")
    return Verdict.failed("only root", ", ".join(extra)) if extra else Verdict.passed("only root has UID 0")


@check(layer="host", level=1, severity="medium", title="passwords have the length and character classes the framework asks",
       rationale="TT 03/2017 complexity baseline under Decree 85; TCVN 14423 asks 14 characters of all four classes without MFA.",
       remediation="Keep pam_pwquality in the password stack (common-password) and set minlen and minclass in "
                   "/etc/security/pwquality.conf (no drop-in or module argument lowering them) to the framework's numbers.",
       tags=("password_policy",), facts=("pwquality", "bar"))
def password_complexity(pwquality: dict, bar) -> Verdict:
    length, classes = bar["password_min_length"], bar["password_min_classes"]
    expected = f"pam_pwquality in the password stack, minlen >= {length:g}, minclass >= {classes:g} ({bar.why('password_min_length')})"
    if not pwquality.get("in_stack", True):
        return Verdict.failed(expected, "pam_pwquality is not called by the password stack: pwquality.conf is never read")
    minlen, minclass = pwquality.get("minlen", 0), pwquality.get("minclass", 0)
    found = f"minlen {minlen}, minclass {minclass}" + (f" (from {', '.join(pwquality['sources'])})" if pwquality.get("sources") else "")
    return Verdict.passed(found) if minlen >= length and minclass >= classes else Verdict.failed(expected, found)


@check(layer="host", level=3, severity="medium", title="passwords expire within the framework's change interval",
       rationale="The password rules must set a change interval and validity period (TCVN 11930 7.2.2.1); "
                 "TCVN 14423 asks administrators to change theirs every 2 months.",
       remediation="Set PASS_MAX_DAYS in /etc/login.defs to the framework's interval or less (new accounts) and "
                   "'chage -M DAYS NAME' for every account that has a password (existing ones).",
       tags=("password_policy",), facts=("login_defs", "aging", "bar"))
def password_max_age(login_defs: dict[str, int], aging: dict, bar) -> Verdict:
    limit = bar["password_max_days"]
    days = login_defs.get("pass_max_days", 99999)
    expected = f"PASS_MAX_DAYS and every password's maximum age <= {limit:g} ({bar.why('password_max_days')})"
    # login.defs is read only when an account is created: /etc/shadow holds what applies now
    late = sorted(f"{name} {a['max_days'] if a['max_days'] is not None else 'never'}"
                  for name, a in aging["accounts"].items() if a["max_days"] is None or not 0 < a["max_days"] <= limit)
    found = f"PASS_MAX_DAYS {days}" + (f"; accounts: {', '.join(late)}" if late else f"; {len(aging['accounts'])} accounts with a password within it")
    return Verdict.passed(found) if 0 < days <= limit and not late else Verdict.failed(expected, found)


@check(layer="host", level=3, severity="medium", title="accounts lock after the framework's number of failed logins",
       rationale="Failed logins within a window must be limited and the account disabled (TCVN 11930 7.2.2.1); "
                 "TCVN 14423 keeps it locked 12 hours to 30 days. Only a PAM stack that calls pam_faillock locks: "
                 "faillock.conf alone changes nothing.",
       remediation="Call pam_faillock in common-auth (preauth before pam_unix, authfail after it, role password_policy) "
                   "with deny and unlock_time to the framework's numbers in /etc/security/faillock.conf.",
       tags=("password_policy",), facts=("lockout", "bar"))
def login_lockout(lockout: dict, bar) -> Verdict:
    most, unlock_floor = bar["lockout_max_attempts"], bar["lockout_min_unlock_seconds"]
    expected = (f"login and sshd auth stacks call pam_faillock preauth and authfail, deny <= {most:g}, "
                f"unlock_time >= {unlock_floor:g} s or 0 ({bar.why('lockout_min_unlock_seconds')})")
    problems, seen = [], []
    for service, state in sorted(lockout.items()):
        if not (state["preauth"] and state["authfail"]):
            missing = [w for w in ("preauth", "authfail") if not state[w]]
            problems.append(f"{service}: pam_faillock {' and '.join(missing)} not in the auth stack")
            continue
        deny = state["deny"] if state["deny"] is not None else 3          # pam_faillock's own defaults
        unlock = state["unlock_time"] if state["unlock_time"] is not None else 600
        seen.append(f"{service}: deny {deny}, unlock_time {unlock}")
        if not (0 < deny <= most and (unlock == 0 or unlock >= unlock_floor)):
            problems.append(seen[-1])
    if not lockout:
        return Verdict.error("no PAM service to judge")
    return Verdict.failed(expected, "; ".join(problems)) if problems else Verdict.passed("; ".join(seen))


@check(layer="host", level=3, severity="low", title="idle shell sessions end within the framework's limit",
       rationale="Idle sessions must be closed (TCVN 11930 7.2.2.2); TCVN 14423 locks administrator sessions after 5 minutes. "
                 "Judged on the value each login user's shell ends up with after every file it reads.",
       remediation="Set 'readonly TMOUT=<seconds>' in /etc/profile.d/provdc-tmout.sh to the framework's limit or less, "
                   "and remove later assignments (bash.bashrc, users' dot files).",
       tags=("shell",), facts=("tmout", "bar"))
def shell_idle_timeout(tmout: dict, bar) -> Verdict:
    limit = bar["shell_idle_seconds"]
    expected = f"TMOUT <= {limit:g} in every login shell ({bar.why('shell_idle_seconds')})"
    wrong = sorted(f"{user} {'unset' if t['value'] is None else t['value']}" for user, t in tmout.items()
                   if t["value"] is None or not 0 < t["value"] <= limit)
    found = ", ".join(f"{user} {t['value']}{' readonly' if t['readonly'] else ''}" for user, t in sorted(tmout.items()))
    return Verdict.failed(expected, "TMOUT " + ", ".join(wrong)) if wrong else Verdict.passed(f"TMOUT: {found}")


@check(layer="host", level=3, severity="high", title="the host firewall drops what is not allowed",
       rationale="A host firewall must block unauthorised access to the server (TCVN 11930 7.2.2.4).",
       remediation="Provision nftables with an input policy of drop and rules for the declared services only.",
       tags=("firewall",), facts=("nft",))
def firewall_default_deny(nft: dict) -> Verdict:
    if not nft["installed"]:
        return Verdict.failed("nftables input policy drop", "nftables not installed")
    policy = nft["input_policy"]
    return Verdict.passed(f"input policy {policy}") if policy == "drop" else \
        Verdict.failed("nftables input policy drop", f"input policy {policy or 'none (no input chain)'}")


@check(layer="host", level=1, severity="high", title="every listening TCP port is a declared service",
       rationale="Only needed services may be open (TCVN 11930 7.2.1.2, 7.2.2.4): an undeclared listener is drift.",
       remediation="Stop the undeclared service, or declare it in the inventory with who may reach it.",
       tags=(), facts=("listening", "server"))
def listening_ports_declared(listening: list[tuple[str, str, int]], server) -> Verdict:
    declared = {(s.proto, s.port) for s in server.services}
    extra = sorted({(proto, port) for proto, address, port in listening
                    if proto == "tcp" and not address.startswith("127.") and address != "::1" and (proto, port) not in declared})
    found = ", ".join(f"{p}/{proto}" for proto, p in extra)
    return Verdict.failed("only declared ports listen beyond loopback", found) if extra else \
        Verdict.passed(f"{len({(p, n) for p, _, n in listening})} sockets, all declared or loopback")


@check(layer="host", level=3, severity="medium", title="time is synchronised with the inventory's NTP server",
       rationale="Server time must follow the time server so logs can be correlated (TCVN 11930 7.2.2.3).",
       remediation="Provision chrony with the inventory's NTP servers (province.ntp).",
       tags=("time",), facts=("ntp", "inv", "server"))
def time_synchronised(ntp: dict, inv, server) -> Verdict:
    wanted = set(inv.province.ntp)
    if not wanted:
        return Verdict.not_applicable("the inventory names no NTP server")
    configured = set(ntp["servers"])
    found = f"servers {', '.join(sorted(configured)) or 'none'}, daemon {'running' if ntp['running'] else 'not running'}"
    if str(server.address) in wanted:  # the data center's own time source: it must run and serve
        return Verdict.passed(f"this host is the NTP server; {found}") if ntp["running"] else \
            Verdict.failed("a running time daemon (this host is the inventory's NTP server)", found)
    return Verdict.passed(found) if wanted & configured and ntp["running"] else \
        Verdict.failed(f"a running time daemon using {', '.join(sorted(wanted))}", found)


@check(layer="host", level=2, severity="medium", title="logs are kept as long as the framework and level require",
       rationale="Server logs must be kept 1/3/6/12 months at levels 2/3/4/5 (TCVN 11930 x.2.2.3, TCVN 14423); "
                 "online services keep 12 months under Law 116/2025.",
       remediation="Set journald MaxRetentionSec and logrotate rotate x period to at least the required days.",
       tags=("logging",), facts=("retention", "bar"))
def log_retention_for_level(retention: dict, bar) -> Verdict:
    need = bar["log_retention_days"]
    kept = max(d for d in (retention["journal_days"], retention["logrotate_days"], 0) if d is not None)
    found = f"{kept:.0f} days (journald {retention['journal_days']}, logrotate {retention['logrotate_days']})"
    return Verdict.passed(found) if kept >= need else Verdict.failed(f">= {need:g} days ({bar.why('log_retention_days')})", found)


@check(layer="host", level=3, severity="medium", title="auditd records security events",
       rationale="Logins, configuration changes and access to important data must be logged (TCVN 11930 7.2.2.3).",
       remediation="Provision auditd with the provdc rules and start it.",
       tags=("auditd",), facts=("auditd",))
def auditd_running(auditd: dict) -> Verdict:
    found = f"auditd {'running' if auditd['running'] else 'not running'}, {len(auditd['rules'])} rule files"
    return Verdict.passed(found) if auditd["running"] else Verdict.failed("auditd running", found)


@check(layer="host", level=1, severity="medium", title="no world-writable files in system paths",
       rationale="World-writable system files let any user change what root runs (access control, 7.2.2.2).",
       remediation="chmod o-w the listed files (after finding out who made them so).",
       tags=(), facts=("world_writable",))
def no_world_writable_system_files(world_writable: list[str]) -> Verdict:
    return Verdict.failed("none", ", ".join(world_writable[:10])) if world_writable else Verdict.passed("none found")


KNOWN_SUID = {"/usr/bin/passwd", "/usr/bin/su", "/usr/bin/sudo", "/usr/bin/mount", "/usr/bin/umount", "/usr/bin/chsh",
              "/usr/bin/chfn", "/usr/bin/gpasswd", "/usr/bin/newgrp", "/usr/lib/openssh/ssh-keysign", "/usr/bin/pkexec",
              "/usr/bin/fusermount", "/usr/bin/fusermount3", "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",
              "/usr/bin/ntfs-3g", "/usr/sbin/pppd", "/usr/lib/polkit-1/polkit-agent-helper-1"}


@check(layer="host", level=3, severity="medium", title="set-UID programs are only the distribution's known ones",
       rationale="An unexpected set-UID binary is a privilege-escalation path (7.2.2.4 hardening).",
       remediation="Remove the set-UID bit (chmod u-s) from the listed programs, or add them to the known list with a waiver.",
       tags=(), facts=("suid",))
def suid_files_known(suid: list[str]) -> Verdict:
    unknown = sorted(set(suid) - KNOWN_SUID)
    return Verdict.failed("only known set-UID programs", ", ".join(unknown)) if unknown else Verdict.passed(f"{len(suid)} known")


def _sysctl_check(sysctl: dict[str, int], wanted: dict[str, set[int]]) -> Verdict:
    wrong = [f"{k}={sysctl.get(k, '?')}" for k, ok in wanted.items() if sysctl.get(k) not in ok]
    expected = ", ".join(f"{k} in {sorted(v)}" for k, v in wanted.items())
    return Verdict.failed(expected, ", ".join(wrong)) if wrong else Verdict.passed(", ".join(f"{k}={sysctl[k]}" for k in wanted))


@check(layer="host", level=2, severity="medium", title="servers do not forward packets",
       rationale="A server that routes can bridge zones around the firewall (inter-zone access control, 7.2.1.3).",
       remediation="Set net.ipv4.ip_forward = 0 in /etc/sysctl.d/ (routers are devices, not servers).",
       tags=("sysctl",), facts=("sysctl",))
def kernel_ip_forward_off(sysctl: dict[str, int]) -> Verdict:
    return _sysctl_check(sysctl, {"net.ipv4.ip_forward": {0}})


@check(layer="host", level=3, severity="low", title="ICMP redirects are neither accepted nor sent",
       rationale="Redirects let a neighbour reroute a server's traffic (network intrusion prevention, 7.2.2.4).",
       remediation="Set net.ipv4.conf.all.accept_redirects = 0 and send_redirects = 0 in /etc/sysctl.d/.",
       tags=("sysctl",), facts=("sysctl",))
def icmp_redirects_ignored(sysctl: dict[str, int]) -> Verdict:
    return _sysctl_check(sysctl, {"net.ipv4.conf.all.accept_redirects": {0}, "net.ipv4.conf.all.send_redirects": {0}})


@check(layer="host", level=2, severity="low", title="source-routed packets are refused",
       rationale="Source routing lets a sender choose the path past filters (7.2.2.4).",
       remediation="Set net.ipv4.conf.all.accept_source_route = 0 in /etc/sysctl.d/.",
       tags=("sysctl",), facts=("sysctl",))
def source_routing_off(sysctl: dict[str, int]) -> Verdict:
    return _sysctl_check(sysctl, {"net.ipv4.conf.all.accept_source_route": {0}})


@check(layer="host", level=2, severity="low", title="TCP SYN cookies are on",
       rationale="SYN cookies keep a server answering during a SYN flood (availability, 7.2.2.4).",
       remediation="Set net.ipv4.tcp_syncookies = 1 in /etc/sysctl.d/.",
       tags=("sysctl",), facts=("sysctl",))
def tcp_syncookies_on(sysctl: dict[str, int]) -> Verdict:
    return _sysctl_check(sysctl, {"net.ipv4.tcp_syncookies": {1}})


@check(layer="host", level=3, severity="low", title="reverse-path filtering drops spoofed sources",
       rationale="Packets whose source could not route back are spoofed; dropping them is cheap protection (7.2.2.4).",
       remediation="Set net.ipv4.conf.all.rp_filter = 1 (strict) or 2 (loose) in /etc/sysctl.d/.",
       tags=("sysctl",), facts=("sysctl",))
def reverse_path_filter_on(sysctl: dict[str, int]) -> Verdict:
    return _sysctl_check(sysctl, {"net.ipv4.conf.all.rp_filter": {1, 2}})


IDENTITY_MODES = {"/etc/passwd": 0o644, "/etc/group": 0o644, "/etc/shadow": 0o640, "/etc/gshadow": 0o640}


@check(layer="host", level=1, severity="high", title="account files are owned by root and not writable by others",
       rationale="Readable shadow files give away password hashes; writable passwd files give away root (7.2.2.2).",
       remediation="chown root and chmod 644 /etc/passwd /etc/group, 640 /etc/shadow /etc/gshadow.",
       tags=("permissions",), facts=("perms",))
def identity_files_permissions(perms: dict[str, tuple[int, str, str]]) -> Verdict:
    wrong = [f"{path} {mode:o} {owner}" for path, (mode, owner, _) in sorted(perms.items())
             if owner != "root" or mode & ~IDENTITY_MODES.get(path, 0o644)]
    if not perms:
        return Verdict.error("no account file could be read")
    return Verdict.failed("root-owned, at most 644 (passwd, group) and 640 (shadow, gshadow)", "; ".join(wrong)) if wrong \
        else Verdict.passed(f"{len(perms)} files as expected")


@check(layer="host", level=3, severity="low", title="no reboot is pending after updates",
       rationale="Updated kernels and libraries only protect once running (patching plan, 7.2.2.4).",
       remediation="Schedule the reboot in a maintenance window (and declare the window in the inventory).",
       tags=(), facts=("reboot",))
def reboot_not_pending(reboot: bool) -> Verdict:
    # no provisioning tag: a reboot is an operator's decision inside a declared window
    return Verdict.failed("no /var/run/reboot-required", "reboot required") if reboot else Verdict.passed("none pending")


@check(layer="host", level=3, severity="medium", title="security updates install themselves daily",
       rationale="The patching plan (7.2.2.4) needs updates applied without waiting for someone to log in.",
       remediation="Install unattended-upgrades and set APT::Periodic::Update-Package-Lists and "
                   "APT::Periodic::Unattended-Upgrade to \"1\" (role updates).",
       tags=("updates",), facts=("autoupdates",))
def security_updates_automatic(autoupdates: dict) -> Verdict:
    found = (f"unattended-upgrades {'installed' if autoupdates['installed'] else 'missing'}, lists every "
             f"{autoupdates['lists_days'] or 'never'}, upgrades every {autoupdates['upgrade_days'] or 'never'} day(s)")
    daily = autoupdates["installed"] and autoupdates["lists_days"] == 1 and autoupdates["upgrade_days"] == 1
    return Verdict.passed(found) if daily else Verdict.failed("unattended-upgrades installed, lists and upgrades daily", found)
