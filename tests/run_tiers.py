"""The whole suite as four pytest runs side by side:
  twin      the tests of the session's lab twin (inventory/examples/lab, its monitoring stack);
  demo      the end-to-end demo on its own copy of the lab (prefix pe, 10.96.0.0/16): the
            longest single test (100 s), which the twin's tier no longer waits for;
  own-lab   the tests that build the mini lab (provisioning, lab up and down): other
            namespaces, addresses and bridges, so they run beside the session's lab (as the
            demo test always did), at a lower CPU priority (nice 10): their Ansible runs have
            no clock to meet, the other tiers' Prometheus windows and timeouts do; it starts when
            the demo has ended (AFTER): two labs provisioned at once overloaded the machine;
  not-twin  the unit tier and the loopback integration tests (national federation, paperwork,
            link rates, the offline console).

Why processes and not pytest-xdist: each lab's tests must stay in one process (its session or
module fixtures, one mini lab at a time), and most of their time is spent waiting on real
daemons' windows (scrape intervals, alert `for`, shaped links), which the other tiers' work
fills. xdist's loadgroup did not keep the twin's tests on one worker here (a worker then waited
on the lab lock another held). This runner takes the machine's lab lock once for all its runs
(PROVDC_LAB_LOCK_HELD tells them so): another suite, demo or benchmark still waits.

    .venv/bin/python tests/run_tiers.py [PYTEST ARGS]     # PROVDC_TESTS_TIERS=1 ./setup.sh test

Each tier writes its whole output to test-artefacts/tiers/TIER.log and it is printed, tier
after tier, when all are done; a line a minute says how far each is. Arguments go to every
run; with `-m` in them (the caller chose a tier) or PROVDC_TESTS_SERIAL=1, one plain pytest
run. Exit status: 0 when every tier passed (one that selected no test counts as passed), else the
first failing tier's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                    # run as a script: tests.lab_lock from the checkout
from tests.lab_lock import LAB_LOCK_HELD, hold_lab_lock  # noqa: E402
LOGS = ROOT / "test-artefacts" / "tiers"
TIERS = (("not-twin", "not twin"), ("own-lab", "own_lab"), ("demo", "demo"), ("twin", "twin and not own_lab and not demo"))
NICE = {"own-lab": 10}
# a tier that starts only when another has ended: the demo's and the mini lab's provisioning at once,
# beside the twin's start and four collections, put a 2-core machine at load 15 and Ansible called 7
# of the demo's 10 hosts unreachable; own-lab (about 6 minutes) still ends within the twin's 10
AFTER = {"own-lab": "demo"}
BASETEMP = Path("/tmp/provdc-tests")
NO_TESTS = 5                     # pytest's exit status when a run selected nothing
PROGRESS_EVERY = 60.0


def chooses_a_tier(args: list[str]) -> bool:
    return any(a == "-m" or (a.startswith("-m") and not a.startswith("--")) for a in args)


def combined_status(codes: list[int]) -> int:
    """0 when every run passed or selected nothing (and one of them ran tests), else the first
    failure's status."""
    failed = [c for c in codes if c not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(c == NO_TESTS for c in codes) else 0


def last_progress(log: Path) -> str:
    """The last progress line pytest wrote (dots and a percentage), for the minute line."""
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "starting"
    return lines[-1][-60:] if lines else "collecting"


def ready_to_start(pending: list[str], ended: set[str]) -> list[str]:
    """The pending tiers whose predecessor (AFTER) has ended, or that wait for none."""
    return [name for name in pending if AFTER.get(name) is None or AFTER[name] in ended]


def start_tier(name: str, args: list[str], env: dict[str, str]) -> tuple[Path, subprocess.Popen]:
    log = LOGS / f"{name}.log"
    with open(log, "wb") as out:
        # each its own temporary base: pytest prunes old numbered ones, another run's included
        basetemp = [] if any(a.startswith("--basetemp") for a in args) else [f"--basetemp={BASETEMP / name}"]
        nice = ["nice", "-n", str(NICE[name])] if name in NICE else []
        return log, subprocess.Popen([*nice, sys.executable, "-m", "pytest", "-m", dict(TIERS)[name], *basetemp, *args],
                                     stdout=out, stderr=subprocess.STDOUT, env=env)


def tier_state(name: str, procs: dict[str, tuple[Path, subprocess.Popen]]) -> str:
    if name not in procs:
        return f"after {AFTER[name]}"
    log, proc = procs[name]
    return "done" if proc.poll() is not None else last_progress(log)


def run_side_by_side(args: list[str]) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    BASETEMP.mkdir(parents=True, exist_ok=True)      # pytest makes --basetemp itself, not its parent
    lock = hold_lab_lock() if os.geteuid() == 0 else None     # without root the lab tests skip
    env = {**os.environ, LAB_LOCK_HELD: "1"} if lock else dict(os.environ)
    procs: dict[str, tuple[Path, subprocess.Popen]] = {}
    pending = [name for name, _ in TIERS]
    print(f"running the suite as {len(TIERS)} tiers side by side: {', '.join(n for n, _ in TIERS)}"
          + "".join(f"; {n} after {a}" for n, a in AFTER.items()) + f" (outputs in {LOGS.relative_to(ROOT)})", flush=True)
    start = time.monotonic()
    try:
        while pending or any(p.poll() is None for _, p in procs.values()):
            ended = {n for n, (_, p) in procs.items() if p.poll() is not None}
            for name in ready_to_start(pending, ended):
                procs[name] = start_tier(name, args, env)
                pending.remove(name)
            time.sleep(1)
            if (time.monotonic() - start) % PROGRESS_EVERY < 1:
                print(f"[{time.monotonic() - start:5.0f} s] " + " | ".join(
                    f"{n}: {tier_state(n, procs)}" for n, _ in TIERS), flush=True)
    except KeyboardInterrupt:
        for _, p in procs.values():
            p.terminate()
        for _, p in procs.values():
            p.wait()
        return 130
    for name, _ in TIERS:
        log, p = procs[name]
        print(f"\n===== tier {name} (pytest -m \"{dict(TIERS)[name]}\"): exit {p.returncode} =====", flush=True)
        sys.stdout.write(log.read_text(errors="replace"))
    print(f"\n===== all tiers done in {time.monotonic() - start:.0f} s =====", flush=True)
    return combined_status([p.returncode for _, p in procs.values()])


def main(args: list[str]) -> int:
    if chooses_a_tier(args) or os.environ.get("PROVDC_TESTS_SERIAL") == "1":
        return subprocess.call([sys.executable, "-m", "pytest", *args])
    return run_side_by_side(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
