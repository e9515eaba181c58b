"""The links' recorded 5-minute rates against rate() over each bucket, on the same data in a real
loopback Prometheus (no lab): octet counters every 15 s backfilled with promtool, then the
generated `provdc-link-rates` group backfilled over them by promtool itself
(`tsdb create-blocks-from rules`, at the group's own 5-minute interval and phase).

Stated tolerance, on a day of 5-minute buckets whose load steps every 30 minutes: the mean
within 0.5 % (the recorded windows are offset from the buckets by less than 5 minutes: at most
one window of difference at each end of the day), peak equal, p95 within 1 % of the peak."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from provdc.exporters import monitoring, promapi
from provdc.inventory import load_inventory
from provdc.lab.federation import free_port
from provdc.proc import spawn_detached, stop
from provdc.reports import collect
from provdc.reports.compute import VN, Period, summarise

LAB = Path(__file__).resolve().parents[2] / "inventory" / "examples" / "lab"
DAY = Period(datetime(2026, 11, 20, tzinfo=VN), datetime(2026, 11, 21, tzinfo=VN))
GRID = 15
LINKS = {"wan-so-khcn": 8e6, "wan-xa-dong-son": 0.5e6}     # bits/s at the lowest of 6 levels


RECORDED = Period(DAY.start, DAY.start + timedelta(days=8))     # the rules ran these 8 days


def _rate(base: float, t: int) -> float:
    """Bits/s carried at time t: six levels, each held 30 minutes, 10 % higher on the second
    day of every three and 20 % on the third, and half as much again on the eighth day (only
    the second 7-day window holds it)."""
    day = (t - int(DAY.start.timestamp())) // 86400
    return base * (1 + (t // 1800) % 6) * (1 + 0.1 * (day % 3) + (0.5 if day == 7 else 0))


def _openmetrics(path: Path, start: int, end: int) -> None:
    with path.open("w") as f:
        f.write("# TYPE provdc:link_octets:total unknown\n")
        for link, base in LINKS.items():
            for direction, share in (("a_to_b", 1.0), ("b_to_a", 0.25)):
                value, rows = 0.0, []
                for t in range(start, end + 1, GRID):
                    rows.append(f'provdc:link_octets:total{{link="{link}",direction="{direction}"}} {value:.0f} {t}\n')
                    value += _rate(base * share, t) / 8 * GRID
                f.writelines(rows)
        f.write("# EOF\n")


def _start(tmp: Path, port: int) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}"
    pid = spawn_detached(["prometheus", f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                          f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=10y"], tmp / "prom.log")
    for _ in range(300):
        try:
            promapi.targets(url)
            return pid, url
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    stop([pid])
    raise RuntimeError("Prometheus did not start")


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def prometheus(inv, tmp_path_factory):
    """(url before the rules' backfill, url after): the same counters, then the recorded rates too."""
    tmp = tmp_path_factory.mktemp("rates")
    start, end = int(RECORDED.start.timestamp()) - 3600, int(RECORDED.end.timestamp()) + 3600
    _openmetrics(tmp / "data.om", start, end)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=72h",
                    str(tmp / "data.om"), str(tmp / "tsdb")], check=True, capture_output=True)
    dead, port = free_port(), free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 15s}\nscrape_configs:\n"
        f"  - {{job_name: snmp, static_configs: [{{targets: ['127.0.0.1:{dead}']}}]}}\n")
    rules = monitoring.recording_rules(inv, monitoring.Settings())
    group = next(g for g in rules["groups"] if g["name"] == monitoring.LINK_RATES_GROUP)
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": [group]}))
    pid, url = _start(tmp, port)
    try:
        raw = collect.bandwidth(inv, url, DAY, 300)
        # the rules over the 8 days only (an hour of counters either side for rate())
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", f"--start={int(RECORDED.start.timestamp())}",
                        f"--end={int(RECORDED.end.timestamp())}", f"--url={url}", f"--output-dir={tmp / 'rules'}", "--quiet",
                        str(tmp / "rules.yml")], check=True, capture_output=True)
    finally:
        stop([pid])
    for block in (tmp / "rules").iterdir():
        shutil.move(str(block), tmp / "tsdb" / block.name)
    pid, url = _start(tmp, port)
    try:
        yield raw, url
    finally:
        stop([pid])


