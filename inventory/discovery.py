"""Discovery: what really answers in a province's zones, as a draft inventory, and the difference
between what is declared and what was found. Pure: nmap's parsed results in, drafts and diffs
out; the sweep itself (`provdc inventory discover`) lives in provdc/commands/inventory.py.

Scope: only the CIDRs the user names are swept, each at most a /16 (a typing error must not
become a sweep of a whole private range), and when an inventory is given every CIDR must lie
inside one of its declared zones or link subnets. Only TCP is probed (a UDP sweep is slow and
unreliable); UDP services are listed by the diff as "not probed", never as missing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from provdc.errors import ProvdcError

WIDEST_PREFIX = 16
# nmap's service names -> the inventory's service kinds (everything else is generic)
KINDS = {"http": "http", "https": "https", "ssh": "ssh", "postgresql": "postgresql", "mysql": "mysql",
         "smtp": "smtp", "submission": "submission", "imaps": "imaps", "domain": "dns", "ntp": "ntp",
         "snmp": "snmp", "syslog": "syslog"}
TLS_KINDS = {"https", "imaps"}
WELL_KNOWN = {22: "ssh", 25: "smtp", 53: "domain", 80: "http", 443: "https", 587: "submission", 993: "imaps",
              3306: "mysql", 5432: "postgresql", 9100: "node_exporter"}


class DiscoveryError(ProvdcError):
    """A zone specification or scope the sweep refuses."""


@dataclass(frozen=True)
class Zone:
    name: str
    cidr: ipaddress.IPv4Network


@dataclass
class Host:
    address: str
    zone: str
    hostname: str | None = None
    ports: dict[int, str] = field(default_factory=dict)   # open TCP port -> nmap's service name
    os: str | None = None                                  # from SSH, when a key was given
    addresses: list[str] = field(default_factory=list)     # the host's own, from SSH
    listening: list[int] = field(default_factory=list)     # TCP ports it listens on that nmap did not reach


def parse_zones(specs: list[str]) -> list[Zone]:
    """`NAME=CIDR` each; every defect reported at once."""
    zones, problems = [], []
    for spec in specs:
        name, sep, cidr = spec.partition("=")
        if not sep or not name.strip() or not cidr.strip():
            problems.append(f"--zone {spec!r}: expected NAME=CIDR, e.g. dc-dmz=10.99.10.0/24")
            continue
        try:
            net = ipaddress.IPv4Network(cidr.strip(), strict=True)
        except ValueError as exc:
            problems.append(f"--zone {spec!r}: {exc}")
            continue
        if net.prefixlen < WIDEST_PREFIX:
            problems.append(f"--zone {spec!r}: /{net.prefixlen} is wider than /{WIDEST_PREFIX}; name the zones one by one")
            continue
        zones.append(Zone(name.strip(), net))
    names = [z.name for z in zones]
    problems += [f"--zone {n}: named twice" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise DiscoveryError("; ".join(problems))
    if not zones:
        raise DiscoveryError("name at least one zone to sweep: --zone NAME=CIDR")
    return zones


def check_zones_in_scope(zones: list[Zone], declared: list[ipaddress.IPv4Network] | None) -> None:
    """Refuse a zone outside the inventory's declared networks; without an inventory, refuse a
    public range (a provincial zone is private; a public one is somebody else's network)."""
    outside = []
    for z in zones:
        if declared is not None:
            if not any(z.cidr.subnet_of(n) for n in declared):
                outside.append(f"{z.name}={z.cidr} (not inside a zone the inventory declares)")
        elif not (z.cidr.is_private or z.cidr.is_loopback):
            outside.append(f"{z.name}={z.cidr} (a public range; give --inventory whose zones declare it)")
    if outside:
        raise DiscoveryError("refusing to sweep outside the declared scope: " + "; ".join(outside))


def hosts_from_scan(scan: dict[str, Any], zones: list[Zone], exclude: set[str]) -> list[Host]:
    """python-nmap's parsed result (`PortScanner.analyse_nmap_xml_scan()['scan']`) -> hosts that
    answered, each placed in the zone whose CIDR holds it; excluded addresses (this machine's own)
    are dropped."""
    hosts = []
    for address, info in scan.items():
        if address in exclude or info.get("status", {}).get("state", "up") != "up":
            continue
        zone = next((z.name for z in zones if ipaddress.IPv4Address(address) in z.cidr), None)
        if zone is None:
            continue
        names = [n.get("name") for n in info.get("hostnames", []) if n.get("name")]
        ports = {int(p): (v.get("name") or WELL_KNOWN.get(int(p), "")) for p, v in info.get("tcp", {}).items()
                 if v.get("state") == "open"}
        hosts.append(Host(address, zone, names[0] if names else None, ports))
    return sorted(hosts, key=lambda h: ipaddress.IPv4Address(h.address))


# what discovery runs over SSH where a key is given: one round trip, sections split by a marker
SSH_SCRIPT = ("hostname; echo ---; (. /etc/os-release 2>/dev/null; echo \"$PRETTY_NAME\"); echo ---; "
              "ss -Hltn 2>/dev/null; echo ---; ip -4 -o addr show 2>/dev/null")


def parse_ssh_facts(text: str) -> tuple[str | None, str | None, set[int], list[str]]:
    """(hostname, OS, TCP ports listening beyond loopback, IPv4 addresses but loopback) from the
    output of SSH_SCRIPT."""
    parts = (text.split("\n---\n") + ["", "", "", ""])[:4]
    hostname = parts[0].strip() or None
    os_name = parts[1].strip() or None
    ports = set()
    for line in parts[2].splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        host, _, port = fields[3].rpartition(":")
        host = host.strip("[]").split("%")[0]
        if port.isdigit() and not (host.startswith("127.") or host == "::1"):
            ports.add(int(port))
    addresses = []
    for line in parts[3].splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] == "inet" and not fields[3].startswith("127."):
            addresses.append(fields[3].split("/")[0])
    return hostname, os_name, ports, addresses


