"""Report benchmark: time to produce a report, next to the time of its Prometheus queries alone.

Cases: a synthetic province of 300 probe targets and 200 links (both directions), every series
at a 15 s scrape interval, over 24 hours and over a calendar month (default October 2026, Vietnam
time: 31 days, about 178,560 samples per series, 125 million in all), backfilled into a fresh
loopback Prometheus with `promtool tsdb create-blocks-from openmetrics` (real queries, real
TSDB); and the lab example (a running lab and monitoring stack, last 60 s). The series are the
ones the report reads: probe_success per target, and per link direction the octet counter
provdc:link_octets:total whose rate() the report takes over each bucket. The month is
generated and backfilled one 54-hour block at a time (bounded disk and memory), outside the
measured time; Prometheus' first compaction is let finish before measuring. The peer column is
the same HTTP queries issued alone: the share of the report's time that is Prometheus. Median
of 3. Targets: under 5 s for 24 hours, under 10 s for the month. Root, loopback only.

    python bench/bench_report.py                 # 24 h, the month 2026-10, the lab if running
    python bench/bench_report.py --no-month      # 24 h (and the lab) only
    python bench/bench_report.py --profile /tmp/month.prof    # cProfile the month's first report
"""

from __future__ import annotations

import argparse
import shutil
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


GRID = 15                      # s: every series, probes and link counters, is sampled every 15 s
BLOCK = 54 * 3600              # s: promtool block length (one of Prometheus' ranges, 2h x 3^k)


def _series(inv) -> tuple[list[tuple[int, str]], list[tuple[int, str, int, int]]]:
    """The probe series (three per server, as the blackbox jobs label them) and the link
    counters (the series the report's rate() reads: provdc:link_octets:total, both directions)."""
    probes = []
    for n, s in enumerate(inv.doc.servers):
        systems = "," + ",".join(x.id for x in inv.systems_by_server[s.id]) + ","
        for job, target in (("blackbox_icmp", str(s.address)), ("blackbox_https", f"https://{s.address}:443/"),
                            ("blackbox_tcp", f"{s.address}:8443")):
            probes.append((n, f'job="{job}",instance="{target}",server="{s.id}",systems="{systems}"'))
    links = []
    for i, link in enumerate(inv.doc.links):
        for direction, base, inc in (("a_to_b", 400_000, 50_000), ("b_to_a", 120_000, 15_000)):
            links.append((i, f'link="{link.id}",direction="{direction}"', base, inc))
    return probes, links