def test_recorded_rates_agree_with_the_rate_over_each_bucket(inv, prometheus):
    raw, url = prometheus
    assert collect.link_source(url, DAY, 300) == collect.RecordSource(True, 300.0)
    recorded = collect.bandwidth(inv, url, DAY, 300)
    pairs = [(r, d) for a, b in zip(recorded, raw) for r, d in zip(a.directions, b.directions) if r.mean_bps]
    assert len(pairs) == 2 * len(LINKS)
    for rec, direct in pairs:
        assert rec.mean_bps == pytest.approx(direct.mean_bps, rel=0.005)
        assert rec.peak_bps == pytest.approx(direct.peak_bps, rel=1e-6)
        assert abs(rec.p95_bps - direct.p95_bps) <= 0.01 * direct.peak_bps
    # and the day's mean is the carried load's (3.5 x the base: levels 1..6), both ways
    so = next(link for link in recorded if link.id == "wan-so-khcn").directions[0]
    assert so.mean_bps == pytest.approx(3.5 * LINKS["wan-so-khcn"], rel=0.005)


def test_the_report_falls_back_to_the_counters_where_the_rules_did_not_record(inv, prometheus):
    _, url = prometheus
    # a period reaching past the recorded day, and buckets that are not whole 5-minute windows
    longer = Period(DAY.start - timedelta(minutes=30), DAY.end)
    assert collect.link_source(url, longer, 300) == collect.RecordSource(False)
    assert collect.link_source(url, DAY, 450) == collect.RecordSource(False)
    assert collect.link_source(url, DAY, 900) == collect.RecordSource(True, 300.0)
    report = collect.collect(inv, url, longer, now=DAY.end + timedelta(days=1))
    assert report.link_rates == collect.RecordSource(False)


def test_prometheus_summarises_the_recorded_rates_as_the_report_does_every_bucket(inv, prometheus):
    """One record per bucket: the count, mean, peak, nearest-rank p95 and each 7-day window's
    p95 that Prometheus computes are summarise()'s of the same buckets, and the chart's points
    the envelope of every bucket in each column."""
    _, url = prometheus
    source = collect.link_source(url, RECORDED, 300)
    assert source == collect.RecordSource(True, 300.0)
    summaries, points = collect._recorded_loads(url, RECORDED, 300)
    every = collect._link_samples(url, RECORDED, 300, source)
    assert set(summaries) == {(link, d) for link in LINKS for d in ("a_to_b", "b_to_a")}
    for (link, direction), got in summaries.items():
        samples = every[link][direction]
        want = summarise(samples, RECORDED)
        assert got.samples == want.samples == 8 * 288
        assert got.mean == pytest.approx(want.mean, rel=1e-9) and got.peak == want.peak
        assert got.p95 == pytest.approx(want.p95, rel=1e-9)
        assert list(got.windows) == list(want.windows) and len(got.windows) == 2
        assert list(got.windows.values()) == pytest.approx(list(want.windows.values()), rel=1e-9)
        assert len(set(got.windows.values())) == 2          # the two windows differ: the worst is a real choice
        columns = {}
        for t, v in samples:
            columns.setdefault(min(range(len(points[(link, direction)]) // 2),
                                   key=lambda c: abs(points[(link, direction)][2 * c][0] - t)), []).append(v)
        assert [(min(vs), max(vs)) for _, vs in sorted(columns.items())] == [
            (points[(link, direction)][2 * c][1], points[(link, direction)][2 * c + 1][1]) for c in sorted(columns)]
    report = collect.bandwidth(inv, url, RECORDED, 300)
    so = next(link for link in report if link.id == "wan-so-khcn").directions[0]
    assert so.worst_window_p95_bps == max(summaries[("wan-so-khcn", "a_to_b")].windows.values())
