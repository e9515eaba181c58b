"""Gather a province's report data: Prometheus (uptime, bandwidth), the audit run, the inventory.

Queries are few and wide, and independent ones run side by side: one range query for probe
counts of every target and one for success shares where they are below 1, one for every link's
rate (the rules' recorded 5-minute rates averaged over each bucket where they cover the period,
else rate() of the counters over each bucket: see _link_samples), one instant query with the `@` modifier for the sample-based check of each target's period
availability. All arithmetic happens in `compute.py`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from provdc.checks.results import (AuditRun, D14Layers, Drift, Finding, RequirementResult, drift, latest_run_file, load_run,
                                   previous_run_file)
from provdc.durations import DurationError, parse_duration
from provdc.errors import ProvdcError
from provdc.exporters import promapi
from provdc.exporters.monitoring import (LINK_RATE, LINK_RATE_INTERVAL, PROBE_COUNT, PROBE_COUNT_INTERVAL, PROBE_SUCCESSES,
                                         PROBES, link_rate_expr, probe_count_exprs)
from provdc.inventory import Inventory
from provdc.inventory.stats import Stats, compute_stats
from provdc.reports.compute import VN as VN_TZ
from provdc.reports.compute import (WINDOW_DAYS, Availability, Bucket, DirectionLoad, LoadSummary, Period, SparseBuckets,
                                    availability, load_from, maintenance_indices, rank_quantile, sparse_availability,
                                    summarise, window_starts)



@dataclass
class TargetAvailability:
    instance: str
    job: str
    server: str
    service: str
    result: Availability
    sample_ratio: float | None      # Prometheus' own avg_over_time over the period (@ end)


@dataclass
class SystemAvailability:
    id: str
    name: str
    level: int
    target_percent: float
    result: Availability
    buckets: list[Bucket]
    maintenance: list[tuple[float, float, str]]
    targets: list[TargetAvailability]

    @property
    def met(self) -> bool | None:
        return self.result.met(self.target_percent)


@dataclass
class LinkLoad:
    id: str
    kind: str
    provider: str
    measured: bool
    directions: list[DirectionLoad]
    utilisation: dict[str, list[tuple[float, float]]]   # direction -> (time, ratio) for the chart


@dataclass
class AgencyReach:
    id: str
    name: str
    tier: str
    result: Availability | None


@dataclass
class Security:
    """The audit part of a report: the newest run as it was stored (its scores, roll-up and
    Directive 14 status are the run's own figures) and its drift against the run before."""

    run: AuditRun
    waivers: list[tuple[str, str, str, date, int]]                   # check, scope, approver, expires, days left
    drift: Drift | None = None

    @property
    def failed(self) -> list[Finding]:
        return self.run.failed()

    @property
    def not_assessed(self) -> list[RequirementResult]:
        return self.run.not_assessed()


@dataclass
class ProvinceReport:
    province: str
    name: str
    period: Period
    step: float
    generated: datetime
    systems: list[SystemAvailability]
    links: list[LinkLoad]
    agencies: list[AgencyReach]
    stats: Stats
    security: Security | None
    paperwork: object | None = None     # the inventory's paperwork section: heading, recipients, signers
    agency_members: dict[str, list[str]] = field(default_factory=dict)   # results.score_groups' agencies
    agency_names: dict[str, str] = field(default_factory=dict)
    source: str = ""                    # the Prometheus queried
    vantage: str = ""                   # where the audit's probes and SSH sessions start (the controller)
    template: Path | None = None        # the Word template (the province's or the shipped one)
    previous: "ProvinceReport | None" = None   # the previous calendar month, by the same functions
    sli: "SliSource | None" = None      # where the systems' availability indicator came from
    link_rates: "RecordSource | None" = None   # where the links' rates came from
    probe_counts: "RecordSource | None" = None  # where the targets' probe counts came from

    @property
    def d14(self) -> list[D14Layers]:
        """Directive 14's four layers per system, from the audit run's d14_* findings."""
        return self.security.run.d14 if self.security else []


# --------------------------------------------------------------------------- Prometheus side

def pick_step(period: Period, wanted: float | None = None) -> float:
    """Bucket length: about 5 minutes for a day or more (Circular 06's sampling), finer for
    short periods, never more than 10,000 buckets (Prometheus answers at most 11,000 points per
    series), and always dividing the period exactly, so the buckets tile it with no edge left
    uncounted."""
    if wanted is None and period.seconds > 31 * 86400:
        wanted = 300.0     # read month by month (see chunks): Circular 06's 5 minutes throughout
    if wanted is None:
        wanted = max(300.0, period.seconds / 10_000) if period.seconds >= 86400 else max(10.0, period.seconds / 60)
    buckets = max(1, round(period.seconds / wanted))
    return period.seconds / buckets


def _duration(raw: str, default: float) -> float:
    """A Prometheus duration as the API writes it (compound, such as 1s600ms), or `default`."""
    try:
        return parse_duration(raw, "prometheus")
    except DurationError:
        return default


def _interval_seconds(url: str) -> dict[str, float]:
    """Scrape interval per job, from the targets Prometheus reports."""
    return {t["labels"].get("job", ""): _duration(t.get("scrapeInterval", "15s"), 15.0) for t in promapi.targets(url)}


def settle_seconds(url: str) -> float:
    """How long until every sample of a moment is in: a scrape is stamped when it starts and
    stored when it ends, so the longest interval plus its timeout."""
    return max((_duration(t.get("scrapeInterval", ""), 15.0) + _duration(t.get("scrapeTimeout", ""), 10.0)
                for t in promapi.targets(url)), default=0.0)


def settled(period: Period, now: datetime, settle: float) -> Period:
    """The period, ending no later than the last complete scrape round before `now`: the
    scrapes still in flight would otherwise count as a gap."""
    last = now - timedelta(seconds=settle)
    if period.end <= last:
        return period
    if last <= period.start:
        raise ProvdcError(f"nothing of the period is measured yet: it starts at {period.start.isoformat()}, "
                          f"and samples are complete only up to {last.isoformat()}")
    return Period(period.start, last)


def _grid(period: Period, step: float) -> tuple[int, int, list[int]]:
    """Bucket ends on Prometheus' own grid: integer milliseconds (it truncates query times and
    steps to milliseconds, so float times could miss its samples by one)."""
    step_ms = int(round(step * 1000))
    first_ms = int(round(period.start.timestamp() * 1000))
    # as many buckets as tile the period: rounding the step to milliseconds can push the last
    # bucket's end a millisecond past the period's, and that bucket must not be dropped
    count = max(1, round((int(round(period.end.timestamp() * 1000)) - first_ms) / step_ms))
    start_ms = first_ms + step_ms
    return start_ms, step_ms, [start_ms + k * step_ms for k in range(count)]


def _by_index(values: list, start_ms: int, step_ms: int) -> dict[int, float]:
    """Samples by their bucket index. Prometheus parses the float start time and can land a
    millisecond off our grid, so each sample goes to the nearest grid point, never an exact key."""
    return {round((float(t) * 1000 - start_ms) / step_ms): float(v) for t, v in values}


def _buckets_by_target(url: str, period: Period, step: float) -> dict[tuple[str, str], dict]:
    """Per target, its buckets: probe counts from one query (every bucket with a probe), and
    the success share only where it is below 1 (a second query, filtered in Prometheus: a
    month of 300 targets is 2.7 million buckets, of which a few thousand failed; a measured
    bucket it does not return had every probe successful, a share of exactly 1)."""
    start_ms, step_ms, grid = _grid(period, step)
    start, end, step_s = start_ms / 1000, grid[-1] / 1000 if grid else start_ms / 1000, step_ms / 1000
    count, successes = probe_count_exprs(f"{step_ms}ms")
    counts, failed = _parallel(
        lambda: promapi.query_range(url, count, start, end, step_s),
        lambda: promapi.query_range(url, f"{successes} / {count} < 1", start, end, step_s))
    failed_of = {(r["metric"]["job"], r["metric"]["instance"]): _by_index(r["values"], start_ms, step_ms) for r in failed}
    out = {}
    for r in counts:
        key = (r["metric"]["job"], r["metric"]["instance"])
        counted = _by_index(r["values"], start_ms, step_ms)
        shares = failed_of.get(key, {})
        buckets = [Bucket(t / 1000, shares.get(k, 1.0), counted[k]) if k in counted else Bucket(t / 1000, None, 0.0)
                   for k, t in enumerate(grid)]
        out[key] = {"labels": r["metric"], "buckets": buckets}
    return out


SIDE_BY_SIDE = 2     # queries at once for a list of like queries (per system)


def _parallel(*calls):
    """The calls' results, in order, the calls run at once: Prometheus evaluates each query on
    one core, so independent queries finish sooner side by side than one after another."""
    if len(calls) <= 1:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]