def with_ssh_facts(host: Host, text: str) -> Host:
    """The host as SSH describes it: its own hostname, OS and addresses, and the ports it listens
    on that the sweep did not reach (a firewall in between)."""
    hostname, os_name, ports, addresses = parse_ssh_facts(text)
    return Host(host.address, host.zone, hostname or host.hostname, dict(host.ports), os_name, addresses,
                sorted(ports - set(host.ports)))


def _service(port: int, nmap_name: str) -> dict[str, Any]:
    name = nmap_name or WELL_KNOWN.get(port, "")
    kind = "node_exporter" if port == 9100 else KINDS.get(name, "generic")
    service: dict[str, Any] = {"name": f"{name or 'tcp'}-{port}".replace("_", "-"), "port": port, "kind": kind}
    if kind in TLS_KINDS:
        service["tls"] = True
    return service


def server_id(host: Host) -> str:
    """A stable id: the hostname when nmap resolved one, else the address."""
    base = (host.hostname or "").split(".")[0].lower()
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in base).strip("-")
    return cleaned or "host-" + host.address.replace(".", "-")


def draft(zones: list[Zone], hosts: list[Host]) -> dict[str, Any]:
    """The proposed zones and servers, in the inventory's own shape (to merge by hand)."""
    seen: set[str] = set()
    servers = []
    for h in hosts:
        sid = server_id(h)
        if sid in seen:
            sid = f"{sid}-{h.address.split('.')[-1]}"
        seen.add(sid)
        server = {"id": sid, "hostname": h.hostname or sid, "address": h.address, "zone": h.zone,
                  "services": [_service(p, n) for p, n in sorted(h.ports.items())]}
        if h.os or h.addresses or h.listening:   # seen over SSH: kept for the reviewer, not inventory fields
            server["discovered_over_ssh"] = {"os": h.os, "addresses": h.addresses, "listening_not_reachable": h.listening}
        servers.append(server)
    return {"zones": [{"id": z.name, "cidr": str(z.cidr)} for z in zones], "servers": servers}


@dataclass
class Difference:
    only_declared_hosts: list[str] = field(default_factory=list)      # "id (address)"
    only_discovered_hosts: list[str] = field(default_factory=list)    # "address"
    only_declared_services: list[str] = field(default_factory=list)   # "server: port/tcp (name)"
    only_discovered_services: list[str] = field(default_factory=list)
    not_probed: list[str] = field(default_factory=list)               # UDP services
    outside_swept: list[str] = field(default_factory=list)            # declared hosts in no swept zone

    @property
    def empty(self) -> bool:
        return not (self.only_declared_hosts or self.only_discovered_hosts or self.only_declared_services
                    or self.only_discovered_services)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def diff(declared: dict[str, Any], discovered: dict[str, Any], known_addresses: set[str] = frozenset()) -> Difference:
    """`declared`: {'servers': [{id, address, services: [{name, port, proto}]}]}; `discovered`: a
    `draft()`. `known_addresses` (gateways, devices) are declared, just not as servers."""
    swept = [ipaddress.IPv4Network(z["cidr"]) for z in discovered.get("zones", [])]
    found = {str(s["address"]): s for s in discovered.get("servers", [])}
    d = Difference()
    for server in declared.get("servers", []):
        address = str(server["address"])
        label = f"{server['id']} ({address})"
        if swept and not any(ipaddress.IPv4Address(address) in n for n in swept):
            d.outside_swept.append(label)
            continue
        if address not in found:
            d.only_declared_hosts.append(label)
            continue
        open_ports = {s["port"] for s in found[address]["services"]}
        for svc in server.get("services", []):
            text = f"{server['id']}: {svc['port']}/{svc.get('proto', 'tcp')} ({svc['name']})"
            if svc.get("proto", "tcp") != "tcp":
                d.not_probed.append(text)
            elif svc["port"] not in open_ports:
                d.only_declared_services.append(text)
        declared_ports = {s["port"] for s in server.get("services", []) if s.get("proto", "tcp") == "tcp"}
        ssh_port = (server.get("ssh") or {}).get("port", 22)
        d.only_discovered_services += [f"{server['id']}: {s['port']}/tcp ({s['name']})" for s in found[address]["services"]
                                       if s["port"] not in declared_ports | {ssh_port}]
    declared_addresses = {str(s["address"]) for s in declared.get("servers", [])} | set(known_addresses)
    d.only_discovered_hosts = [a for a in found if a not in declared_addresses]
    return d


def recovery(declared: dict[str, Any], discovered: dict[str, Any]) -> tuple[float, float]:
    """(share of declared servers found, share of their declared TCP services found), over the
    servers inside the swept zones."""
    d = diff(declared, discovered)
    swept_servers = [s for s in declared.get("servers", []) if f"{s['id']} ({s['address']})" not in d.outside_swept]
    services = [svc for s in swept_servers for svc in s.get("services", []) if svc.get("proto", "tcp") == "tcp"]
    hosts_share = 1 - len(d.only_declared_hosts) / len(swept_servers) if swept_servers else 1.0
    missing_services = len(d.only_declared_services) + sum(
        len([v for v in s.get("services", []) if v.get("proto", "tcp") == "tcp"]) for s in swept_servers
        if f"{s['id']} ({s['address']})" in d.only_declared_hosts)
    services_share = 1 - missing_services / len(services) if services else 1.0
    return hosts_share, services_share
