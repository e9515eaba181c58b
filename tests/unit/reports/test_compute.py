"""Report arithmetic on hand-checked cases: gaps, maintenance, calendar months, p95, 7-day rule."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from provdc.reports.compute import (VN, Bucket, Period, SparseBuckets, availability, direction_load, maintenance_indices,
                                    percentile, rank_quantile, sparse_availability)

T0 = 1_800_000_000.0  # any Unix time; buckets end at T0 + 60, T0 + 120, ...


def ten_minutes(overrides: dict[int, tuple[float | None, float]]) -> list[Bucket]:
    """Ten 1-minute buckets, 4 probes expected each (15 s scrapes), all successful unless overridden."""
    return [Bucket(T0 + 60 * (i + 1), *overrides.get(i, (1.0, 4))) for i in range(10)]


def test_gap_and_partial_bucket_are_not_counted_as_up():
    # bucket 3 half failed; bucket 5 a gap (no probe recorded); bucket 6 only 2 of 4 probes
    a = availability(ten_minutes({3: (0.5, 4), 5: (None, 0), 6: (1.0, 2)}), step=60, expected=4, period_seconds=600)
    # measured: 8 full buckets (480 s) + half of bucket 6 (30 s) = 510 s; down 30 s of bucket 3
    assert a.measured_minutes == pytest.approx(8.5)
    assert a.availability == pytest.approx(480 / 510)          # 94.1176 %, not 95 %
    assert a.downtime_minutes == pytest.approx(0.5)
    assert a.coverage == pytest.approx(510 / 600)               # the gap is shown as lost coverage
    assert [(i.start, i.end) for i in a.incidents] == [(T0 + 180, T0 + 240)]


def test_maintenance_window_is_excluded_and_listed():
    buckets = ten_minutes({3: (0.0, 4)})
    without = availability(buckets, 60, 4, 600)
    assert without.availability == pytest.approx(0.9) and without.downtime_minutes == pytest.approx(1)
    with_mw = availability(buckets, 60, 4, 600, maintenance=[(T0 + 180, T0 + 240)])
    assert with_mw.availability == 1.0 and with_mw.downtime_minutes == 0
    assert with_mw.maintenance_minutes == 1 and with_mw.incidents == []
    assert with_mw.coverage == pytest.approx(540 / 540)


def test_consecutive_failed_buckets_are_one_incident():
    a = availability(ten_minutes({2: (0.0, 4), 3: (0.25, 4), 4: (0.0, 4), 8: (0.5, 4)}), 60, 4, 600)
    assert [(i.start - T0, i.end - T0) for i in a.incidents] == [(120, 300), (480, 540)]
    assert a.incidents[0].minutes == 3
    assert a.downtime_minutes == pytest.approx(1 + 0.75 + 1 + 0.5)


def test_nothing_measured_is_unknown_not_up():
    a = availability(ten_minutes({i: (None, 0) for i in range(10)}), 60, 4, 600)
    assert a.availability is None and a.coverage == 0 and a.met(99.9) is None


@pytest.mark.parametrize("year,month,days", [(2026, 2, 28), (2028, 2, 29), (2026, 1, 31), (2026, 11, 30)])
def test_calendar_months_in_vietnam_time(year, month, days):
    p = Period.month(year, month)
    assert p.seconds == days * 86400
    assert p.start == datetime(year, month, 1, tzinfo=VN) and p.start.utcoffset() == timedelta(hours=7)


def test_one_hour_down_in_a_31_day_month():
    period = Period.month(2026, 1)
    step = 300
    n = int(period.seconds // step)               # 8,928 five-minute buckets
    down = set(range(100, 112))                   # 12 buckets = 1 hour
    buckets = [Bucket(period.start.timestamp() + step * (i + 1), 0.0 if i in down else 1.0, 20) for i in range(n)]
    a = availability(buckets, step, expected=20, period_seconds=period.seconds)
    assert a.availability == pytest.approx(1 - 3600 / (31 * 86400))    # 99.8656 %
    assert a.downtime_minutes == pytest.approx(60) and a.coverage == pytest.approx(1.0)
    assert a.met(99.5) and not a.met(99.9)


def test_one_hour_down_in_a_28_day_month_weighs_more():
    period = Period.month(2026, 2)
    step = 300
    buckets = [Bucket(period.start.timestamp() + step * (i + 1), 0.0 if i < 12 else 1.0, 20) for i in range(int(period.seconds // step))]
    assert availability(buckets, step, 20, period.seconds).availability == pytest.approx(1 - 3600 / (28 * 86400))  # 99.8512 %


def test_p95_nearest_rank():
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert percentile([10.0] * 19 + [1000.0], 0.95) == 10.0      # one burst in 20 samples is the top 5 %
    assert percentile([10.0] * 18 + [1000.0] * 2, 0.95) == 1000.0
    assert percentile([], 0.95) is None


def test_worst_seven_day_window_against_90_percent_of_contract():
    period = Period(datetime(2026, 11, 1, tzinfo=VN), datetime(2026, 11, 15, tzinfo=VN))
    start = period.start.timestamp()
    # 2 Mbit/s contract; first week quiet (1 Mbit/s), from day 8 busy (1.9 Mbit/s = 95 %)
    samples = [(start + 300 * (i + 1), 1.0e6 if i < 8 * 288 else 1.9e6) for i in range(14 * 288)]
    load = direction_load("a_to_b", 2_000_000, samples, period)
    assert load.samples == 14 * 288 and load.peak_bps == 1.9e6
    assert load.worst_window_p95_bps == 1.9e6 and load.worst_window_utilisation == pytest.approx(0.95)
    assert load.compliant is False and load.whole_period_only is False
    # busy from 9 Nov: the window 3-10 Nov already holds one busy day (14 % of its samples, more
    # than the top 5 %), so its p95 is the busy rate; ties keep the earliest window
    assert load.worst_window_start == datetime(2026, 11, 3, tzinfo=VN).timestamp()
    assert load.mean_bps == pytest.approx((8 * 1.0e6 + 6 * 1.9e6) / 14)


def test_short_periods_are_judged_on_the_whole_period():
    period = Period(datetime(2026, 11, 1, tzinfo=VN), datetime(2026, 11, 2, tzinfo=VN))
    load = direction_load("b_to_a", 10_000_000, [(period.start.timestamp() + 300 * i, 5e6) for i in range(1, 289)], period)
    assert load.whole_period_only and load.compliant is True and load.p95_utilisation == pytest.approx(0.5)


def test_periods_from_the_command_line_options():
    from provdc.reports.compute import VN, Period

    assert Period.parse("2026-02", None, None).seconds == 28 * 86400
    p = Period.parse(None, "2026-11-01", "2026-11-02T12:00")
    assert p.start.tzinfo == VN and p.seconds == 36 * 3600
    for args, message in (((None, None, None), "give --month"), (("2026-13", None, None), "--month: write YYYY-MM"),
                          (("2026-11", "2026-11-01", None), "not both"), ((None, "2026-02-30", "2026-03-01"), "--from"),
                          ((None, "2026-11-02", "2026-11-01"), "--to must be after")):
        with pytest.raises(ValueError, match=message):
            Period.parse(*args)


def test_sli_buckets_of_a_step_that_is_no_whole_number_of_windows_are_measured_in_full():
    # 10 s buckets of 4 s SLI windows hold 2 or 3 of them (2.5 expected): capping each bucket
    # at its length would lose a tenth of a fully measured period
    buckets = [Bucket(T0 + 10 * (i + 1), 1.0, 2 if i % 2 else 3) for i in range(6)]
    assert availability(buckets, 10, 2.5, 60, capped=False).coverage == pytest.approx(1.0)
    assert availability(buckets, 10, 2.5, 60).coverage == pytest.approx(0.9)


def test_seven_day_windows_take_exactly_the_samples_after_lo_up_to_hi():
    """The windows are slices of the time-ordered samples: unordered input, samples exactly on a
    window's edges (lo excluded, hi included) and irregular times give what the definition gives."""
    import random

    from provdc.reports.compute import _worst_window, summarise

    period = Period(datetime(2026, 10, 1, tzinfo=VN), datetime(2026, 11, 1, tzinfo=VN))
    start = period.start.timestamp()
    rng = random.Random(17)
    samples = [(start + 86400 * d + off, rng.uniform(0, 1e7)) for d in range(31) for off in (0, 1, 43200, 86399)]
    samples += [(start + rng.uniform(0, 31 * 86400), rng.uniform(0, 2e7)) for _ in range(3000)]
    rng.shuffle(samples)
    worst, worst_start = None, None
    for day in range(31 - 7 + 1):
        lo, hi = start + 86400 * day, start + 86400 * (day + 7)
        p95 = percentile([v for t, v in samples if lo < t <= hi], 0.95)
        if worst is None or p95 > worst:
            worst, worst_start = p95, lo
    assert _worst_window(summarise(samples, period), period) == (worst, worst_start, False)


