"""Vendor appliances (devices without `ssh`): management-plane checks judged on the appliance's
configuration backup, the file the inventory's `config_backup` names (IOS-style text).

`parse_config` is pure: the backup's lines in, a small dictionary of what the management plane
allows out, parsed by ciscoconfparse2 (parents and children as the device nests them, `no`
forms, `!` comments). The engine reads the file (checks/engine.py) and a missing or unreadable
backup never reaches a check: no backup is NOT_ASSESSED, an unreadable one ERROR naming it.
Community strings are secrets: a finding names the default ones (public, private) and only
counts the others.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from provdc.checks.facts import FactError
from provdc.checks.hardening import log_collectors
from provdc.checks.registry import Verdict, check

DEFAULT_COMMUNITIES = ("public", "private")
# first words an IOS-style configuration is made of: a file with none of them is not one
IOS_WORDS = ("hostname", "interface", "version", "line", "aaa", "snmp-server", "logging", "ntp", "ip", "username",
             "service", "enable", "router", "access-list", "boot", "feature", "banner", "crypto", "no")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_config(lines: list[str]) -> dict[str, Any]:
    """What an IOS-style configuration says about its management plane. Raises FactError when
    the text is not such a configuration (empty, or no line any IOS-style OS would write)."""
    from ciscoconfparse2 import CiscoConfParse  # a 0.7 s import: only when an appliance is audited

    text = [line.rstrip("\r\n") for line in lines]
    words = {line.split()[0].lower() for line in text if line.strip() and not line.startswith((" ", "\t", "!"))}
    if not words & set(IOS_WORDS):
        raise FactError("not an IOS-style configuration (no hostname, interface, line, aaa, logging, ntp ... line)")
    parse = CiscoConfParse(text, syntax="ios", loguru=False)
    top = lambda pattern: [o.text.strip() for o in parse.find_objects(pattern)]  # noqa: E731

    vty = []
    for line in parse.find_objects(r"^line\s+vty\b"):
        transports = [c.text.split()[2:] for c in line.children if re.match(r"^\s*transport\s+input\b", c.text)]
        vty.append({"line": line.text.strip(), "transport": [w.lower() for w in transports[-1]] if transports else None})

    communities = []
    for text_ in top(r"^snmp-server\s+community\s+\S+"):
        parts = text_.split()   # snmp-server community NAME [view VIEW] [RO|RW] [ACL]
        rest, access, acl = parts[3:], "ro", None
        while rest:
            word = rest.pop(0)
            if word.lower() == "view" and rest:
                rest.pop(0)
            elif word.lower() in ("ro", "rw"):
                access = word.lower()
            else:
                acl = word
        communities.append({"name": parts[2], "access": access, "acl": acl})
    traps = [t.split() for t in top(r"^snmp-server\s+host\s+\S+")]
    trap_communities = []
    for parts in traps:  # snmp-server host ADDR [informs|traps] [version 1|2c|3 [auth|noauth|priv]] COMMUNITY ...
        rest = parts[3:]
        while rest and rest[0].lower() in ("informs", "traps", "vrf"):
            rest = rest[2:] if rest[0].lower() == "vrf" else rest[1:]
        version = "1"
        if len(rest) >= 2 and rest[0].lower() == "version":
            version, rest = rest[1].lower(), rest[2:]
            if version == "3" and rest and rest[0].lower() in ("auth", "noauth", "priv"):
                rest = rest[1:]
        if version != "3" and rest:
            trap_communities.append(rest[0])

    logging_hosts = []
    for text_ in top(r"^logging\s+(host\s+)?\S+"):
        parts = text_.split()
        if parts[1].lower() == "host":
            rest = [p for p in parts[2:] if p.lower() not in ("ipv6",)]
            if rest and rest[0].lower() == "vrf":  # logging host vrf NAME ADDR (NX-OS order varies)
                rest = rest[2:]
            if rest:
                logging_hosts.append(rest[0])
        elif _is_address(parts[1]):                         # the old form: logging A.B.C.D
            logging_hosts.append(parts[1])
    ntp = []
    for text_ in top(r"^ntp\s+server\s+\S+"):
        rest = text_.split()[2:]
        if rest and rest[0].lower() == "vrf":
            rest = rest[2:]
        if rest:
            ntp.append(rest[0])

    return {
        "hostname": next((t.split()[1] for t in top(r"^hostname\s+\S+")), None),
        "vty": vty,
        "telnet_feature": bool(top(r"^feature\s+telnet\b")),
        "http_server": bool(top(r"^ip\s+http\s+server\b")),
        "https_server": bool(top(r"^ip\s+http\s+secure-server\b")),
        "snmp_communities": communities,
        "snmp_trap_communities": trap_communities,
        "snmp_v3_groups": [t.split()[2] for t in top(r"^snmp-server\s+group\s+\S+\s+v3\b")],
        "aaa_new_model": bool(top(r"^aaa\s+new-model\b")),
        "aaa_login": [" ".join(t.split()[3:]) for t in top(r"^aaa\s+authentication\s+login\s+\S+")],
        "aaa_servers": [t for t in top(r"^(tacacs|radius)(-server)?\s+(server|host)\s+\S+")],
        "logging_hosts": logging_hosts,
        "logging_off": bool(top(r"^no\s+logging\s+on\b")),
        "ntp_servers": ntp,
    }


# ---------------------------------------------------------------------------------------- checks

@check(layer="network", level=1, severity="high", title="appliances offer no telnet or plain-HTTP management",
       rationale="Only secure connections for remote device administration (TT 12 §II.1.b, TCVN 11930 7.2.1.7): "
                 "telnet and HTTP carry the administrator's password in clear.",
       remediation="Set 'transport input ssh' on every 'line vty', 'no ip http server' (keep 'ip http secure-server' "
                   "only if the web interface is needed), 'no feature telnet'; export the configuration backup again.",
       facts=("config",), scope="appliance")
def appliance_plaintext_management_off(config: dict) -> Verdict:
    problems = []
    for line in config["vty"]:
        if line["transport"] is None:
            problems.append(f"{line['line']}: no 'transport input' (older IOS accepts telnet by default)")
        elif {"telnet", "all"} & set(line["transport"]):
            problems.append(f"{line['line']}: transport input {' '.join(line['transport'])}")
    if config["telnet_feature"]:
        problems.append("feature telnet")
    if config["http_server"]:
        problems.append("ip http server (plain HTTP management)")
    expected = "vty lines 'transport input ssh' only, no 'ip http server', no telnet feature"
    return Verdict.failed(expected, "; ".join(problems)) if problems else \
        Verdict.passed(f"{len(config['vty'])} vty line(s) SSH only; HTTP server off"
                       + ("; HTTPS management on" if config["https_server"] else ""))


@check(layer="network", level=1, severity="high", title="appliances refuse the default SNMP communities",
       rationale="SNMP v1/v2c with the community 'public' or 'private' lets anyone read (or write) the device; "
                 "device administration requires authentication (TCVN 11930 7.2.1.7).",
       remediation="Remove 'snmp-server community public|private' (and such trap hosts); use SNMPv3 authPriv users, "
                   "or a long community limited by an ACL to the monitoring server.",
       facts=("config",), scope="appliance")
def appliance_snmp_default_communities_refused(config: dict) -> Verdict:
    default = sorted({c["name"].lower() for c in config["snmp_communities"] if c["name"].lower() in DEFAULT_COMMUNITIES}
                     | {t.lower() for t in config["snmp_trap_communities"] if t.lower() in DEFAULT_COMMUNITIES})
    others = [c for c in config["snmp_communities"] if c["name"].lower() not in DEFAULT_COMMUNITIES]
    found = (f"{len(others)} other v1/v2c communit{'y' if len(others) == 1 else 'ies'} (values not shown)"
             + (f", {sum(c['acl'] is None for c in others)} without an ACL" if others else "")
             + f"; {len(config['snmp_v3_groups'])} SNMPv3 group(s)")
    if default:
        return Verdict.failed("no v1/v2c community 'public' or 'private'", f"default communities: {', '.join(default)}; {found}")
    return Verdict.passed(found)


@check(layer="network", level=2, severity="high", title="appliances authenticate administrators through AAA",
       rationale="Devices require authentication for local and remote administration (TCVN 11930 7.2.1.7), "
                 "through a login method list, not line passwords.",
       remediation="Configure 'aaa new-model' and 'aaa authentication login default group tacacs+ local' (or radius), "
                   "with local accounts as the fallback.",
       facts=("config",), scope="appliance")
def appliance_aaa_configured(config: dict) -> Verdict:
    found = (f"aaa new-model {'on' if config['aaa_new_model'] else 'off'}; login lists: "
             f"{'; '.join(config['aaa_login']) or 'none'}; {len(config['aaa_servers'])} AAA server(s)")
    ok = config["aaa_new_model"] and config["aaa_login"]
    return Verdict.passed(found) if ok else Verdict.failed("aaa new-model and an 'aaa authentication login' list", found)


@check(layer="network", level=3, severity="medium", title="appliances send their logs to the log collector",
       rationale="Device logs are stored and managed centrally (TT 12 §II.1.b, TCVN 11930 7.2.1.4).",
       remediation="Add 'logging host ADDRESS' for the inventory's log collector (a server with a syslog service).",
       facts=("config", "inv"), scope="appliance")
def appliance_logging_host_set(config: dict, inv) -> Verdict:
    found = f"logging hosts {', '.join(config['logging_hosts']) or 'none'}" + ("; 'no logging on'" if config["logging_off"] else "")
    if config["logging_off"]:
        return Verdict.failed("logging on, with a logging host", found)
    return _one_of(sorted(log_collectors(inv)), config["logging_hosts"], "logging host", "the inventory's log collector", found)


@check(layer="network", level=3, severity="medium", title="appliances take their time from the NTP server",
       rationale="Device logs are only correlated when device clocks follow the time server (TCVN 11930 7.2.1.4).",
       remediation="Add 'ntp server ADDRESS' for the inventory's NTP servers (province.ntp).",
       facts=("config", "inv"), scope="appliance")
def appliance_ntp_server_set(config: dict, inv) -> Verdict:
    servers = config["ntp_servers"]
    return _one_of(sorted(inv.province.ntp), servers, "ntp server", "province.ntp", f"ntp servers {', '.join(servers) or 'none'}")


def _one_of(declared: list[str], configured: list[str], what: str, source: str, found: str) -> Verdict:
    """One of the inventory's addresses configured when it declares some, else any address."""
    if declared:
        return Verdict.passed(found) if set(declared) & set(configured) else \
            Verdict.failed(f"{what} {' or '.join(declared)} ({source})", found)
    return Verdict.passed(found) if configured else Verdict.failed(f"a {what}", found)
