"""Report collection on recorded Prometheus API responses (served from loopback), with
hand-checked figures: a gap, a failed bucket, a maintenance window, and a link's p95."""

from __future__ import annotations

from datetime import timedelta

import pytest

from provdc.reports import collect
from provdc.reports.compute import Period

from tests.unit.reports.conftest import PERIOD, QUERIES, T0  # noqa: E402 - the recorded responses live there


def test_system_and_target_availability_from_recorded_responses(lab_inventory, prometheus):
    systems, agencies = collect.uptime(lab_inventory, prometheus, PERIOD, 60)
    portal = next(s for s in systems if s.id == "portal")
    web = next(t for t in portal.targets if t.server == "portal-web1")
    # portal-web1 counts only before the window: 5 min measured, bucket 4 half failed (30 s);
    # its gap (bucket 6) lies inside the window, so coverage of the non-maintenance time is full
    assert web.result.availability == pytest.approx(270 / 300)
    assert web.result.downtime_minutes == pytest.approx(0.5)
    assert web.result.maintenance_minutes == pytest.approx(5) and web.result.coverage == pytest.approx(1.0)
    assert web.sample_ratio == pytest.approx(0.944)     # Prometheus' own figure, via the @ modifier
    # the system, from its SLI: per window the least available of its recorded targets
    # (portal-web1 and db1), the maintenance window excluded. Only 2 of portal's 11 declared
    # targets are recorded, so a window is a 2/11 measure of the system, except bucket 4 where
    # portal-web1 was seen half down: a window with a failure is measured whole
    assert [w for _, _, w in portal.maintenance] == ["mw-portal-2026-11"]
    assert portal.result.maintenance_minutes == pytest.approx(5)
    assert portal.result.measured_minutes == pytest.approx(4 * 2 / 11 + 1)
    assert portal.result.availability == pytest.approx((4 * 2 / 11 + 0.5) / (4 * 2 / 11 + 1))
    assert portal.result.downtime_minutes == pytest.approx(0.5)
    assert portal.met is False
    # mcdt shares db1, whose bucket 8 failed, and has no window: that failure counts there, a
    # whole minute; elsewhere db1 is one of mcdt's 6 declared targets, a sixth of each minute
    mcdt = next(s for s in systems if s.id == "mcdt")
    assert mcdt.result.downtime_minutes == pytest.approx(1) and mcdt.result.measured_minutes == pytest.approx(9 / 6 + 1)
    assert mcdt.result.availability == pytest.approx(1.5 / 2.5) and mcdt.result.coverage == pytest.approx(2.5 / 10)
    assert [(i.start - T0, i.end - T0) for i in mcdt.result.incidents] == [(480, 540)]
    db_under_mcdt = next(t for t in mcdt.targets if t.server == "db1")
    assert db_under_mcdt.result.coverage == pytest.approx(1.0)
    reach = next(a for a in agencies if a.id == "ubnd-xa-dong-son")
    assert reach.result.availability == 1.0 and reach.result.coverage == 1.0


def test_a_gap_lowers_coverage_and_is_not_counted_as_up(lab_inventory, prometheus):
    systems, _ = collect.uptime(lab_inventory, prometheus, PERIOD, 60)
    # lgsp has no recorded target at all: nothing measured is unknown, never 100 %
    lgsp = next(s for s in systems if s.id == "lgsp")
    assert lgsp.result.availability is None and lgsp.result.coverage == 0 and lgsp.met is None


def test_link_load_from_recorded_responses(lab_inventory, prometheus):
    QUERIES.clear()
    links = {link.id: link for link in collect.bandwidth(lab_inventory, prometheus, PERIOD, 60)}
    # each point is the mean over its own 1-minute bucket (15 s scrapes: 4 per bucket)
    assert QUERIES == ["8 * rate(provdc:link_octets:total[60000ms])"]
    load = links["wan-xa-dong-son"]
    a_to_b = load.directions[0]
    # 200k..2M bits/s; p95 of 10 samples by nearest rank = the 10th = 2 Mbit/s
    assert a_to_b.peak_bps == 2_000_000 and a_to_b.p95_bps == 2_000_000
    assert a_to_b.mean_bps == pytest.approx(1_100_000)
    assert a_to_b.p95_utilisation == pytest.approx(1.0) and a_to_b.compliant is False and a_to_b.whole_period_only
    assert load.directions[1].compliant is True
    assert not links["wan-ubnd-tinh"].measured  # no counters recorded: listed as unmeasured


def test_step_always_tiles_the_period():
    assert collect.pick_step(Period.month(2026, 1)) == 300.0          # 8,928 buckets
    assert collect.pick_step(Period.month(2026, 2)) == 300.0          # 8,064 buckets
    odd = Period(PERIOD.start, PERIOD.start + timedelta(seconds=57))
    step = collect.pick_step(odd)
    assert odd.seconds / step == round(odd.seconds / step)


def test_samples_a_millisecond_off_the_grid_still_land_in_their_bucket():
    """Prometheus may evaluate at start+1 ms after parsing a float start time."""
    start_ms, step_ms = 1_795_335_000_123, 10_000
    values = [[(start_ms + k * step_ms + (1 if k % 2 else -1)) / 1000, str(k)] for k in range(5)]
    assert collect._by_index(values, start_ms, step_ms) == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}


