"""Detached daemons: started so they outlive the starting process, tracked by PID files."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
             "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


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
