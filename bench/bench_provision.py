"""Provisioning benchmark, side by side in one run on the same lab twin (the lab example: 10
servers and 2 Linux edge routers):
  provdc (Mitogen)  `provdc provision PATH`: Mitogen's strategy, as chosen by default;
  provdc (plain)    `provdc provision PATH --no-accelerate`: Ansible's linear strategy;
  ansible-playbook  plain `ansible-playbook -i inventory.yml site.yml` on the same generated
                    inventory, playbooks and Ansible settings (pipelining, ControlPersist, forks).
Each tool gets a freshly built lab for its first run, then an idempotent second run. The order
of the tools rotates between repeats. For each run: wall time, the controller's CPU seconds
(the tool, its forks and SSH clients) and the targets' CPU seconds (every process inside the
lab hosts' network namespaces: sshd sessions, module runs, restarted daemons; the lab's targets
share this machine's cores). Medians over the repeats.

Checked on every repeat: the idempotent run changes nothing; after the first run the full audit
(all layers) gives the same PASS/FAIL set for every tool as after plain ansible-playbook.
Targets: provdc idempotent < 15 s, first < 30 s. Root; takes the lab lock; lab only.

    flock /run/provdc-lab.lock .venv/bin/python bench/bench_provision.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from provdc.inventory import load_inventory
from provdc.lab import twin
from provdc.playbooks import PLAYBOOKS_DIR
from provdc.playbooks.runner import _environment, ansible_inventory, host_count, strategy_environment, Strategy

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "inventory/examples/lab"
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")
TOOLS = ("provdc (Mitogen)", "provdc (plain)", "ansible-playbook")


@dataclass
class Run:
    wall: float
    controller_cpu: float
    target_cpu: float
    changed: int


def _net_ns(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _ticks(pid: str) -> int:
    """utime + stime + cutime + cstime of a process: its own CPU and its reaped children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in fields[11:15])


def target_cpu(namespaces: set[str]) -> float:
    """CPU seconds so far of every process inside the lab hosts' network namespaces."""
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    return sum(_ticks(p) for p in pids if _net_ns(p) in namespaces) / TICK


def ssh_masters_cpu(control_root: str) -> float:
    """CPU seconds of the ControlPersist ssh masters (detached from the tool, so not its children)."""
    total = 0
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"ssh") and control_root.encode() in cmdline:
            total += _ticks(pid)
    return total / TICK


def measured(argv: list[str], env: dict[str, str] | None, namespaces: set[str], control_root: str) -> tuple[Run, str]:
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_targets, before_masters = target_cpu(namespaces), ssh_masters_cpu(control_root)
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    time.sleep(0.5)  # let sessions that ended be reaped into their sshd's counters
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    controller = (after.ru_utime - before_children.ru_utime + after.ru_stime - before_children.ru_stime
                  + ssh_masters_cpu(control_root) - before_masters)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]}: exit {r.returncode}\n{r.stdout[-1500:]}{r.stderr[-1500:]}")
    return Run(wall, controller, target_cpu(namespaces) - before_targets, -1), r.stdout


def _changed_in_artifacts(runs_dir: Path) -> int:
    """Changed tasks of the newest ansible-runner run under runs_dir (its stats event)."""
    newest = max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    for event in (newest / "private" / "artifacts").rglob("job_events/*.json"):
        data = json.loads(event.read_text())
        if data.get("event") == "playbook_on_stats":
            return sum((data["event_data"].get("changed") or {}).values())
    raise RuntimeError(f"no stats event under {newest}")


def run_provdc(tmp: Path, namespaces: set[str], *, accelerate: bool) -> Run:
    runs = tmp / "provdc-runs"
    argv = [str(BIN / "provdc"), "provision", str(LAB), "--runs-dir", str(runs)]
    run, _ = measured(argv + ([] if accelerate else ["--no-accelerate"]), None, namespaces, "/run/provdc/cp")
    run.changed = _changed_in_artifacts(runs)
    return run


