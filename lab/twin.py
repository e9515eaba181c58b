"""The lab twin's life cycle: up, status, faults, down. Used by the CLI, the tests and the demo.

`up` is all or nothing: any failure tears down everything built so far before raising. It
refuses to run over another lab's leftovers it cannot explain; leftovers of this same lab (a
crashed `up`) are removed first. `down` works from the inventory alone.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provdc.errors import PrivilegeError
from provdc.proc import Outcome, run_command
from provdc.inventory.connection import Connection
from provdc.inventory import Inventory, load_inventory, model
from provdc.lab import hosts, net
from provdc.lab.plan import LabError, LabPlan, plan_lab

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def require_root() -> None:
    if os.geteuid() != 0:
        raise PrivilegeError("the lab needs root: it creates network namespaces, bridges and mounts (run with sudo)")


@dataclass
class Lab:
    """A running lab: its inventory, plan, state paths and the anchor PID of every server."""

    inventory: Inventory
    plan: LabPlan
    paths: hosts.LabPaths
    anchors: dict[str, int]

    @property
    def key(self) -> Path:
        return hosts.client_key_path(self.inventory)

    @property
    def known_hosts(self) -> Path:
        return hosts.known_hosts_path(self.inventory, self.paths)

    @property
    def hosts(self) -> dict[str, model.Server]:
        """Every host the lab runs an sshd for (servers and Linux devices), by id."""
        return {h.id: h for h in hosts.lab_hosts(self.inventory)}

    def ssh_argv(self, server_id: str, *command: str, timeout: int = 5) -> list[str]:
        """An OpenSSH command line to a lab host with strict host-key checking on."""
        conn = Connection.of(self.inventory, self.hosts[server_id]).with_files(self.key, self.known_hosts)
        return conn.ssh_argv(*command, connect_timeout=timeout)

    def ssh(self, server_id: str, *command: str, timeout: int = 10) -> Outcome:
        return run_command(self.ssh_argv(server_id, *command, timeout=timeout), timeout=timeout + 5)

    def in_host(self, server_id: str, *argv: str) -> Outcome:
        """Run a command inside a server's own view without SSH (for inspection and planting)."""
        return hosts.exec_in_host(self.anchors[server_id], list(argv))

    def host_path(self, server_id: str, path: str) -> Path:
        """A file as the server sees it, reached from this machine through the anchor's root."""
        return Path(f"/proc/{self.anchors[server_id]}/root") / path.lstrip("/")


def _context(path: str | Path) -> tuple[Inventory, LabPlan, hosts.LabPaths]:
    inv = load_inventory(path)
    plan = plan_lab(inv)
    return inv, plan, hosts.LabPaths.for_plan(plan)


def up(path: str | Path, progress: Progress = _quiet) -> Lab:
    """Build the twin of the lab inventory at `path`; all or nothing."""
    require_root()
    inv, plan, paths = _context(path)
    conflicts = net.routed_elsewhere(plan)
    own = [c for c in conflicts if _is_ours(c, plan)]
    if [c for c in conflicts if c not in own]:
        raise LabError(f"refusing to start: lab supernet {plan.supernet} is already in use on this machine:\n  "
                       + "\n  ".join(c for c in conflicts if c not in own))
    if paths.state.exists() and json.loads(paths.state.read_text()).get("complete"):
        if net.leftovers(plan):
            raise LabError(f"lab '{plan.prefix}' is already up; run `provdc lab down {path}` first")
    if net.leftovers(plan) or own:
        progress("removing leftovers of an earlier, unfinished lab")
        _teardown(plan, paths)
    try:
        return _build(inv, plan, paths, progress)
    except BaseException:
        progress("build failed: tearing down what was built")
        _teardown(plan, paths)
        raise


def _is_ours(conflict: str, plan: LabPlan) -> bool:
    """A route or address a previous run of this same lab left (it will be removed)."""
    ours = [f"unreachable {plan.supernet}", f"{plan.controller_bridge} {plan.controller}",
            *(f"dev {b}" for b in plan.bridges)]
    return any(o in conflict for o in ours)


