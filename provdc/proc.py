"""Running programs: the one way provdc runs a command to completion (`run_command`), and
detached daemons started so they outlive the starting process, tracked by PID files."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
             "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class Outcome:
    """How a command ended. A program that is not installed or did not finish in time is an
    outcome too (never an exception), so each caller decides what it means: an audit makes it
    ERROR, the lab a LabError, a report a clear message."""

    argv: tuple[str, ...]
    returncode: int | None           # None: not started, or killed at the timeout
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    missing: bool = False            # the program is not installed

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        """One line for an error message: what ran and why it did not succeed."""
        cmd = " ".join(self.argv[:6]) + (" ..." if len(self.argv) > 6 else "")
        if self.missing:
            return f"{self.argv[0]} is not installed (run ./setup.sh install)"
        if self.timed_out:
            return f"{cmd}: no answer in time"
        return f"{cmd} failed (exit {self.returncode}): {(self.stderr or self.stdout).strip()[-300:]}"


def run_command(argv: list[str], *, input: str | None = None, timeout: float | None = 30,
                env: dict[str, str] | None = None) -> Outcome:
    """Run `argv` to completion with text output captured; never raises for a missing program
    or a timeout (see Outcome)."""
    try:
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        return Outcome(tuple(argv), None, missing=True)
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Outcome(tuple(argv), None, partial, timed_out=True)
    return Outcome(tuple(argv), r.returncode, r.stdout, r.stderr)


def spawn_detached(argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start `argv` in its own session, output to `log`; returns its PID.

    A shell backgrounds it and prints `$!`, then exits: the daemon is not our child, so
    nothing here has to wait for it (and Python never warns about a still-running child)."""
    script = f"exec setsid {shlex.join(argv)} >>{shlex.quote(str(log))} 2>&1 </dev/null & echo $!"
    out = subprocess.run(["/bin/sh", "-c", script], env={**CLEAN_ENV, **(env or {})},
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z"


def stop(pids: list[int], grace: float = 2.0) -> list[int]:
    """SIGTERM, then SIGKILL what is left after `grace` seconds; returns PIDs still alive."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = [p for p in pids if alive(p)]
            if not pids:
                return []
            time.sleep(0.05)
    return [p for p in pids if alive(p)]
