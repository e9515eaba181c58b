"""Device-scope checks: Linux routers and firewalls that provdc reaches over SSH, judged like
servers on the same facts (TCVN 11930 7.2.1.x network device management; TT 12/2022 §II.1).

Each is the host check of the same concern run on a device, registered under its own id so
the catalogue can map it to the network-device requirement (NET-07..NET-16) it serves. A
device also runs every other host-layer check, as a server does (the engine reads
`STANDS_FOR` and `NOT_ON_ROUTERS`), and `device_forwarding_restricted` judges what it
forwards against the declared zone matrix.
"""

from __future__ import annotations

from provdc.checks import hardening, host, nftables
from provdc.checks.registry import Verdict, check

# host check -> the device check that judges the same facts on a device (run instead of it)
STANDS_FOR = {"ssh_password_auth_disabled": "device_ssh_password_auth_disabled", "ssh_strong_crypto": "device_ssh_strong_crypto",
              "ssh_max_auth_tries": "device_ssh_max_auth_tries", "time_synchronised": "device_time_synchronised",
              "logs_forwarded_to_collector": "device_logs_forwarded", "auditd_running": "device_audit_logging",
              "log_retention_for_level": "device_log_retention", "firewall_sources_match_declared": "device_admin_sources_restricted",
              "security_updates_automatic": "device_security_updates"}
# host checks whose premise a router contradicts: not applicable on a device, and why
NOT_ON_ROUTERS = {"kernel_ip_forward_off": "a router forwards by design; device_forwarding_restricted judges what it forwards"}


@check(layer="network", level=1, severity="high", title="network devices require key authentication for administration",
       rationale="Devices require authentication for local and remote administration; passwords over SSH are guessable (7.2.1.x).",
       remediation="Set 'PasswordAuthentication no' in the device's sshd_config and reload sshd.",
       facts=("sshd",), scope="device")
def device_ssh_password_auth_disabled(sshd: dict) -> Verdict:
    return host.ssh_password_auth_disabled(sshd)


@check(layer="network", level=3, severity="medium", title="network devices offer no weak SSH algorithms",
       rationale="Only secure connections for remote device administration (TT 12 §II.1.b).",
       remediation="Restrict Ciphers, MACs and KexAlgorithms in the device's sshd_config and reload sshd.",
       facts=("sshd",), scope="device")
def device_ssh_strong_crypto(sshd: dict) -> Verdict:
    return host.ssh_strong_crypto(sshd)


@check(layer="network", level=3, severity="medium", title="network devices limit failed administrator logins",
       rationale="Failed administrator logins on devices must be limited (7.2.1.x).",
       remediation="Set MaxAuthTries in the device's sshd_config to the framework's limit or less.",
       facts=("sshd", "bar"), scope="device")
def device_ssh_max_auth_tries(sshd: dict, bar) -> Verdict:
    return host.ssh_max_auth_tries(sshd, bar)


@check(layer="network", level=3, severity="medium", title="network devices synchronise time with the inventory's NTP server",
       rationale="Device logs are only correlated when device clocks follow the time server (7.2.1.x).",
       remediation="Configure chrony on the device with the inventory's NTP servers (province.ntp).",
       facts=("ntp", "inv", "server"), scope="device")
def device_time_synchronised(ntp: dict, inv, server) -> Verdict:
    return host.time_synchronised(ntp, inv, server)


@check(layer="network", level=3, severity="medium", title="network devices forward their logs to the log collector",
       rationale="Device logs are stored and managed centrally (TT 12 §II.1.b).",
       remediation="Forward the device's logs with rsyslog or systemd-journal-upload to the inventory's syslog collector.",
       facts=("forwarding", "inv", "server"), scope="device")
def device_logs_forwarded(forwarding: dict, inv, server) -> Verdict:
    return hardening.logs_forwarded_to_collector(forwarding, inv, server)


@check(layer="network", level=3, severity="medium", title="network devices record administrative actions (auditd)",
       rationale="Network devices log connections, administrator actions and alerts (7.2.1.x).",
       remediation="Install and start auditd on the device with the provdc rules.",
       facts=("auditd",), scope="device")
def device_audit_logging(auditd: dict) -> Verdict:
    return host.auditd_running(auditd)


@check(layer="network", level=2, severity="medium", title="network devices keep logs as long as the level requires",
       rationale="Device logs are kept as long as the highest level behind them requires (TCVN 11930 x.2.1).",
       remediation="Set journald MaxRetentionSec and logrotate on the device to at least the required days.",
       facts=("retention", "bar"), scope="device")
def device_log_retention(retention: dict, bar) -> Verdict:
    return host.log_retention_for_level(retention, bar)


@check(layer="network", level=3, severity="high", title="network devices admit administration only from the management zones",
       rationale="Only allowed addresses may administer devices (7.2.1.x): the device's own input rules must say so.",
       remediation="Load an nftables input ruleset on the device that admits SSH and SNMP only from the management zones.",
       facts=("nft", "server", "inv"), scope="device")
def device_admin_sources_restricted(nft: dict, server, inv) -> Verdict:
    return hardening.firewall_sources_match_declared(nft, server, inv)


@check(layer="network", level=3, severity="medium", title="network device software updates itself",
       rationale="Devices are upgraded and their weaknesses fixed (TCVN 11930 7.2.1.x).",
       remediation="Install unattended-upgrades on the device with daily lists and upgrades.",
       facts=("autoupdates",), scope="device")
def device_security_updates(autoupdates: dict) -> Verdict:
    return host.security_updates_automatic(autoupdates)


@check(layer="network", level=3, severity="high", title="network devices forward only what the zone matrix declares",
       rationale="Traffic between zones is controlled (TCVN 11930 7.2.1.3): a router's forward rules must drop by default "
                 "and accept each port only towards the servers that declare it, from the sources they declare.",
       remediation="Load an nftables forward hook with policy drop on the device and accept rules generated from the "
                   "inventory's services (their from: lists and the management zones).",
       facts=("nft", "sysctl", "inv"), scope="device")
def device_forwarding_restricted(nft: dict, sysctl: dict, inv) -> Verdict:
    if sysctl.get("net.ipv4.ip_forward") == 0:
        return Verdict.passed("net.ipv4.ip_forward=0: forwards nothing")
    expected = "a forward hook with policy drop, accepting each port only to the servers that declare it from their sources"
    if not nft["installed"]:
        return Verdict.failed(expected, "nftables not installed: every packet is forwarded")
    zones = {str(z.cidr): z.id for z in inv.doc.zones}
    problems = nftables.compare_forward(nftables.parse_ruleset(nft["text"]), nftables.declared_matrix(inv), zones)
    return Verdict.failed(expected, "; ".join(problems)) if problems else \
        Verdict.passed("forward policy drop; accept rules within the declared zone matrix")
