"""Gather a province's report data: Prometheus (uptime, bandwidth), the audit run, the inventory.

Queries are few and wide: one range query for success shares and one for probe counts of every
target, one for every link's rate, one instant query with the `@` modifier for the sample-based
check of each target's period availability. All arithmetic happens in `compute.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from provdc.checks.results import (AuditRun, D14Layers, Drift, Finding, RequirementResult, drift, latest_run_file, load_run,
                                   previous_run_file)
from provdc.durations import DurationError, parse_duration
from provdc.errors import ProvdcError
from provdc.exporters import promapi
from provdc.exporters.monitoring import LINK_OCTETS
from provdc.inventory import Inventory
from provdc.inventory.stats import Stats, compute_stats
from provdc.reports.compute import VN as VN_TZ
from provdc.reports.compute import (Availability, Bucket, DirectionLoad, Period, availability, combine_min,
                                    direction_load)

PROBES = 'probe_success{job=~"blackbox_.*"}'


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
    start_ms, step_ms, grid = _grid(period, step)
    start, end, step_s = start_ms / 1000, grid[-1] / 1000 if grid else start_ms / 1000, step_ms / 1000
    window = f"{step_ms}ms"
    shares = promapi.query_range(url, f"avg_over_time({PROBES}[{window}])", start, end, step_s)
    counts = promapi.query_range(url, f"count_over_time({PROBES}[{window}])", start, end, step_s)
    count_of = {(r["metric"]["job"], r["metric"]["instance"]): _by_index(r["values"], start_ms, step_ms) for r in counts}
    out = {}
    for r in shares:
        key = (r["metric"]["job"], r["metric"]["instance"])
        share = _by_index(r["values"], start_ms, step_ms)
        counted = count_of.get(key, {})
        buckets = [Bucket(t / 1000, share.get(k), counted.get(k, 0.0)) for k, t in enumerate(grid)]
        out[key] = {"labels": r["metric"], "buckets": buckets}
    for key in count_of:  # a target with counts but no shares: all gaps
        out.setdefault(key, {"labels": {"job": key[0], "instance": key[1]}, "buckets": [Bucket(t / 1000, None, 0) for t in grid]})
    return out


def _sample_ratios(url: str, period: Period) -> dict[tuple[str, str], float]:
    """Prometheus' sample-based availability of each target over the period, via `@`."""
    expr = f"avg_over_time({PROBES}[{int(period.seconds)}s] @ {period.end.timestamp():.0f})"
    return {(r["metric"]["job"], r["metric"]["instance"]): float(r["value"][1]) for r in promapi.query(url, expr)}


def _expected(step: float, interval: float) -> float:
    """Probes a fully measured bucket holds: every whole scrape interval that fits in it (a
    9.5 s bucket of 2 s scrapes holds 4 or 5 depending on phase; 4 is complete)."""
    return max(1.0, float(int(step / interval + 1e-9)))


def _maintenance_of(inv: Inventory, kind: str, ident: str) -> list[tuple[float, float, str]]:
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


def _buckets_over(url: str, period: Period, step: float) -> dict[tuple[str, str], dict]:
    """Per target, its buckets over the whole period, gathered month by month."""
    parts = chunks(period) if period.seconds > 31 * 86400 else [period]
    merged: dict[tuple[str, str], dict] = {}
    for part in parts:
        for key, v in _buckets_by_target(url, part, step).items():
            merged.setdefault(key, {"labels": v["labels"], "buckets": []})["buckets"].extend(v["buckets"])
    return merged


def uptime(inv: Inventory, url: str, period: Period, step: float) -> tuple[list[SystemAvailability], list[AgencyReach]]:
    intervals = _interval_seconds(url)
    by_target = _buckets_over(url, period, step)
    ratios = _sample_ratios(url, period)
    systems = []
    for system in inv.doc.systems:
        mine = {k: v for k, v in by_target.items() if f",{system.id}," in v["labels"].get("systems", "")}
        windows = _maintenance_of(inv, "systems", system.id)
        targets = []
        for (job, instance), v in sorted(mine.items()):
            server = v["labels"].get("server", "")
            mw = windows + _maintenance_of(inv, "servers", server)
            expected = _expected(step, intervals.get(job, 15.0))
            targets.append(TargetAvailability(instance, job, server, v["labels"].get("service", "icmp"),
                                              availability(v["buckets"], step, expected, period.seconds, [(s, e) for s, e, _ in mw]),
                                              ratios.get((job, instance))))
        buckets = combine_min([v["buckets"] for v in mine.values()]) if mine else []
        expected = _expected(step, min((intervals.get(j, 15.0) for j, _ in mine), default=15.0))
        result = availability(buckets, step, expected, period.seconds, [(s, e) for s, e, _ in windows])
        systems.append(SystemAvailability(system.id, system.name, system.level, system.sla_target, result, buckets, windows, targets))
    agencies = []
    for a in inv.doc.agencies:
        mine = [v for v in by_target.values() if v["labels"].get("agency") == a.id]
        result = (availability(mine[0]["buckets"], step, _expected(step, intervals.get("blackbox_icmp", 15.0)), period.seconds)
                  if mine else None)
        agencies.append(AgencyReach(a.id, a.name, a.tier.value, result))
    return systems, agencies


def _link_samples(url: str, period: Period, step: float) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Per link and direction, (time, bits/s) samples: each the mean rate over its own bucket
    (at least a few scrapes, which rate() needs); a long period is read month by month."""
    interval = _interval_seconds(url).get("snmp", 15.0)
    by_link: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for part in (chunks(period) if period.seconds > 31 * 86400 else [period]):
        start_ms, step_ms, grid = _grid(part, step)
        window_ms = max(step_ms, int(3 * interval * 1000))
        series = promapi.query_range(url, f"rate({LINK_OCTETS}[{window_ms}ms])", start_ms / 1000,
                                     (grid[-1] if grid else start_ms) / 1000, step_ms / 1000)
        for r in series:
            samples = [(float(t), float(v) * 8) for t, v in r["values"]]  # bytes/s -> bits/s, as contracts are written
            by_link.setdefault(r["metric"].get("link", ""), {}).setdefault(r["metric"].get("direction", ""), []).extend(samples)
    return by_link


def bandwidth(inv: Inventory, url: str, period: Period, step: float) -> list[LinkLoad]:
    by_link = _link_samples(url, period, step)
    out = []
    for link in inv.doc.links:
        measured = link.id in by_link
        directions, ratios = [], {}
        for direction, contract in (("a_to_b", link.capacity.a_to_b), ("b_to_a", link.capacity.b_to_a)):
            samples = by_link.get(link.id, {}).get(direction, [])
            directions.append(direction_load(direction, contract, samples, period))
            ratios[direction] = [(t, v / contract) for t, v in samples]
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
    step = pick_step(period, step)
    systems, agencies = uptime(inv, url, period, step)
    links = bandwidth(inv, url, period, step)
    sec = read_security(audit, now.date(), audit_before) if audit is not None else None
    lab = getattr(inv.doc, "lab", None)
    return ProvinceReport(inv.province.id, inv.province.name, period, step, now, systems, links, agencies,
                          compute_stats(inv), sec, inv.doc.paperwork,
                          agency_members={a: sorted(m) for a, m in score_groups(inv)["agency"].items()},
                          agency_names={a.id: a.name for a in inv.doc.agencies}, source=url,
                          vantage=str(lab.controller) if lab is not None and lab.controller else "",
                          template=template_path(inv), previous=before)