def run_ansible(tmp: Path, namespaces: set[str]) -> Run:
    inv = load_inventory(LAB)
    run_dir = tmp / "ansible-run"
    run_dir.mkdir(exist_ok=True)
    inventory = run_dir / "inventory.yml"
    inventory.write_text(yaml.safe_dump(ansible_inventory(inv), sort_keys=True))
    env = {**_environment(run_dir), **strategy_environment(Strategy("linear", "plain")), "HOME": str(run_dir)}
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), "--forks", str(host_count(inv)), str(PLAYBOOKS_DIR / "site.yml")]
    run, stdout = measured(argv, env, namespaces, "/run/provdc/cp")
    run.changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", stdout))
    return run


def audit_verdicts() -> set[tuple[str, str | None, str]]:
    """The full audit's PASS and FAIL findings (check, host, status) on the running lab."""
    run = run_audit(load_inventory(LAB), Options())
    return {(f.check, f.host, f.status.value) for f in run.findings if f.status in (Status.PASS, Status.FAIL)}


def fresh_lab() -> set[str]:
    """A new twin; the network namespaces of its hosts."""
    twin.down(LAB)
    running = twin.up(LAB)
    return {_net_ns(str(pid)) for pid in running.anchors.values()}


def one_tool(name: str, namespaces: set[str], tmp: Path) -> Run:
    if name == "ansible-playbook":
        return run_ansible(tmp, namespaces)
    return run_provdc(tmp, namespaces, accelerate=name == "provdc (Mitogen)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[tuple[str, str], list[Run]] = {}
    verdicts: dict[str, set] = {}
    problems: list[str] = []
    try:
        for rep in range(args.repeat):
            order = TOOLS[rep % len(TOOLS):] + TOOLS[:rep % len(TOOLS)]
            for name in order:
                with tempfile.TemporaryDirectory(prefix="bench-prov-") as tmp:
                    print(f"[{rep + 1}/{args.repeat}] {name}: fresh lab, first run ...", file=sys.stderr, flush=True)
                    namespaces = fresh_lab()
                    runs.setdefault((name, "first"), []).append(one_tool(name, namespaces, Path(tmp)))
                    if rep == 0:
                        verdicts[name] = audit_verdicts()
                    print(f"[{rep + 1}/{args.repeat}] {name}: idempotent run ...", file=sys.stderr, flush=True)
                    second = one_tool(name, namespaces, Path(tmp))
                    runs.setdefault((name, "idempotent"), []).append(second)
                    if second.changed:
                        problems.append(f"{name}, repeat {rep + 1}: the idempotent run changed {second.changed}")
    finally:
        twin.down(LAB)
        shutil.rmtree("/run/provdc/cp", ignore_errors=True)
    report(runs)
    reference = verdicts["ansible-playbook"]
    for name, found in verdicts.items():
        if found != reference:
            problems.append(f"{name}: audit after provisioning differs from plain ansible-playbook's: "
                            f"{sorted(found ^ reference)[:10]}")
    print(f"audit after the first run: {len(reference)} PASS/FAIL findings, "
          f"{'the same for every tool' if all(v == reference for v in verdicts.values()) else 'DIFFERENT'}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    sys.exit(1 if problems else 0)


def report(runs: dict[tuple[str, str], list[Run]]) -> None:
    header = f"{'run':<11} {'tool':<17} {'wall s':>7} {'ctrl CPU-s':>10} {'target CPU-s':>12} {'changed':>7}  vs plain"
    print(header)
    for kind in ("first", "idempotent"):
        base = statistics.median(r.wall for r in runs[("ansible-playbook", kind)])
        for name in TOOLS:
            rs = runs[(name, kind)]
            wall = statistics.median(r.wall for r in rs)
            print(f"{kind:<11} {name:<17} {wall:>7.1f} {statistics.median(r.controller_cpu for r in rs):>10.1f} "
                  f"{statistics.median(r.target_cpu for r in rs):>12.1f} {max(r.changed for r in rs):>7}  "
                  f"{base / wall:>5.2f}x")
    print("each repeat, wall s / controller CPU-s / targets CPU-s:")
    for (name, kind), rs in runs.items():
        print(f"  {kind:<11} {name:<17} " + "  ".join(f"{r.wall:.1f}/{r.controller_cpu:.1f}/{r.target_cpu:.1f}" for r in rs))


if __name__ == "__main__":
    main()