def test_a_period_ending_now_ends_at_the_last_complete_scrape_round(lab_inventory, prometheus):
    from provdc.errors import ProvdcError

    # the recorded targets scrape every 15 s with no timeout stated (Prometheus' 10 s default)
    assert collect.settle_seconds(prometheus) == 25
    now = PERIOD.end + timedelta(seconds=5)
    report = collect.collect(lab_inventory, prometheus, PERIOD, now=now)
    assert report.period.end == now - timedelta(seconds=25) and report.period.start == PERIOD.start
    assert collect.collect(lab_inventory, prometheus, PERIOD, now=PERIOD.end + timedelta(hours=1)).period == PERIOD
    with pytest.raises(ProvdcError, match="nothing of the period is measured yet"):
        collect.collect(lab_inventory, prometheus, PERIOD, now=PERIOD.start + timedelta(seconds=20))


def test_prometheus_durations_as_its_api_writes_them():
    assert collect._duration("1s600ms", 0) == pytest.approx(1.6)   # a 1600 ms scrape timeout
    assert collect._duration("1m30s", 0) == 90 and collect._duration("15s", 0) == 15
    assert collect._duration("2h", 0) == 7200 and collect._duration("", 9) == 9 and collect._duration("1x", 9) == 9


def test_the_last_bucket_is_kept_when_the_rounded_step_overshoots_the_period():
    from datetime import datetime, timezone

    # 32.7443 s in 3 buckets: 10914.77 ms rounds to 10915, and 3 x 10915 ms ends 1 ms late
    start = datetime(2026, 12, 1, 22, 21, 30, 606908, tzinfo=timezone.utc)
    period = Period(start, start + timedelta(seconds=32.744309))
    step = collect.pick_step(period)
    start_ms, step_ms, grid = collect._grid(period, step)
    assert len(grid) == round(period.seconds / step) == 3
    assert abs(grid[-1] - period.end.timestamp() * 1000) <= 2


def test_recorded_link_rates_are_read_only_when_they_cover_the_period_in_whole_windows():
    # a 31-day month at 5-minute buckets: 8,928 record intervals in (start, end]
    month = 31 * 86400
    assert collect.choose_record_source(300, 8928, month, 300) == collect.RecordSource(True, 300)
    assert collect.choose_record_source(300, 8928, month, 900).recorded          # three windows a bucket
    assert not collect.choose_record_source(300, 8927, month, 300).recorded      # one evaluation missing
    assert not collect.choose_record_source(300, 8928, month, 450).recorded      # 1.5 windows a bucket
    assert not collect.choose_record_source(300, 10, 600, 60).recorded           # buckets shorter than a window
    assert not collect.choose_record_source(None, 0, month, 300).recorded        # no rules ran (demo, tests)


def test_the_report_reads_the_recorded_rates_where_the_rules_ran(lab_inventory):
    from tests.unit.reports.conftest import RECORDED, serve

    # the rules recorded every 60 s throughout the 10-minute period (10 samples): each bucket's own
    server = serve({**RECORDED, "link_rate_interval": (60, 10)})
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert collect.link_source(url, PERIOD, 60) == collect.RecordSource(True, 60.0)
        # buckets of two recorded windows: each bucket's mean of its records
        QUERIES.clear()
        collect.bandwidth(lab_inventory, url, PERIOD, 120)
        assert QUERIES == ["avg_over_time(provdc:link_bits_per_second:rate[119999ms])"]
        # one record per bucket: Prometheus summarises them (real Prometheus: test_link_rates.py)
        QUERIES.clear()
        collect.bandwidth(lab_inventory, url, PERIOD, 60)
        assert "count_over_time(provdc:link_bits_per_second:rate[599999ms])" in QUERIES
        assert not any(q.startswith("avg_over_time(provdc:link_bits_per_second:rate[59999ms])") for q in QUERIES)
        report = collect.collect(lab_inventory, url, PERIOD)
        assert report.link_rates == collect.RecordSource(True, 60.0)
        # one sample missing (the rules stopped for a while): back to the counters' rate
        server.shutdown()
        server.server_close()
        server = serve({**RECORDED, "link_rate_interval": (60, 9)})
        assert collect.link_source(f"http://127.0.0.1:{server.server_port}", PERIOD, 60) == collect.RecordSource(False)
    finally:
        server.shutdown()
        server.server_close()


def test_without_recorded_rates_the_report_takes_the_counters_rate(lab_inventory, prometheus):
    assert collect.link_source(prometheus, PERIOD, 60) == collect.RecordSource(False)
    assert collect.collect(lab_inventory, prometheus, PERIOD).link_rates == collect.RecordSource(False)


def test_the_sparse_reading_filters_each_job_at_its_own_complete_count():
    expr = collect._expected_by_job(300, {"blackbox_icmp": 15.0, "blackbox_https": 60.0, "snmp": 15.0})
    assert expr == ('last_over_time(provdc:probe_success:count5m{job=~"blackbox_https"}[299999ms]) < 5 or '
                    'last_over_time(provdc:probe_success:count5m{job=~"blackbox_icmp"}[299999ms]) < 20 or '
                    'last_over_time(provdc:probe_success:count5m{job!~"blackbox_https|blackbox_icmp"}[299999ms]) < 20')


def test_maintenance_runs_cut_overlapping_windows_where_either_starts_or_ends():
    # 5-minute buckets ending at 300, 600, ...: windows over buckets 2-5 and 4-7
    assert collect._runs(300, 300, 20, [(700, 1700), (1300, 2300)]) == [(2, 3), (4, 5), (6, 7)]
    assert collect._runs(300, 300, 20, []) == []
