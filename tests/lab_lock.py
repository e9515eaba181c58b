"""The machine's lab lock, one way to take it: the integration tests' first twin test and
tests/run_tiers.py (which holds it for its three runs and says so to them in LAB_LOCK_HELD)."""

from __future__ import annotations

import fcntl
import sys

LAB_LOCK = "/run/provdc-lab.lock"
LAB_LOCK_HELD = "PROVDC_LAB_LOCK_HELD"


def hold_lab_lock():
    """The lock, open and held until the returned file is closed or the process ends; waits (and
    says so) while another lab run, demo or benchmark holds it."""
    lock = open(LAB_LOCK, "w")  # noqa: SIM115 - the caller keeps it for as long as it needs the lab
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"\nwaiting for {LAB_LOCK}: another lab run is in progress", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock
