"""The targets' recorded 5-minute probe counts against the probes themselves, on the same data in
a real loopback Prometheus (no lab): probe_success every 15 s backfilled with promtool, then the
generated `provdc-probe-counts` group backfilled over it by promtool itself (`tsdb
create-blocks-from rules`, at the group's own 5-minute interval and phase), then the report reads
each target both ways: every bucket from the probes, and sparsely from the records.

The day (14/11/2026, Vietnam time) holds the lab's portal maintenance window (22:00-23:30); on it,
portal-web1 is down 10:00-10:30, db1 sends nothing 02:00-03:00 (a gap) and every other probe
05:00-06:00 (half measured). Stated tolerance: downtime and measured time within one record's
5 minutes of the probes' own (the records' windows are offset from the buckets by the group's
phase, under 5 minutes), the same incidents within one bucket at each end."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from provdc.exporters import monitoring
from provdc.inventory import load_inventory
from provdc.lab.federation import free_port
from provdc.proc import stop
from provdc.reports import collect
from provdc.reports.compute import VN, Period
from tests.integration.test_link_rates import _start

LAB = Path(__file__).resolve().parents[2] / "inventory" / "examples" / "lab"
DAY = Period(datetime(2026, 11, 14, tzinfo=VN), datetime(2026, 11, 15, tzinfo=VN))
GRID = 15
WEB = {"job": "blackbox_https", "instance": "https://10.99.10.11:443/", "server": "portal-web1", "service": "https",
       "systems": ",portal,"}
DB = {"job": "blackbox_tcp", "instance": "10.99.30.11:5432", "server": "db1", "service": "postgresql",
      "systems": ",portal,mcdt,"}


def _at(hour: float) -> int:
    return int(DAY.start.timestamp() + hour * 3600)


def _sample(labels: dict, t: int) -> int | None:
    """The probe's value at t, or None where no probe was recorded."""
    if labels is WEB:
        return 0 if _at(10) <= t < _at(10.5) else 1
    if _at(2) <= t < _at(3) or (_at(5) <= t < _at(6) and (t // GRID) % 2):
        return None
    return 1


def _openmetrics(path: Path, start: int, end: int) -> None:
    with path.open("w") as f:
        f.write("# TYPE probe_success gauge\n")
        for labels in (WEB, DB):
            text = ",".join(f'{k}="{v}"' for k, v in labels.items())
            f.writelines(f"probe_success{{{text}}} {v} {t}\n" for t in range(start, end + 1, GRID)
                         if (v := _sample(labels, t)) is not None)
        f.write("# EOF\n")


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def prometheus(inv, tmp_path_factory):
    """The url of a Prometheus holding the probes and, over the day, the rules' probe counts."""
    tmp = tmp_path_factory.mktemp("probes")
    _openmetrics(tmp / "data.om", int(DAY.start.timestamp()) - 3600, int(DAY.end.timestamp()) + 3600)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=72h",
                    str(tmp / "data.om"), str(tmp / "tsdb")], check=True, capture_output=True)
    dead, port = free_port(), free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 15s}\nscrape_configs:\n"
        + "".join(f"  - {{job_name: {job}, static_configs: [{{targets: ['127.0.0.1:{dead}']}}]}}\n"
                  for job in ("blackbox_https", "blackbox_tcp", "blackbox_icmp")))
    rules = monitoring.recording_rules(inv, monitoring.Settings())
    group = next(g for g in rules["groups"] if g["name"] == monitoring.PROBE_COUNTS_GROUP)
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": [group]}))
    pid, url = _start(tmp, port)
    try:
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", f"--start={int(DAY.start.timestamp())}",
                        f"--end={int(DAY.end.timestamp())}", f"--url={url}", f"--output-dir={tmp / 'rules'}", "--quiet",
                        str(tmp / "rules.yml")], check=True, capture_output=True)
    finally:
        stop([pid])
    for block in (tmp / "rules").iterdir():
        shutil.move(str(block), tmp / "tsdb" / block.name)
    pid, url = _start(tmp, port)
    try:
        yield url
    finally:
        stop([pid])


def _targets(inv, url: str, probes: collect.RecordSource) -> dict[tuple[str, str], collect.TargetAvailability]:
    systems, _ = collect.uptime(inv, url, DAY, 300, probes=probes)
    return {(s.id, t.server): t for s in systems for t in s.targets}