def _sample_ratios(url: str, period: Period, recorded: bool = False) -> dict[tuple[str, str], float]:
    """Prometheus' sample-based availability of each target over the period, via `@`: of its
    probes, or of the rules' probe counts (successful / recorded) where they cover the period."""
    at = f"[{int(period.seconds)}s] @ {period.end.timestamp():.0f}"
    expr = (f"sum_over_time({PROBE_SUCCESSES}{at}) / sum_over_time({PROBE_COUNT}{at})" if recorded
            else f"avg_over_time({PROBES}{at})")
    return {(r["metric"]["job"], r["metric"]["instance"]): float(r["value"][1])
            for r in promapi.query(url, expr, timeout=promapi.QUERY_TIMEOUT)}


def _expected(step: float, interval: float) -> float:
    """Probes a fully measured bucket holds: every whole scrape interval that fits in it (a
    9.5 s bucket of 2 s scrapes holds 4 or 5 depending on phase; 4 is complete)."""
    return max(1.0, float(int(step / interval + 1e-9)))


def maintenance_of(inv: Inventory, kind: str, ident: str) -> list[tuple[float, float, str]]:
    out = []
    for mw in inv.doc.maintenance:
        if ident in getattr(mw.targets, kind):
            start = mw.start if mw.start.tzinfo else mw.start.replace(tzinfo=timezone(timedelta(hours=7)))
            end = mw.end if mw.end.tzinfo else mw.end.replace(tzinfo=timezone(timedelta(hours=7)))
            out.append((start.timestamp(), end.timestamp(), mw.id))
    return out


