"""Report arithmetic: availability, coverage, downtime, incidents, link percentiles. Pure.

Accounting rule (printed in every report):
* The period is cut into buckets of equal length (`step`); Prometheus gives, per bucket and
  target, the share of successful probes and how many probes were recorded.
* A bucket's *measured time* is its length times recorded / expected probes (at most 1).
  Unmeasured time is a **gap**: it counts neither as up nor as down, and lowers coverage.
* Buckets overlapping an announced maintenance window of the target are excluded from
  availability and listed separately.
* Availability = up time / measured time; coverage = measured time / (period - maintenance);
  downtime = measured time x share of failed probes.
* An incident is a run of consecutive buckets with failed probes; it starts at the first such
  bucket's start and ends at the last one's end.
* A system's buckets come from its availability SLI (the rule exporters/national.py defines:
  per SLI window, the share of successful probes of its least available recorded target, and
  the recorded share of the probes all its declared targets should have sent). A bucket's
  share is the mean of the SLI samples in it and its count the sum of their coverage, so a
  target measured down makes the system down there, and a silent target lowers the system's
  measured time instead of hiding a failure.
* A period ending now ends at the last complete scrape round instead (scrapes still in flight
  would otherwise look like a gap).

Bandwidth: per direction, 5-minute rate samples; mean and peak over the period; p95 by nearest
rank; Circular 06/2026/TT-BKHCN compliance: every 7-day window (starting at each day boundary
of the period) has p95 <= 90 % of the contracted capacity. Shorter periods are judged on the
whole period and marked so.
"""

from __future__ import annotations

import calendar
import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

VN = timezone(timedelta(hours=7))
CONTRACT_LIMIT = 0.9            # Circular 06/2026: p95 <= 90 % of capacity
WINDOW_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def month(cls, year: int, month: int, tz: timezone = VN) -> "Period":
        days = calendar.monthrange(year, month)[1]
        start = datetime(year, month, 1, tzinfo=tz)
        return cls(start, start + timedelta(days=days))

    @classmethod
    def parse(cls, month: str | None, start: str | None, end: str | None) -> "Period":
        """A period from a month (YYYY-MM) or two ISO dates or times (Vietnam time when no zone
        is given); ValueError says, in the option names users type, what is wrong."""
        if month and (start or end):
            raise ValueError("give --month, or --from and --to, not both")
        if month:
            m = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
            if not m or not 1 <= int(m.group(2)) <= 12:
                raise ValueError("--month: write YYYY-MM, e.g. 2026-11")
            return cls.month(int(m.group(1)), int(m.group(2)))
        if not (start and end):
            raise ValueError("give --month YYYY-MM, or --from and --to (ISO dates or times, Vietnam time if no zone)")
        period = cls(_moment(start, "--from"), _moment(end, "--to"))
        if period.end <= period.start:
            raise ValueError("--to must be after --from")
        return period

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {(self.end - timedelta(seconds=1)):%Y-%m-%d}"


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: not an ISO date or time: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN)


class Bucket(NamedTuple):
    """One step of the period for one target: its end time, success share and probe count.
    Immutable; a tuple, because a month holds millions (300 targets x 8,928 buckets) and a
    tuple is made three times faster than a frozen dataclass."""

    end: float            # Unix time
    success: float | None  # share of successful probes, None if no probe recorded
    count: float          # probes recorded


@dataclass(frozen=True)
class Incident:
    start: float
    end: float

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60


@dataclass
class Availability:
    availability: float | None   # None when nothing was measured
    coverage: float
    downtime_minutes: float
    maintenance_minutes: float
    measured_minutes: float
    incidents: list[Incident] = field(default_factory=list)

    def met(self, target_percent: float) -> bool | None:
        return None if self.availability is None else self.availability * 100 >= target_percent - 1e-9


def _overlaps(start: float, end: float, windows: list[tuple[float, float]]) -> bool:
    return any(s < end and start < e for s, e in windows)