def test_the_records_cover_the_day_and_are_read_sparsely(inv, prometheus):
    assert collect.probe_source(prometheus, DAY, 300) == collect.RecordSource(True, 300.0)
    # buckets of two records, or a period the rules did not record whole: back to the probes
    assert collect.probe_source(prometheus, DAY, 600) == collect.RecordSource(False)
    longer = Period(DAY.start, datetime(2026, 11, 15, 1, tzinfo=VN))
    assert collect.probe_source(prometheus, longer, 300) == collect.RecordSource(False)
    read = collect._buckets_over(prometheus, DAY, 300, collect.RecordSource(True, 300.0), collect.all_windows(inv),
                                 {"blackbox_https": 15.0, "blackbox_tcp": 15.0})
    web = read[("blackbox_https", WEB["instance"])]["sparse"]
    db = read[("blackbox_tcp", DB["instance"])]["sparse"]
    assert web.count == 288 and web.present == 288 and not web.partial
    assert 6 <= len(web.failed) <= 7                                  # 30 minutes over 6 or 7 records
    assert 276 <= db.present <= 277 and 12 <= len(db.partial) <= 15 and not db.failed   # the edges of the gap: partial


def test_recorded_counts_give_the_probes_figures(inv, prometheus):
    raw = _targets(inv, prometheus, collect.RecordSource(False))
    recorded = _targets(inv, prometheus, collect.RecordSource(True, 300.0))
    assert set(raw) == set(recorded) == {("portal", "portal-web1"), ("portal", "db1"), ("mcdt", "db1")}
    for key, direct in raw.items():
        got, want = recorded[key].result, direct.result
        assert got.downtime_minutes == pytest.approx(want.downtime_minutes, abs=5)
        assert got.measured_minutes == pytest.approx(want.measured_minutes, abs=5)
        assert got.maintenance_minutes == want.maintenance_minutes
        assert len(got.incidents) == len(want.incidents)
        for a, b in zip(got.incidents, want.incidents):
            assert abs(a.start - b.start) <= 300 and abs(a.end - b.end) <= 300
        assert recorded[key].sample_ratio == pytest.approx(direct.sample_ratio, abs=2e-3)
    # by hand: the portal's 90-minute window is excluded; web1 was down 30 of the other 1,350
    web = raw[("portal", "portal-web1")].result
    assert web.maintenance_minutes == 90 and web.downtime_minutes == pytest.approx(30)
    assert web.availability == pytest.approx(1 - 30 / 1350) and web.coverage == pytest.approx(1.0)
    assert recorded[("portal", "portal-web1")].result.availability == pytest.approx(1 - 30 / 1350, abs=1e-3)
    # db1 under mcdt (no window): an hour unmeasured, an hour half measured, never down
    db = raw[("mcdt", "db1")].result
    assert db.downtime_minutes == 0 and db.availability == 1.0
    assert db.measured_minutes == pytest.approx(1440 - 60 - 30)
    assert recorded[("mcdt", "db1")].result.coverage == pytest.approx((1440 - 90) / 1440, abs=5 / 1440)


def test_a_report_reads_the_records_where_the_rules_ran(inv, prometheus):
    report = collect.collect(inv, prometheus, DAY, now=datetime(2026, 11, 16, tzinfo=VN))
    assert report.probe_counts == collect.RecordSource(True, 300.0)
    portal = next(s for s in report.systems if s.id == "portal")
    web = next(t for t in portal.targets if t.server == "portal-web1")
    assert web.result.availability == pytest.approx(1 - 30 / 1350, abs=1e-3)



def test_a_month_before_any_probe_is_unmeasured_from_one_query(inv, prometheus):
    before = Period.month(2026, 9)
    assert collect.probed(prometheus, DAY) and collect.probed(prometheus, DAY, recorded=True)
    assert not collect.probed(prometheus, before) and not collect.probed(prometheus, before, recorded=True)
    systems, agencies = collect.uptime(inv, prometheus, before, 300)
    assert systems and all(s.result.availability is None and s.result.coverage == 0 and not s.targets for s in systems)
    assert all(a.result is None for a in agencies)