def openmetrics(inv, origin: int, first: int, stop: int, path: Path, counters: dict) -> int:
    """Samples k in [first, stop) of the 15 s grid from `origin` (Unix s), written series by
    series: probe_success (a one-minute outage of each target every 4 hours, phase by server),
    and each link direction's octet counter, whose rate steps every 5 minutes through 20 levels
    (bytes/s); `counters` carries each counter's value from one file to the next. Returns the
    number of samples written."""
    probes, links = _series(inv)
    ks = range(first, stop)
    stamps = [str(origin + GRID * k) for k in ks]
    with path.open("w") as f:
        f.write("# TYPE probe_success gauge\n")
        for n, labels in probes:
            prefix = f"probe_success{{{labels}}} "
            f.write("".join([f"{prefix}{0 if (k + 7 * n) % 960 < 4 else 1} {t}\n" for k, t in zip(ks, stamps)]))
        # the recording rule's type is unknown to Prometheus too; rate() reads the samples
        f.write("# TYPE provdc:link_octets:total unknown\n")
        for i, labels, base, inc in links:
            prefix = f"provdc:link_octets:total{{{labels}}} "
            value = counters.get(labels, 0)
            rows = []
            for k, t in zip(ks, stamps):
                rows.append(f"{prefix}{value} {t}\n")
                value += GRID * (base + inc * ((k // 20 + i) % 20))
            counters[labels] = value
            f.write("".join(rows))
        f.write("# EOF\n")
    return (len(probes) + len(links)) * len(ks)


def backfill(inv, start: datetime, end: datetime, tmp: Path) -> tuple[int, int, float]:
    """Every 15 s sample of [start, end] into tmp/tsdb, one promtool run per 54-hour block
    (the file holds exactly one block's range, so promtool parses it once, and the text on disk
    is at most one block's: bounded disk and memory). Returns (samples, files, seconds)."""
    t = time.perf_counter()
    origin, last = int(start.timestamp()), int(end.timestamp())
    total_k = (last - origin) // GRID + 1                    # both ends: the last bucket's end sample
    counters: dict = {}
    samples = files = 0
    k = 0
    while k < total_k:
        ts = origin + GRID * k
        edge = (ts // BLOCK + 1) * BLOCK                     # promtool aligns blocks to multiples of their length
        stop_k = min(total_k, -(-(edge - origin) // GRID))
        path = tmp / "part.om"
        samples += openmetrics(inv, origin, k, stop_k, path, counters)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={BLOCK // 3600}h",
                        str(path), str(tmp / "tsdb")], check=True, capture_output=True)
        path.unlink()
        files += 1
        k = stop_k
    return samples, files, time.perf_counter() - t


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("Prometheus did not become ready")


def queries_alone(inv, url: str, period: Period) -> float:
    """The report's own Prometheus calls, issued by collect itself (the same expressions, side
    by side where it runs them side by side) and decoded, but every query answered to collect as
    empty: the HTTP and Prometheus part of the report, with none of its Python arithmetic."""
    real = promapi.api

    def api(base_url, path, params=None, timeout=30):
        data = real(base_url, path, params, timeout)
        return {"resultType": data.get("resultType"), "result": []} if path.startswith("/api/v1/query") else data

    promapi.api = api
    try:
        t = time.perf_counter()
        collect.collect(inv, url, period)
        return time.perf_counter() - t
    finally:
        promapi.api = real


def peak_rss_reset(pid: int | str = "self") -> None:
    """Start a new peak-RSS measurement of a process (Linux: clear_refs 5 resets VmHWM)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def time_report(inv, url: str, period: Period, out: Path, repeat: int = 3, prom_pid: int | None = None,
                profile: Path | None = None) -> dict:
    totals, renders, peers = [], [], []
    peak_rss_reset()
    if prom_pid:
        peak_rss_reset(prom_pid)
    for n in range(repeat):
        profiler = None
        if profile and n == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t = time.perf_counter()
        data = collect.collect(inv, url, period)
        t_collect = time.perf_counter()
        render.write([data], "html", "vi", out)
        totals.append(time.perf_counter() - t)
        renders.append(time.perf_counter() - t_collect)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        del data
        peers.append(queries_alone(inv, url, period))
    return {"total": statistics.median(totals), "render": statistics.median(renders), "peer": statistics.median(peers),
            "all": totals, "rss": peak_rss_mb(), "prom_rss": peak_rss_mb(prom_pid) if prom_pid else 0.0}


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:  # noqa: S310 - loopback
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def settle_compaction(url: str, timeout: float = 900) -> tuple[float, int]:
    """Wait for Prometheus' first compaction round (a minute after it starts) to finish, so its
    blocks are what a month-old server holds and no compaction runs under the measurement.
    Returns (seconds waited, blocks loaded)."""
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if (_metric(url, "prometheus_tsdb_compactions_triggered_total") >= 1
                and _metric(url, "prometheus_tsdb_compaction_populating_block") == 0):
            before = _metric(url, "prometheus_tsdb_compactions_total")
            time.sleep(5)
            if (_metric(url, "prometheus_tsdb_compactions_total") == before
                    and _metric(url, "prometheus_tsdb_compaction_populating_block") == 0):
                break
        else:
            time.sleep(2)
    return time.perf_counter() - t, int(_metric(url, "prometheus_tsdb_blocks_loaded"))


def synthetic_case(inv, start: datetime, end: datetime, tmp: Path, repeat: int, profile: Path | None = None) -> dict:
    """Backfill [start, end] into a fresh Prometheus on loopback, then time the report of it."""
    samples, files, backfill_s = backfill(inv, start, end, tmp)
    days = (end - start).total_seconds() / 86400
    pid = spawn_detached(["prometheus", f"--config.file={ROOT / 'bench/prometheus-empty.yml'}",
                          f"--storage.tsdb.path={tmp / 'tsdb'}", "--web.listen-address=127.0.0.1:39090",
                          "--storage.tsdb.retention.time=10y"], tmp / "prom.log")
    try:
        url = "http://127.0.0.1:39090"
        wait_ready(url)
        waited, blocks = settle_compaction(url) if days > 3 else (0.0, int(_metric(url, "prometheus_tsdb_blocks_loaded")))
        result = time_report(inv, url, Period(start, end), tmp / "out", repeat, pid, profile)
    finally:
        stop([pid])
    shutil.rmtree(tmp / "tsdb", ignore_errors=True)
    return {**result, "samples": samples, "files": files, "backfill": backfill_s, "compaction_wait": waited, "blocks": blocks}


def row(name: str, r: dict) -> str:
    return f"{name:52}{r['total']:>10.2f}{r['render']:>10.2f}{r['peer']:>17.2f}{r['peer'] / r['total']:>16.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-10", help="the calendar month case (Vietnam time), YYYY-MM; default 2026-10")
    parser.add_argument("--no-month", action="store_true", help="skip the calendar month case (31 days of backfill)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="cProfile the month case's first report into this file")
    args = parser.parse_args()
    print(f"{'case':52}{'report s':>10}{'render s':>10}{'queries alone s':>17}{'queries/report':>16}")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        inv = load_inventory(synthetic_inventory(tmp))
        end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
        day = synthetic_case(inv, end - timedelta(hours=HOURS), end, tmp, args.repeat)
        print(row("synthetic: 300 targets, 200 links, 24 h, 15 s", day))
        print(f"target (< 5 s): {'meets' if day['total'] < 5 else 'MISSES'}")
        if not args.no_month:
            period = Period.parse(args.month, None, None)
            month = synthetic_case(inv, period.start, period.end, tmp, args.repeat, args.profile)
            print(row(f"synthetic: 300 targets, 200 links, {args.month} (31 d)" if period.seconds == 31 * 86400
                      else f"synthetic: 300 targets, 200 links, {args.month}", month))
            print(f"  backfill (not measured): {month['samples']:,} samples in {month['files']} promtool runs, "
                  f"{month['backfill']:.0f} s; then {month['compaction_wait']:.0f} s for Prometheus' compaction, "
                  f"{month['blocks']} blocks")
            print(f"  reports: {', '.join(f'{x:.2f}' for x in month['all'])} s; peak RSS: report process {month['rss']:.0f} MB, "
                  f"Prometheus {month['prom_rss']:.0f} MB (during the reports)")
            print(f"target (< 10 s): {'meets' if month['total'] < 10 else 'MISSES'}")
    lab = ROOT / "inventory/examples/lab"
    try:
        from provdc.exporters import stack

        running = stack.attach(lab)
    except Exception:  # noqa: BLE001 - the lab case needs `provdc lab up` and `provdc monitor up`
        print("lab example: skipped (run `provdc lab up` and `provdc monitor up` on the lab example first)")
        return
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as t:
        lab_row = time_report(load_inventory(lab), running.prometheus_url, Period(now - timedelta(seconds=60), now), Path(t), args.repeat)
    print(row("lab example (running stack, last 60 s)", lab_row))


if __name__ == "__main__":
    sys.exit(main())
