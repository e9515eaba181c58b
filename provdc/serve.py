"""`provdc serve`: the province's operations service, one long-running process.

It supervises the monitoring stack that `exporters/stack.py` defines (Prometheus, Alertmanager,
blackbox_exporter, snmp_exporter, provdc's exporter) as its own children, restarting a crashed
one with exponential backoff; reloads them when the inventory changes (validated first: an
invalid inventory keeps the running configuration and says why); runs the inventory's
scheduled jobs (audit, monthly report, e-mailed) with the same results the CLI writes; and
publishes its own health on `--listen` (/metrics, /reports/...).

State directory (one service per directory, held by a lock):

  serve.lock          flock held while running; a second serve refuses to start
  serve.log           what the service did (children, reloads, runs)
  jobs.json           per job, the last slot completed (the anchor)
  runs/JOB/SLOT/      one directory per run: run.json (status, late, times, outputs), job.log,
                      and what it wrote (reports: html and pdf in each language)
  audits/             audit-*.json, as `provdc audit --results-dir` writes them; the exporter
                      publishes the newest
  monitor/            the stack's generated config, TSDB (data/), Alertmanager state, logs

A run's record is written as `running` before it starts and `ok`/`failed` after; the anchor
moves only once a run is finished, so a run cut off by a crash is run again at start-up.
SIGTERM lets a run in progress finish (systemd's TimeoutStopSec bounds it), then stops the
children, Prometheus first (its shutdown flushes the head block).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector

from provdc.errors import InventoryError, ProvdcError
from provdc.exporters import alerting, monitoring, stack
from provdc.inventory import Inventory, load_inventory
from provdc.proc import CLEAN_ENV
from provdc.schedule import When, due_slot, slot_name

log = logging.getLogger("provdc.serve")
JOBS = ("audit", "report")
STOP_ORDER = ("prometheus", "alertmanager", "exporter", "blackbox", "snmp")


class ServeError(ProvdcError):
    """The service cannot start (state directory taken, inventory unusable, stack missing)."""


# ------------------------------------------------------------------------------ the lock

def take_lock(state: Path):
    """Hold STATE/serve.lock for the life of the process; refuse if another serve holds it."""
    state.mkdir(parents=True, exist_ok=True)
    f = open(state / "serve.lock", "a+")  # noqa: SIM115 - held open for the process' life
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        f.close()
        raise ServeError(f"provdc serve is already running on {state} (pid {holder}); one service per state directory")
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


# --------------------------------------------------------------------------- supervision

@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    restarts: int = 0
    backoff: float = 1.0
    started: float = 0.0
    next_start: float = 0.0
    expected_exit: bool = False   # we stopped it on purpose (reload): not a crash

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def backoff_after(previous: float, ran_for: float) -> float:
    """Seconds to wait before the next restart: doubling to a minute, back to 1 s after a
    child has stayed up for two minutes (a crash loop must not spin, a rare crash must not wait)."""
    return 1.0 if ran_for > 120 else min(previous * 2, 60.0)


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it if serve dies, even by SIGKILL, so a killed service
    never leaves its stack running on its ports (the children have their own session)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, cwd: Path) -> None:
        self.children: dict[str, Child] = {}
        self.cwd = cwd
        self.lock = threading.Lock()

    def set(self, commands: dict[str, list[str]], log_dir: Path) -> None:
        """Adopt a new set of commands: start the new, stop the gone, restart the changed."""
        with self.lock:
            for name in [n for n in self.children if n not in commands]:
                self._stop(self.children.pop(name))
            for name, argv in commands.items():
                child = self.children.get(name)
                if child is not None and child.argv != argv:
                    self._stop(child)
                    child = None
                if child is None:
                    child = self.children[name] = Child(name, argv, log_dir / f"{name}.log")
                    self._start(child)

    def _start(self, child: Child) -> None:
        with open(child.log, "ab") as out:
            child.proc = subprocess.Popen(child.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          cwd=self.cwd, env=dict(CLEAN_ENV), start_new_session=True,
                                          preexec_fn=_die_with_parent)
        child.started = time.monotonic()
        child.expected_exit = False
        log.info("started %s (pid %d)", child.name, child.proc.pid)

    def _stop(self, child: Child, grace: float = 10.0) -> None:
        if not child.up:
            return
        child.expected_exit = True
        child.proc.terminate()
        try:
            child.proc.wait(grace)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()
        log.info("stopped %s", child.name)

    def restart(self, name: str) -> None:
        """Stop and start `name` on purpose (not counted as a crash)."""
        with self.lock:
            child = self.children[name]
            self._stop(child)
            self._start(child)

    def signal(self, name: str, sig: int) -> None:
        child = self.children.get(name)
        if child is not None and child.up:
            child.proc.send_signal(sig)

    def poll(self, now: float | None = None) -> None:
        """Restart crashed children whose backoff has passed."""
        now = time.monotonic() if now is None else now
        with self.lock:
            for child in self.children.values():
                if child.up or child.proc is None:
                    continue
                if child.next_start == 0.0:
                    child.backoff = backoff_after(child.backoff, now - child.started)
                    child.next_start = now + child.backoff
                    log.warning("%s exited with %s; restarting in %.0f s", child.name, child.proc.returncode, child.backoff)
                elif now >= child.next_start:
                    child.restarts += 1
                    child.next_start = 0.0
                    self._start(child)

    def stop_all(self) -> None:
        with self.lock:
            for name in sorted(self.children, key=lambda n: STOP_ORDER.index(n) if n in STOP_ORDER else 99):
                self._stop(self.children[name])


# --------------------------------------------------------------------------------- jobs

@dataclass
class JobState:
    name: str
    anchor: datetime
    last_success: bool | None = None
    last_late: bool = False
    last_duration: float = 0.0
    runs: dict[str, int] = field(default_factory=lambda: {"ok": 0, "failed": 0})
    running: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def load_jobs(state: Path, now: datetime) -> dict[str, JobState]:
    """Anchors from jobs.json; a fresh state directory starts its schedule now (nothing missed)."""
    saved = json.loads((state / "jobs.json").read_text()) if (state / "jobs.json").exists() else {}
    jobs = {}
    for name in JOBS:
        s = saved.get(name, {})
        anchor = datetime.fromisoformat(s["anchor"]) if "anchor" in s else now
        jobs[name] = JobState(name, anchor, s.get("last_success"), s.get("last_late", False))
    return jobs


def save_jobs(state: Path, jobs: dict[str, JobState]) -> None:
    data = {n: {"anchor": j.anchor.isoformat(), "last_success": j.last_success, "last_late": j.last_late}
            for n, j in jobs.items()}
    tmp = state / ".jobs.json.tmp"
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(state / "jobs.json")


def write_record(run_dir: Path, record: dict) -> None:
    tmp = run_dir / ".run.json.tmp"
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    tmp.replace(run_dir / "run.json")


# ------------------------------------------------------------------------------- service

@dataclass(frozen=True)
class Options:
    path: Path
    state: Path
    listen: tuple[str, int]
    settings: monitoring.Settings
    alert_settings: alerting.AlertSettings = alerting.AlertSettings()
    poll_seconds: float = 1.0
    job_timeout: float = 3600.0


class Service:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.state = opts.state.resolve()
        self.monitor_dir = self.state / "monitor"
        self.audits = self.state / "audits"
        self.settings = replace(opts.settings, serve_port=opts.listen[1])
        self.supervisor = Supervisor(self.monitor_dir)
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.job_thread: threading.Thread | None = None
        self.inventory_valid = 1.0
        self.reloads = {"ok": 0, "rejected": 0}
        self.inv: Inventory | None = None
        self.fingerprint: tuple = ()
        self.jobs: dict[str, JobState] = {}
        self.missed: dict[str, datetime] = {}   # slots missed while the service was down: run late

    # -- life cycle

    def run(self) -> None:
        lock = take_lock(self.state)
        try:
            self._setup_logging()
            self.inv = self._load_checked()
            self.fingerprint = self._fingerprint()
            self.jobs = load_jobs(self.state, _now())
            self._apply(self.inv)
            server = self._serve_http()
            self._wait_ready()
            log.info("provdc serve for %s is up: state %s, metrics on http://%s:%d/metrics",
                     self.inv.province.id, self.state, *self.opts.listen)
            self._schedule_due(startup=True)
            try:
                self._loop()
            finally:
                log.info("stopping: waiting for the run in progress, then the children")
                if self.job_thread is not None:
                    self.job_thread.join()
                self.supervisor.stop_all()
                server.shutdown()
                server.server_close()
                log.info("stopped")
        finally:
            lock.close()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    def _loop(self) -> None:
        last_check = 0.0
        while not self.stopping.is_set():
            self.supervisor.poll()
            if self.reload_requested.is_set() or time.monotonic() - last_check > 2:
                last_check = time.monotonic()
                if self.reload_requested.is_set() or self._fingerprint() != self.fingerprint:
                    self.reload_requested.clear()
                    self.reload()
            self._schedule_due(startup=False)
            self.stopping.wait(self.opts.poll_seconds)

    def _setup_logging(self) -> None:
        handler = logging.FileHandler(self.state / "serve.log", encoding="utf-8")
        fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        handler.setFormatter(fmt)
        log.addHandler(handler)
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(fmt)
        log.addHandler(stderr)
        log.setLevel(logging.INFO)

    # -- inventory and configuration

    def _fingerprint(self) -> tuple:
        path = self.opts.path
        files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        out = []
        for f in files:
            try:
                st = f.stat()
                out.append((str(f), st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((str(f), 0, 0))
        return tuple(out)

    def _load_checked(self) -> Inventory:
        """Load the inventory and prove the stack can be built from it (scope, secrets) before
        anything is written: a rejected inventory changes nothing."""
        from provdc.lab.guard import require_lab_routed

        inv = load_inventory(self.opts.path)
        require_lab_routed(inv, "start probing")
        monitoring.generate(inv, self.settings)
        monitoring.render_snmp_secrets(inv)
        for ref in alerting.secret_refs(inv):
            if ref.startswith("env:"):
                from provdc.secrets import SecretRef
                SecretRef.parse(ref).resolve(inv.base)
        for job in JOBS:
            When.parse(getattr(inv.doc.schedule, job).when)
        return inv

    def _apply(self, inv: Inventory) -> None:
        missing = [b for b in stack.BINARIES.values() if not Path(b).exists()]
        if missing:
            raise ServeError(f"not installed: {', '.join(missing)} (run ./setup.sh install)")
        self.audits.mkdir(parents=True, exist_ok=True)
        stack.prepare(inv, self.monitor_dir, self.settings, self.opts.alert_settings)
        commands = stack.child_commands(self.opts.path, inv, self.monitor_dir, self.settings, self.audits)
        self.supervisor.set(commands, self.monitor_dir)

    def reload(self) -> None:
        self.fingerprint = self._fingerprint()
        try:
            inv = self._load_checked()
        except InventoryError as exc:
            self._reject([str(p) for p in exc.problems] + [str(exc)])
            return
        except ProvdcError as exc:
            self._reject([str(exc)])
            return
        try:
            self._apply(inv)
        except (ProvdcError, OSError) as exc:
            self._reject([f"could not apply the new configuration: {exc}"])
            return
        self.inv = inv
        # Prometheus and Alertmanager reload in place (no gap in the TSDB); the exporters
        # re-read on SIGHUP, except ours, which loads the inventory once: restart it
        for name, port in (("prometheus", self.settings.prometheus_port), ("alertmanager", self.settings.alertmanager_port)):
            if name in self.supervisor.children:
                self._post(f"http://{self.settings.listen_host}:{port}/-/reload")
        for name in ("blackbox", "snmp"):
            self.supervisor.signal(name, signal.SIGHUP)
        self.supervisor.restart("exporter")
        self.inventory_valid = 1.0
        self.reloads["ok"] += 1
        (self.state / "inventory-problems.txt").unlink(missing_ok=True)
        log.info("inventory changed: reloaded (%d servers, %d systems)", len(inv.doc.servers), len(inv.doc.systems))

    def _reject(self, problems: list[str]) -> None:
        self.inventory_valid = 0.0
        self.reloads["rejected"] += 1
        (self.state / "inventory-problems.txt").write_text("\n".join(problems) + "\n", encoding="utf-8")
        log.error("inventory changed but is not usable; the running configuration stays:\n  %s", "\n  ".join(problems))

    @staticmethod
    def _post(url: str) -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10):  # noqa: S310 - loopback
                pass
        except OSError as exc:
            log.error("reload %s failed: %s", url, exc)

    def _wait_ready(self, timeout: float = 60) -> None:
        pending = stack.ready_urls(self.settings, self.supervisor.children)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline and not self.stopping.is_set():
            for name, url in list(pending.items()):
                try:
                    with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                        del pending[name]
                except OSError:
                    pass
            self.supervisor.poll()
            time.sleep(0.2)
        if pending:
            log.error("not ready within %.0f s: %s (see %s)", timeout, ", ".join(pending), self.monitor_dir)

    # -- scheduled jobs

    def _schedule_due(self, startup: bool) -> None:
        if self.stopping.is_set():
            return
        now = _now()
        busy = self.job_thread is not None and self.job_thread.is_alive()
        for name in JOBS:
            job = self.jobs[name]
            when = When.parse(getattr(self.inv.doc.schedule, name).when)
            slot = due_slot(when, job.anchor, now)
            if startup and slot is not None:
                self.missed[name] = slot
            if slot is not None and not busy:
                late = self.missed.pop(name, None) == slot or (now - slot).total_seconds() > 60
                self.job_thread = threading.Thread(target=self._run_job, args=(name, when, slot, late), daemon=False,
                                                   name=f"job-{name}")
                self.job_thread.start()
                busy = True

    def _run_job(self, name: str, when: When, slot: datetime, late: bool) -> None:
        from provdc import jobs

        job = self.jobs[name]
        run_dir = self.state / "runs" / name / slot_name(slot)
        run_dir.mkdir(parents=True, exist_ok=True)
        record = {"job": name, "slot": slot.isoformat(), "late": late, "status": "running",
                  "started": _now().isoformat(), "inventory": str(self.opts.path)}
        write_record(run_dir, record)
        job.running = slot.isoformat()
        log.info("%s run for %s started%s", name, slot.isoformat(), " (late: the service was down at that time)" if late else "")
        t0 = time.monotonic()
        ctx = jobs.Context(path=self.opts.path, inv=self.inv, run_dir=run_dir, audits=self.audits,
                           prometheus=f"http://{self.settings.listen_host}:{self.settings.prometheus_port}",
                           public_url=self._public_url(), timeout=self.opts.job_timeout)
        try:
            outcome = jobs.RUNNERS[name](ctx, when, slot)
            record.update(status="ok" if outcome.ok else "failed", detail=outcome.detail,
                          outputs=[str(p.relative_to(self.state)) for p in outcome.outputs])
        except Exception as exc:  # noqa: BLE001 - a broken run is recorded as failed, the service goes on
            record.update(status="failed", detail=f"{type(exc).__name__}: {exc}")
        record["finished"] = _now().isoformat()
        job.last_duration = time.monotonic() - t0
        write_record(run_dir, record)
        job.last_success, job.last_late, job.running = record["status"] == "ok", late, None
        job.runs[record["status"]] = job.runs.get(record["status"], 0) + 1
        job.anchor = slot
        save_jobs(self.state, self.jobs)
        log.info("%s run for %s: %s (%.1f s) %s", name, slot.isoformat(), record["status"], job.last_duration,
                 record.get("detail", ""))

    def _public_url(self) -> str:
        a = self.inv.doc.alerting
        if a is not None and a.external_url:
            return a.external_url.rstrip("/")
        return f"http://{self.opts.listen[0]}:{self.opts.listen[1]}"

    # -- health endpoint

    def collect(self):
        child_up = GaugeMetricFamily("provdc_serve_child_up", "1 while the supervised child runs.", labels=["child"])
        restarts = CounterMetricFamily("provdc_serve_child_restarts", "Restarts of a child after it exited on its own.",
                                       labels=["child"])
        for c in list(self.supervisor.children.values()):
            child_up.add_metric([c.name], float(c.up))
            restarts.add_metric([c.name], c.restarts)
        yield child_up
        yield restarts
        success = GaugeMetricFamily("provdc_serve_job_last_success", "1 if the job's last run succeeded.", labels=["job_name"])
        late = GaugeMetricFamily("provdc_serve_job_last_late", "1 if the job's last run started late (missed slot).",
                                 labels=["job_name"])
        due = GaugeMetricFamily("provdc_serve_job_due_timestamp_seconds",
                                "The job's next slot not yet run (Unix time); in the past means it is late.", labels=["job_name"])
        runs = CounterMetricFamily("provdc_serve_job_runs", "Finished runs by outcome.", labels=["job_name", "outcome"])
        duration = GaugeMetricFamily("provdc_serve_job_last_duration_seconds", "How long the last run took.", labels=["job_name"])
        for name, job in self.jobs.items():
            if job.last_success is not None:
                success.add_metric([name], float(job.last_success))
                late.add_metric([name], float(job.last_late))
                duration.add_metric([name], job.last_duration)
            if self.inv is not None:
                when = When.parse(getattr(self.inv.doc.schedule, name).when)
                due.add_metric([name], when.next_after(job.anchor).timestamp())
            for outcome, n in job.runs.items():
                runs.add_metric([name, outcome], n)
        yield from (success, late, due, runs, duration)
        valid = GaugeMetricFamily("provdc_serve_inventory_valid",
                                  "0 while the inventory on disk is rejected (the running configuration stays).")
        valid.add_metric([], self.inventory_valid)
        yield valid
        reloads = CounterMetricFamily("provdc_serve_reloads", "Inventory reloads by outcome.", labels=["outcome"])
        for outcome, n in self.reloads.items():
            reloads.add_metric([outcome], n)
        yield reloads

    def _serve_http(self) -> ThreadingHTTPServer:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        ProcessCollector(registry=registry)  # serve's own CPU and memory
        server = ThreadingHTTPServer(self.opts.listen, _handler(registry, self.state / "runs"))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
        return server

    def describe(self):
        return []


def _handler(registry: CollectorRegistry, runs: Path):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/metrics":
                self._reply(200, "text/plain; version=0.0.4", generate_latest(registry))
            elif self.path.startswith("/reports/"):
                self._report(self.path.removeprefix("/reports/"))
            elif self.path in ("/", "/healthz"):
                self._reply(200, "text/plain; charset=utf-8", b"provdc serve: /metrics, /reports/SLOT/FILE\n")
            else:
                self._reply(404, "text/plain", b"not found\n")

        def _report(self, rel: str) -> None:
            root = (runs / "report").resolve()
            target = (root / rel).resolve()
            # only files of report runs, and only what a report is made of: no path escapes
            if root not in target.parents or target.suffix not in (".html", ".pdf") or not target.is_file():
                self._reply(404, "text/plain", b"not found\n")
                return
            kind = "text/html; charset=utf-8" if target.suffix == ".html" else "application/pdf"
            self._reply(200, kind, target.read_bytes())

        def _reply(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass

    return Handler


# --------------------------------------------------------------------------- systemd unit

def systemd_unit(provdc: str, path: Path, state: Path, listen: str, user: str = "provdc") -> str:
    """A hardened unit for a Debian 12 management server (see README: installing the service)."""
    return f"""# provdc serve: monitoring, alerting and scheduled compliance of the province
# Install: useradd --system --home-dir {state} --shell /usr/sbin/nologin {user}
#          provdc serve --print-systemd-unit ... > /etc/systemd/system/provdc.service
#          systemctl daemon-reload && systemctl enable --now provdc
[Unit]
Description=provdc serve: monitoring, alerting and scheduled compliance
Documentation=file:///usr/share/doc/provdc/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={user}
ExecStart={provdc} serve {path} --state {state} --listen {listen}
ExecReload=/bin/kill -HUP $MAINPID
# secrets referenced as env:NAME in the inventory (mode 0600, root-owned)
EnvironmentFile=-/etc/provdc/serve.env
Restart=on-failure
RestartSec=5s
# SIGTERM to provdc only: it lets a scheduled run finish, then stops its children in order
KillMode=mixed
TimeoutStopSec=30min
StateDirectory={state.name}
StateDirectoryMode=0750
UMask=0027
# blackbox_exporter's ICMP probes need raw sockets; nothing else is granted
AmbientCapabilities=CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={state}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""