def _random_target(rng: random.Random) -> tuple[list[Bucket], SparseBuckets, float, float, list[tuple[float, float]]]:
    """A target's buckets (gaps, partial buckets, failures, maintenance windows) both ways."""
    step, expected = rng.choice([60.0, 300.0, 37.5]), rng.choice([4.0, 20.0])
    first, n = 1000.0 + step, rng.randint(1, 120)
    buckets, partial, failed = [], {}, {}
    for k in range(n):
        kind = rng.random()
        count = 0 if kind < 0.1 else rng.randint(1, int(expected) - 1) if kind < 0.2 else int(expected) + rng.randint(0, 1)
        share = None if count == 0 else rng.choice([0.0, 0.25, 0.5]) if rng.random() < 0.2 else 1.0
        buckets.append(Bucket(first + k * step, share, float(count)))
        if 0 < count < expected:
            partial[k] = float(count)
        if share is not None and share < 1:
            failed[k] = share
    windows = []
    for _ in range(rng.randint(0, 2)):
        start = first - step + rng.uniform(-step, n * step)
        windows.append((start, start + rng.uniform(1, 10 * step)))
    skipped = maintenance_indices(first, step, n, windows)
    sparse = SparseBuckets(first, n, sum(1 for b in buckets if b.count), partial, failed,
                           sum(1 for k in skipped if buckets[k].count))
    return buckets, sparse, step, expected, windows