def chunks(period: Period) -> list[Period]:
    """A long period as calendar months (Vietnam time), so each query stays within
    Prometheus' points per series at 5-minute buckets; a month or less is one chunk."""
    out, start = [], period.start
    while start < period.end:
        first = start.astimezone(VN_TZ)
        nxt = datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=VN_TZ)
        end = min(nxt, period.end)
        out.append(Period(start, end))
        start = end
    return out


def _reading_parts(period: Period) -> list[Period]:
    """The parts a period is read in: month by month beyond 31 days, else whole."""
    return chunks(period) if period.seconds > 31 * 86400 else [period]


def _buckets_over(url: str, period: Period, step: float, probes: "RecordSource | None" = None,
                  windows: list[tuple[float, float]] = (), intervals: dict[str, float] | None = None) -> dict[tuple[str, str], dict]:
    """Per target, its buckets over the whole period, gathered month by month: sparsely from
    the rules' probe counts where they cover the period (`probes`), else from the probes."""
    if probes is not None and probes.recorded:
        return _sparse_over(url, period, step, list(windows), intervals or {})
    parts = _reading_parts(period)
    merged: dict[tuple[str, str], dict] = {}
    for part in parts:
        for key, v in _buckets_by_target(url, part, step).items():
            merged.setdefault(key, {"labels": v["labels"], "buckets": []})["buckets"].extend(v["buckets"])
    return merged


def _expected_by_job(step: float, intervals: dict[str, float]) -> str:
    """A PromQL filter keeping each target's records with fewer probes than its job's complete
    bucket holds: one clause per complete count, and 15 s for jobs Prometheus does not scrape now."""
    by_count: dict[float, list[str]] = {}
    for job, interval in intervals.items():
        if job.startswith("blackbox_"):
            by_count.setdefault(_expected(step, interval), []).append(job)
    window = f"{int(round(step * 1000)) - 1}ms"
    known = "|".join(sorted(j for jobs in by_count.values() for j in jobs))
    clauses = [f'last_over_time({PROBE_COUNT}{{job=~"{"|".join(sorted(jobs))}"}}[{window}]) < {n:g}'
               for n, jobs in sorted(by_count.items())]
    rest = f'{{job!~"{known}"}}' if known else ""
    clauses.append(f"last_over_time({PROBE_COUNT}{rest}[{window}]) < {_expected(step, 15.0):g}")
    return " or ".join(clauses)


