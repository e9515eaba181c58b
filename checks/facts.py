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

from provdc.durations import DurationError, parse_duration

FACT_SCRIPT = r"""
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
s() { echo "==> $1"; }
# processes of this host only: a lab host shares the PID table with its neighbours, but not its
# network namespace (on a real server every process is in it, so nothing changes there)
t() { timeout 10 "$@"; }  # per-fact timeout: a hung command costs one fact (ERROR), not the host
running() { me=$(readlink /proc/self/ns/net); for p in $(pidof "$1"); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && return 0; done; return 1; }
s sshd;        t sshd -T 2>&1
s passwd;      cat /etc/passwd
s shadow;      awk -F: '{ st = ($2 == "") ? "EMPTY" : (($2 ~ /^[!*]/) ? "LOCKED" : "SET"); print $1 ":" st }' /etc/shadow
s login_defs;  grep -E '^[[:space:]]*(PASS_MAX_DAYS|PASS_MIN_DAYS|PASS_WARN_AGE)' /etc/login.defs
s pwquality;   cat /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf 2>/dev/null | grep -Ev '^[[:space:]]*(#|$)'
s faillock;    grep -Ev '^[[:space:]]*(#|$)' /etc/security/faillock.conf 2>/dev/null; grep -h pam_faillock /etc/pam.d/common-auth 2>/dev/null
s tmout;       grep -rhsE '^[^#]*TMOUT=' /etc/profile /etc/profile.d/ /etc/bash.bashrc
s listening;   t ss -Htlnu 2>&1
s nft;         if command -v nft >/dev/null; then t nft list ruleset 2>&1; else echo "NFT-MISSING"; fi
s ntp;         grep -hE '^[[:space:]]*(server|pool)[[:space:]]' /etc/chrony/chrony.conf /etc/chrony/sources.d/*.sources 2>/dev/null; grep -hE '^NTP=' /etc/systemd/timesyncd.conf /etc/systemd/timesyncd.conf.d/*.conf 2>/dev/null; { running chronyd || running systemd-timesyncd; } && echo "DAEMON-RUNNING"
s journald;    grep -hE '^[[:space:]]*(Storage|MaxRetentionSec|MaxFileSec)=' /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf 2>/dev/null
s logrotate;   grep -hE '^[[:space:]]*(rotate|daily|weekly|monthly|yearly)([[:space:]]|$)' /etc/logrotate.conf 2>/dev/null
s auditd;      running auditd && echo RUNNING || echo STOPPED; ls /etc/audit/rules.d/ 2>/dev/null
s world_writable; t find /etc /usr/bin /usr/sbin /usr/local /usr/lib/systemd -xdev -type f -perm -0002 2>/dev/null | head -50
s suid;        t find /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin -xdev -type f -perm -4000 2>/dev/null
s os;          . /etc/os-release 2>/dev/null; echo "$ID $VERSION_ID"
s sysctl;      sysctl net.ipv4.ip_forward net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.send_redirects net.ipv4.conf.all.accept_source_route net.ipv4.tcp_syncookies net.ipv4.conf.all.rp_filter 2>/dev/null
s perms;       stat -c '%n %a %U %G' /etc/passwd /etc/shadow /etc/group /etc/gshadow 2>/dev/null
s autoupdates; t apt-config dump 2>/dev/null | grep -E '^APT::Periodic::(Update-Package-Lists|Unattended-Upgrade) '; test -x /usr/bin/unattended-upgrade && echo UU-INSTALLED
s reboot;      test -e /var/run/reboot-required && echo REBOOT-REQUIRED; true
s postgres;    for f in /etc/postgresql/*/main/pg_hba.conf; do [ -f "$f" ] && grep -Ev '^[[:space:]]*(#|$)' "$f" | sed 's/^/hba /'; done; for f in /etc/postgresql/*/main/postgresql.conf; do [ -f "$f" ] && grep -E '^[[:space:]]*listen_addresses' "$f" | sed 's/^/conf /'; done; for d in /var/lib/postgresql/*/main; do [ -d "$d" ] && stat -c 'datadir %n %a %U' "$d"; done; true
s backups;     t find /var/backups/provdc -mindepth 1 -maxdepth 1 -printf '%f %T@\n' 2>/dev/null; true
s end
"""

SECTION = re.compile(r"^==> (\w+)$")


def split_sections(output: str) -> dict[str, list[str]]:
    """`==> name` headers to {name: lines}; a run that was cut short has no `end` section."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        m = SECTION.match(line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


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
    """KEY VALUE or key = value lines with integer values (login.defs, pwquality, faillock)."""
    out: dict[str, int] = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z_]+)\s*(?:=|\s)\s*(-?\d+)", line)
        if m:
            out.setdefault(m.group(1).lower(), int(m.group(2)))
        for key, value in re.findall(r"\b(deny|unlock_time|fail_interval)=(\d+)", line):  # pam_faillock.so args
            out.setdefault(key, int(value))
    return out


def parse_tmout(lines: list[str]) -> int | None:
    values = [int(m.group(1)) for line in lines for m in [re.search(r"TMOUT=(\d+)", line)] if m]
    return min(values) if values else None


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
    """How long logs are kept, in days: journald MaxRetentionSec and logrotate rotate x period."""
    j = _kv(journald, "=")
    journal_days = None
    if "maxretentionsec" in j:
        try:  # systemd's own grammar: "3m" is three minutes, "3M" three months
            journal_days = parse_duration(j["maxretentionsec"], "systemd") / 86400 or None
        except DurationError:
            journal_days = None  # journald ignores a value it cannot parse, and so do we
    period = next((p for line in logrotate for p in ("daily", "weekly", "monthly", "yearly") if line.strip() == p), "weekly")
    rotate = next((int(m.group(1)) for line in logrotate for m in [re.match(r"\s*rotate\s+(\d+)", line)] if m), None)
    per = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}[period]
    return {"journal_days": journal_days, "persistent": j.get("storage", "auto") in ("persistent", "auto"),
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


def parse_backups(lines: list[str]) -> dict[str, float]:
    """Backup sets under /var/backups/provdc: name -> modification time (Unix)."""
    out = {}
    for line in lines:
        name, _, mtime = line.rpartition(" ")
        if name and mtime.replace(".", "", 1).isdigit():
            out[name] = float(mtime)
    return out


PARSERS: dict[str, Callable[[dict[str, list[str]]], Any]] = {
    "sshd": lambda s: parse_sshd(s["sshd"]),
    "passwd": lambda s: parse_passwd(s["passwd"]),
    "shadow": lambda s: parse_shadow(s["shadow"]),
    "login_defs": lambda s: parse_numbers(s["login_defs"]),
    "pwquality": lambda s: parse_numbers(s["pwquality"]),
    "faillock": lambda s: parse_numbers(s["faillock"]),
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
