"""Host facts: one script, one SSH round trip per host, parsed by pure functions.

The script prints sections (`==> name`); each parser turns one section into a value. A missing
section or a parse failure makes that fact unavailable, and every check that needs it reports
ERROR (never PASS). Secrets stay on the host: /etc/shadow is reduced to "empty / locked / set"
per account before it leaves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from provdc.checks import effective
from provdc.durations import DurationError, parse_duration

FACT_SCRIPT = r"""
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
s() { echo "==> $1"; }
# processes of this host only: a lab host shares the PID table with its neighbours, but not its
# network namespace (on a real server every process is in it, so nothing changes there)
t() { timeout 10 "$@"; }  # per-fact timeout: a hung command costs one fact (ERROR), not the host
dump() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; grep -Ev '^[[:space:]]*(#|$)' "$f"; }; done; true; }  # files, each after its path
dumpall() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; grep -Ev '^[[:space:]]*$' "$f"; }; done; true; }  # comments kept (sudoers' #include)
running() { me=$(readlink /proc/self/ns/net); for p in $(pidof "$1"); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && return 0; done; return 1; }
# the value after FLAG on the command line of this host's running NAME (nginx rewrites its
# argv into one title: split on blanks): the configuration the daemon was started with
flag() { me=$(readlink /proc/self/ns/net); for p in $(pidof "$1"); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && tr '\0' ' ' < /proc/$p/cmdline | awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'; done | head -1; }
s sshd;        t sshd -T 2>&1
s passwd;      cat /etc/passwd
s shadow;      awk -F: '{ st = ($2 == "") ? "EMPTY" : (($2 ~ /^[!*]/) ? "LOCKED" : "SET"); print $1 ":" st }' /etc/shadow
s login_defs;  grep -E '^[[:space:]]*(PASS_MAX_DAYS|PASS_MIN_DAYS|PASS_WARN_AGE)' /etc/login.defs
s aging;       awk -F: '$2 !~ /^[!*]/ && $2 != "" { print $1 ":" $3 ":" $5 ":" $7 }' /etc/shadow; useradd -D 2>/dev/null | grep '^INACTIVE='
s pwquality;   dump /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf
s faillock;    dump /etc/security/faillock.conf $(grep -rhoE 'pam_faillock\.so.*conf=[^[:space:]]+' /etc/pam.d 2>/dev/null | sed 's/.*conf=//' | sort -u)
s pam;         dump /etc/pam.d/* /usr/lib/pam.d/* /lib/pam.d/*
s tmout;       for u in root $(awk -F: '$3 >= 1000 && $3 < 65534 && $7 !~ /(nologin|false|sync)$/ { print $1 }' /etc/passwd | head -5); do h=$(awk -F: -v u="$u" '$1 == u { print $6 }' /etc/passwd); printf '%s ' "$u"; t runuser -u "$u" -- env -i HOME="$h" TERM=dumb PATH=/usr/bin:/bin bash -lic 'echo "TMOUT=${TMOUT-unset} readonly=$(readonly -p | grep -c " TMOUT=")"' </dev/null 2>/dev/null | tail -1; echo; done
s tmout_files; grep -rsnE '^[^#]*TMOUT=' /etc/profile /etc/profile.d/ /etc/bash.bashrc /root/.bash_profile /root/.bash_login /root/.profile /root/.bashrc
s sshd_ctx;    users=$( (echo "${PROVDC_SSH_USER:-root}"; grep -rhiE '^[[:space:]]*Match[[:space:]]' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/ 2>/dev/null | tr ' \t' '\n\n' | awk 'tolower(p) == "user" { print } { p = $0 }' | tr , '\n' | grep -Ev '[*?!]') | sort -u | head -4); addrs=$( (for a in $PROVDC_SSH_SOURCES; do echo "$a"; done; grep -rhiE '^[[:space:]]*Match[[:space:]]' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/ 2>/dev/null | tr ' \t' '\n\n' | awk 'tolower(p) == "address" { print } { p = $0 }' | tr , '\n' | grep -v '^!' | sed 's#/.*##; s/\*/1/g') | sort -u | head -12); for u in $users; do for a in $addrs; do echo "+++ user=$u addr=$a"; t sshd -T -C "user=$u,host=$a,addr=$a,laddr=${PROVDC_SSH_LADDR:-0.0.0.0},lport=${PROVDC_SSH_LPORT:-22}" 2>&1 | grep -iE '^(passwordauthentication|permitrootlogin|permitemptypasswords|kbdinteractiveauthentication|authenticationmethods|maxauthtries|clientaliveinterval|clientalivecountmax|ciphers|macs|kexalgorithms|banner|usepam|port) '; done; done
s mounts;      grep -E '^[^ ]+ (/tmp|/var/tmp|/dev/shm) ' /proc/self/mounts; findmnt -n -o TARGET --target /var/tmp 2>/dev/null | sed 's/^/vartmp-on /'
s modules;     for m in cramfs freevxfs hfs hfsplus jffs2 udf usb-storage dccp sctp rds tipc; do k=$(echo "$m" | tr - _); l=$( [ -d "/sys/module/$k" ] && echo 1 || echo 0); echo "$m $l $(t modprobe -n -v "$m" 2>&1 | tail -1)"; done
s cron;        stat -c '%n %a %U' /etc/crontab /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly /etc/cron.d /etc/cron.allow /etc/cron.deny /etc/at.allow /etc/at.deny 2>/dev/null; command -v crontab >/dev/null && echo CRON-INSTALLED; command -v at >/dev/null && echo AT-INSTALLED; true
s banner;      b=$(sshd -T 2>/dev/null | awk '$1 == "banner" && $2 != "none" { print $2 }'); echo "sshd-banner ${b:-none}"; dump /etc/issue /etc/issue.net $b
s apparmor;    cat /sys/module/apparmor/parameters/enabled 2>/dev/null | sed 's/^/enabled /'; sed 's/^/profile /' /sys/kernel/security/apparmor/profiles 2>/dev/null; true
s audit_state; t auditctl -s 2>/dev/null | grep -E '^enabled '; grep -hE '^-e[[:space:]]' /etc/audit/audit.rules /etc/audit/rules.d/*.rules 2>/dev/null | sed 's/^/rule /'; true
s clamav;      for c in clamscan clamdscan freshclam; do command -v $c >/dev/null && echo "installed $c"; done; { running freshclam && echo "running freshclam"; running clamd && echo "running clamd"; }; for f in /var/lib/clamav/*.cvd /var/lib/clamav/*.cld; do [ -f "$f" ] && stat -c 'sig %n %Y' "$f"; done; echo "now $(date +%s)"
s aide;        for f in /var/lib/aide/aide.db /var/lib/aide/aide.db.gz; do [ -f "$f" ] && stat -c 'db %n %Y %s' "$f"; done; for f in /etc/cron.daily/aide /etc/cron.daily/dailyaidecheck /etc/cron.d/aide; do [ -f "$f" ] && [ -x "$f" -o "${f#/etc/cron.d/}" != "$f" ] && echo "cron $f"; done; for f in /etc/systemd/system/timers.target.wants/dailyaidecheck.timer /etc/systemd/system/timers.target.wants/aidecheck.timer; do [ -e "$f" ] && echo "timer $f"; done; command -v aide >/dev/null && echo INSTALLED; echo "now $(date +%s)"
s sudoers;     command -v sudo >/dev/null && echo SUDO-INSTALLED; dumpall /etc/sudoers /etc/sudoers.d/* $(grep -hE '^[[:space:]]*[#@]include[[:space:]]' /etc/sudoers /etc/sudoers.d/* 2>/dev/null | awk '{ print $2 }'); for d in $(grep -hE '^[[:space:]]*[#@]includedir[[:space:]]' /etc/sudoers 2>/dev/null | awk '{ print $2 }'); do [ "$d" = /etc/sudoers.d ] || dumpall "$d"/*; done
s rsyslog;     c=$(flag rsyslogd -f); command -v rsyslogd >/dev/null && t rsyslogd -N1 -f "${c:-/etc/rsyslog.conf}" -o /dev/stdout 2>/dev/null | sed -e 's/^##### BEGIN CONFIG: \([^ ]*\).*/--- \1/' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d'; dump /etc/systemd/journal-upload.conf /etc/systemd/journal-upload.conf.d/*.conf; { running rsyslogd && echo "+++ running rsyslogd"; running systemd-journal-upload && echo "+++ running systemd-journal-upload"; }; true
s mysql;       for c in mariadbd mysqld; do command -v $c >/dev/null && echo "installed $c"; done; if command -v my_print_defaults >/dev/null; then echo READER; t my_print_defaults mysqld mariadbd server mariadb 2>/dev/null | sed 's/^/opt /'; else dump /etc/my.cnf $(find /etc/mysql -name '*.cnf' 2>/dev/null | sort); fi; true
s log_storage; df -P /var/log 2>/dev/null | awk 'NR == 2 { sub("%", "", $5); print "used " $5 " " $6 }'
s agent;       { running prometheus-node-exporter || running node_exporter; } && echo "node_exporter running"; true
s nginx;       command -v nginx >/dev/null && { echo INSTALLED; c=$(flag nginx -c); t nginx -T -c "${c:-/etc/nginx/nginx.conf}" 2>/dev/null | sed -e 's/^# configuration file \(.*\):$/--- \1/' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d'; }; true
s prometheus;  me=$(readlink /proc/self/ns/net); for p in $(pidof prometheus); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && { printf 'cmdline '; tr '\0' ' ' < /proc/$p/cmdline; echo; }; done; true
s lastlog;     for u in $(awk -F: '$3 >= 1000 && $3 < 65534 && $7 !~ /(nologin|false|sync)$/ { print $1 }' /etc/passwd | head -50); do echo "user $u $(lastlog -u "$u" 2>/dev/null | tail -1)"; done; awk -F: '$8 ~ /^[0-9]+$/ { print "expires " $1 " " $8 }' /etc/shadow; echo "now $(date +%s)"
s listening;   t ss -Htlnu 2>&1
s nft;         if command -v nft >/dev/null; then t nft list ruleset 2>&1; else echo "NFT-MISSING"; fi
s ntp;         grep -hE '^[[:space:]]*(server|pool)[[:space:]]' /etc/chrony/chrony.conf /etc/chrony/sources.d/*.sources 2>/dev/null; grep -hE '^NTP=' /etc/systemd/timesyncd.conf /etc/systemd/timesyncd.conf.d/*.conf 2>/dev/null; { running chronyd || running systemd-timesyncd; } && echo "DAEMON-RUNNING"
s journald;    dump /etc/systemd/journald.conf /run/systemd/journald.conf /usr/local/lib/systemd/journald.conf /usr/lib/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf /run/systemd/journald.conf.d/*.conf /usr/local/lib/systemd/journald.conf.d/*.conf /usr/lib/systemd/journald.conf.d/*.conf
s logrotate;   grep -hE '^[[:space:]]*(rotate|daily|weekly|monthly|yearly)([[:space:]]|$)' /etc/logrotate.conf 2>/dev/null
s auditd;      running auditd && echo RUNNING || echo STOPPED; ls /etc/audit/rules.d/ 2>/dev/null
s world_writable; t find /etc /usr/bin /usr/sbin /usr/local /usr/lib/systemd -xdev -type f -perm -0002 2>/dev/null | head -50
s suid;        t find /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin -xdev -type f -perm -4000 2>/dev/null
s os;          . /etc/os-release 2>/dev/null; echo "$ID $VERSION_ID"
s sysctl;      sysctl net.ipv4.ip_forward net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.send_redirects net.ipv4.conf.all.accept_source_route net.ipv4.tcp_syncookies net.ipv4.conf.all.rp_filter 2>/dev/null
s perms;       stat -c '%n %a %U %G' /etc/passwd /etc/shadow /etc/group /etc/gshadow 2>/dev/null
s autoupdates; t apt-config dump 2>/dev/null | grep -E '^APT::Periodic::(Update-Package-Lists|Unattended-Upgrade) '; test -x /usr/bin/unattended-upgrade && echo UU-INSTALLED
s reboot;      test -e /var/run/reboot-required && echo REBOOT-REQUIRED; true
s postgres;    for f in /etc/postgresql/*/main/pg_hba.conf; do [ -f "$f" ] && grep -Ev '^[[:space:]]*(#|$)' "$f" | sed 's/^/hba /'; done; for f in /etc/postgresql/*/main/postgresql.conf /etc/postgresql/*/main/conf.d/*.conf /var/lib/postgresql/*/main/postgresql.auto.conf; do [ -f "$f" ] && grep -E '^[[:space:]]*listen_addresses' "$f" | sed 's/^/conf /'; done; for d in /var/lib/postgresql/*/main; do [ -d "$d" ] && stat -c 'datadir %n %a %U' "$d"; done; true
s backups;     for d in ${PROVDC_BACKUP_PATHS:-/var/backups/provdc}; do [ -d "$d" ] && { t find "$d" -mindepth 1 -maxdepth 1 -printf "set $d %f %T@\\n"; t find "$d" -mindepth 2 -maxdepth 2 -name .restore-tested -printf "restored %h %T@\\n"; }; done 2>/dev/null; true
s end
"""

SECTION = re.compile(r"^==> (\w+)$")


def split_sections(output: str) -> dict[str, list[str]]:
    """`==> name` headers to {name: lines}; a run that was cut short has no `end` section."""
    return effective.split_by_header(output.splitlines(), SECTION)


class FactError(Exception):
    """A fact could not be read or parsed; the checks that need it report ERROR."""


def _kv(lines: list[str], sep: str | None = None) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(sep) if sep else line.partition(" ")
        out.setdefault(key.strip().lower(), value.strip())  # first value wins, as in sshd and PAM
    return out


def parse_sshd(lines: list[str]) -> dict[str, str]:
    if not lines or any("command not found" in line or line.startswith("sshd: ") for line in lines[:2]):
        raise FactError("sshd -T failed: " + (lines[0] if lines else "no output"))
    values = _kv(lines)
    if "port" not in values:
        raise FactError("sshd -T failed: " + lines[0].strip())
    return values


def parse_passwd(lines: list[str]) -> list[dict[str, Any]]:
    accounts = []
    for line in lines:
        parts = line.split(":")
        if len(parts) >= 7:
            accounts.append({"name": parts[0], "uid": int(parts[2]), "shell": parts[6]})
    if not accounts:
        raise FactError("/etc/passwd unreadable")
    return accounts


def parse_shadow(lines: list[str]) -> dict[str, str]:
    out = dict(line.split(":", 1) for line in lines if ":" in line)
    if not out:
        raise FactError("/etc/shadow unreadable")
    return out


def parse_numbers(lines: list[str]) -> dict[str, int]:
    """KEY VALUE or key = value lines with integer values; a later line overrides an earlier one,
    as shadow's getdef reads /etc/login.defs."""
    out: dict[str, int] = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z_]+)\s*(?:=|\s)\s*(-?\d+)", line)
        if m:
            out[m.group(1).lower()] = int(m.group(2))
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and re.fullmatch(r"-?\d+", value.strip()) else None


def parse_pwquality(pw_lines: list[str], pam_lines: list[str]) -> dict[str, Any]:
    """What pam_pwquality enforces when `passwd` changes a password: pwquality.conf, then its
    .d drop-ins in name order (later wins), then the module's own arguments in the password
    stack (they override the files). `in_stack` False means no file is read at all."""
    files = effective.split_files(pw_lines)
    order = effective.dropin_order(files, "/etc/security/pwquality.conf", "/etc/security/pwquality.conf.d")
    settings = {k: (v, f) for k, (v, f) in effective.last_wins(files, order).items()}
    rules = effective.modules_called(effective.pam_stack(effective.split_files(pam_lines), "passwd", "password"),
                                     "pam_pwquality.so")
    for rule in rules:
        for a in rule.args:
            key, _, value = a.partition("=")
            settings[key.lower()] = (value, f"{rule.source} (pam_pwquality argument)")
    numbers = {k: n for k, (v, _) in settings.items() if (n := _int(v)) is not None}
    return {**numbers, "in_stack": bool(rules), "sources": sorted({f for _, f in settings.values()})}


LOCKOUT_SERVICES = ("login", "sshd")


def parse_lockout(faillock_lines: list[str], pam_lines: list[str], sshd_lines: list[str]) -> dict[str, Any]:
    """pam_faillock as the stacks that authenticate people call it: per service (login, and sshd
    when it uses PAM) whether the auth stack runs `preauth` and `authfail`, and the deny and
    unlock_time in force (faillock.conf or the file a `conf=` argument names, then the module's
    arguments, which override it). A faillock.conf that no stack reads locks nothing."""
    conf_files = effective.split_files(faillock_lines)
    pam_files = effective.split_files(pam_lines)
    sshd = _kv(sshd_lines)
    services = [svc for svc in LOCKOUT_SERVICES if svc != "sshd" or sshd.get("usepam", "yes") == "yes"]
    out: dict[str, Any] = {}
    for svc in services:
        rules = effective.modules_called(effective.pam_stack(pam_files, svc, "auth"), "pam_faillock.so")
        settings: dict[str, str] = {}
        for rule in rules:  # each call reads its conf file, then its own arguments
            conf = rule.arg("conf") or "/etc/security/faillock.conf"
            settings.update({k: v for k, (v, _) in effective.last_wins(conf_files, [conf]).items()})
            settings.update({a.partition("=")[0]: a.partition("=")[2] for a in rule.args if "=" in a})
        stack = effective.pam_stack(pam_files, svc, "auth") or []
        out[svc] = {"preauth": _faillock_reached(stack, "preauth"), "authfail": _faillock_reached(stack, "authfail"),
                    "deny": _int(settings.get("deny")) if rules else None,
                    "unlock_time": _int(settings.get("unlock_time")) if rules else None,
                    "files": sorted({r.source for r in rules})}
    return out


def _faillock_reached(stack: list, mode: str) -> bool:
    """pam_faillock `preauth` runs before pam_unix; `authfail` runs after pam_unix fails, so no
    rule between them may end the stack first (a requisite, a die, pam_deny)."""
    unix = next((i for i, r in enumerate(stack) if r.module == "pam_unix.so"), None)
    calls = [i for i, r in enumerate(stack) if r.module == "pam_faillock.so" and r.arg(mode) is not None]
    if unix is None or not calls:
        return bool(calls) and unix is None
    if mode == "preauth":
        return any(i < unix for i in calls)
    between = lambda i: stack[unix + 1:i]  # noqa: E731
    return any(i > unix and not any(r.control == "requisite" or "die" in r.control or r.module == "pam_deny.so"
                                    for r in between(i)) for i in calls)


def parse_aging(lines: list[str]) -> dict[str, Any]:
    """Accounts with a usable password: name -> (max days, inactive days) from /etc/shadow, and
    useradd's default INACTIVE. login.defs only applies to accounts created later; these are
    what the system enforces now."""
    accounts, default_inactive = {}, None
    for line in lines:
        if line.startswith("INACTIVE="):
            default_inactive = _int(line.split("=", 1)[1])
            continue
        parts = line.split(":")
        if len(parts) == 4:
            accounts[parts[0]] = {"max_days": _int(parts[2]), "inactive": _int(parts[3])}
    return {"accounts": accounts, "default_inactive": default_inactive}


def parse_tmout(lines: list[str]) -> dict[str, dict[str, Any]]:
    """TMOUT as each login user's interactive login shell ends up with, after /etc/profile, its
    profile.d scripts, bash.bashrc and the user's own dot files: user -> {value, readonly}.
    A shell that printed nothing is unknown (the fact fails: ERROR, never PASS)."""
    out: dict[str, dict[str, Any]] = {}
    for line in lines:
        m = re.match(r"^(\S+) TMOUT=(\S*) readonly=(\d+)", line)
        if m:
            out[m.group(1)] = {"value": _int(m.group(2)), "readonly": m.group(3) != "0"}
        elif line.strip() and " " not in line.strip():
            raise FactError(f"login shell of {line.strip()} printed nothing")
    if not out:
        raise FactError("no login shell could be started")
    return out


def parse_listening(lines: list[str]) -> list[tuple[str, str, int]]:
    """(proto, local address, port) of every listening socket."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 5 and parts[0] in ("tcp", "udp"):
            address, _, port = parts[4].rpartition(":")
            if port.isdigit():
                out.append((parts[0], address.strip("[]"), int(port)))
        elif line.strip() and "not found" in line:
            raise FactError(line.strip())
    return out


def parse_nft(lines: list[str]) -> dict[str, Any]:
    if lines and lines[0] == "NFT-MISSING":
        return {"installed": False, "input_policy": None, "text": ""}
    text = "\n".join(lines)
    m = re.search(r"hook input priority [^;]+;\s*policy (\w+);", text)
    return {"installed": True, "input_policy": m.group(1) if m else None, "text": text}


def parse_ntp(lines: list[str]) -> dict[str, Any]:
    servers = []
    for line in lines:
        m = re.match(r"^\s*(?:server|pool)\s+(\S+)", line) or re.match(r"^NTP=(.*)$", line)
        if m:
            servers += m.group(1).split()
    return {"servers": servers, "running": "DAEMON-RUNNING" in lines}


def parse_autoupdates(lines: list[str]) -> dict[str, Any]:
    """APT's periodic settings (`apt-config dump` lines such as `APT::Periodic::Unattended-Upgrade "1";`)."""
    periodic = {}
    for line in lines:
        m = re.match(r'^APT::Periodic::([\w-]+) "([^"]*)";', line)
        if m:
            periodic[m.group(1)] = m.group(2)
    return {"installed": "UU-INSTALLED" in lines, "lists_days": _int_or_zero(periodic.get("Update-Package-Lists")),
            "upgrade_days": _int_or_zero(periodic.get("Unattended-Upgrade"))}


def _int_or_zero(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def parse_retention(journald: list[str], logrotate: list[str]) -> dict[str, Any]:
    """How long logs are kept, in days: journald's MaxRetentionSec as systemd resolves it (main
    file and drop-ins of /etc, /run, /usr/lib in systemd's order, last wins) and logrotate
    rotate x period."""
    settings = effective.systemd_settings(effective.split_files(journald), "journald.conf", "Journal")
    journal_days, source = None, None
    if "maxretentionsec" in settings:
        value, source = settings["maxretentionsec"]
        try:  # systemd's own grammar: "3m" is three minutes, "3M" three months
            journal_days = parse_duration(value, "systemd") / 86400 or None
        except DurationError:
            journal_days = None  # journald ignores a value it cannot parse, and so do we
    period = next((p for line in logrotate for p in ("daily", "weekly", "monthly", "yearly") if line.strip() == p), "weekly")
    rotate = next((int(m.group(1)) for line in logrotate for m in [re.match(r"\s*rotate\s+(\d+)", line)] if m), None)
    per = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}[period]
    storage = settings.get("storage", ("auto", ""))[0].lower()
    return {"journal_days": journal_days, "journal_source": source, "persistent": storage in ("persistent", "auto"),
            "logrotate_days": rotate * per if rotate is not None else None}


def parse_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.strip()]


def parse_sysctl(lines: list[str]) -> dict[str, int]:
    out = {}
    for line in lines:
        key, _, value = line.partition("=")
        if value.strip().lstrip("-").isdigit():
            out[key.strip()] = int(value.strip())
    if not out:
        raise FactError("sysctl printed nothing")
    return out


def parse_perms(lines: list[str]) -> dict[str, tuple[int, str, str]]:
    out = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            out[parts[0]] = (int(parts[1], 8), parts[2], parts[3])
    return out


def parse_postgres(lines: list[str]) -> dict[str, Any]:
    """pg_hba rules, listen_addresses and data directories, or installed=False."""
    hba = [line.split()[1:] for line in lines if line.startswith("hba ")]
    listen = [line.split("=", 1)[1].split("#")[0].strip().strip("'\"") for line in lines if line.startswith("conf ")]
    datadirs = [(p[1], int(p[2], 8), p[3]) for line in lines if line.startswith("datadir ") for p in [line.split()]]
    return {"installed": bool(hba or listen or datadirs), "hba": hba, "listen": listen, "datadirs": datadirs}


def parse_backups(lines: list[str]) -> dict[str, dict[str, float]]:
    """Backup sets under each declared backup path: "PATH/NAME" -> modification time (Unix),
    and the sets whose restore test left its marker (PATH/NAME/.restore-tested) -> its time."""
    sets, restored = {}, {}
    for line in lines:
        parts = line.split()
        if parts[:1] == ["set"] and len(parts) == 4 and parts[3].replace(".", "", 1).isdigit():
            sets[f"{parts[1].rstrip('/')}/{parts[2]}"] = float(parts[3])
        elif parts[:1] == ["restored"] and len(parts) == 3 and parts[2].replace(".", "", 1).isdigit():
            restored[parts[1].rstrip("/")] = float(parts[2])
    return {"sets": sets, "restored": restored}


def parse_sshd_contexts(lines: list[str]) -> dict[str, dict[str, str]]:
    """`sshd -T -C` per (user, source address): the configuration after every `Match` block that
    applies to that connection. Label -> settings."""
    out: dict[str, dict[str, str]] = {}
    current = None
    for line in lines:
        if line.startswith("+++ "):
            current = line[4:].strip()
            out[current] = {}
        elif current is not None and line.strip():
            key, _, value = line.strip().partition(" ")
            out[current].setdefault(key.lower(), value.strip())
    return {label: values for label, values in out.items() if values}


def parse_mounts(lines: list[str]) -> dict[str, Any]:
    """Options of /tmp, /var/tmp, /dev/shm as mounted now (the last mount of a path is the one on top)."""
    mounts: dict[str, set[str]] = {}
    vartmp_on = None
    for line in lines:
        if line.startswith("vartmp-on "):
            vartmp_on = line.split(" ", 1)[1].strip()
            continue
        parts = line.split()
        if len(parts) >= 4:
            mounts[parts[1]] = set(parts[3].split(","))
    return {"mounts": mounts, "vartmp_on": vartmp_on}


def parse_modules(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Per unwanted module: loaded (or built in) now, and what `modprobe -n -v` would do, which
    applies every modprobe.d directory (/etc, /run, /usr/lib, /lib) as modprobe does."""
    out = {}
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[1].isdigit():
            action = parts[2] if len(parts) > 2 else ""
            out[parts[0]] = {"loaded": parts[1] != "0",
                             "disabled": bool(re.search(r"^install\s+(/usr)?/bin/(false|true)\b", action)),
                             "absent": "not found" in action, "modprobe": action}
    if not out:
        raise FactError("modprobe printed nothing")
    return out


def parse_cron(lines: list[str]) -> dict[str, Any]:
    perms = {p[0]: (int(p[1], 8), p[2]) for line in lines for p in [line.split()] if len(p) == 3 and p[1].isdigit()}
    return {"perms": perms, "cron": "CRON-INSTALLED" in lines, "at": "AT-INSTALLED" in lines}


def parse_banner(lines: list[str]) -> dict[str, Any]:
    sshd_banner = next((line.split(" ", 1)[1] for line in lines if line.startswith("sshd-banner ")), "none")
    return {"sshd_banner": sshd_banner, "files": effective.split_files(lines)}


def parse_apparmor(lines: list[str]) -> dict[str, Any]:
    enabled = any(line.strip() == "enabled Y" for line in lines)
    modes: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^profile (.+) \((\w+)\)$", line.strip())
        if m:
            modes[m.group(1)] = m.group(2)
    return {"enabled": enabled, "profiles": modes}


def parse_audit_state(lines: list[str]) -> dict[str, Any]:
    enabled = next((_int(line.split()[1]) for line in lines if line.startswith("enabled ")), None)
    rules = [line[5:].split() for line in lines if line.startswith("rule ")]
    return {"kernel_enabled": enabled, "rule_e": rules[-1][1] if rules and len(rules[-1]) > 1 else None}


def _now(lines: list[str]) -> float:
    value = next((line.split()[1] for line in lines if line.startswith("now ")), None)
    if value is None:
        raise FactError("the host's clock was not read")
    return float(value)


def parse_clamav(lines: list[str]) -> dict[str, Any]:
    sigs = {p[1]: float(p[2]) for line in lines for p in [line.split()] if p[0] == "sig" and len(p) == 3}
    return {"installed": sorted(line.split()[1] for line in lines if line.startswith("installed ")),
            "running": sorted(line.split()[1] for line in lines if line.startswith("running ")),
            "signatures": sigs, "now": _now(lines)}


def parse_aide(lines: list[str]) -> dict[str, Any]:
    dbs = {p[1]: (float(p[2]), int(p[3])) for line in lines for p in [line.split()] if p[0] == "db" and len(p) == 4}
    schedule = [line.split(" ", 1)[1] for line in lines if line.startswith(("cron ", "timer "))]
    return {"installed": "INSTALLED" in lines, "databases": dbs, "schedule": schedule, "now": _now(lines)}


def parse_sudoers(lines: list[str]) -> dict[str, Any]:
    """Every rule sudo reads (its include order), with the file it came from."""
    files = effective.split_files(lines)
    if "SUDO-INSTALLED" not in lines[:1]:
        return {"present": False, "rules": []}  # without sudo no sudoers file grants anything
    rules = []
    for path in effective.sudoers_files(files):
        for raw in effective._joined(files[path]):
            line = raw.strip()
            if line and not line.startswith("#") and not line.startswith("@"):
                rules.append((path, line))
    return {"present": bool(files), "rules": rules}


def parse_forwarding(lines: list[str]) -> dict[str, Any]:
    """Where rsyslog forwards (`@host`, `@@host`, `action(type="omfwd" target=...)`) and where
    systemd-journal-upload sends (URL=), and whether those daemons run."""
    files = effective.split_files([line for line in lines if not line.startswith("+++ ")])
    targets = []
    for path, body in files.items():
        text = "\n".join(body)
        if "journal-upload" in path:
            targets += [("journal-upload", m.group(1), path) for m in re.finditer(r"^\s*URL=\s*(\S+)", text, re.M)]
            continue
        targets += [("rsyslog", m.group(2), path) for m in re.finditer(r"^[^#\n]*\s(@@?)\(?o?\)?([\w.\-\[\]:]+)", text, re.M)]
        for action in re.finditer(r'action\s*\([^)]*type\s*=\s*"omfwd"[^)]*\)', text, re.S):
            target = re.search(r'target\s*=\s*"([^"]+)"', action.group(0))
            port = re.search(r'port\s*=\s*"(\d+)"', action.group(0))
            if target:
                targets.append(("rsyslog", target.group(1) + (f":{port.group(1)}" if port else ""), path))
    running = {line.split()[2] for line in lines if line.startswith("+++ running ")}
    return {"targets": targets, "running": sorted(running)}


def parse_mysql(lines: list[str]) -> dict[str, Any]:
    """MariaDB/MySQL server options as the server reads them: `my_print_defaults` where the
    server's tools are installed (every included file and directory, later options winning),
    else its option files resolved by the same rules (effective.mysql_options)."""
    options: dict[str, str] = {}
    if "READER" in lines:
        for line in lines:
            if line.startswith("opt --"):
                key, _, value = line[6:].partition("=")
                key = key.replace("_", "-")
                options[key[len("loose-"):] if key.startswith("loose-") else key] = value
    else:
        options = {k: v for k, (v, _) in effective.mysql_options(effective.split_files(lines)).items()}
    return {"installed": any(line.startswith("installed ") for line in lines), "options": options}


def parse_log_storage(lines: list[str]) -> dict[str, Any]:
    m = next((re.match(r"^used (\d+) (\S+)", line) for line in lines if line.startswith("used ")), None)
    if not m:
        raise FactError("df printed nothing for /var/log")
    return {"used_percent": int(m.group(1)), "mount": m.group(2)}


def parse_lastlog(lines: list[str]) -> dict[str, Any]:
    """Login users (uid >= 1000 with a shell) and when each last logged in (Unix time, None: never),
    and the day (since 1970) each account with an expiry date in /etc/shadow expires on."""
    from datetime import datetime

    users: dict[str, float | None] = {}
    for line in lines:
        if not line.startswith("user "):
            continue
        _, name, *rest = line.split(None, 2)
        text = rest[0] if rest else ""
        m = re.search(r"(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d [+-]\d{4} \d{4})", text)
        users[name] = datetime.strptime(re.sub(" +", " ", m.group(1)), "%a %b %d %H:%M:%S %z %Y").timestamp() if m else None
    expires = {p[1]: int(p[2]) for line in lines for p in [line.split()] if p[:1] == ["expires"] and len(p) == 3 and p[2].isdigit()}
    return {"users": users, "expires": expires, "now": _now(lines)}


def parse_nginx(lines: list[str]) -> dict[str, Any]:
    """The access_log directives of the configuration the running nginx was started with (its
    -c file, else the default), every included file as `nginx -T` prints it: (file, arguments)."""
    if "INSTALLED" not in lines[:1]:
        return {"installed": False, "access_log": []}
    files = effective.split_files(lines)
    if not files:
        raise FactError("nginx -T printed no configuration (an invalid configuration?)")
    return {"installed": True,
            "access_log": [(path, " ".join(args)) for path, args in effective.nginx_directives(files, "access_log")]}


def parse_prometheus(lines: list[str]) -> dict[str, Any]:
    """The running Prometheus' retention in days, from its own command line (15 days, its
    default, when neither the time nor a size flag is given), or running=False."""
    cmd = next((line[8:] for line in lines if line.startswith("cmdline ")), None)
    if cmd is None:
        return {"running": False, "days": None, "flag": None}
    m = re.search(r"--storage\.tsdb\.retention(?:\.time)?[= ](\S+)", cmd)
    try:
        days = parse_duration(m.group(1), "prometheus") / 86400 if m else 15.0
    except DurationError:
        days = None
    return {"running": True, "days": days, "flag": m.group(0) if m else None}


PARSERS: dict[str, Callable[[dict[str, list[str]]], Any]] = {
    "sshd": lambda s: parse_sshd(s["sshd"]),
    "passwd": lambda s: parse_passwd(s["passwd"]),
    "shadow": lambda s: parse_shadow(s["shadow"]),
    "login_defs": lambda s: parse_numbers(s["login_defs"]),
    "pwquality": lambda s: parse_pwquality(s["pwquality"], s["pam"]),
    "lockout": lambda s: parse_lockout(s["faillock"], s["pam"], s["sshd"]),
    "aging": lambda s: parse_aging(s["aging"]),
    "sshd_pam": lambda s: effective.pam_stack(effective.split_files(s["pam"]), "sshd", "auth") or [],
    "sshd_contexts": lambda s: parse_sshd_contexts(s["sshd_ctx"]),
    "mounts": lambda s: parse_mounts(s["mounts"]),
    "modules": lambda s: parse_modules(s["modules"]),
    "cron": lambda s: parse_cron(s["cron"]),
    "banner": lambda s: parse_banner(s["banner"]),
    "apparmor": lambda s: parse_apparmor(s["apparmor"]),
    "audit_state": lambda s: parse_audit_state(s["audit_state"]),
    "clamav": lambda s: parse_clamav(s["clamav"]),
    "aide": lambda s: parse_aide(s["aide"]),
    "sudoers": lambda s: parse_sudoers(s["sudoers"]),
    "forwarding": lambda s: parse_forwarding(s["rsyslog"]),
    "mysql": lambda s: parse_mysql(s["mysql"]),
    "log_storage": lambda s: parse_log_storage(s["log_storage"]),
    "node_agent": lambda s: "node_exporter running" in s["agent"],
    "lastlog": lambda s: parse_lastlog(s["lastlog"]),
    "nginx": lambda s: parse_nginx(s["nginx"]),
    "prometheus": lambda s: parse_prometheus(s["prometheus"]),
    "tmout": lambda s: parse_tmout(s["tmout"]),
    "listening": lambda s: parse_listening(s["listening"]),
    "nft": lambda s: parse_nft(s["nft"]),
    "ntp": lambda s: parse_ntp(s["ntp"]),
    "retention": lambda s: parse_retention(s["journald"], s["logrotate"]),
    "auditd": lambda s: {"running": "RUNNING" in s["auditd"], "rules": [x for x in s["auditd"] if x.endswith(".rules")]},
    "world_writable": lambda s: parse_lines(s["world_writable"]),
    "suid": lambda s: parse_lines(s["suid"]),
    "os": lambda s: (s["os"][0].split() + ["", ""])[:2] if s["os"] else ["", ""],
    "sysctl": lambda s: parse_sysctl(s["sysctl"]),
    "perms": lambda s: parse_perms(s["perms"]),
    "reboot": lambda s: "REBOOT-REQUIRED" in s["reboot"],
    "autoupdates": lambda s: parse_autoupdates(s["autoupdates"]),
    "postgres": lambda s: parse_postgres(s["postgres"]),
    "backups": lambda s: parse_backups(s["backups"]),
}


def parse_facts(output: str) -> dict[str, Any]:
    """Every fact the output holds; a fact that failed is a FactError value, not a value."""
    sections = split_sections(output)
    facts: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        try:
            facts[name] = parse(sections)
        except KeyError as exc:
            facts[name] = FactError(f"section {exc.args[0]} missing: the fact script did not finish")
        except FactError as exc:
            facts[name] = exc
        except (ValueError, IndexError) as exc:
            facts[name] = FactError(f"could not parse {name}: {exc}")
    return facts
