"""Planned faults on a running lab: stop/start a host, take a link down/up, saturate a link.

Tests and the demo use these to produce real downtime and load. Delay and loss would need the
kernel's netem qdisc; where it is missing (as on this machine's kernel) they are refused with
that reason instead of pretending.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass

from provdc.lab import hosts, net
from provdc.lab.plan import LabError, Netns
from provdc.lab.twin import Lab, wait_listening
from provdc.proc import run_command, stop


def _ns_of(lab: Lab, host: str) -> tuple[Netns, bool]:
    """The namespace of a server or device id, and whether it is a server."""
    if host in lab.plan.servers:
        return lab.plan.namespaces[lab.plan.servers[host]], True
    if host in lab.plan.devices:
        return lab.plan.namespaces[lab.plan.devices[host]], False
    raise LabError(f"no server or device '{host}' in this lab (servers: {', '.join(sorted(lab.plan.servers))})")


def stop_host(lab: Lab, host: str) -> None:
    """Like a power-off: every process but the anchor stops and the host's links go down.
    The host's filesystem view survives, as a disk survives a reboot."""
    ns, _ = _ns_of(lab, host)
    anchor = lab.anchors.get(host)
    pids = [int(p) for p in net.run(["ip", "netns", "pids", ns.name]).stdout.split() if int(p) != anchor]
    if stop(pids, grace=1.0):
        raise LabError(f"processes of {host} would not stop")
    net.batch(["ip", "-n", ns.name], [f"link set {i.name} down" for i in ns.ifaces])


def start_host(lab: Lab, host: str) -> None:
    """Links up (routes restored), then sshd and the declared services again (a device's
    SNMP agent too)."""
    ns, _ = _ns_of(lab, host)
    _restore_links(ns)
    if host in lab.anchors:
        hosts.start_services(lab.hosts[host], lab.anchors[host], lab.paths)
        wait_listening(lab.inventory, timeout=15, servers=[host])
    if host in lab.plan.devices:
        hosts.restart_snmpd(lab.inventory, lab.plan, lab.paths, host)


def _restore_links(ns: Netns) -> None:
    # Taking an interface down makes the kernel drop the routes through it: put them back.
    lines = [f"link set {i.name} up" for i in ns.ifaces]
    lines += [f"route replace {r.dest} via {r.via}" for r in ns.routes]
    net.batch(["ip", "-n", ns.name], lines)


def link_down(lab: Lab, link: str) -> None:
    lp = _link(lab, link)
    net.run(["ip", "-n", lp.a_ns, "link", "set", lp.a_if, "down"])
    net.run(["ip", "-n", lp.b_ns, "link", "set", lp.b_if, "down"])


def link_up(lab: Lab, link: str) -> None:
    lp = _link(lab, link)
    _restore_links(lab.plan.namespaces[lp.a_ns])
    _restore_links(lab.plan.namespaces[lp.b_ns])


def _link(lab: Lab, link: str):
    if link not in lab.plan.links:
        raise LabError(f"no link '{link}' in this lab (links: {', '.join(sorted(lab.plan.links))})")
    return lab.plan.links[link]


@dataclass(frozen=True)
class Saturation:
    link: str
    direction: str
    seconds: float
    contract_bps: int
    measured_bps: float

    @property
    def ratio(self) -> float:
        return self.measured_bps / self.contract_bps


def saturate(lab: Lab, link: str, seconds: float = 10, direction: str = "a_to_b") -> Saturation:
    """Fill the link for `seconds` in one direction; returns the rate the link carried.

    iperf3 sends UDP at 1.2 times the contract from the sending end to an iperf3 server on the
    receiving end, both inside the lab's namespaces, so the traffic crosses exactly that link's
    shaping and counters. UDP keeps the shaper's queue full the whole time, where TCP would idle
    through a retransmission timeout after the tail drops of a small queue. The rate is read from
    the sending interface's byte counters (what SNMP and the reports see, headers included), over
    the run without its first half second."""
    if direction not in ("a_to_b", "b_to_a"):
        raise LabError("direction must be a_to_b or b_to_a")
    lp = _link(lab, link)
    send_ns, send_if, recv_ns, recv_addr, contract = (
        (lp.a_ns, lp.a_if, lp.b_ns, lp.b_addr.ip, lp.a_to_b_bps) if direction == "a_to_b"
        else (lp.b_ns, lp.b_if, lp.a_ns, lp.a_addr.ip, lp.b_to_a_bps))
    port = "5201"
    server = subprocess.Popen(["ip", "netns", "exec", recv_ns, "iperf3", "-s", "-B", str(recv_addr), "-p", port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        measured, problem = None, "no attempt"
        deadline = time.monotonic() + 5
        while measured is None and time.monotonic() < deadline:
            # the server needs a moment to listen, and a link just brought up a moment to pass
            measured, problem = _flood(send_ns, send_if, str(recv_addr), port, seconds, contract)
            if measured is None:
                time.sleep(0.2)
        if measured is None:
            raise LabError(f"iperf3 over {link} failed: {problem}")
    finally:
        server.kill()
        server.wait()
    return Saturation(link, direction, seconds, contract, measured)


def _flood(ns: str, iface: str, address: str, port: str, seconds: float, contract_bps: int) -> tuple[float | None, str]:
    """One iperf3 UDP run above the contract; the wire rate the interface sent, or None and why not."""
    run_s = max(1, int(round(seconds)))
    argv = ["ip", "netns", "exec", ns, "iperf3", "-c", address, "-p", port, "-u", "-b", str(int(contract_bps * 1.2)),
            "-t", str(run_s), "--connect-timeout", "2000", "-J"]  # --connect-timeout: a down link fails fast
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        # connection set-up and the bucket's initial burst stay out of the figure
        running = _still_running(client, started + 0.5)
        first = (time.monotonic(), _tx_bytes(ns, iface))
        running = running and _still_running(client, started + run_s - 0.1)
        last = (time.monotonic(), _tx_bytes(ns, iface))
        stdout, stderr = client.communicate(timeout=run_s + 15)
    except subprocess.TimeoutExpired:
        client.kill()
        client.communicate()
        return None, f"no answer within {run_s + 15} s"
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError:
        return None, (stderr or stdout).strip()[-300:]
    if result.get("error") or not running:
        return None, result.get("error", "iperf3 ended early")
    return wire_rate(first, last), ""


def _still_running(process: subprocess.Popen, until: float) -> bool:
    """Wait until the monotonic time `until`; False as soon as the process has ended."""
    while time.monotonic() < until:
        if process.poll() is not None:
            return False
        time.sleep(min(0.05, max(0.0, until - time.monotonic())))
    return process.poll() is None


def wire_rate(first: tuple[float, int], last: tuple[float, int]) -> float:
    """Bits per second between two (monotonic time, byte counter) samples."""
    return (last[1] - first[1]) * 8 / (last[0] - first[0])


def _tx_bytes(ns: str, iface: str) -> int:
    out = net.run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", iface]).stdout
    return int(json.loads(out)[0]["stats64"]["tx"]["bytes"])


def unsupported(kind: str) -> LabError:
    return LabError(f"'{kind}' faults need the kernel's netem qdisc (sch_netem), which this kernel does not have; "
                    "rate limits (tbf) work, delay and loss cannot be emulated here")


def netem_available(lab: Lab) -> bool:
    """Probe for netem inside a lab namespace (never on the real machine's interfaces)."""
    ns = next(iter(lab.plan.namespaces))
    if run_command(["tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "0ms"]).ok:
        run_command(["tc", "-n", ns, "qdisc", "del", "dev", "lo", "root"])
        return True
    return False
