"""Report benchmark: time to produce a report, and how much of it is spent waiting on Prometheus.

Cases: a synthetic province of 300 probe targets and 200 links (both directions), every series
at a 15 s scrape interval, over 24 hours and over a calendar month (default October 2026, Vietnam
time: 31 days, about 178,560 samples per series, 125 million in all), backfilled into a fresh
loopback Prometheus with `promtool tsdb create-blocks-from openmetrics` (real queries, real
TSDB); and the lab example (a running lab and monitoring stack, last 60 s). The series are the
ones the report reads: probe_success per target, and per link direction the octet counter
provdc:link_octets:total. The month is generated and backfilled one 54-hour block at a time
(bounded disk and memory), outside the measured time. Then the generated recording rules the
report reads (the province's system SLI and coverage, the links' 5-minute rates) are backfilled
over the same period by Prometheus' own tool (`promtool tsdb create-blocks-from rules` against
the bench Prometheus), as a province whose rules ran all month holds them, and Prometheus'
compaction is let finish. The report is timed twice on the same data: reading the recorded
series, and on demand (the source choice told that no rules ran: SLI subqueries, rate() over
each bucket), with the largest difference between their figures. The Prometheus column is the
wall time during which at least one of the report's own HTTP calls was in flight (query, transfer,
decoding), measured during the timed report: the share of the report's time that is Prometheus. Median of 3, the
timed reports under /run/provdc-bench.lock. Targets: under 5 s for 24 hours, under 10 s for
the month. Root, loopback only.

    python bench/bench_report.py                 # 24 h, the month 2026-10, the lab if running
    python bench/bench_report.py --no-month      # 24 h (and the lab) only
    python bench/bench_report.py --profile /tmp/month.prof    # cProfile the month's first report
    python bench/bench_report.py --keep /var/tmp/provdc-month   # prepare the month once, reuse it after
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
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

from provdc.exporters import monitoring, national, promapi
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


# the recorded series the report reads (collect.sli_source / system_sli_buckets, collect.link_source /
# _link_samples), recorded by the generated rules themselves
REPORT_RECORDS = {"province:system_availability:sli", "province:system_coverage:ratio", "province:aggregate_window:seconds",
                  monitoring.LINK_RATE, monitoring.LINK_RATE_INTERVAL, monitoring.PROBE_COUNT, monitoring.PROBE_SUCCESSES,
                  monitoring.PROBE_COUNT_INTERVAL}


def report_rules(inv, path: Path) -> Path:
    """The recording rules `provdc monitor config` generates for this inventory, only those the
    report reads (the province's SLI and coverage per system and their window; the links' 5-minute
    rates and their interval), in their own groups and intervals: the file promtool backfills."""
    files = monitoring.generate(inv)
    groups = []
    for name in (national.PROVINCE_RULES, "rules/provdc-recording.yml"):
        for g in yaml.safe_load(files[name])["groups"]:
            rules = [r for r in g["rules"] if r.get("record") in REPORT_RECORDS]
            if rules:
                groups.append({**g, "rules": rules})
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def backfill_rules(inv, url: str, start: datetime, end: datetime, tmp: Path) -> tuple[int, float]:
    """Evaluate the report's recording rules over [start, end] against the Prometheus at `url`
    with promtool (`tsdb create-blocks-from rules`, each group at its own interval, as the rule
    manager would have) into tmp/rule-blocks. Returns (blocks written, seconds)."""
    t = time.perf_counter()
    out = tmp / "rule-blocks"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", f"--start={int(start.timestamp())}",
                    f"--end={int(end.timestamp())}", f"--url={url}", f"--output-dir={out}", "--quiet",
                    str(report_rules(inv, tmp / "report-rules.yml"))], check=True, capture_output=True)
    return len(list(out.iterdir())), time.perf_counter() - t


MERGE_BATCH = 4000   # promtool writes one block per rule and 2 hours; Prometheus opens files for each


def start_prometheus(tmp: Path) -> tuple[int, str]:
    pid = spawn_detached(["prometheus", f"--config.file={ROOT / 'bench/prometheus-empty.yml'}",
                          f"--storage.tsdb.path={tmp / 'tsdb'}", "--web.listen-address=127.0.0.1:39090",
                          "--storage.tsdb.retention.time=10y"], tmp / "prom.log")
    url = "http://127.0.0.1:39090"
    wait_ready(url)
    return pid, url


def merge_rule_blocks(tmp: Path) -> float:
    """Move the rule blocks into the TSDB a few thousand at a time, each batch compacted by
    Prometheus itself into the blocks a month-old server holds (all at once would exceed the
    open-files limit). Prometheus must be stopped; returns seconds."""
    t = time.perf_counter()
    blocks = sorted((tmp / "rule-blocks").iterdir())
    for i in range(0, len(blocks), MERGE_BATCH):
        for d in blocks[i:i + MERGE_BATCH]:
            shutil.move(str(d), tmp / "tsdb" / d.name)
        pid, url = start_prometheus(tmp)
        try:
            settle_compaction(url)
        finally:
            stop([pid])
    return time.perf_counter() - t


@contextlib.contextmanager
def on_demand():
    """The report as on a Prometheus whose rules recorded nothing: the systems' SLI evaluated
    from the probes (the rules' expressions as subqueries) and the links' rate() over each
    bucket, on the same data. Only the two source choices are overridden."""
    sli, links = collect.recorded_window, collect.link_source
    collect.recorded_window = lambda *a, **k: None
    collect.link_source = lambda *a, **k: collect.RecordSource(False)
    try:
        yield
    finally:
        collect.recorded_window, collect.link_source = sli, links


@contextlib.contextmanager
def bench_lock():
    """The machine's benchmark lock, held only for the measured reports."""
    with open("/run/provdc-bench.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("Prometheus did not become ready")


class PrometheusClock:
    """Wall time during which the report waits on Prometheus: the union of the intervals in
    which at least one of its HTTP calls (query, transfer and JSON decoding) is in flight,
    taken during the timed report itself. Its calls run side by side, so their sum would count
    the same second twice; answering them empty instead (an earlier peer) changed which
    queries collect chose to make."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    @contextlib.contextmanager
    def watching(self):
        real = promapi.api

        def api(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.intervals.append((start, time.perf_counter()))  # list.append is atomic across threads

        promapi.api = api
        try:
            yield self
        finally:
            promapi.api = real

    def seconds(self) -> float:
        return union_length(self.intervals)


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of [start, end) intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


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
    with bench_lock():
        return _time_report(inv, url, period, out, repeat, prom_pid, profile)


def _time_report(inv, url: str, period: Period, out: Path, repeat: int, prom_pid: int | None, profile: Path | None) -> dict:
    totals, renders, waits = [], [], []
    sources = None
    peak_rss_reset()
    if prom_pid:
        peak_rss_reset(prom_pid)
    for n in range(repeat):
        profiler = None
        if profile and n == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        clock = PrometheusClock()
        t = time.perf_counter()
        with clock.watching():
            data = collect.collect(inv, url, period)
        t_collect = time.perf_counter()
        sources = {"sli": "recorded" if data.sli.recorded else "on demand",
                   "links": "recorded" if data.link_rates.recorded else "on demand", "figures": figures(data)}
        render.write([data], "html", "vi", out)
        totals.append(time.perf_counter() - t)
        renders.append(time.perf_counter() - t_collect)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        del data
        waits.append(clock.seconds())
    return {"total": statistics.median(totals), "render": statistics.median(renders), "prometheus": statistics.median(waits),
            "all": totals, **(sources or {}), "rss": peak_rss_mb(), "prom_rss": peak_rss_mb(prom_pid) if prom_pid else 0.0}


def figures(data) -> dict:
    """The report's figures the two paths are compared on: each system's availability and
    measured minutes, each link direction's mean, peak, p95 and worst 7-day p95 (bits/s)."""
    return {"systems": {s.id: (s.result.availability, s.result.measured_minutes) for s in data.systems},
            "links": {f"{link.id} {d.direction}": (d.mean_bps, d.peak_bps, d.p95_bps, d.worst_window_p95_bps)
                      for link in data.links for d in link.directions}}


def compare(a: dict, b: dict) -> dict:
    """Largest relative differences between two figures() of the same data."""
    def rel(x, y):
        return abs(x - y) / max(abs(x), abs(y)) if x is not None and y is not None and max(abs(x), abs(y)) else 0.0
    out = {}
    for kind, names in (("systems", ("availability", "measured")), ("links", ("mean", "peak", "p95", "worst_p95"))):
        for i, name in enumerate(names):
            out[f"{kind} {name}"] = max((rel(a[kind][k][i], b[kind][k][i]) for k in a[kind] if k in b[kind]), default=0.0)
    return out


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


def prepare(inv, start: datetime, end: datetime, tmp: Path) -> dict:
    """tmp/tsdb holding [start, end]: the samples backfilled, the report's rules backfilled
    over them by promtool and merged, as a province's month-old Prometheus holds them."""
    samples, files, backfill_s = backfill(inv, start, end, tmp)
    days = (end - start).total_seconds() / 86400
    pid, url = start_prometheus(tmp)
    try:
        settle_compaction(url) if days > 3 else None
        rule_blocks, rules_s = backfill_rules(inv, url, start, end, tmp)
    finally:
        stop([pid])
    merge_s = merge_rule_blocks(tmp)
    shutil.rmtree(tmp / "rule-blocks", ignore_errors=True)
    return {"samples": samples, "files": files, "backfill": backfill_s, "rule_blocks": rule_blocks, "rules": rules_s,
            "merge": merge_s}


def prepared(inv, start: datetime, end: datetime, tmp: Path, keep: Path | None) -> tuple[Path, dict]:
    """The directory whose tsdb holds the case's data: `keep` when it was prepared there for
    the same period and rules before (its preparation figures read back), else prepared now
    (in `keep` for the next run, or in tmp)."""
    where = keep or tmp
    marker = where / "prepared.json"
    key = {"start": start.isoformat(), "end": end.isoformat(), "rules": report_rules(inv, tmp / "rules-now.yml").read_text()}
    if keep and marker.exists():
        done = json.loads(marker.read_text())
        if done.get("key") == key:
            return where, done["figures"]
        shutil.rmtree(where / "tsdb", ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)
    figures = prepare(inv, start, end, where)
    if keep:
        marker.write_text(json.dumps({"key": key, "figures": figures}))
    return where, figures


def synthetic_case(inv, start: datetime, end: datetime, tmp: Path, repeat: int, profile: Path | None = None,
                   keep: Path | None = None) -> dict:
    """Backfill [start, end] into a fresh Prometheus on loopback, then the report's recording
    rules over it with promtool; time the report both ways on the same data: reading the
    recorded series, and on demand (as if no rules had run). With `keep`, the data is kept
    there and reused by the next run of the same case."""
    where, prep = prepared(inv, start, end, tmp, keep)
    days = (end - start).total_seconds() / 86400
    pid, url = start_prometheus(where)
    try:
        waited, blocks = settle_compaction(url) if days > 3 else (0.0, int(_metric(url, "prometheus_tsdb_blocks_loaded")))
        recorded = time_report(inv, url, Period(start, end), tmp / "out", repeat, pid, profile)
        with on_demand():
            demand = time_report(inv, url, Period(start, end), tmp / "out", repeat, pid)
    finally:
        stop([pid])
    if keep is None:
        shutil.rmtree(where / "tsdb", ignore_errors=True)
    return {"recorded": recorded, "on_demand": demand, "diff": compare(recorded["figures"], demand["figures"]),
            **prep, "compaction_wait": waited, "blocks": blocks}


def row(name: str, r: dict) -> str:
    return f"{name:60}{r['total']:>10.2f}{r['render']:>10.2f}{r['prometheus']:>17.2f}{r['prometheus'] / r['total']:>16.0%}"


def case_rows(name: str, case: dict) -> None:
    for key, label in (("recorded", "recorded series"), ("on_demand", "on demand")):
        r = case[key]
        print(row(f"{name}, {label} (SLI {r['sli']}, links {r['links']})", r))
        print(f"  reports: {', '.join(f'{x:.2f}' for x in r['all'])} s; peak RSS: report process {r['rss']:.0f} MB, "
              f"Prometheus {r['prom_rss']:.0f} MB")
    print(f"  backfill (not measured): {case['samples']:,} samples in {case['files']} promtool runs, {case['backfill']:.0f} s; "
          f"rules: {case['rule_blocks']} promtool blocks in {case['rules']:.0f} s, merged by Prometheus in {case['merge']:.0f} s; "
          f"then {case['compaction_wait']:.0f} s for its compaction, {case['blocks']} blocks")
    print("  recorded vs on demand, largest relative difference: "
          + ", ".join(f"{k} {v:.2e}" for k, v in case["diff"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-10", help="the calendar month case (Vietnam time), YYYY-MM; default 2026-10")
    parser.add_argument("--no-month", action="store_true", help="skip the calendar month case (31 days of backfill)")
    parser.add_argument("--no-day", action="store_true", help="skip the 24-hour case")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="cProfile the month case's first report (recorded series) into this file")
    parser.add_argument("--json", type=Path, help="also write every figure measured into this file")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the month's prepared Prometheus data in DIR and reuse it on the next run of the same "
                             "month and rules (its preparation takes about 15 minutes)")
    args = parser.parse_args()
    print(f"{'case':60}{'report s':>10}{'render s':>10}{'on Prometheus s':>17}{'of the report':>16}")
    results = {}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        inv = load_inventory(synthetic_inventory(tmp))
        end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
        if not args.no_day:
            day = results["day"] = synthetic_case(inv, end - timedelta(hours=HOURS), end, tmp, args.repeat)
            case_rows("synthetic: 300 targets, 200 links, 24 h, 15 s", day)
            print(f"target (< 5 s): {'meets' if day['recorded']['total'] < 5 else 'MISSES'} (recorded series)")
        if not args.no_month:
            period = Period.parse(args.month, None, None)
            month = results["month"] = synthetic_case(inv, period.start, period.end, tmp, args.repeat, args.profile, args.keep)
            case_rows(f"synthetic: 300 targets, 200 links, {args.month}" + (" (31 d)" if period.seconds == 31 * 86400 else ""),
                      month)
            print(f"target (< 10 s): {'meets' if month['recorded']['total'] < 10 else 'MISSES'} (recorded series)")
    if args.json:
        args.json.write_text(json.dumps({k: {**v, "recorded": {**v["recorded"], "figures": None},
                                             "on_demand": {**v["on_demand"], "figures": None}} for k, v in results.items()},
                                        indent=1))
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
