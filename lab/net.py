"""Build and remove the lab's network: namespaces, bridges, veths, addresses, routes, shaping.

Commands go through `ip -batch` / `tc -batch` (one process per namespace, not per command), so
a 50-server lab comes up in seconds. Teardown works from the plan alone and ignores what is
already gone, so it also cleans up after a crashed `up`.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable
from pathlib import Path

from provdc.lab.plan import LabError, LabPlan, Netns
from provdc.proc import Outcome, run_command, stop

TBF_LATENCY = "50ms"


def run(argv: list[str], *, stdin: str | None = None, check: bool = True, timeout: float = 30) -> Outcome:
    """Run a command; on failure raise LabError with what it printed."""
    result = run_command(argv, input=stdin, timeout=timeout)
    if result.missing or result.timed_out or (check and not result.ok):
        raise LabError(result.describe())
    return result


def batch(argv: list[str], lines: Iterable[str], *, force: bool = False) -> None:
    text = "\n".join(lines)
    if text:
        run([argv[0], *(["-force"] if force else []), *argv[1:], "-batch", "-"], stdin=text + "\n", check=not force)


# -------------------------------------------------------------------------------- inspection

def existing_namespaces() -> set[str]:
    out = run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def existing_links() -> set[str]:
    out = run(["ip", "-o", "link", "show"]).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def leftovers(plan: LabPlan) -> list[str]:
    """What of this lab exists on the machine (namespaces, bridges, root-side veths)."""
    links = existing_links()
    found = sorted(existing_namespaces() & set(plan.namespaces))
    found += sorted((set(plan.bridges) | set(plan.root_veths)) & links)
    if _unreachable_route_present(plan):
        found.append(f"unreachable route {plan.supernet}")
    return found


def _unreachable_route_present(plan: LabPlan) -> bool:
    out = run(["ip", "-4", "route", "show", "type", "unreachable"]).stdout
    return any(line.split()[:2] == ["unreachable", str(plan.supernet)] for line in out.splitlines())


def routed_elsewhere(plan: LabPlan) -> list[str]:
    """Routes or addresses of this machine that overlap the lab supernet (refuse to start)."""
    conflicts = []
    for line in run(["ip", "-4", "-o", "route", "show", "table", "all"]).stdout.splitlines():
        words = line.split()
        dest = words[1] if words and words[0] in ("unreachable", "local", "broadcast", "blackhole", "prohibit") else (words[0] if words else "")
        if dest in ("default", ""):
            continue
        try:
            net = ipaddress.IPv4Network(dest, strict=False)
        except ValueError:
            continue
        if net.overlaps(plan.supernet):
            conflicts.append(f"route: {line.strip()}")
    for line in run(["ip", "-4", "-o", "addr", "show"]).stdout.splitlines():
        words = line.split()
        addr = ipaddress.IPv4Interface(words[3])
        if addr.ip in plan.supernet or addr.network.overlaps(plan.supernet) and addr.network.prefixlen > 0:
            conflicts.append(f"address: {words[1]} {words[3]}")
    return conflicts


# ---------------------------------------------------------------------------------- building

def build_network(plan: LabPlan) -> None:
    root = []
    for br in plan.bridges:
        root += [f"link add {br} type bridge", f"link set {br} up"]
    root += [f"netns add {name}" for name in plan.namespaces]
    for ns in plan.namespaces.values():
        for i in ns.ifaces:
            if i.bridge:
                root += [f"link add {i.root_end} type veth peer name {i.name} netns {ns.name}",
                         f"link set {i.root_end} master {i.bridge}", f"link set {i.root_end} up"]
    for lp in plan.links.values():
        root.append(f"link add {lp.a_if} netns {lp.a_ns} type veth peer name {lp.b_if} netns {lp.b_ns}")
    batch(["ip"], root)
    _root_sysctls(plan)
    for ns in plan.namespaces.values():
        _configure_namespace(ns)
    root = [f"addr add {plan.controller} dev {plan.controller_bridge}"]
    root += [f"route add {r.dest} via {r.via}" for r in plan.root_routes]
    # Anything else in the supernet fails here instead of leaving by the default route.
    root.append(f"route add unreachable {plan.supernet}")
    batch(["ip"], root)


def _root_sysctls(plan: LabPlan) -> None:
    keys = []
    for br in plan.bridges:
        keys.append(f"net.ipv6.conf.{br}.disable_ipv6=1")
    # this machine is a lab host on the management bridge, never a router between lab zones
    keys.append(f"net.ipv4.conf.{plan.controller_bridge}.forwarding=0")
    run(["sysctl", "-q", "-w", *keys])


def _configure_namespace(ns: Netns) -> None:
    sysctls = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
               f"net.ipv4.ip_forward={1 if ns.forwarding else 0}",
               # let unprivileged probes (blackbox ICMP as nobody) ping, in this namespace only
               "net.ipv4.ping_group_range=0 2147483647"]
    run(["ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", *sysctls])
    lines = ["link set lo up"]
    for i in ns.ifaces:
        lines += [f"addr add {a} dev {i.name}" for a in (i.address, *i.aliases)]
        lines.append(f"link set {i.name} up")
    lines += [f"route add {r.dest} via {r.via}" for r in ns.routes]
    batch(["ip", "-n", ns.name], lines)
    shaping = [f"qdisc add dev {i.name} root tbf rate {i.rate_bps}bit burst {tbf_burst(i.rate_bps)} latency {TBF_LATENCY}"
               for i in ns.ifaces if i.rate_bps]
    batch(["tc", "-n", ns.name], shaping)


# The kernel's ARP table is one for the whole machine, shared by every namespace. A lab router
# holds the neighbours of all its zones, and a drift sweep of a /24 creates one entry per
# address. The default hard limit (gc_thresh3 = 1024) then overflows during a full audit, the
# kernel drops new entries ("neighbor table overflow"), and live hosts look absent. Like
# Mininet's fixLimits(), the lab raises the limits; it never lowers them.
NEIGH_LIMITS = {"gc_thresh1": 4096, "gc_thresh2": 8192, "gc_thresh3": 16384}


def raise_neighbour_limits() -> None:
    for key, wanted in NEIGH_LIMITS.items():
        path = Path(f"/proc/sys/net/ipv4/neigh/default/{key}")
        if int(path.read_text()) < wanted:
            path.write_text(str(wanted))


def tbf_burst(rate_bps: int) -> int:
    """Bucket size in bytes: at least one timer tick of traffic (HZ may be 100) and a few MTUs."""
    return max(15_000, rate_bps // 8 // 100)


# --------------------------------------------------------------------------------- teardown

def lab_processes(plan: LabPlan, state_dir: Path) -> list[int]:
    """PIDs inside the lab's namespaces, plus our own helpers in the root namespace (SSH
    ControlPersist masters, iperf3 clients) recognised by the lab's state directory in argv."""
    pids: set[int] = set()
    for name in existing_namespaces() & set(plan.namespaces):
        out = run(["ip", "netns", "pids", name], check=False).stdout
        pids.update(int(p) for p in out.split())
    marker = str(state_dir).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    pids.add(int(entry.name))
            except OSError:
                continue
    pids.discard(os.getpid())
    return sorted(pids)


def teardown_network(plan: LabPlan, state_dir: Path) -> None:
    """Remove everything the plan names; whatever is already gone is skipped."""
    stuck = stop(lab_processes(plan, state_dir), grace=1.0)
    if stuck:
        raise LabError(f"processes {stuck} in the lab would not exit")
    time.sleep(0.1)  # let FIN/RST cross the bridges so client-side SSH masters exit too
    present = existing_links()
    lines = [f"link del {v}" for v in plan.root_veths if v in present]
    lines += [f"netns del {n}" for n in existing_namespaces() & set(plan.namespaces)]
    lines += [f"link del {b}" for b in plan.bridges if b in present]
    if _unreachable_route_present(plan):
        lines.append(f"route del unreachable {plan.supernet}")
    batch(["ip"], lines, force=True)