def test_sparse_buckets_give_the_same_figures_as_every_bucket():
    rng = random.Random(20261204)
    for _ in range(500):
        buckets, sparse, step, expected, windows = _random_target(rng)
        want = availability(buckets, step, expected, sparse.count * step, windows)
        got = sparse_availability(sparse, step, expected, sparse.count * step, windows)
        for name in ("coverage", "downtime_minutes", "maintenance_minutes", "measured_minutes"):
            assert getattr(got, name) == pytest.approx(getattr(want, name), rel=1e-12, abs=1e-9)
        assert (got.availability is None) == (want.availability is None)
        assert got.availability == pytest.approx(want.availability, rel=1e-12) if want.availability is not None else True
        assert [x for i in got.incidents for x in (i.start, i.end)] == pytest.approx(
            [x for i in want.incidents for x in (i.start, i.end)])


def test_maintenance_takes_every_bucket_a_window_touches():
    # buckets end at 60, 120, ... 600; a window 90-130 touches (60, 120] and (120, 180]
    assert maintenance_indices(60, 60, 10, [(90, 130)]) == {1, 2}
    assert maintenance_indices(60, 60, 10, [(120, 180)]) == {2}          # edges shared, not overlapped
    assert maintenance_indices(60, 60, 10, [(-500, 30)]) == {0}
    assert maintenance_indices(60, 60, 10, [(700, 900)]) == set()


def test_the_interpolating_quantile_at_rank_quantile_is_the_nearest_rank_percentile():
    # Prometheus' quantile_over_time: rank phi * (n - 1), linear between the two closest values
    def interpolated(values, phi):
        ordered = sorted(values)
        rank = phi * (len(ordered) - 1)
        low = int(rank // 1)
        high = min(len(ordered) - 1, low + 1)
        return ordered[low] * (1 - (rank - low)) + ordered[high] * (rank - low)

    rng = random.Random(95)
    for n in [1, 2, 3, 19, 20, 21, 2016, 8928, 8929]:
        values = [rng.uniform(0, 1e9) for _ in range(n)]
        assert interpolated(values, rank_quantile(n, 0.95)) == pytest.approx(percentile(values, 0.95), rel=1e-12)
