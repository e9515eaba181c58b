"""Network-layer view (TCVN 11930 x.2.1): what answers on the wire, seen by nmap from this
machine and, for the zone matrix, from inside every zone (checks/zonematrix.py), and what the
inventory declares towards the WAN.

nmap runs once per zone, not per check: a TCP connect scan of the zone's audited servers and a
ping sweep of its CIDR (for hosts the inventory does not know). Zones are scanned in parallel.
Targets come only from the inventory and are checked against its zones before any packet.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from provdc.checks import zonematrix
from provdc.checks.facts import FactError
from provdc.checks.registry import Verdict, check
from provdc.exporters.monitoring import check_scope
from provdc.inventory import Inventory, model
from provdc.proc import run_command

SCAN_PORTS = "1-1024,2222,3306,3389,5432,5900,5985,5986,6379,8080,8291,8443,9100,9200,10443,27017"
PLAINTEXT_MANAGEMENT = {21: "ftp", 23: "telnet", 512: "rexec", 513: "rlogin", 514: "rsh"}
ADMIN_PORTS = {22, 23, 3389, 5900, 5985, 5986, 161, 623, 8291}
OUTSIDE = {model.Exposure.wan.value, model.Exposure.internet.value}


def local_addresses() -> set[str]:
    """This machine's own IPv4 addresses (never counted as unknown hosts)."""
    out = run_command(["ip", "-4", "-o", "addr", "show"]).stdout
    return {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}


def _scan_zone(addresses: list[str], cidr: str | None, exclude: set[str]) -> tuple[dict[str, set[int]], list[str] | None]:
    import nmap  # python-nmap

    scanner = nmap.PortScanner()
    open_ports: dict[str, set[int]] = {a: set() for a in addresses}
    if addresses:
        # LAN timings: a dropping firewall must not make every filtered port wait for a WAN timeout
        scanner.scan(hosts=" ".join(addresses), ports=SCAN_PORTS,
                     arguments="-sT -Pn -n -T4 --max-retries 1 --min-rate 2000 --max-rtt-timeout 150ms --initial-rtt-timeout 50ms")
        for host in scanner.all_hosts():
            tcp = scanner[host].get("tcp", {})
            open_ports[host] = {port for port, info in tcp.items() if info.get("state") == "open"}
    alive = None
    if cidr:
        excluded = ",".join(sorted(exclude)) or "0.0.0.0"
        # LAN timings, with retries: a routed zone's first probe may wait for the router's ARP,
        # and a drift sweep that misses a host under load is worse than a slower one
        scanner.scan(hosts=cidr, arguments=f"-sn -n -T4 --max-retries 3 --min-rate 500 --max-rtt-timeout 500ms "
                                           f"--initial-rtt-timeout 100ms -PE -PS22,80,443 --exclude {excluded}")
        alive = sorted(h for h in scanner.all_hosts() if scanner[h].state() == "up")
    return open_ports, alive


def gather_network(inv: Inventory, servers: list[model.Server], sweep: bool) -> dict[str, Any]:
    """{'open': {server id: set of ports | FactError}, 'alive': {zone id: [addresses]} | FactError}."""
    check_scope(inv, [str(s.address) for s in servers])
    known = {str(s.address) for s in inv.doc.servers} | {str(d.address) for d in inv.doc.devices if d.address}
    known |= {str(z.gateway) for z in inv.doc.zones if z.gateway} | local_addresses()
    zones = [z for z in inv.doc.zones if sweep or any(s.zone == z.id for s in servers)]
    jobs = {z.id: ([str(s.address) for s in servers if s.zone == z.id], str(z.cidr) if sweep else None) for z in zones}
    result: dict[str, Any] = {"open": {}, "alive": {}, "known": known}
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(jobs)))) as pool:
        futures = {zid: pool.submit(_scan_zone, addrs, cidr, known & {a for a in known if cidr and ipaddress.ip_address(a) in ipaddress.ip_network(cidr)})
                   for zid, (addrs, cidr) in jobs.items()}
        for zid, fut in futures.items():
            try:
                open_ports, alive = fut.result()
            except Exception as exc:  # noqa: BLE001 - a failed scan is ERROR for the checks that need it
                err = FactError(f"nmap on zone {zid} failed: {exc}")
                result["open"].update({s.id: err for s in servers if s.zone == zid})
                result["alive"][zid] = err
                continue
            by_address = {str(s.address): s.id for s in servers}
            result["open"].update({by_address[a]: ports for a, ports in open_ports.items() if a in by_address})
            if alive is not None:
                result["alive"][zid] = alive
    return result


