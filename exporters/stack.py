"""`provdc monitor up/down/status`: real Prometheus, blackbox_exporter, snmp_exporter and our
exporter as plain processes, with the generated config and storage in a run directory.

Everything listens on the settings' host (loopback by default); probes go only to the
inventory's own addresses (checked when the config is generated).
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from provdc.errors import ProvdcError
from provdc.exporters import alerting, monitoring, promapi
from provdc.inventory import Inventory, load_inventory
from provdc.lab.guard import require_lab_routed
from provdc.proc import alive, spawn_detached, stop

BINARIES = {"prometheus": "/usr/bin/prometheus", "blackbox": "/usr/bin/prometheus-blackbox-exporter",
            "snmp": "/usr/bin/prometheus-snmp-exporter", "alertmanager": "/usr/bin/prometheus-alertmanager"}
RETENTION = "400d"  # 13 months of reports (a year-on-year month) plus the 7-day link rule's window


class MonitorError(ProvdcError):
    """The monitoring stack could not be started, or is not running."""


@dataclass(frozen=True)
class Stack:
    run_dir: Path
    settings: monitoring.Settings
    pids: dict[str, int]

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.settings.listen_host}:{self.settings.prometheus_port}"


def default_run_dir(inv: Inventory) -> Path:
    return Path("/run/provdc") / f"monitor-{inv.province.id}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _read_state(run_dir: Path) -> dict | None:
    state = run_dir / "stack.json"
    return json.loads(state.read_text()) if state.exists() else None


def up(path: Path, run_dir: Path | None = None, settings: monitoring.Settings = monitoring.Settings(),
       audit_results: Path | None = None, progress=lambda _: None) -> Stack:
    inv = load_inventory(path)
    require_lab_routed(inv, "start probing")
    run_dir = run_dir or default_run_dir(inv)
    state = _read_state(run_dir)
    if state and any(alive(pid) for pid in state["pids"].values()):
        raise MonitorError(f"the monitoring stack of {run_dir} is already running; `provdc monitor down` first")
    missing = [b for b in BINARIES.values() if not Path(b).exists()]
    if missing:
        raise MonitorError(f"not installed: {', '.join(missing)} (run ./setup.sh install)")
    busy = [p for p in (settings.prometheus_port, settings.blackbox_port, settings.snmp_port, settings.exporter_port,
                        settings.alertmanager_port)
            if not _port_free(settings.listen_host, p)]
    if busy:
        raise MonitorError(f"ports already in use on {settings.listen_host}: {', '.join(map(str, busy))}")
    progress(f"writing configuration to {run_dir / 'config'}")
    prepare(inv, run_dir, settings)
    commands = child_commands(path, inv, run_dir, settings, audit_results)
    pids: dict[str, int] = {}
    try:
        for name, argv in commands.items():
            progress(f"starting {name}")
            pids[name] = spawn_detached(argv, run_dir / f"{name}.log")
        (run_dir / "stack.json").write_text(json.dumps({"pids": pids, "settings": settings.__dict__}))
        _wait_ready(run_dir, settings, pids)
    except BaseException:
        stop(list(pids.values()))
        raise
    return Stack(run_dir, settings, pids)


def prepare(inv: Inventory, run_dir: Path, settings: monitoring.Settings,
            alert_settings: alerting.AlertSettings = alerting.AlertSettings()) -> Path:
    """Write the generated configuration and the run-time secrets (0600) under `run_dir`."""
    conf = run_dir / "config"
    monitoring.write(inv, conf, settings)
    monitoring.write_snmp_secrets(inv, run_dir / "snmp.yml")
    alerting.write_runtime(inv, conf, alert_settings)
    (run_dir / "data").mkdir(parents=True, exist_ok=True)
    (run_dir / "alertmanager").mkdir(parents=True, exist_ok=True)
    return conf


def child_commands(path: Path, inv: Inventory, run_dir: Path, settings: monitoring.Settings,
                   audit_results: Path | None = None) -> dict[str, list[str]]:
    """argv of every process of the stack; Alertmanager only when the inventory declares alerting.
    Prometheus keeps 400 days: 13 months of monthly reports and the 7-day link rule."""
    conf = run_dir / "config"
    h = settings.listen_host
    commands = {
        # probes end 0.8 s before the scrape times out: a failed probe must be recorded as a 0,
        # not lost with a timed-out scrape (which would be a gap, not downtime)
        "blackbox": [BINARIES["blackbox"], f"--config.file={conf / 'blackbox.yml'}", f"--web.listen-address={h}:{settings.blackbox_port}",
                     "--timeout-offset=0.8"],
        "snmp": [BINARIES["snmp"], f"--config.file={run_dir / 'snmp.yml'}", f"--web.listen-address={h}:{settings.snmp_port}"],
        "exporter": [sys.executable, "-m", "provdc.cli", "exporter", "serve", str(Path(path).resolve()),
                     "--listen", f"{h}:{settings.exporter_port}", *(["--audit-results", str(audit_results)] if audit_results else [])],
        "prometheus": [BINARIES["prometheus"], f"--config.file={conf / 'prometheus.yml'}", f"--storage.tsdb.path={run_dir / 'data'}",
                       f"--web.listen-address={h}:{settings.prometheus_port}", f"--storage.tsdb.retention.time={RETENTION}",
                       "--web.enable-lifecycle"],
    }
    if inv.doc.alerting is not None:
        commands["alertmanager"] = [
            BINARIES["alertmanager"], f"--config.file={conf / 'alertmanager.yml'}",
            f"--storage.path={run_dir / 'alertmanager'}", f"--web.listen-address={h}:{settings.alertmanager_port}",
            # no gossip: one Alertmanager per province here, and nothing may listen beyond loopback
            "--cluster.listen-address=",
            *([f"--web.external-url={inv.doc.alerting.external_url}"] if inv.doc.alerting.external_url else [])]
    return commands


def ready_urls(settings: monitoring.Settings, names) -> dict[str, str]:
    h = settings.listen_host
    urls = {"prometheus": f"http://{h}:{settings.prometheus_port}/-/ready",
            "blackbox": f"http://{h}:{settings.blackbox_port}/metrics",
            "snmp": f"http://{h}:{settings.snmp_port}/metrics",
            "exporter": f"http://{h}:{settings.exporter_port}/metrics",
            "alertmanager": f"http://{h}:{settings.alertmanager_port}/-/ready"}
    return {n: urls[n] for n in names}


def _wait_ready(run_dir: Path, settings: monitoring.Settings, pids: dict[str, int], timeout: float = 30) -> None:
    checks = ready_urls(settings, pids)
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            if not alive(pids[name]):
                log = (run_dir / f"{name}.log").read_text(errors="replace")[-600:]
                raise MonitorError(f"{name} exited at start:\n{log}")
            try:
                with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback endpoints
                    del pending[name]
            except OSError:
                pass
        time.sleep(0.2)
    if pending:
        raise MonitorError(f"not ready within {timeout:.0f} s: {', '.join(pending)}")


def attach(path: Path, run_dir: Path | None = None) -> Stack:
    inv = load_inventory(path)
    run_dir = run_dir or default_run_dir(inv)
    state = _read_state(run_dir)
    if not state or not any(alive(pid) for pid in state["pids"].values()):
        raise MonitorError(f"no monitoring stack is running for {run_dir}; `provdc monitor up` first")
    return Stack(run_dir, monitoring.Settings(**state["settings"]), state["pids"])


def down(path: Path, run_dir: Path | None = None, purge: bool = False) -> list[str]:
    inv = load_inventory(path)
    run_dir = run_dir or default_run_dir(inv)
    state = _read_state(run_dir)
    stopped = []
    if state:
        running = {n: p for n, p in state["pids"].items() if alive(p)}
        left = stop(list(running.values()), grace=5)
        if left:
            raise MonitorError(f"processes {left} would not stop")
        stopped = sorted(running)
        (run_dir / "stack.json").unlink()
    if purge and run_dir.exists():
        shutil.rmtree(run_dir)
    return stopped


def target_health(stack: Stack) -> list[dict[str, str]]:
    rows = []
    for t in promapi.targets(stack.prometheus_url):
        rows.append({"job": t["labels"].get("job", ""), "instance": t["labels"].get("instance", ""),
                     "health": t.get("health", ""), "error": t.get("lastError", "")})
    return sorted(rows, key=lambda r: (r["job"], r["instance"]))
