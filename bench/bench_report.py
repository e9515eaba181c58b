"""Report benchmark: time to produce a report, next to the time of its Prometheus queries alone.

Cases: the lab example (a running lab and monitoring stack, last 60 s), and a synthetic province
of 300 probe targets and 200 links over 24 hours at a 15 s scrape interval, backfilled into a
fresh Prometheus with `promtool tsdb create-blocks-from openmetrics` (real queries, real TSDB).
The peer column is the same HTTP queries issued alone: the share of the report's time that is
Prometheus. Target: under 5 s per report. Root, loopback only.

    python bench/bench_report.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from provdc.exporters import promapi
from provdc.inventory import load_inventory
from provdc.proc import spawn_detached, stop
from provdc.reports import collect, render
from provdc.reports.compute import Period

ROOT = Path(__file__).resolve().parent.parent
HOURS = 24


def synthetic_inventory(out: Path) -> Path:
    servers = [{"id": f"s{i}", "hostname": f"s{i}", "address": f"10.96.{1 + i // 200}.{10 + i % 200}", "zone": "srv", "role": "app",
                "services": [{"name": "https", "port": 443, "kind": "https", "tls": True, "from": ["wan"]},
                             {"name": "api", "port": 8443, "kind": "generic", "from": ["wan"]}]} for i in range(100)]
    links = [{"id": f"l{i}", "kind": "wan", "capacity": "10Mbps", "a": {"site": "dc", "device": "rtr", "interface": f"w{i}",
              "address": f"10.95.{(4 * i) // 256}.{(4 * i) % 256 + 1}/30"},
              "b": {"provider": "TSLCD", "address": f"10.95.{(4 * i) // 256}.{(4 * i) % 256 + 2}/30"},
              "measured_by": {"device": "rtr", "interface": f"w{i}"}} for i in range(200)]
    doc = {"version": 1, "province": {"id": "synthetic", "name": "Tỉnh Tổng Hợp"},
           "sites": [{"id": "dc", "name": "DC", "kind": "data_center", "tier": 3}],
           "zones": [{"id": "srv", "site": "dc", "kind": "servers", "cidr": "10.96.0.0/16"}],
           "devices": [{"id": "rtr", "kind": "router", "site": "dc", "zone": "srv", "address": "10.96.0.2",
                        "snmp": {"community": "env:SNMP_COMMUNITY"}}],
           "servers": servers, "links": links,
           "systems": [{"id": f"sys{i}", "name": f"Hệ thống {i}", "level": 3, "servers": [f"s{j}" for j in range(i * 5, i * 5 + 5)]}
                       for i in range(20)]}
    path = out / "synthetic.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def openmetrics(inv, start: float, out: Path) -> Path:
    """probe_success for 300 targets every 15 s (one outage per target), link rates every 5 min."""
    lines = ["# TYPE probe_success gauge"]
    for n, s in enumerate(inv.doc.servers):
        systems = "," + ",".join(x.id for x in inv.systems_by_server[s.id]) + ","
        for job, target in (("blackbox_icmp", str(s.address)), ("blackbox_https", f"https://{s.address}:443/"),
                            ("blackbox_tcp", f"{s.address}:8443")):
            labels = f'job="{job}",instance="{target}",server="{s.id}",systems="{systems}"'
            for k in range(HOURS * 240):
                ok = 0 if (k + 7 * n) % 960 < 4 else 1
                lines.append(f"probe_success{{{labels}}} {ok} {start + 15 * k:.0f}")
    lines.append("# TYPE provdc:link_bytes_per_second:rate gauge")
    for i, link in enumerate(inv.doc.links):
        for direction, scale in (("a_to_b", 1.0), ("b_to_a", 0.3)):
            for k in range(HOURS * 12):
                v = scale * (400_000 + 50_000 * ((k + i) % 20))
                lines.append(f'provdc:link_bytes_per_second:rate{{link="{link.id}",direction="{direction}"}} {v:.0f} {start + 300 * k:.0f}')
    lines.append("# EOF")
    path = out / "data.om"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("Prometheus did not become ready")


def queries_alone(url: str, period: Period) -> float:
    step = collect.pick_step(period)
    start_ms, step_ms, grid = collect._grid(period, step)
    t = time.perf_counter()
    for expr in (f"avg_over_time({collect.PROBES}[{step_ms}ms])", f"count_over_time({collect.PROBES}[{step_ms}ms])",
                 "provdc:link_bytes_per_second:rate"):
        promapi.query_range(url, expr, start_ms / 1000, grid[-1] / 1000, step_ms / 1000)
    promapi.query(url, f"avg_over_time({collect.PROBES}[{int(period.seconds)}s] @ {period.end.timestamp():.0f})")
    promapi.targets(url)
    return time.perf_counter() - t


def time_report(inv, url: str, period: Period, out: Path, repeat: int = 3) -> tuple[float, float, float]:
    totals, renders, peers = [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        data = collect.collect(inv, url, period)
        t_collect = time.perf_counter()
        render.write([data], "html", "vi", out)
        totals.append(time.perf_counter() - t)
        renders.append(time.perf_counter() - t_collect)
        peers.append(queries_alone(url, period))
    return statistics.median(totals), statistics.median(renders), statistics.median(peers)


def main() -> None:
    print(f"{'case':44}{'report s':>10}{'render s':>10}{'queries alone s':>17}{'queries/report':>16}")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        inv_path = synthetic_inventory(tmp)
        inv = load_inventory(inv_path)
        end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
        start = end - timedelta(hours=HOURS)
        data_file = openmetrics(inv, start.timestamp(), tmp)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(data_file), str(tmp / "tsdb")],
                       check=True, capture_output=True)
        pid = spawn_detached(["prometheus", f"--config.file={ROOT / 'bench/prometheus-empty.yml'}",
                              f"--storage.tsdb.path={tmp / 'tsdb'}", "--web.listen-address=127.0.0.1:39090",
                              "--storage.tsdb.retention.time=10y"], tmp / "prom.log")
        try:
            url = "http://127.0.0.1:39090"
            wait_ready(url)
            total, rendering, peer = time_report(inv, url, Period(start, end), tmp / "out")
            print(f"{'synthetic: 300 targets, 200 links, 24 h, 15 s':44}{total:>10.2f}{rendering:>10.2f}{peer:>17.2f}{peer / total:>16.0%}")
            print(f"target (< 5 s): {'meets' if total < 5 else 'MISSES'}")
        finally:
            stop([pid])
    lab = ROOT / "inventory/examples/lab"
    try:
        from provdc.exporters import stack

        running = stack.attach(lab)
    except Exception:  # noqa: BLE001 - the lab case needs `provdc lab up` and `provdc monitor up`
        print("lab example: skipped (run `provdc lab up` and `provdc monitor up` on the lab example first)")
        return
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as t:
        total, rendering, peer = time_report(load_inventory(lab), running.prometheus_url, Period(now - timedelta(seconds=60), now), Path(t))
    print(f"{'lab example (running stack, last 60 s)':44}{total:>10.2f}{rendering:>10.2f}{peer:>17.2f}{peer / total:>16.0%}")


if __name__ == "__main__":
    sys.exit(main())
