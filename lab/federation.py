"""A national federation on one machine, loopback only: one real Prometheus per province and
one national federating Prometheus, for the integration test and the benchmark.

Nothing here probes anything. Each full province runs the generated configuration and rule
set unchanged except for its sources: its `blackbox` and `snmp` addresses point at a
`SyntheticSource` on 127.0.0.1 that answers `/probe` and `/snmp` from a planned schedule
(probe failures, link rates) instead of sending packets; the `node` job is left out (its
targets are the inventory's own addresses); provdc's real exporter serves the inventory and an
audit run. An aggregate-only province scrapes the source's `/aggregates/<id>`: the few hundred
`province:...` series a province would record, nothing else.

    fed = Federation(workdir, port_base=34000)
    fed.add_full_province(inventory_dir, audit_dir, outages={"10.99.20.11": [(t0, t1)]})
    fed.add_aggregate_province("tinh-07", systems=20, links=40)
    fed.start_national(settings)        # NATIONAL.yaml + `monitor config --national`
    ...
    fed.stop()                          # every process this object started, by PID
"""

from __future__ import annotations

import math
import shutil
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from provdc.errors import ProvdcError
from provdc.exporters import monitoring, national
from provdc.inventory import Inventory, load_inventory
from provdc.proc import alive, spawn_detached, stop

PROMETHEUS = "/usr/bin/prometheus"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------- synthetic source

