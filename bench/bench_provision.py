"""Provisioning benchmark, side by side on the same lab twin (the lab example: 10 servers and
2 Linux edge routers):
  provdc   `provdc provision PATH` (CLI: inventory load, ansible-runner, events, summary, artifacts);
  Ansible  plain `ansible-playbook -i inventory.yml site.yml` on the same generated inventory,
           the same playbooks and the same Ansible settings (pipelining, ControlPersist, forks).
Each tool gets a freshly built lab for its first run, then an idempotent second run. The order
of the tools alternates between repeats. Target: provdc / Ansible <= 1.05 for both runs.
Root; lab only.

    python bench/bench_provision.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from provdc.inventory import load_inventory
from provdc.lab import twin
from provdc.playbooks import PLAYBOOKS_DIR
from provdc.playbooks.runner import _environment, ansible_inventory, host_count

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "inventory/examples/lab"
BIN = Path(sys.executable).parent


def fresh_lab() -> None:
    twin.down(LAB)
    twin.up(LAB)


def run_provdc(tmp: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run([str(BIN / "provdc"), "provision", str(LAB), "--runs-dir", str(tmp / "provdc-runs")],
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"provdc provision: exit {r.returncode}\n{r.stdout[-1500:]}{r.stderr[-1500:]}")
    return elapsed


def run_ansible(tmp: Path) -> float:
    inv = load_inventory(LAB)
    run_dir = tmp / "ansible-run"
    run_dir.mkdir(exist_ok=True)
    inventory = run_dir / "inventory.yml"
    inventory.write_text(yaml.safe_dump(ansible_inventory(inv), sort_keys=True))
    env = {**_environment(run_dir), "HOME": str(run_dir)}
    t = time.perf_counter()
    r = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "--forks", str(host_count(inv)),
                        str(PLAYBOOKS_DIR / "site.yml")], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"ansible-playbook: exit {r.returncode}\n{r.stdout[-1500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    times: dict[tuple[str, str], list[float]] = {}
    tools = {"provdc": run_provdc, "ansible-playbook": run_ansible}
    try:
        for rep in range(args.repeat):
            order = list(tools) if rep % 2 == 0 else list(reversed(tools))
            for name in order:
                with tempfile.TemporaryDirectory(prefix="bench-prov-") as tmp:
                    print(f"[{rep + 1}/{args.repeat}] {name}: fresh lab, first run ...", file=sys.stderr, flush=True)
                    fresh_lab()
                    times.setdefault((name, "first"), []).append(tools[name](Path(tmp)))
                    print(f"[{rep + 1}/{args.repeat}] {name}: idempotent run ...", file=sys.stderr, flush=True)
                    times.setdefault((name, "idempotent"), []).append(tools[name](Path(tmp)))
    finally:
        twin.down(LAB)
        shutil.rmtree("/run/provdc/cp", ignore_errors=True)
    print(f"{'run':<12} {'provdc s':>9} {'ansible-playbook s':>19} {'ratio':>6}")
    for run in ("first", "idempotent"):
        ours, theirs = statistics.median(times[("provdc", run)]), statistics.median(times[("ansible-playbook", run)])
        print(f"{run:<12} {ours:>9.1f} {theirs:>19.1f} {ours / theirs:>6.3f}")
    print("each repeat (provdc / ansible-playbook):")
    for run in ("first", "idempotent"):
        pairs = zip(times[("provdc", run)], times[("ansible-playbook", run)])
        print(f"  {run:<12} " + "  ".join(f"{a:.1f}/{b:.1f} = {a / b:.3f}" for a, b in pairs))


if __name__ == "__main__":
    main()
