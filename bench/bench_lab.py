"""Lab benchmark: `up` and `down` of the lab twin, for the lab example and for 50 servers.

Side by side: provdc builds the network with one `ip -batch` per namespace; the peer builds the
same network (namespaces, bridges, veths, addresses, routes) one `ip` command per step, as a
shell script would. Both are timed on the same plan. Target: 50-server lab up in under 10 s.
Needs root; only lab supernets (10.97.0.0/16 and the example's 10.99.0.0/16) are used.

    python bench/bench_lab.py [--repeat 3] [--servers 50]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from provdc.inventory import load_inventory
from provdc.lab import net, twin
from provdc.lab.plan import plan_lab

ROOT = Path(__file__).resolve().parent.parent


def big_lab(n: int, out: Path) -> Path:
    """A lab inventory with n servers over four zones (prefix pb, supernet 10.97.0.0/16)."""
    zones = [("dmz", "dmz", 10), ("srv", "servers", 20), ("db", "database", 30), ("mgmt", "management", 40)]
    servers = [{"id": f"s{i}", "hostname": f"s{i}", "address": f"10.97.{zones[i % 4][2]}.{10 + i}", "zone": zones[i % 4][0],
                "role": zones[i % 4][0], "services": [{"name": "https", "port": 443, "kind": "https", "tls": True, "from": ["wan"]}]
                if i % 4 < 2 else []} for i in range(n)]
    doc = {"version": 1, "province": {"id": "bench", "name": "Bench"}, "lab": {"supernet": "10.97.0.0/16", "prefix": "pb"},
           "defaults": {"server": {"ssh": {"key": "file:/run/provdc/lab-pb/id_lab", "known_hosts": "/run/provdc/lab-pb/known_hosts"},
                                   "services": [{"name": "ssh", "port": 22, "kind": "ssh", "from": ["mgmt"]}]}},
           "sites": [{"id": "dc", "name": "DC", "kind": "data_center", "tier": 3}],
           "zones": [{"id": z, "site": "dc", "kind": k, "cidr": f"10.97.{c}.0/24"} for z, k, c in zones],
           "devices": [{"id": "rtr", "kind": "router", "role": "core_router", "site": "dc"}],
           "servers": servers}
    path = out / "bench-lab.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def time_up_down(path: Path, repeat: int) -> tuple[float, float]:
    ups, downs = [], []
    for _ in range(repeat):
        twin.down(path)
        t = time.perf_counter()
        twin.up(path)
        ups.append(time.perf_counter() - t)
        t = time.perf_counter()
        twin.down(path)
        downs.append(time.perf_counter() - t)
    return statistics.median(ups), statistics.median(downs)


def naive_network(path: Path) -> tuple[float, float]:
    """The same network, one `ip` command per step; then its removal, one command per step."""
    plan = plan_lab(load_inventory(path))
    cmds = []
    for br in plan.bridges:
        cmds += [["ip", "link", "add", br, "type", "bridge"], ["ip", "link", "set", br, "up"]]
    cmds += [["ip", "netns", "add", ns] for ns in plan.namespaces]
    cmds += [["ip", "link", "add", lp.a_if, "netns", lp.a_ns, "type", "veth", "peer", "name", lp.b_if, "netns", lp.b_ns]
             for lp in plan.links.values()]
    for ns in plan.namespaces.values():
        cmds.append(["ip", "-n", ns.name, "link", "set", "lo", "up"])
        for i in ns.ifaces:
            if i.bridge:
                cmds += [["ip", "link", "add", i.root_end, "type", "veth", "peer", "name", i.name, "netns", ns.name],
                         ["ip", "link", "set", i.root_end, "master", i.bridge], ["ip", "link", "set", i.root_end, "up"]]
            for a in (i.address, *i.aliases):
                cmds.append(["ip", "-n", ns.name, "addr", "add", str(a), "dev", i.name])
            cmds.append(["ip", "-n", ns.name, "link", "set", i.name, "up"])
        cmds += [["ip", "-n", ns.name, "route", "add", str(r.dest), "via", str(r.via)] for r in ns.routes]
    t = time.perf_counter()
    for c in cmds:
        subprocess.run(c, check=True, capture_output=True)
    build = time.perf_counter() - t
    t = time.perf_counter()
    for v in plan.root_veths:
        subprocess.run(["ip", "link", "del", v], capture_output=True)
    for ns in plan.namespaces:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for br in plan.bridges:
        subprocess.run(["ip", "link", "del", br], capture_output=True)
    return build, time.perf_counter() - t


def batched_network(path: Path) -> tuple[float, float]:
    plan = plan_lab(load_inventory(path))
    t = time.perf_counter()
    net.build_network(plan)
    build = time.perf_counter() - t
    t = time.perf_counter()
    net.teardown_network(plan, Path("/run/provdc/lab-none"))
    return build, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--servers", type=int, default=50)
    args = ap.parse_args()
    twin.require_root()
    with tempfile.TemporaryDirectory() as tmp:
        big = big_lab(args.servers, Path(tmp))
        cases = [("lab example (10 servers + 2 routers, 19 ns)", ROOT / "inventory/examples/lab"),
                 (f"{args.servers} servers", big)]
        print(f"machine: {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
              f"kernel {platform.release()}; median of {args.repeat}")
        print(f"{'':42}{'up s':>8}{'down s':>8}{'net: provdc':>13}{'net: 1 cmd/step':>17}{'ratio':>7}")
        for name, path in cases:
            up, down = time_up_down(path, args.repeat)
            nb = [batched_network(path) for _ in range(args.repeat)]
            nn = [naive_network(path) for _ in range(args.repeat)]
            ours = statistics.median(b for b, _ in nb)
            peer = statistics.median(b for b, _ in nn)
            print(f"{name:42}{up:>8.2f}{down:>8.2f}{ours:>13.2f}{peer:>17.2f}{ours / peer:>7.2f}")
            if path == big:
                print(f"target: {args.servers}-server lab up in under 10 s: {'meets' if up < 10 else 'MISSES'} ({up:.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