@check(layer="network", level=1, severity="high", title="only declared ports answer on the network",
       rationale="Access from outside is limited to needed services (TCVN 11930 7.2.1.2); an open undeclared port is exposure.",
       remediation="Close the port (stop the service or firewall it), or declare the service in the inventory.",
       tags=("firewall",), facts=("open_ports", "server"))
def open_ports_match_declared(open_ports: set[int], server) -> Verdict:
    declared = {s.port for s in server.services if s.proto == "tcp"}
    extra = sorted(open_ports - declared)
    found = f"open: {', '.join(map(str, sorted(open_ports))) or 'none'}"
    return Verdict.failed("open ports within the declared services", f"undeclared open: {', '.join(map(str, extra))}") if extra \
        else Verdict.passed(found)


@check(layer="network", level=1, severity="high", title="no plaintext management protocol answers (telnet, ftp, r-services)",
       rationale="Only secure connections may be used for administration (TCVN 11930 7.2.1.7, 7.2.2.2).",
       remediation="Disable telnet, ftp and the r-services; administer over SSH from the management zone.",
       tags=(), facts=("open_ports",))
def no_plaintext_management(open_ports: set[int]) -> Verdict:
    found = sorted(f"{port}/{name}" for port, name in PLAINTEXT_MANAGEMENT.items() if port in open_ports)
    return Verdict.failed("none of 21, 23, 512-514 open", ", ".join(found)) if found else Verdict.passed("none open")


@check(layer="network", level=1, severity="critical", title="no administration service is declared towards the WAN or Internet",
       rationale="Remote administration only through VPN or equivalent (TT 12 §II.1.b.i): SSH, RDP, VNC, SNMP, IPMI never face outside.",
       remediation="Declare administration services 'from' the management zone only; reach them through the VPN.",
       tags=("firewall",), facts=("server",))
def admin_services_not_exposed(server) -> Verdict:
    exposed = [f"{s.name} {s.port}/{s.proto} from {', '.join(sorted(OUTSIDE & set(s.from_)))}" for s in server.services
               if (s.port in ADMIN_PORTS or s.kind in ("ssh", "snmp")) and OUTSIDE & set(s.from_)]
    return Verdict.failed("administration from the management zone only", "; ".join(exposed)) if exposed else \
        Verdict.passed("administration services are internal")


@check(layer="network", level=1, severity="medium", title="no unknown host answers in the inventory's zones",
       rationale="Hosts the inventory does not know are unmanaged and unaudited (drift; asset management, 7.1.5).",
       remediation="Declare the host in the inventory, or remove it from the zone.",
       facts=("network",), scope="inventory")
def unknown_hosts_in_zones(network: dict) -> Verdict:
    errors = [str(v) for v in network["alive"].values() if isinstance(v, FactError)]
    if errors:
        return Verdict.error("; ".join(errors))
    unknown = sorted({a for alive in network["alive"].values() for a in alive if a not in network["known"]},
                     key=lambda a: socket.inet_aton(a))
    swept = len(network["alive"])
    return Verdict.failed("only inventory hosts", ", ".join(unknown)) if unknown else Verdict.passed(f"{swept} zones swept, all known")


@check(layer="network", level=2, severity="high", title="from each zone only the services the inventory admits answer",
       rationale="Access between zones is controlled per zone pair and service (TCVN 11930 7.2.1.3); measured from a "
                 "managed host inside each source zone, since the management zone the controller sits in is admitted "
                 "everywhere and cannot see what the DMZ reaches.",
       remediation="Close the pair on the host firewall (provision the firewall role: each service only from its declared "
                   "sources) or on the zone firewall; or declare the source zone in the service's from: list.",
       tags=("firewall",), facts=("zone_reach",))
def zone_matrix_enforced(zone_reach: list) -> Verdict:
    return zonematrix.judge(zone_reach)
