"""What the console reads from Prometheus: the state now, month-to-date availability and the
links' 7-day figures. The figures are the reports' own (reports.collect and reports.compute);
this module only picks the periods and keeps the answer for a few seconds, so twenty users on
the overview cost one set of queries, not twenty."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from provdc.errors import ProvdcError
from provdc.exporters import promapi
from provdc.exporters.alerting import SERVICE_JOBS
from provdc.inventory import Inventory
from provdc.reports import collect
from provdc.reports.collect import LinkLoad, SystemAvailability
from provdc.reports.compute import VN, WINDOW_DAYS, Period

TTL_SECONDS = 15.0


@dataclass
class Live:
    """One snapshot; `error` says why a part is missing (None: Prometheus answered)."""

    taken: datetime
    probes: dict[str, float] = field(default_factory=dict)        # server id -> min probe_success now
    agencies: dict[str, float] = field(default_factory=dict)      # agency id -> probe_success now
    link_now: dict[tuple[str, str], float] = field(default_factory=dict)   # (link, direction) -> utilisation now
    alerts: list[dict] = field(default_factory=list)
    month: list[SystemAvailability] = field(default_factory=list)
    week: list[LinkLoad] = field(default_factory=list)
    certificates: dict[str, datetime] = field(default_factory=dict)   # "server · service" -> earliest expiry
    error: str | None = None


# the blackbox probes' own certificate figure, the one the ProvdcCertificateExpiring alert reads
CERTIFICATES = f'min by (server, service, instance) (probe_ssl_earliest_cert_expiry{{job=~"{SERVICE_JOBS}"}})'


def certificates_from(results: list[dict]) -> dict[str, datetime]:
    """Each probed TLS service (server and service, else the probe's instance) -> its earliest expiry."""
    out: dict[str, datetime] = {}
    for r in results:
        m = r.get("metric", {})
        name = " · ".join(x for x in (m.get("server"), m.get("service")) if x) or m.get("instance", "?")
        when = datetime.fromtimestamp(float(r["value"][1]), timezone.utc)
        out[name] = min(when, out.get(name, when))
    return out


def month_to_date(now: datetime) -> Period:
    local = now.astimezone(VN)
    return Period(datetime(local.year, local.month, 1, tzinfo=VN), now)


def last_week(now: datetime) -> Period:
    return Period(now - timedelta(days=WINDOW_DAYS), now)


def snapshot(inv: Inventory, url: str | None, now: datetime | None = None) -> Live:
    now = now or datetime.now(timezone.utc)
    live = Live(taken=now)
    if not url:
        live.error = "no Prometheus configured (--prometheus)"
        return live
    try:
        probes = promapi.query(url, 'min by (server) (probe_success{job=~"blackbox_.*",server!=""})')
        live.probes = promapi.scalar_by(probes, "server")
        live.agencies = promapi.scalar_by(promapi.query(url, 'min by (agency) (probe_success{agency!=""})'), "agency")
        # "now" is the monitoring's own recording rule (rate over its rate window / contract)
        for r in promapi.query(url, "provdc:link_utilisation:ratio"):
            live.link_now[(r["metric"].get("link", ""), r["metric"].get("direction", ""))] = float(r["value"][1])
        live.certificates = certificates_from(promapi.query(url, CERTIFICATES))
        live.alerts = [a for a in promapi.api(url, "/api/v1/alerts")["alerts"] if a.get("state") == "firing"]
        settle = collect.settle_seconds(url)
        month = collect.settled(month_to_date(now), now, settle)
        live.month, _ = collect.uptime(inv, url, month, collect.pick_step(month))
        week = collect.settled(last_week(now), now, settle)
        live.week = collect.bandwidth(inv, url, week, collect.pick_step(week))
    except ProvdcError as exc:
        live.error = str(exc)
    return live


class LiveCache:
    """The newest snapshot, refreshed at most every TTL_SECONDS, one refresh at a time."""

    def __init__(self, url: str | None, ttl: float = TTL_SECONDS) -> None:
        self.url, self.ttl = url, ttl
        self.lock = threading.Lock()
        self.value: Live | None = None
        self.at = 0.0

    def get(self, inv: Inventory) -> Live:
        with self.lock:
            if self.value is None or time.monotonic() - self.at > self.ttl:
                self.value = snapshot(inv, self.url)
                self.at = time.monotonic()
            return self.value


def recent_load(inv: Inventory, url: str | None, link_id: str, hours: float = 1.0,
                now: datetime | None = None) -> LinkLoad | None:
    """The last hour(s) of one link at a fine step, for its chart (the 7-day figures' step is 5
    minutes: too coarse to see a flood); None without Prometheus or data."""
    if not url:
        return None
    now = now or datetime.now(timezone.utc)
    try:
        period = collect.settled(Period(now - timedelta(hours=hours), now), now, collect.settle_seconds(url))
        loads = collect.bandwidth(inv, url, period, collect.pick_step(period, max(period.seconds / 600, 1.0)))
    except ProvdcError:
        return None
    return next((ln for ln in loads if ln.id == link_id and ln.measured), None)


# ------------------------------------------------------------------ SLA history by month

def months_before(now: datetime, count: int) -> list[Period]:
    """The `count` calendar months (Vietnam time) before the current one, newest first."""
    local = now.astimezone(VN)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        out.append(Period.month(year, month))
    return out


@dataclass
class MonthSla:
    """One system's availability over one calendar month against its target (reports.collect.uptime's figure)."""

    month: str                     # YYYY-MM
    availability: float | None
    target_percent: float
    met: bool | None
    partial: bool = False          # the month so far


def history_rows(system_id: str, months: list[tuple[str, list[SystemAvailability]]], partial: str = "") -> list[MonthSla]:
    """One system's rows, newest first, from each month's uptime() answer (pure)."""
    rows = []
    for label, systems in months:
        sa = next((s for s in systems if s.id == system_id), None)
        if sa is not None:
            rows.append(MonthSla(label, sa.result.availability, sa.target_percent, sa.met, label == partial))
    return rows


class SlaHistory:
    """Completed months' uptime() answers, computed once each (a closed month does not change)."""

    RETRY_SECONDS = 60.0       # after a failed query, pages show what is known without asking again for a while

    def __init__(self, url: str | None, months: int = 6) -> None:
        self.url, self.months = url, months
        self.lock = threading.Lock()
        self.done: dict[tuple, list[SystemAvailability]] = {}
        self.failed: tuple[float, str] | None = None      # (monotonic time, why)

    def get(self, inv: Inventory, now: datetime | None = None) -> tuple[list[tuple[str, list[SystemAvailability]]], str | None]:
        """[(YYYY-MM, systems)] newest first, and why some month is missing (None when none is)."""
        if not self.url:
            return [], "no Prometheus configured (--prometheus)"
        now = now or datetime.now(timezone.utc)
        shape = tuple((s.id, s.sla_target, tuple(s.servers)) for s in inv.doc.systems)
        out, error = [], None
        with self.lock:
            backing_off = self.failed is not None and time.monotonic() - self.failed[0] < self.RETRY_SECONDS
            for period in months_before(now, self.months):
                label = period.start.strftime("%Y-%m")
                key = (label, shape)
                if key not in self.done:
                    if backing_off or error is not None:
                        error = error or self.failed[1]
                        continue
                    try:
                        self.done[key], _ = collect.uptime(inv, self.url, period, collect.pick_step(period))
                    except ProvdcError as exc:
                        error = str(exc)
                        self.failed = (time.monotonic(), error)
                        continue
                out.append((label, self.done[key]))
        return out, error