def _runs(first_end: float, step: float, count: int, windows: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Every maintenance window's buckets, cut into runs (first, last index) that each window
    covers whole or not at all: each target's excluded buckets are then a union of runs."""
    ranges = [sorted(k) for k in (maintenance_indices(first_end, step, count, [w]) for w in windows) if k]
    cuts = sorted({r[0] for r in ranges} | {r[-1] + 1 for r in ranges})
    covered = set().union(*(set(r) for r in ranges))
    return [(a, b - 1) for a, b in zip(cuts, cuts[1:]) if a in covered]


def _sparse_by_target(url: str, period: Period, step: float, windows: list[tuple[float, float]],
                      intervals: dict[str, float]) -> dict[tuple[str, str], dict]:
    """Per target, its buckets from the recorded probe counts (one record per bucket) as
    SparseBuckets: how many buckets hold a record, and only the records with fewer probes than a
    complete bucket or with a failure, both filtered in Prometheus (a month of 300 targets is 2.7
    million buckets, of which a few thousand are either); and per maintenance run its records."""
    start_ms, step_ms, grid = _grid(period, step)
    end = (grid[-1] if grid else start_ms) / 1000
    window = f"{step_ms - 1}ms"
    span = f"{len(grid) * step_ms - 1}ms"                      # (start, end]: every bucket of the period
    runs = _runs(start_ms / 1000, step_ms / 1000, len(grid), windows)
    failed_expr = f"last_over_time({PROBE_SUCCESSES}[{window}]) / last_over_time({PROBE_COUNT}[{window}]) < 1"
    present, partial, failed, *in_runs = _parallel(
        lambda: promapi.query(url, f"count_over_time({PROBE_COUNT}[{span}])", end, timeout=promapi.QUERY_TIMEOUT),
        lambda: promapi.query_range(url, _expected_by_job(step_ms / 1000, intervals), start_ms / 1000, end, step_ms / 1000),
        lambda: promapi.query_range(url, failed_expr, start_ms / 1000, end, step_ms / 1000),
        *[lambda a=a, b=b: promapi.query(url, f"count_over_time({PROBE_COUNT}[{(b - a + 1) * step_ms - 1}ms])", grid[b] / 1000,
                                         timeout=promapi.QUERY_TIMEOUT) for a, b in runs])

    def key(r):
        return r["metric"].get("job", ""), r["metric"].get("instance", "")

    partial_of = {key(r): _by_index(r["values"], start_ms, step_ms) for r in partial}
    failed_of = {key(r): _by_index(r["values"], start_ms, step_ms) for r in failed}
    run_counts = [{key(r): int(float(r["value"][1])) for r in rows} for rows in in_runs]
    return {key(r): {"labels": r["metric"],
                     "sparse": SparseBuckets(start_ms / 1000, len(grid), int(float(r["value"][1])),
                                             partial_of.get(key(r), {}), failed_of.get(key(r), {})),
                     "runs": {run: counts.get(key(r), 0) for run, counts in zip(runs, run_counts)}}
            for r in present}


def _sparse_over(url: str, period: Period, step: float, windows: list[tuple[float, float]],
                 intervals: dict[str, float]) -> dict[tuple[str, str], dict]:
    """_sparse_by_target over a long period, month by month, joined into one SparseBuckets per
    target (the months' buckets follow each other on one grid: their indices are offset)."""
    merged: dict[tuple[str, str], dict] = {}
    offset = 0
    for part in _reading_parts(period):
        for k, v in _sparse_by_target(url, part, step, windows, intervals).items():
            read = v["sparse"]
            into = merged.setdefault(k, {"labels": v["labels"], "runs": {},
                                         "sparse": SparseBuckets(read.first_end - offset * step, 0, 0)})
            into["sparse"].present += read.present
            into["sparse"].partial.update({i + offset: c for i, c in read.partial.items()})
            into["sparse"].failed.update({i + offset: c for i, c in read.failed.items()})
            into["runs"].update({(a + offset, b + offset): n for (a, b), n in v["runs"].items()})
        offset += round(part.seconds / step)
    for v in merged.values():
        v["sparse"].count = offset
    return merged


def target_result(v: dict, step: float, expected: float, period_seconds: float,
                  windows: list[tuple[float, float]] = ()) -> Availability:
    """One target's availability from its buckets as read: dense (availability), or sparse
    (sparse_availability, given the records that fell in its own maintenance runs)."""
    if "buckets" in v:
        return availability(v["buckets"], step, expected, period_seconds, windows)
    sparse = v["sparse"]
    skipped = maintenance_indices(sparse.first_end, step, sparse.count, list(windows))
    inside = sum(n for (first, _), n in v["runs"].items() if first in skipped)
    return sparse_availability(SparseBuckets(sparse.first_end, sparse.count, sparse.present, sparse.partial, sparse.failed,
                                             inside), step, expected, period_seconds, windows)


@dataclass(frozen=True)
class SliSource:
    """Where a period's system SLI samples come from, and their spacing in seconds."""

    recorded: bool       # the province's rules recorded them; else the same expressions evaluated now
    window: float


def _province_sel(province: str | None) -> str:
    """The selector of one province's federated series at the centre; none on its own Prometheus."""
    return f'{{province="{province}"}}' if province else ""


def recorded_window(url: str, period: Period, province: str | None = None) -> float | None:
    """The spacing of the recorded aggregates in the period (the rules record it), or None."""
    sel = _province_sel(province)
    rows = promapi.query(url, f"max_over_time(province:aggregate_window:seconds{sel}[{int(period.seconds * 1000)}ms])",
                         period.end.timestamp())
    return float(rows[0]["value"][1]) if rows else None


def _rules_window(url: str) -> float | None:
    from provdc.exporters.national import AVAILABILITY_GROUP

    groups = promapi.api(url, "/api/v1/rules", {"type": "record"}).get("groups", [])
    return next((float(g["interval"]) for g in groups if g.get("name") == AVAILABILITY_GROUP and g.get("interval")), None)


def sli_source(url: str, period: Period) -> SliSource:
    """The recorded SLI where the rules ran in the period; else the SLI window the rules would
    use (the loaded rules', or the generated configuration's default)."""
    from provdc.exporters.monitoring import Settings

    recorded = recorded_window(url, period)
    if recorded is not None:
        return SliSource(True, recorded)
    window = _rules_window(url) or parse_duration(Settings().sli_window, "prometheus")
    return SliSource(False, max(window, _probe_interval(_interval_seconds(url))))   # a window holds a probe


def _probe_interval(intervals: dict[str, float]) -> float:
    """The blackbox jobs' scrape interval (the shortest), 15 s if none is known."""
    return min((v for j, v in intervals.items() if j.startswith("blackbox_")), default=15.0)


def system_sli_buckets(url: str, period: Period, step: float, source: SliSource, *, province: str | None = None,
                       targets: dict[str, int] | None = None, probe_interval: float = 15.0) -> dict[str, list[Bucket]]:
    """Per system, its buckets from the SLI (exporters/national.py system_sli_expr): the mean of
    the SLI samples ending in the bucket, and the sum of their coverage ratios as its count (a
    complete bucket holds step / window of them). Recorded series are read as recorded (by the
    province, or federated with `province`); otherwise `targets` (per system) is needed and
    the rules' own expressions are evaluated as subqueries at the SLI window."""
    from provdc.exporters.national import system_coverage_expr, system_sli_expr

    start_ms, step_ms, grid = _grid(period, step)
    end = grid[-1] / 1000 if grid else start_ms / 1000
    span = f"{step_ms - 1}ms"   # (end - step, end]: a sample on a bucket's edge belongs to the bucket it ends

    def by_system(expr: str) -> dict[str, dict[int, float]]:
        rows = promapi.query_range(url, expr, start_ms / 1000, end, step_ms / 1000)
        return {r["metric"].get("system", ""): _by_index(r["values"], start_ms, step_ms) for r in rows}

    if source.recorded:
        sel = _province_sel(province)
        shares = by_system(f"avg_over_time(province:system_availability:sli{sel}[{span}])")
        counts = by_system(f"sum_over_time(province:system_coverage:ratio{sel}[{span}])")
    else:
        window = f"{int(round(source.window * 1000))}ms"
        expected = max(1, int(source.window / probe_interval + 1e-9))
        shares, counts = {}, {}
        jobs = [(shares, sid, f"avg_over_time(({system_sli_expr(sid, window)})[{span}:{window}])") for sid in (targets or {})]
        jobs += [(counts, sid, f"sum_over_time(({system_coverage_expr(sid, window, n * expected)})[{span}:{window}])")
                 for sid, n in (targets or {}).items() if n]
        # two subqueries per system, independent: a few at a time (Prometheus runs each on one core)
        with ThreadPoolExecutor(max_workers=SIDE_BY_SIDE) as pool:
            for (into, sid, _), rows in zip(jobs, pool.map(lambda job: by_system(job[2]), jobs)):
                into.update({sid: v for v in rows.values()})
    return {sid: [Bucket(t / 1000, shares.get(sid, {}).get(k), counts.get(sid, {}).get(k, 0.0)) for k, t in enumerate(grid)]
            for sid in set(shares) | set(counts)}


def system_result(buckets: list[Bucket], step: float, source: SliSource, period: Period,
                  maintenance: list[tuple[float, float, str]]) -> Availability:
    """A system's availability over the period from its SLI buckets: the one computation the
    provincial report, the console and the national roll-up all read."""
    return availability(buckets, step, step / source.window, period.seconds, [(s, e) for s, e, _ in maintenance],
                        capped=False)


def probed(url: str, period: Period, recorded: bool = False) -> bool:
    """Whether any target's probe was recorded in the period: in the rules' counts of them
    where those are the source (`recorded`, 1/20 of the samples to look through), else in the
    probes themselves."""
    span = f"[{int(round(period.seconds * 1000)) - 1}ms]"      # (start, end]
    expr = f"count(last_over_time({PROBE_COUNT if recorded else PROBES}{span}))"
    return bool(promapi.query(url, expr, period.end.timestamp(), timeout=promapi.QUERY_TIMEOUT))


def all_windows(inv: Inventory) -> list[tuple[float, float]]:
    """Every maintenance window of the inventory, whatever it covers (Unix times)."""
    return sorted({(s, e) for kind in ("systems", "servers") for mw in inv.doc.maintenance
                   for ident in getattr(mw.targets, kind) for s, e, _ in maintenance_of(inv, kind, ident)})


def uptime(inv: Inventory, url: str, period: Period, step: float, source: SliSource | None = None,
           probes: RecordSource | None = None) -> tuple[list[SystemAvailability], list[AgencyReach]]:
    """Each system from its SLI (see system_sli_buckets), with its targets' own availability
    from their probes (or the rules' probe counts, `probes`) beside it; each agency's reach
    from its ICMP probe."""
    from provdc.exporters.national import targets_per_system

    intervals = _interval_seconds(url)
    source = source or sli_source(url, period)
    probes = probes or probe_source(url, period, step)
    by_target, ratios, sli = {}, {}, {}
    if probed(url, period, probes.recorded):      # a month before the monitoring began costs one query, not its buckets'
        by_target, ratios, sli = _parallel(
            lambda: _buckets_over(url, period, step, probes, all_windows(inv), intervals),
            lambda: _sample_ratios(url, period, probes.recorded),
            lambda: _sli_over(url, period, step, source, targets_per_system(inv), _probe_interval(intervals)))
    systems = []
    for system in inv.doc.systems:
        mine = {k: v for k, v in by_target.items() if f",{system.id}," in v["labels"].get("systems", "")}
        windows = maintenance_of(inv, "systems", system.id)
        targets = []
        for (job, instance), v in sorted(mine.items()):
            server = v["labels"].get("server", "")
            mw = windows + maintenance_of(inv, "servers", server)
            expected = _expected(step, intervals.get(job, 15.0))
            targets.append(TargetAvailability(instance, job, server, v["labels"].get("service", "icmp"),
                                              target_result(v, step, expected, period.seconds, [(s, e) for s, e, _ in mw]),
                                              ratios.get((job, instance))))
        buckets = sli.get(system.id, [])
        result = system_result(buckets, step, source, period, windows)
        systems.append(SystemAvailability(system.id, system.name, system.level, system.sla_target, result, buckets, windows, targets))
    agencies = []
    for a in inv.doc.agencies:
        mine = [v for v in by_target.values() if v["labels"].get("agency") == a.id]
        result = (target_result(mine[0], step, _expected(step, intervals.get("blackbox_icmp", 15.0)), period.seconds)
                  if mine else None)
        agencies.append(AgencyReach(a.id, a.name, a.tier.value, result))
    return systems, agencies


def _sli_over(url: str, period: Period, step: float, source: SliSource, targets: dict[str, int],
              probe_interval: float) -> dict[str, list[Bucket]]:
    """system_sli_buckets over a long period, month by month (as the targets' buckets)."""
    merged: dict[str, list[Bucket]] = {}
    for part in _reading_parts(period):
        for sid, buckets in system_sli_buckets(url, part, step, source, targets=targets, probe_interval=probe_interval).items():
            merged.setdefault(sid, []).extend(buckets)
    return merged


@dataclass(frozen=True)
class RecordSource:
    """Where a period's per-bucket figures come from: the rules' records (one per `interval`:
    the links' 5-minute rates, the targets' 5-minute probe counts), or the same expressions
    evaluated now over each bucket from the scraped series."""

    recorded: bool
    interval: float | None = None     # the record interval, when recorded


def choose_record_source(interval: float | None, count: float, seconds: float, step: float,
                         one_per_bucket: bool = False) -> RecordSource:
    """The records when the rules recorded one in every record interval of the period (`count`
    samples of the interval series in it) and a bucket is a whole number of record intervals
    (each bucket then holds whole recorded windows; with `one_per_bucket`, exactly one); else
    the scraped series."""
    if not interval or interval <= 0:
        return RecordSource(False)
    step_ms, interval_ms = int(round(step * 1000)), int(round(interval * 1000))
    whole = step_ms == interval_ms if one_per_bucket else step_ms >= interval_ms and step_ms % interval_ms == 0
    covered = count >= int(seconds / interval + 1e-9)
    return RecordSource(True, interval) if whole and covered else RecordSource(False)


def _record_source(url: str, period: Period, step: float, interval_series: str, one_per_bucket: bool = False) -> RecordSource:
    """Whether the rules' records cover the period at this bucket length (two instant queries
    on the rule group's interval series)."""
    span = f"{int(round(period.seconds * 1000)) - 1}ms"    # (start, end]
    end = period.end.timestamp()
    counts, intervals = _parallel(lambda: promapi.query(url, f"count_over_time({interval_series}[{span}])", end),
                                  lambda: promapi.query(url, f"max_over_time({interval_series}[{span}])", end))
    count = float(counts[0]["value"][1]) if counts else 0.0
    interval = float(intervals[0]["value"][1]) if intervals else None
    return choose_record_source(interval, count, period.seconds, step, one_per_bucket)


def link_source(url: str, period: Period, step: float) -> RecordSource:
    """Whether the rules' recorded link rates (LINK_RATE_INTERVAL) cover the period."""
    return _record_source(url, period, step, LINK_RATE_INTERVAL)


def probe_source(url: str, period: Period, step: float) -> RecordSource:
    """Whether the rules' recorded probe counts (PROBE_COUNT_INTERVAL) cover the period with one
    record per bucket, which the sparse reading needs."""
    return _record_source(url, period, step, PROBE_COUNT_INTERVAL, one_per_bucket=True)


def _link_samples(url: str, period: Period, step: float,
                  source: RecordSource) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Per link and direction, (time, bits/s) samples, one per bucket ending at that time: the
    mean of the rates the rules recorded in the bucket (source.recorded), else the counter's
    rate over the bucket itself (at least a few scrapes, which rate() needs). Both are the one
    expression, exporters/monitoring.py link_rate_expr. A long period is read month by month."""
    interval = None if source.recorded else _interval_seconds(url).get("snmp", 15.0)
    by_link: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for part in _reading_parts(period):
        start_ms, step_ms, grid = _grid(part, step)
        if source.recorded:
            expr = f"avg_over_time({LINK_RATE}[{step_ms - 1}ms])"   # (end - step, end]: the bucket's own records
        else:
            expr = link_rate_expr(f"{max(step_ms, int(3 * interval * 1000))}ms")
        series = promapi.query_range(url, expr, start_ms / 1000, (grid[-1] if grid else start_ms) / 1000, step_ms / 1000)
        for r in series:
            samples = [(float(t), float(v)) for t, v in r["values"]]
            by_link.setdefault(r["metric"].get("link", ""), {}).setdefault(r["metric"].get("direction", ""), []).extend(samples)
    return by_link


CHART_COLUMNS = 600    # a utilisation chart's pixel columns, about (reports/charts.py utilisation)


def _grouped(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["metric"].get("link", ""), r["metric"].get("direction", "")): r for r in rows}


def _by_count(url: str, expr_of, counts: dict[tuple[str, str], float], query) -> dict[tuple[str, str], dict]:
    """One query per distinct sample count n (expr_of(n)), each answer kept for the series
    with that count: the nearest-rank quantile's φ depends on n."""
    out: dict[tuple[str, str], dict] = {}
    distinct = sorted({int(n) for n in counts})
    for n, rows in zip(distinct, _parallel(*[lambda n=n: query(expr_of(n)) for n in distinct])):
        out.update({k: r for k, r in _grouped(rows).items() if k not in out})
    return out


def _recorded_loads(url: str, period: Period, step: float) -> tuple[dict[tuple[str, str], LoadSummary],
                                                                     dict[tuple[str, str], list[tuple[float, float]]]]:
    """Per link direction, its LoadSummary and its chart points, computed by Prometheus from the
    recorded rates, one per bucket (the same figures as summarise() of the buckets' samples,
    without sending 8,928 samples of each of 400 series for a month): the count, mean and peak
    over the period; the p95 by nearest rank (quantile_over_time at compute.rank_quantile of the
    count, one query per distinct count); the same per 7-day window at daily steps; and, per
    chart column of whole buckets, the lowest and highest rate."""
    start_ms, step_ms, grid = _grid(period, step)
    end = (grid[-1] if grid else start_ms) / 1000
    span = f"[{len(grid) * step_ms - 1}ms]"                       # (start, end]: every bucket
    instant = lambda expr: promapi.query(url, expr, end, timeout=promapi.QUERY_TIMEOUT)  # noqa: E731
    counts, means, peaks = (_grouped(rows) for rows in _parallel(
        lambda: instant(f"count_over_time({LINK_RATE}{span})"), lambda: instant(f"avg_over_time({LINK_RATE}{span})"),
        lambda: instant(f"max_over_time({LINK_RATE}{span})")))
    n_of = {k: float(r["value"][1]) for k, r in counts.items()}
    p95 = _by_count(url, lambda n: f"quantile_over_time({rank_quantile(n, 0.95)!r}, {LINK_RATE}{span}) "
                                   f"and on(link, direction) count_over_time({LINK_RATE}{span}) == {n}", n_of.values(), instant)
    starts = window_starts(period)
    windows: dict[tuple[str, str], dict[float, float]] = {k: {} for k in counts}
    if starts:
        wspan, first, last = f"[{WINDOW_DAYS * 86400_000 - 1}ms]", starts[0] + WINDOW_DAYS * 86400, starts[-1] + WINDOW_DAYS * 86400
        ranged = lambda expr: promapi.query_range(url, expr, first, last, 86400)  # noqa: E731
        wcounts = _grouped(ranged(f"count_over_time({LINK_RATE}{wspan})"))
        distinct = {float(v) for r in wcounts.values() for _, v in r["values"]}
        answers = _parallel(*[lambda n=n: ranged(
            f"quantile_over_time({rank_quantile(int(n), 0.95)!r}, {LINK_RATE}{wspan}) "
            f"and on(link, direction) count_over_time({LINK_RATE}{wspan}) == {int(n)}") for n in sorted(distinct)])
        for rows in answers:
            for k, r in _grouped(rows).items():
                windows.setdefault(k, {}).update({float(t) - WINDOW_DAYS * 86400: float(v) for t, v in r["values"]})
    summaries = {k: LoadSummary(int(n_of[k]), float(means[k]["value"][1]), float(peaks[k]["value"][1]),
                                float(p95[k]["value"][1]) if k in p95 else None,
                                {lo: windows.get(k, {}).get(lo) for lo in starts})
                 for k in counts}
    return summaries, _chart_points(url, start_ms, step_ms, grid)


def _chart_points(url: str, start_ms: int, step_ms: int, grid: list[int]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Per link direction, the lowest and highest recorded rate of each chart column (whole
    buckets), at the column's middle: the envelope a polyline of every sample draws."""
    per_column = max(1, -(-len(grid) // CHART_COLUMNS))
    col_ms = per_column * step_ms
    end = (grid[-1] if grid else start_ms) / 1000
    first = (start_ms - step_ms + col_ms) / 1000
    lows, highs = (_grouped(promapi.query_range(url, f"{f}({LINK_RATE}[{col_ms - 1}ms])", first, max(first, end), col_ms / 1000))
                   for f in ("min_over_time", "max_over_time"))
    out = {}
    for k, low in lows.items():
        high = dict(highs.get(k, {}).get("values", []))
        out[k] = [p for t, v in low["values"] for p in ((float(t) - col_ms / 2000, float(v)),
                                                        (float(t) - col_ms / 2000, float(high.get(t, v))))]
    return out


def bandwidth(inv: Inventory, url: str, period: Period, step: float, source: RecordSource | None = None) -> list[LinkLoad]:
    """Each declared link's load per direction against its contract: summarised by Prometheus
    from the recorded rates where they are one per bucket (_recorded_loads), else from every
    bucket's sample (_link_samples)."""
    source = source or link_source(url, period, step)
    if source.recorded and int(round(step * 1000)) == int(round((source.interval or 0) * 1000)):
        summaries, points = _recorded_loads(url, period, step)
    else:
        by_link = _link_samples(url, period, step, source)
        samples = {(link, d): pts for link, dirs in by_link.items() for d, pts in dirs.items()}
        summaries = {k: summarise(pts, period) for k, pts in samples.items()}
        points = samples
    out = []
    for link in inv.doc.links:
        measured = any(key[0] == link.id for key in summaries)
        directions, ratios = [], {}
        for direction, contract in (("a_to_b", link.capacity.a_to_b), ("b_to_a", link.capacity.b_to_a)):
            summary = summaries.get((link.id, direction)) or summarise([], period)
            directions.append(load_from(direction, contract, summary, period))
            ratios[direction] = [(t, v / contract) for t, v in points.get((link.id, direction), [])]
        out.append(LinkLoad(link.id, link.kind.value, link.provider or "", measured, directions, ratios))
    return out


# ---------------------------------------------------------------------------------- security

def security(run: AuditRun, previous: AuditRun | None, today: date) -> Security:
    waivers = [(w.check, w.scope, w.approver, w.expires, (w.expires - today).days) for w in run.waivers]
    return Security(run, waivers, drift(previous, run) if previous is not None else None)


def read_security(audit: Path, today: date, before: datetime | None = None) -> Security | None:
    """The newest run of `audit` (a file or a directory) with the run before it, for drift;
    with `before`, the newest run of the directory finished before that moment."""
    path = latest_run_file(audit) if audit.is_dir() else audit
    if before is not None and audit.is_dir():
        earlier = [f for f in sorted(audit.glob("audit-*.json")) if load_run(f).finished < before]
        path = earlier[-1] if earlier else None
    if path is None:
        return None
    before = previous_run_file(path)
    return security(load_run(path), load_run(before) if before else None, today)


def collect(inv: Inventory, url: str, period: Period, audit: Path | None = None, step: float | None = None,
            now: datetime | None = None, previous: bool = False, audit_before: datetime | None = None) -> ProvinceReport:
    """One province's report; with `previous`, the previous calendar month is collected too, by
    these same functions (its audit figures from the newest run finished before the period)."""
    from provdc.checks.results import score_groups
    from provdc.reports.documents import template_path
    from provdc.reports.monthly import previous_month

    now = now or datetime.now(timezone.utc)
    before = None
    if previous:
        before = collect(inv, url, Period.month(*previous_month(period.start)), audit, step, now,
                         audit_before=period.start)
    period = settled(period, now, settle_seconds(url))
    source = sli_source(url, period)
    step = pick_step(period, step)
    if step < source.window:   # a bucket holds at least one SLI window
        step = pick_step(period, source.window)
    rates, probes = _parallel(lambda: link_source(url, period, step), lambda: probe_source(url, period, step))
    (systems, agencies), links = _parallel(lambda: uptime(inv, url, period, step, source, probes),
                                           lambda: bandwidth(inv, url, period, step, rates))
    sec = read_security(audit, now.date(), audit_before) if audit is not None else None
    lab = getattr(inv.doc, "lab", None)
    return ProvinceReport(inv.province.id, inv.province.name, period, step, now, systems, links, agencies,
                          compute_stats(inv), sec, inv.doc.paperwork,
                          agency_members={a: sorted(m) for a, m in score_groups(inv)["agency"].items()},
                          agency_names={a.id: a.name for a in inv.doc.agencies}, source=url,
                          vantage=str(lab.controller) if lab is not None and lab.controller else "",
                          template=template_path(inv), previous=before, sli=source,
                          link_rates=rates, probe_counts=probes)
