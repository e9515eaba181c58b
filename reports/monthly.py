"""The monthly report's derived views: trend against the previous month, failed findings
grouped by requirement with their owner agency and due date, the per-agency breakdown. Pure:
every figure is read from the results model (the audit run's own scores and lists) or from
`compute` (availability, p95) as `collect` produced them for each period; nothing is
recomputed here.

Due-date rule (printed in the report): a failed finding is due a number of days after the audit
run that found it, by severity (`DUE_DAYS`); a finding whose waiver has expired was due on the
waiver's expiry; a system still under Decree 85 is due no later than its Decree 331 deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from provdc.checks.results import AuditRun, Finding, ScorePair, member
from provdc.reports.compute import VN

DUE_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
NO_REQUIREMENT = ""      # the group of findings whose check maps no requirement


def previous_month(start: datetime) -> tuple[int, int]:
    """(year, month) of the calendar month before the one `start` falls in (Vietnam time)."""
    local = start.astimezone(VN)
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


@dataclass(frozen=True)
class TrendRow:
    kind: str                 # availability | p95 | score
    subject: str              # system id, "link direction", or layer / "all"
    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        return None if self.current is None or self.previous is None else self.current - self.previous


def trend(current, previous) -> list[TrendRow]:
    """The month's figures beside the previous month's, both as `collect` made them (so by the
    same functions); `previous` may be None (no earlier report: every previous value is None)."""
    rows = []
    before = {s.id: s.result.availability for s in previous.systems} if previous else {}
    rows += [TrendRow("availability", s.id, s.result.availability, before.get(s.id)) for s in current.systems]
    loads = {(link.id, d.direction): d.p95_bps for link in (previous.links if previous else []) for d in link.directions}
    rows += [TrendRow("p95", f"{link.id} {d.direction}", d.p95_bps, loads.get((link.id, d.direction)))
             for link in current.links for d in link.directions]
    now_run = current.security.run if current.security else None
    old_run = previous.security.run if previous and previous.security else None
    for with_waivers, name in ((True, "all"), (False, "all_without")):
        rows.append(TrendRow("score", name, now_run.score("all", "all", with_waivers) if now_run else None,
                             old_run.score("all", "all", with_waivers) if old_run else None))
    return rows


@dataclass(frozen=True)
class DueFinding:
    finding: Finding
    owner: str | None         # owner agency id of the finding's subject
    due: date
    reason: str               # severity | waiver | transition


def owner_of(f: Finding, agencies: dict[str, list[str]]) -> str | None:
    """The agency whose members (results.score_groups: servers and systems it owns) hold the
    finding's subject."""
    return next((a for a, members in sorted(agencies.items()) if member(f, set(members))), None)


def due_date(f: Finding, found_on: date, transition: dict[str, date]) -> tuple[date, str]:
    """The declared rule (module docstring)."""
    if f.waiver is not None and f.waiver.expires < found_on:
        return f.waiver.expires, "waiver"
    due, reason = found_on + timedelta(days=DUE_DAYS[f.severity]), "severity"
    deadline = transition.get(f.system or "")
    if deadline is not None and deadline < due:
        return deadline, "transition"
    return due, reason


def by_requirement(run: AuditRun, agencies: dict[str, list[str]]) -> dict[str, list[DueFinding]]:
    """The run's failed findings, grouped by requirement id ("framework:id"; NO_REQUIREMENT for
    checks that map none), most severe first inside each group; a finding mapped to two
    requirements is listed under both."""
    found_on = run.finished.astimezone(VN).date()
    transition = {t.system: t.deadline for t in run.transition}
    groups: dict[str, list[DueFinding]] = {}
    for f in run.failed():
        due, reason = due_date(f, found_on, transition)
        item = DueFinding(f, owner_of(f, agencies), due, reason)
        for key in [f"{r.framework}:{r.id}" for r in f.requirements] or [NO_REQUIREMENT]:
            groups.setdefault(key, []).append(item)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == NO_REQUIREMENT, kv[0])))


@dataclass(frozen=True)
class AgencyRow:
    agency: str
    systems: list[str]
    below_target: list[str]
    score: ScorePair | None
    failures: int
    critical: int


def agency_breakdown(report, agencies: dict[str, list[str]]) -> list[AgencyRow]:
    """Per owner agency: its systems, those below their availability target, its score (the
    run's own agency score) and its failed findings."""
    run = report.security.run if report.security else None
    met = {s.id: s.met for s in report.systems}
    rows = []
    for agency, members in sorted(agencies.items()):
        systems = sorted(m.removeprefix("system:") for m in members if m.startswith("system:"))
        failed = [f for f in (run.failed() if run else []) if member(f, set(members))]
        rows.append(AgencyRow(agency, systems, [s for s in systems if met.get(s) is False],
                              run.group_scores("agency").get(agency) if run else None,
                              len(failed), sum(f.severity == "critical" for f in failed)))
    return rows