def _build(inv: Inventory, plan: LabPlan, paths: hosts.LabPaths, progress: Progress) -> Lab:
    t0 = time.monotonic()
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.state.write_text(json.dumps({"prefix": plan.prefix, "inventory": str(inv.base), "complete": False}))
    progress(f"network: {len(plan.namespaces)} namespaces, {len(plan.bridges)} bridges, {len(plan.links)} links")
    net.raise_neighbour_limits()
    net.build_network(plan)
    progress("credentials and host files")
    hosts.make_credentials(inv, plan, paths)
    lab_hosts = hosts.lab_hosts(inv)
    for s in lab_hosts:
        hosts.write_seed(inv, s, paths)
    progress(f"booting {len(lab_hosts)} hosts")
    for s in lab_hosts:
        hosts.boot_anchor(plan, s, paths)
    anchors = hosts.wait_ready([s.id for s in lab_hosts], paths)
    for s in lab_hosts:
        hosts.start_services(s, anchors[s.id], paths)
    snmp = hosts.start_snmpd(inv, plan, paths)
    progress("waiting for sshd and services to listen")
    wait_listening(inv, timeout=20)
    lab = Lab(inv, plan, paths, anchors)
    paths.state.write_text(json.dumps({"prefix": plan.prefix, "inventory": str(inv.base), "complete": True,
                                       "anchors": anchors, "snmpd": snmp, "seconds": round(time.monotonic() - t0, 2)}))
    return lab


def wait_listening(inv: Inventory, timeout: float = 20, servers: list[str] | None = None) -> None:
    """Poll every declared TCP service of the lab's hosts until it accepts a connection."""
    pending = {(s.id, str(s.address), svc.port) for s in hosts.lab_hosts(inv) if servers is None or s.id in servers
               for svc in s.services if svc.proto == "tcp"}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for item in sorted(pending):
            if tcp_open(item[1], item[2], timeout=0.3):
                pending.discard(item)
        if pending:
            time.sleep(0.1)
    if pending:
        raise LabError("not listening after %.0f s: %s" % (timeout, ", ".join(f"{s} {a}:{p}" for s, a, p in sorted(pending))))


def tcp_open(address: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def attach(path: str | Path) -> Lab:
    """The running lab of the inventory at `path` (raises if it is not up)."""
    require_root()
    inv, plan, paths = _context(path)
    if not paths.state.exists():
        raise LabError(f"lab '{plan.prefix}' is not up (no {paths.state})")
    state = json.loads(paths.state.read_text())
    if not state.get("complete"):
        raise LabError(f"lab '{plan.prefix}' did not finish coming up; run `provdc lab down {path}`")
    from provdc.lab.guard import require_lab_routed

    require_lab_routed(inv, "use the lab")  # its state says up, but its routes must really be there
    return Lab(inv, plan, paths, {k: int(v) for k, v in state["anchors"].items()})


@dataclass(frozen=True)
class HostStatus:
    id: str
    namespace: str
    address: str
    running: bool          # the anchor (namespaces + filesystem view) is alive
    listening: int         # declared TCP services accepting connections
    declared: int
    processes: int


@dataclass(frozen=True)
class LinkStatus:
    id: str
    up: bool
    a_to_b_bps: int
    b_to_a_bps: int
    shaped: bool


def status(lab: Lab) -> tuple[list[HostStatus], list[LinkStatus]]:
    """Health of every server and link of a running lab (probes only lab addresses)."""
    host_rows = []
    for s in hosts.lab_hosts(lab.inventory):
        ns = lab.plan.host_namespace(s.id)
        tcp = [svc.port for svc in s.services if svc.proto == "tcp"]
        pids = net.run(["ip", "netns", "pids", ns], check=False).stdout.split()
        host_rows.append(HostStatus(s.id, ns, str(s.address), Path(f"/proc/{lab.anchors[s.id]}").exists(),
                                    sum(tcp_open(str(s.address), p, timeout=0.3) for p in tcp), len(tcp), len(pids)))
    link_rows = []
    for lp in lab.plan.links.values():
        state = net.run(["ip", "-n", lp.a_ns, "-o", "link", "show", lp.a_if], check=False).stdout
        qdisc = net.run(["tc", "-n", lp.a_ns, "qdisc", "show", "dev", lp.a_if], check=False).stdout
        link_rows.append(LinkStatus(lp.link, "state UP" in state or ",UP" in state, lp.a_to_b_bps, lp.b_to_a_bps, "tbf" in qdisc))
    return host_rows, link_rows


def down(path: str | Path, progress: Progress = _quiet) -> list[str]:
    """Remove the lab completely; returns what was found and removed."""
    require_root()
    _, plan, paths = _context(path)
    found = net.leftovers(plan)
    _teardown(plan, paths)
    remaining = net.leftovers(plan)
    if remaining:
        raise LabError("lab teardown left: " + ", ".join(remaining))
    return found


def _teardown(plan: LabPlan, paths: hosts.LabPaths) -> None:
    net.teardown_network(plan, paths.root)
    if paths.root.exists():
        run_command(["rm", "-rf", "--one-file-system", str(paths.root)], timeout=None)