def availability(buckets: list[Bucket], step: float, expected: float, period_seconds: float,
                 maintenance: list[tuple[float, float]] = (), capped: bool = True) -> Availability:
    """Apply the accounting rule to one target's buckets (see the module docstring). `capped`:
    a bucket is at most its length measured (probe counts in a closed range can overrun it);
    uncapped, for SLI buckets whose windows each belong to exactly one bucket, a bucket holding
    one window more than `expected` counts it (a step that is not a whole number of windows
    alternates between one more and one fewer)."""
    up = measured = maintenance_time = 0.0
    incidents: list[Incident] = []
    current: Incident | None = None
    windows = list(maintenance)
    for b in sorted(buckets, key=lambda b: b.end):
        start = b.end - step
        if windows and _overlaps(start, b.end, windows):
            maintenance_time += step
            current = _close(current, incidents)
            continue
        share = (min(1.0, b.count / expected) if capped else b.count / expected) if expected > 0 else 0.0
        if b.success is None or share == 0:
            current = _close(current, incidents)
            continue
        time_measured = step * share
        measured += time_measured
        up += time_measured * b.success
        if b.success < 1 - 1e-9:
            current = Incident(current.start if current else start, b.end)
        else:
            current = _close(current, incidents)
    _close(current, incidents)
    base = period_seconds - maintenance_time
    return Availability(
        availability=up / measured if measured else None,
        coverage=min(1.0, measured / base) if base > 0 else 0.0,
        downtime_minutes=(measured - up) / 60,
        maintenance_minutes=maintenance_time / 60,
        measured_minutes=measured / 60,
        incidents=incidents,
    )


@dataclass
class SparseBuckets:
    """A target's buckets where nearly all are alike, as Prometheus gives them for a month:
    `present` buckets hold a probe; of those, `partial` (index -> probes recorded) hold fewer
    than expected and `failed` (index -> success share) a failed probe; every other present
    bucket is complete and successful, and a bucket not present was not measured (a gap).
    Bucket k ends at first_end + k * step; `in_maintenance` (index -> buckets present) is what
    `present` counts inside each run of maintenance buckets, which the rule excludes."""

    first_end: float
    count: int                                   # buckets in the period
    present: int
    partial: dict[int, float] = field(default_factory=dict)
    failed: dict[int, float] = field(default_factory=dict)
    present_in_maintenance: int = 0


def maintenance_indices(first_end: float, step: float, count: int, windows: list[tuple[float, float]]) -> set[int]:
    """The buckets (by index) that overlap a maintenance window: the rule's exclusion."""
    out: set[int] = set()
    for start, end in windows:
        lo = max(0, math.floor((start - first_end) / step) + 1)      # the first bucket ending after the window starts
        hi = min(count - 1, math.ceil((end - first_end) / step))     # the last one starting before it ends
        out.update(k for k in range(lo, hi + 1) if _overlaps(first_end + k * step - step, first_end + k * step, [(start, end)]))
    return out


def sparse_availability(sparse: SparseBuckets, step: float, expected: float, period_seconds: float,
                        maintenance: list[tuple[float, float]] = ()) -> Availability:
    """The accounting rule of availability() on a target's buckets given sparsely (see
    SparseBuckets): the same figures, from the few buckets that are not complete and successful.
    `sparse.present_in_maintenance` must count the present buckets inside `maintenance`."""
    skipped = maintenance_indices(sparse.first_end, step, sparse.count, list(maintenance))
    partial = {k: c for k, c in sparse.partial.items() if k not in skipped}
    complete = sparse.present - sparse.present_in_maintenance - len(partial)
    share = {k: min(1.0, c / expected) for k, c in partial.items()}
    measured = step * (complete + sum(share.values()))
    failed = sorted(k for k in sparse.failed if k not in skipped)
    down = step * sum(share.get(k, 1.0) * (1 - sparse.failed[k]) for k in failed)
    incidents: list[Incident] = []
    previous = None
    for k in (k for k in failed if sparse.failed[k] < 1 - 1e-9):
        end = sparse.first_end + k * step
        # a run of adjacent failed buckets is one incident: anything between two ends it
        if previous == k - 1:
            incidents[-1] = Incident(incidents[-1].start, end)
        else:
            incidents.append(Incident(end - step, end))
        previous = k
    maintenance_time = step * len(skipped)
    base = period_seconds - maintenance_time
    return Availability(
        availability=(measured - down) / measured if measured else None,
        coverage=min(1.0, measured / base) if base > 0 else 0.0,
        downtime_minutes=down / 60,
        maintenance_minutes=maintenance_time / 60,
        measured_minutes=measured / 60,
        incidents=incidents,
    )


