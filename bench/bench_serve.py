"""`provdc serve`'s own CPU and memory on the lab twin: idle (supervising, serving /metrics,
watching the inventory), and during a scheduled audit, next to the Prometheus it supervises.

Root; takes the machine-wide lab lock. Builds the lab example's twin, runs serve with the
audit scheduled every 2 minutes (scrapes every 15 s, as in production), samples /proc once a
second: the serve process alone (utime+stime, RSS), its finished children (the audit CLI run,
cutime+cstime) and Prometheus. Then SIGTERM and lab down.

    flock /run/provdc-lab.lock .venv/bin/python bench/bench_serve.py [--idle 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> tuple[float, float]:
    """(own, reaped children) CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_pid(pid: int, name: str) -> int:
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0].endswith(name.encode()):
                return int(child)
    raise RuntimeError(f"no {name} child")


def window(serve: int, prom: int, seconds: float | None, until=None) -> dict[str, float]:
    """CPU shares and peak RSS over a window of `seconds`, or until `until()` is true."""
    s0, c0, p0, t0 = *cpu(serve), cpu(prom)[0], time.monotonic()
    peak_serve = peak_prom = 0.0
    while (seconds is not None and time.monotonic() - t0 < seconds) or (until is not None and not until()):
        peak_serve, peak_prom = max(peak_serve, rss_mb(serve)), max(peak_prom, rss_mb(prom))
        time.sleep(1)
    s1, c1, p1, wall = *cpu(serve), cpu(prom)[0], time.monotonic() - t0
    return {"seconds": wall, "serve_cpu_pct": 100 * (s1 - s0) / wall, "children_cpu_s": c1 - c0,
            "prometheus_cpu_pct": 100 * (p1 - p0) / wall, "serve_rss_mb": peak_serve, "prometheus_rss_mb": peak_prom}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=float, default=60)
    args = ap.parse_args()
    provdc = [sys.executable, "-m", "provdc.cli"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory/examples/lab", inv)
    text = (inv / "alerting.yaml").read_text().replace('audit: {when: "daily 02:00"}', 'audit: {when: "every 2m"}')
    (inv / "alerting.yaml").write_text(text)
    subprocess.run([*provdc, "lab", "up", str(inv)], check=True, capture_output=True)
    proc = subprocess.Popen([*provdc, "serve", str(inv), "--state", str(tmp / "state"), "--listen", "127.0.0.1:32450",
                             "--port-base", "32100"], stdout=open(tmp / "serve.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        time.sleep(15)  # children up, first scrapes done
        prom = child_pid(proc.pid, "prometheus")
        runs = tmp / "state" / "runs" / "audit"
        n_runs = lambda: len(list(runs.glob("*/run.json"))) if runs.is_dir() else 0  # noqa: E731
        if n_runs() == 0:
            window(proc.pid, prom, None, until=lambda: n_runs() > 0)  # to the first slot
            window(proc.pid, prom, None, until=lambda: "finished" in json.loads(next(runs.glob("*/run.json")).read_text()))
        idle = window(proc.pid, prom, args.idle)
        before = n_runs()
        window(proc.pid, prom, None, until=lambda: n_runs() > before)
        latest = max(runs.glob("*/run.json"))
        audit = window(proc.pid, prom, None, until=lambda: "finished" in json.loads(latest.read_text()))
        print(json.dumps({"idle": idle, "audit": audit, "audit_status": json.loads(latest.read_text())["status"]}, indent=2))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(300)
        subprocess.run([*provdc, "lab", "down", str(inv)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
