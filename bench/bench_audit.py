"""Audit benchmark, side by side on the same lab hosts:
  provdc  full audit (all five layers, facts + nmap + web probes), all hosts in parallel;
  Ansible bare fact gathering (`setup`) of the same hosts through ansible-runner, forks = hosts;
  Lynis   `lynis audit system --quick` inside one lab host, times the host count (Lynis has no
          fleet mode; the issue's protocol).
Cases: the lab example (10 servers) and a generated 20-server lab. Targets: one host's full
audit under 3 s; 20 hosts under 15 s; faster than Ansible's bare fact gathering. Root; lab only.

    python bench/bench_audit.py [--repeat 3] [--no-lynis]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lab import big_lab  # noqa: E402

import ansible_runner  # noqa: E402

from provdc.checks.engine import Options, run_audit  # noqa: E402
from provdc.playbooks.runner import ansible_inventory  # noqa: E402
from provdc.lab import twin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def ansible_setup(inv, tmp: Path) -> None:
    inventory = ansible_inventory(inv)  # strict host keys, as provision uses it
    (tmp / "ansible").mkdir(exist_ok=True)
    # the servers only: the audit audits servers (a link endpoint's snmpd is not a host audit)
    r = ansible_runner.run(private_data_dir=str(tmp / "ansible"), inventory=inventory, host_pattern="servers", module="setup",
                           forks=len(inv.servers), quiet=True,
                           envvars={"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_HOME": str(tmp / "ansible-home"),
                                    "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp / "cp"), "ANSIBLE_LOCAL_TEMP": str(tmp / "lt")})
    if r.status != "successful":
        raise RuntimeError(f"ansible setup: {r.status} {r.stats}")


def lynis_one_host(lab, host: str) -> float:
    t = time.perf_counter()
    r = lab.ssh(host, "lynis audit system --quick --no-colors --report-file /tmp/lynis.dat --log-file /tmp/lynis.log >/dev/null",
                timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"lynis failed: {r.stderr[-300:]}")
    return time.perf_counter() - t


def case(name: str, path: Path, repeat: int, lynis: bool, tmp: Path) -> None:
    twin.down(path)
    lab = twin.up(path)
    try:
        inv = lab.inventory
        n = len(inv.servers)
        one = timed(lambda: run_audit(inv, Options(hosts={next(iter(inv.servers))})), repeat)
        full = timed(lambda: run_audit(inv, Options()), repeat)
        setup = timed(lambda: ansible_setup(inv, tmp), repeat)
        lyn = lynis_one_host(lab, next(iter(inv.servers))) if lynis else None
        findings = len(run_audit(inv, Options()).findings)
        print(f"{name:28}{n:>6}{findings:>10}{one:>10.2f}{full:>10.2f}{setup:>12.2f}{full / setup:>8.2f}"
              + (f"{lyn * n:>14.1f}{full / (lyn * n):>9.3f}" if lyn else f"{'-':>14}{'-':>9}"))
        if n >= 20:
            print(f"  targets: one host < 3 s: {'meets' if one < 3 else 'MISSES'} ({one:.2f} s); {n} hosts < 15 s: "
                  f"{'meets' if full < 15 else 'MISSES'} ({full:.2f} s); faster than ansible setup: {'yes' if full < setup else 'NO'}")
    finally:
        twin.down(path)


def main() -> None:
    # ansible-runner runs `ansible` from PATH: the venv's bin must be on it even when unactivated
    os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-lynis", action="store_true")
    args = ap.parse_args()
    twin.require_root()
    print(f"{'case':28}{'hosts':>6}{'findings':>10}{'1 host s':>10}{'all s':>10}{'ansible s':>12}{'ratio':>8}"
          f"{'lynis x n s':>14}{'ratio':>9}")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        case("lab example", ROOT / "inventory/examples/lab", args.repeat, not args.no_lynis, tmp)
        case("generated 20-server lab", big_lab(20, tmp), args.repeat, not args.no_lynis, tmp)


if __name__ == "__main__":
    main()