def link_rate(link_id: str, direction: str, contract: float, t: float) -> float:
    """Planned bytes/s of a link direction at time t: a share of the contract that steps every
    10 s (so percentiles and means differ), deterministic from the link id."""
    base = 0.15 + (sum(map(ord, link_id + direction)) % 50) / 100          # 15-64 % of contract
    return contract * base * (1 + 0.3 * (int(t // 10) % 3))


@dataclass
class ProvincePlan:
    """What the source answers for one province."""

    inv: Inventory | None
    outages: dict[str, list[tuple[float, float]]] = field(default_factory=dict)   # target address -> windows
    started: float = field(default_factory=time.time)
    aggregates: str = ""                                                          # aggregate-only exposition

    def probe(self, target: str, now: float) -> int:
        address = urlsplit(target if "://" in target else f"//{target}").hostname or target
        return 0 if any(s <= now < e for s, e in self.outages.get(address, [])) else 1

    def snmp(self, target: str, now: float) -> str:
        """IF-MIB counters of the device at `target`: each measured interface carries its
        link's planned rate (integrated exactly, so rate() sees the plan)."""
        inv = self.inv
        device = next((d for d in inv.doc.devices if str(d.address) == target), None)
        lines = ["# TYPE ifHCInOctets counter", "# TYPE ifHCOutOctets counter", "# TYPE ifOperStatus gauge"]
        if device is None:
            return "\n".join(lines) + "\n"
        for index, link in enumerate(inv.doc.links, start=1):
            m = link.measured_by
            if m is None or m.device != device.id:
                continue
            out_dir, in_dir = ("a_to_b", "b_to_a") if m.device == link.a.device else ("b_to_a", "a_to_b")
            caps = {"a_to_b": link.capacity.a_to_b / 8, "b_to_a": link.capacity.b_to_a / 8}
            labels = f'ifIndex="{index}",ifName="{m.interface}"'
            for name, direction in (("ifHCOutOctets", out_dir), ("ifHCInOctets", in_dir)):
                lines.append(f"{name}{{{labels}}} {self._octets(link.id, direction, caps[direction], now):.0f}")
            lines.append(f"ifOperStatus{{{labels}}} 1")
        return "\n".join(lines) + "\n"

    def _octets(self, link_id: str, direction: str, contract: float, now: float) -> float:
        total, t = 0.0, self.started
        while t < now:   # piecewise constant in 10 s steps
            nxt = min(now, (math.floor(t / 10) + 1) * 10)
            total += link_rate(link_id, direction, contract, t) * (nxt - t)
            t = nxt
        return total


class SyntheticSource:
    """One HTTP server on loopback answering for every province (path or port picks it)."""

    def __init__(self) -> None:
        self.plans: dict[int, ProvincePlan] = {}       # listening port -> plan (full provinces)
        self.aggregates: dict[str, ProvincePlan] = {}  # province id -> plan (aggregate-only)
        self.servers: list[ThreadingHTTPServer] = []

    def serve(self, plan: ProvincePlan) -> int:
        """A listener for one full province's blackbox and snmp jobs; returns its port."""
        source = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                now = time.time()
                my = source.plans.get(self.server.server_address[1])
                if url.path == "/probe" and my:
                    body = f"# TYPE probe_success gauge\nprobe_success {my.probe(q.get('target', ''), now)}\n"
                elif url.path == "/snmp" and my:
                    body = my.snmp(q.get("target", ""), now)
                elif url.path.startswith("/aggregates/") and url.path.split("/")[-1] in source.aggregates:
                    body = source.aggregates[url.path.split("/")[-1]].aggregates
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # Prometheus gave up on this scrape (it is stopping): nothing to answer

        server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        self.plans[server.server_address[1]] = plan
        return server.server_address[1]

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def aggregate_exposition(province: str, systems: int, links: int) -> str:
    """The `province:...` series of a province of that size, as a scrape would expose them."""
    lines = []
    for s in range(systems):
        sid = f"sys-{s}"
        lines += [f'province:system_availability:sli{{system="{sid}"}} {1 - (s % 7) / 1000:.4f}',
                  f'province:system_coverage:ratio{{system="{sid}"}} 1',
                  f'province:system_availability:avg30d{{system="{sid}"}} {1 - (s % 7) / 1000:.4f}',
                  f'province:system_sla_target:ratio{{system="{sid}"}} 0.995',
                  f'province:system_security_level:value{{system="{sid}"}} {2 + s % 3}']
    for link in range(links):
        for d in ("a_to_b", "b_to_a"):
            lines += [f'province:link_bytes_per_second:rate{{link="wan-{link}",direction="{d}"}} {125000 * (1 + link % 5)}',
                      f'province:link_contracted_bytes_per_second:value{{link="wan-{link}",direction="{d}"}} 1250000',
                      f'province:link_utilisation:ratio{{link="wan-{link}",direction="{d}"}} {0.1 * (1 + link % 5)}',
                      f'province:link_utilisation:p95_7d{{link="wan-{link}",direction="{d}"}} {0.1 * (1 + link % 5)}']
    for layer in ("network", "host", "application", "data", "governance"):
        for w in ("counted", "ignored"):
            lines.append(f'province:audit_score:ratio{{layer="{layer}",waivers="{w}"}} 0.9')
    for job in ("blackbox_icmp", "blackbox_https", "snmp", "provdc"):
        lines += [f'province:job_targets_up:ratio{{job="{job}"}} 1', f'province:job_targets:count{{job="{job}"}} 10']
    lines += ["province:reporting:up 1", "province:aggregate_window:seconds 60"]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- instances

@dataclass
class Instance:
    name: str
    url: str
    pids: dict[str, int]
    run_dir: Path


def _wait_ready(url: str, pid: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise ProvdcError(f"{log.parent.name}: exited at start:\n{log.read_text(errors='replace')[-600:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.2)
    raise ProvdcError(f"{url} not ready within {timeout:.0f} s")


def start_prometheus(config: Path, run_dir: Path, port: int, retention: str = "1h") -> tuple[int, str]:
    """A real Prometheus on loopback with a small TSDB of short retention; returns (pid, url)."""
    (run_dir / "data").mkdir(parents=True, exist_ok=True)
    log = run_dir / "prometheus.log"
    pid = spawn_detached([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={run_dir / 'data'}",
                          f"--storage.tsdb.retention.time={retention}", f"--web.listen-address={LOOPBACK}:{port}",
                          "--web.enable-lifecycle", "--log.level=warn"], log)
    url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_ready(url, pid, log)
    except BaseException:
        stop([pid])
        raise
    return pid, url


class Federation:
    """Provinces and a nation on loopback; `stop()` ends every process it started."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.source = SyntheticSource()
        self.provinces: dict[str, Instance] = {}
        self.inventories: dict[str, Path] = {}
        self.national: Instance | None = None

    def add_full_province(self, inventory: Path, audit_dir: Path | None, settings: monitoring.Settings,
                          outages: dict[str, list[tuple[float, float]]] | None = None) -> Instance:
        inv = load_inventory(inventory)
        run = self.workdir / f"prov-{inv.province.id}"
        port = self.source.serve(ProvincePlan(inv, outages or {}))
        settings = monitoring.Settings(**{**settings.__dict__, "prometheus_port": free_port(), "blackbox_port": port,
                                          "snmp_port": port, "exporter_port": free_port(), "listen_host": LOOPBACK})
        monitoring.write(inv, run / "config", settings)
        config = run / "config" / "prometheus.yml"
        doc = yaml.safe_load(config.read_text())
        doc["scrape_configs"] = [j for j in doc["scrape_configs"] if j["job_name"] != "node"]  # inventory addresses
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        pids: dict[str, int] = {}
        try:
            import sys

            argv = [sys.executable, "-m", "provdc.cli", "exporter", "serve", str(inventory.resolve()),
                    "--listen", f"{LOOPBACK}:{settings.exporter_port}", *(["--audit-results", str(audit_dir)] if audit_dir else [])]
            pids["exporter"] = spawn_detached(argv, run / "exporter.log")
            pids["prometheus"], url = start_prometheus(config, run, settings.prometheus_port)
        except BaseException:
            stop(list(pids.values()))
            raise
        inst = Instance(inv.province.id, url, pids, run)
        self.provinces[inv.province.id] = inst
        self.inventories[inv.province.id] = inventory
        return inst

    def add_aggregate_province(self, province: str, systems: int = 20, links: int = 40, interval: str = "5s") -> Instance:
        """A provincial Prometheus holding only the aggregate series (scraped from the source)."""
        if not self.source.servers:
            self.source.serve(ProvincePlan(None))
        port = self.source.servers[0].server_address[1]
        self.source.aggregates[province] = ProvincePlan(None, aggregates=aggregate_exposition(province, systems, links))
        run = self.workdir / f"prov-{province}"
        run.mkdir(parents=True, exist_ok=True)
        config = run / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": interval, "external_labels": {"province": province}},
            "scrape_configs": [{"job_name": "aggregates", "metrics_path": f"/aggregates/{province}",
                                "static_configs": [{"targets": [f"{LOOPBACK}:{port}"]}]}]}, sort_keys=False))
        pid, url = start_prometheus(config, run, free_port())
        inst = Instance(province, url, {"prometheus": pid}, run)
        self.provinces[province] = inst
        return inst

    def national_file(self, settings: dict) -> Path:
        entries = []
        for pid, inst in self.provinces.items():
            entry = {"prometheus": inst.url}
            if pid in self.inventories:
                entry["inventory"] = str(self.inventories[pid].resolve())
            else:
                entry["id"] = pid
            entries.append(entry)
        path = self.workdir / "national.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "nation": "vn", "name": "Bộ thử nghiệm / Test ministry",
                                        "settings": settings, "provinces": entries}, allow_unicode=True, sort_keys=False))
        return path

    def start_national(self, settings: dict) -> Instance:
        nat = national.load_national(self.national_file(settings))
        out = self.workdir / "nation"
        national.write_national(nat, out)
        pid, url = start_prometheus(out / "prometheus.yml", out, free_port())
        self.national = Instance("nation", url, {"prometheus": pid}, out)
        return self.national

    def stop_province(self, province: str) -> None:
        inst = self.provinces[province]
        stop([inst.pids["prometheus"]], grace=5)

    def restart_province(self, province: str) -> None:
        """The stopped province's Prometheus again, on its own TSDB and port: what it recorded
        before the stop is still there, so a test that stops a province can put it back."""
        inst = self.provinces[province]
        config = inst.run_dir / "config" / "prometheus.yml"
        if not config.exists():  # aggregate-only provinces keep their configuration in the run dir
            config = inst.run_dir / "prometheus.yml"
        port = int(inst.url.rsplit(":", 1)[1])
        inst.pids["prometheus"], _ = start_prometheus(config, inst.run_dir, port)

    def all_pids(self) -> list[int]:
        insts = list(self.provinces.values()) + ([self.national] if self.national else [])
        return [pid for inst in insts for pid in inst.pids.values()]

    def stop(self) -> list[int]:
        left = stop(self.all_pids(), grace=5)
        self.source.close()
        return left


# ------------------------------------------------------------------------ generated provinces

def make_province(source: Path, out: Path, province: str, name: str) -> Path:
    """A copy of the inventory at `source` (a directory) as another province: same shape, its
    own id and name. The addresses are the source's: nothing is ever sent to them here."""
    import re

    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(source.glob("*.yaml")):
        text = f.read_text(encoding="utf-8")
        if re.search(r"^province:\n", text, re.M):
            text = re.sub(r"^(province:\n  id: )\S+\n  name: .*$", lambda m: f"{m.group(1)}{province}\n  name: {name}", text,
                          count=1, flags=re.M)
        (out / f.name).write_text(text, encoding="utf-8")
    if (source / "configs").is_dir():  # the appliances' configuration backups (config_backup)
        shutil.copytree(source / "configs", out / "configs", dirs_exist_ok=True)
    return out


def make_audit_run(inv: Inventory, out: Path, seed: int = 0) -> Path:
    """An audit results file for `inv` with a planned mix of statuses per layer and host."""
    from datetime import datetime, timedelta, timezone

    from provdc.checks.results import AuditRun, Finding, Status

    statuses = [Status.PASS, Status.PASS, Status.PASS, Status.FAIL, Status.PASS, Status.ERROR, Status.WAIVED, Status.PASS]
    severities = ["critical", "high", "medium", "low"]
    findings = []
    for i, server in enumerate(inv.doc.servers):
        for j, layer in enumerate(("network", "host", "application", "data")):
            status = statuses[(i * 3 + j + seed) % len(statuses)]
            findings.append(Finding(check=f"{layer}_check_{j}", layer=layer, severity=severities[(i + j + seed) % 4],
                                    status=status, host=server.id))
    for k, system in enumerate(inv.doc.systems):
        findings.append(Finding(check="d14_layers", layer="governance", severity="high", system=system.id,
                                status=statuses[(k + seed) % len(statuses)]))
    finished = datetime.now(timezone.utc).replace(microsecond=0)
    run = AuditRun(province=inv.province.id, started=finished - timedelta(minutes=1), finished=finished, findings=findings)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"audit-{finished:%Y%m%dT%H%M%SZ}.json"
    path.write_text(run.to_json(), encoding="utf-8")
    return path
