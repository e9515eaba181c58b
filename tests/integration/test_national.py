"""Two levels on loopback: five provinces, each a real Prometheus with the generated
configuration and the full rule set (blackbox and snmp answered by a synthetic source from a
planned schedule, provdc's real exporter with an audit run), and one national Prometheus
federating only their `province:...` aggregates.

Nothing leaves 127.0.0.1: the provinces' `node` job (inventory addresses) is left out and every
active scrape target is asserted to be on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from provdc.checks.results import load_run
from provdc.exporters import promapi
from provdc.exporters.monitoring import Settings
from provdc.exporters.national import load_national
from provdc.inventory import load_inventory
from provdc.lab import federation as F
from provdc.reports import collect
from provdc.reports import national as rollup
from provdc.reports.compute import Period
from tests.conftest import LAB_INVENTORY

PROVINCES = 5
SETTINGS = Settings(scrape_interval="3s", sli_window="6s", rate_window="12s")
NATIONAL = {"scrape_interval": "2s", "evaluation_interval": "2s", "not_reporting_for": "6s"}
DOWN_TARGET = "10.99.20.11"       # a server of the lab inventory (never contacted: the source answers)
PERIOD_SECONDS, STEP = 48, 12    # four buckets: every one must be complete (coverage > 0.9)


def _wait(predicate, timeout: float, what: str, step: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except promapi.PrometheusError:
            pass
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def nation(tmp_path_factory):
    """Five provinces and the nation, with a period of data fully recorded before any test."""
    work = tmp_path_factory.mktemp("national")
    fed = F.Federation(work)
    try:
        t0 = time.time()
        for k in range(1, PROVINCES + 1):
            inv_dir = F.make_province(LAB_INVENTORY, work / f"inv-{k}", f"tinh-{k}", f"Tỉnh Thử {k}")
            F.make_audit_run(load_inventory(inv_dir), work / f"audit-{k}", seed=k)
            # provinces 1 and 3 lose one server for a third of the period: their figures must show it
            outages = {DOWN_TARGET: [(t0 + 20 + 5 * k, t0 + 36 + 5 * k)]} if k in (1, 3) else {}
            fed.add_full_province(inv_dir, work / f"audit-{k}", SETTINGS, outages)
        fed.start_national(NATIONAL)
        start = datetime.fromtimestamp(int(t0) + 12, timezone.utc)
        period = Period(start, datetime.fromtimestamp(start.timestamp() + PERIOD_SECONDS, timezone.utc))
        # every aggregate sample of the period has been evaluated and federated
        time.sleep(max(0.0, period.end.timestamp() + 8 - time.time()))
        yield fed, period, work
    finally:
        left = fed.stop()
        assert not left, f"processes would not stop: {left}"


def test_every_scrape_stays_on_loopback(nation):
    fed, _, _ = nation
    for inst in [*fed.provinces.values(), fed.national]:
        hosts = {urlsplit(t["scrapeUrl"]).hostname for t in promapi.targets(inst.url)}
        assert hosts == {"127.0.0.1"}, (inst.name, hosts)


def test_the_nation_sees_every_provinces_aggregates_and_nothing_else(nation):
    fed, _, _ = nation
    url = fed.national.url
    _wait(lambda: len(promapi.query(url, "count by (province) (province:reporting:up)")) == PROVINCES, 20, "all provinces")
    by_province = promapi.scalar_by(promapi.query(url, 'count by (province) ({__name__=~"province:.+"})'), "province")
    assert sorted(by_province) == [f"tinh-{k}" for k in range(1, PROVINCES + 1)]
    # each province sends exactly what it records, no raw series (probe_success, if-mib, provdc_*)
    for pid, inst in fed.provinces.items():
        local = promapi.query(inst.url, 'count({__name__=~"province:.+"})')[0]["value"][1]
        assert by_province[pid] == float(local), pid
    others = promapi.query(url, 'count({__name__=~".+",__name__!~"province:.+|nation:.+|up|scrape_.+|ALERTS|ALERTS_FOR_STATE"})')
    assert others == [], others
    assert promapi.query(url, "nation:provinces_reporting:count")[0]["value"][1] == str(PROVINCES)


def test_national_rollup_figures_equal_each_provincial_report(nation):
    fed, period, work = nation
    nat = load_national(work / "national.yaml")
    report = rollup.collect(nat, fed.national.url, period, STEP)
    assert [p.province for p in report.provinces] == [f"tinh-{k}" for k in range(1, PROVINCES + 1)]
    for fig in report.provinces:
        inv = load_inventory(fed.inventories[fig.province])
        provincial = rollup.province_figures(fed.provinces[fig.province].url, fig.province, fig.name, period, STEP,
                                             federated=False, inventory=inv)
        assert rollup.figures_json(fig) == rollup.figures_json(provincial), fig.province
        assert fig.reporting and len(fig.systems) == len(inv.doc.systems) and len(fig.links) == 5
        # the audit figures are the provincial report's own (same run, same formula)
        run = load_run(sorted((work / f"audit-{fig.province.split('-')[1]}").glob("audit-*.json"))[-1])
        layers = run.group_scores("layer")
        assert fig.layer_scores == {k: (p.with_waivers, p.without_waivers) for k, p in sorted(layers.items())
                                    if p.with_waivers is not None}
        assert fig.level_scores == {k: (p.with_waivers, p.without_waivers) for k, p in run.group_scores("level").items()
                                    if p.with_waivers is not None}
        # a planned outage shows where it was planned, and only there
        hit = {s.id for s in inv.doc.systems if any(str(inv.servers[sv].address) == DOWN_TARGET for sv in s.servers)}
        for s in fig.systems:
            assert s.result.coverage > 0.9, (fig.province, s.id, s.result.coverage)
            if fig.province in ("tinh-1", "tinh-3") and s.id in hit:
                assert 0.5 < s.result.availability < 0.9 and s.met is False, (fig.province, s.id, s.result)
            else:
                assert s.result.availability == 1.0 and s.met, (fig.province, s.id, s.result)
        # link figures: samples every rate window, p95 between mean and peak, contract from the exporter
        for link in fig.links:
            for d in link.directions:
                assert d.samples >= PERIOD_SECONDS // 12 - 1 and d.mean_bps <= d.p95_bps <= d.peak_bps
                assert d.contract_bps == {"a_to_b": inv.links[link.id].capacity.a_to_b,
                                          "b_to_a": inv.links[link.id].capacity.b_to_a}[d.direction]
        # and `provdc report` of the province prints the very same system figures (one computation)
        report = collect.collect(inv, fed.provinces[fig.province].url, period, step=STEP)
        assert report.sli.recorded and report.step == STEP
        assert {s.id: s.result for s in report.systems} == {s.id: s.result for s in fig.systems}, fig.province
    below = promapi.scalar_by(promapi.query(fed.national.url, "nation:systems_below_target:count"), "province")
    assert set(below) == {"tinh-1", "tinh-3"}, below


def test_rollup_command_writes_html_and_json(nation):
    fed, period, work = nation
    common = [sys.executable, "-m", "provdc.cli", "national", "report", str(work / "national.yaml"), "--prometheus",
              fed.national.url, "--from", period.start.isoformat(), "--to", period.end.isoformat(), "--step", str(STEP),
              "--out", str(work / "out")]
    for fmt, lang in (("json", "en"), ("html", "vi")):
        r = subprocess.run([*common, "--format", fmt, "--lang", lang], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(next((work / "out").glob("national-*.json")).read_text())
    assert data["schema"] == "provdc-national-report/1" and len(data["provinces"]) == PROVINCES
    html = next((work / "out").glob("national-*-vi.html")).read_text()
    assert "Báo cáo tổng hợp toàn quốc" in html and html.count('class="province"') == PROVINCES
    assert "5/5 tỉnh, thành phố đang gửi số liệu" in html


def test_a_stopped_province_fires_the_national_not_reporting_alert(nation):
    fed, _, work = nation
    url = fed.national.url
    firing = 'ALERTS{alertname="NationalProvinceNotReporting",alertstate="firing"}'
    assert promapi.query(url, firing) == []
    stopped = "tinh-4"
    stopped_at = time.time()
    fed.stop_province(stopped)
    try:
        _the_stopped_province_is_reported_missing(fed, url, work, stopped, stopped_at, firing)
    finally:  # the module's other tests find the nation as the fixture built it, in any order
        fed.restart_province(stopped)
        _wait(lambda: promapi.query(url, firing) == [], 60, "the alert for tinh-4 to resolve")
        _wait(lambda: bool(promapi.targets(fed.provinces[stopped].url)), 30, "tinh-4's scrape targets back")


def _the_stopped_province_is_reported_missing(fed, url, work, stopped, stopped_at, firing) -> None:
    _wait(lambda: promapi.scalar_by(promapi.query(url, firing), "province") == {stopped: 1.0}, 30, "the alert for tinh-4")
    assert promapi.query(url, f'up{{job="federate_{stopped}"}}')[0]["value"][1] == "0"
    # the roll-up over a period spanning the stop: tinh-4 is not reporting and its silence is a
    # coverage gap, never counted as up; the others are complete
    end = stopped_at + 24
    time.sleep(max(0.0, end + 8 - time.time()))   # every other province's samples are in
    period = Period(datetime.fromtimestamp(end - 48, timezone.utc), datetime.fromtimestamp(end, timezone.utc))
    report = rollup.collect(load_national(work / "national.yaml"), url, period, STEP)
    for fig in report.provinces:
        assert fig.reporting == (fig.province != stopped), fig.province
        worst = min(s.result.coverage for s in fig.systems)
        assert (worst < 0.8) if fig.province == stopped else (worst > 0.9), (fig.province, worst)