def _close(current: Incident | None, incidents: list[Incident]) -> None:
    if current is not None:
        incidents.append(current)
    return None


# ------------------------------------------------------------------------------- bandwidth

def nearest_rank(n: int, q: float) -> int:
    """The 1-based rank of the q-percentile of n values by nearest rank."""
    return max(1, math.ceil(q * n))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the carriers' billing convention)."""
    if not values:
        return None
    return sorted(values)[nearest_rank(len(values), q) - 1]


def rank_quantile(n: int, q: float) -> float:
    """The φ at which a linear-interpolating quantile of n values (Prometheus'
    quantile_over_time: rank φ(n - 1) from 0) is the nearest-rank percentile exactly."""
    return (nearest_rank(n, q) - 1) / (n - 1) if n > 1 else 0.0


@dataclass
class DirectionLoad:
    direction: str
    contract_bps: int
    mean_bps: float | None
    peak_bps: float | None
    p95_bps: float | None
    worst_window_p95_bps: float | None
    worst_window_start: float | None
    samples: int
    whole_period_only: bool          # the period was shorter than 7 days

    @property
    def p95_utilisation(self) -> float | None:
        return None if self.p95_bps is None else self.p95_bps / self.contract_bps

    @property
    def worst_window_utilisation(self) -> float | None:
        return None if self.worst_window_p95_bps is None else self.worst_window_p95_bps / self.contract_bps

    @property
    def compliant(self) -> bool | None:
        u = self.worst_window_utilisation
        return None if u is None else u <= CONTRACT_LIMIT + 1e-12


@dataclass
class LoadSummary:
    """What the rule needs of one direction's samples over a period: their number, mean, peak
    and p95, and the p95 of each 7-day window (by its start). Computed from the samples here
    (summarise), or by Prometheus from the recorded rates (reports/collect.py), the same way."""

    samples: int
    mean: float | None
    peak: float | None
    p95: float | None
    windows: dict[float, float | None]          # window start (Unix s) -> p95 of its samples


def window_starts(period: Period) -> list[float]:
    """Each 7-day window's start: every day boundary of the period with 7 days after it."""
    out, day = [], period.start
    while day + timedelta(days=WINDOW_DAYS) <= period.end:
        out.append(day.timestamp())
        day += timedelta(days=1)
    return out


def summarise(samples: list[tuple[float, float]], period: Period) -> LoadSummary:
    values = [v for _, v in samples]
    ordered = sorted(samples, key=lambda s: s[0])
    times = [t for t, _ in ordered]
    window = WINDOW_DAYS * 86400
    # the samples with lo < t <= lo + 7 days: one slice of the time-ordered samples
    windows = {lo: percentile([v for _, v in ordered[bisect_right(times, lo):bisect_right(times, lo + window)]], 0.95)
               for lo in window_starts(period)}
    return LoadSummary(len(values), sum(values) / len(values) if values else None, max(values) if values else None,
                       percentile(values, 0.95), windows)


def direction_load(direction: str, contract_bps: int, samples: list[tuple[float, float]], period: Period) -> DirectionLoad:
    """Statistics of one direction of a link from (time, bits/s) samples."""
    return load_from(direction, contract_bps, summarise(samples, period), period)


def load_from(direction: str, contract_bps: int, summary: LoadSummary, period: Period) -> DirectionLoad:
    """One direction's statistics and its 7-day verdict input from its summary: the worst
    window (the first of the highest p95), or the whole period when shorter than 7 days."""
    worst, worst_start, whole = _worst_window(summary, period)
    return DirectionLoad(direction, contract_bps, mean_bps=summary.mean, peak_bps=summary.peak, p95_bps=summary.p95,
                         worst_window_p95_bps=worst, worst_window_start=worst_start,
                         samples=summary.samples, whole_period_only=whole)


def _worst_window(summary: LoadSummary, period: Period) -> tuple[float | None, float | None, bool]:
    if not summary.samples:
        return None, None, False
    if period.seconds < WINDOW_DAYS * 86400:
        return summary.p95, period.start.timestamp(), True
    worst: tuple[float | None, float | None] = (None, None)
    for lo in sorted(summary.windows):
        p95 = summary.windows[lo]
        if p95 is not None and (worst[0] is None or p95 > worst[0]):
            worst = (p95, lo)
    return worst[0], worst[1], False
