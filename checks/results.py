"""The results model: one audit run and every figure derived from it, computed here only.

An audit run (`audit-<UTC timestamp>.json`) holds the findings and, computed once when the run
is made, its summary: the requirement roll-up per system, the scores, the coverage of the
catalogue and the Directive 14 four-layer status. The CLI, the exporter, the reports and the
console read these; none of them computes a figure of its own. Drift between two runs is
`drift(old, new)`, the only place findings of two runs are matched.

Score formula (documented for auditors, printed in reports): each finding weighs by severity
(critical 10, high 5, medium 3, low 1, info 0). A group's score is the weight of its PASS
findings over the weight of its PASS, FAIL and ERROR findings (ERROR counts against: an
unverified control is not a passed one). "With waivers" counts WAIVED findings as passed;
"without waivers" counts them as FAIL. NOT_APPLICABLE and MANUAL findings do not enter the
score. Groups: a layer; a system (its servers' findings and its own); a level (its systems');
an agency (the servers and systems it owns); a requirement (the findings of its checks).

Requirement roll-up, per system and requirement of the system's framework that applies at its
level: PASS only if every mapped check has findings for the system and all of them passed;
FAIL if any failed (WAIVED if every failure is waived); ERROR if any could not be judged;
NOT_APPLICABLE when every finding was; MANUAL when no check maps it and a fresh evidence record
shows it; FAIL when the newest record is older than the requirement's interval or its
attachment changed; NOT_ASSESSED when nothing was recorded, no mapped check ran or a finding
could not be assessed (an appliance without a configuration backup; such findings do not enter
the score).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "provdc-audit/2"
READABLE_SCHEMAS = ("provdc-audit/1", SCHEMA)
SEVERITY_WEIGHT = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}
LAYERS = ("network", "host", "application", "data", "governance")
D14_CHECKS = {"onsite": "d14_onsite_team", "soc": "d14_soc_contract_valid", "assessment": "d14_assessment_fresh",
              "national": "d14_national_monitoring"}
NONE_RECORDED = "none recorded"   # what an evidence check finds when the inventory has nothing


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    MANUAL = "MANUAL"
    WAIVED = "WAIVED"
    NOT_ASSESSED = "NOT_ASSESSED"    # nothing checked or recorded (a finding: nothing to judge, e.g. no backup)


BAD = (Status.FAIL, Status.ERROR)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppliedWaiver(_Frozen):
    approver: str
    expires: date
    justification: str


class RequirementRef(_Frozen):
    framework: str
    id: str
    clause: str | None = None


class Finding(_Frozen):
    check: str
    layer: Literal["network", "host", "application", "data", "governance"]
    severity: Literal["critical", "high", "medium", "low", "info"]
    status: Status
    host: str | None = None          # server or device id; None for system and inventory-wide checks
    system: str | None = None
    title: str = ""
    expected: str = ""
    found: str = ""
    evidence: str = ""               # the command or probe
    remediation: str = ""            # what fixes it (and the provisioning tag)
    seconds: float = 0.0
    waiver: AppliedWaiver | None = None
    requirements: list[RequirementRef] = Field(default_factory=list)
    bar: str = ""                    # the numbers the verdict used and which system set them

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What identifies a finding across runs: the same check on the same subject."""
        return self.check, self.host, self.system

    @property
    def subject(self) -> str:
        return self.host or (f"system:{self.system}" if self.system else "inventory")


class WaiverRecord(_Frozen):
    check: str
    scope: str                       # e.g. "system:email", "host:db1", "all"
    approver: str
    expires: date


class RequirementResult(_Frozen):
    framework: str
    id: str
    clause: str | None
    clause_verified: bool
    system: str
    level: int
    layer: str
    met_by: str
    automation: str | None = None
    status: Status
    checks: list[str] = Field(default_factory=list)
    failing: list[str] = Field(default_factory=list)     # subjects of the failed or errored findings
    evidence: list[str] = Field(default_factory=list)    # evidence record ids considered
    detail: str = ""


class ScorePair(_Frozen):
    with_waivers: float | None
    without_waivers: float | None


class D14Layers(_Frozen):
    """Directive 14/CT-TTg's four layers of one system, each (state, detail); state is ok,
    missing, expired, not_required, waived or error, read from the d14_* findings."""

    system: str
    level: int
    onsite: tuple[str, str]
    soc: tuple[str, str]
    assessment: tuple[str, str]
    national: tuple[str, str]


class Coverage(_Frozen):
    """How the catalogue's requirements that apply to the systems of one framework and level
    are met: by checks, by evidence records, manually, and how many were not assessed."""

    framework: str
    level: int
    systems: int
    requirements: int
    automated: int
    evidence: int
    manual: int
    not_assessed: int


class Transition(_Frozen):
    system: str
    framework: str
    deadline: date
    days_left: int


class Summary(_Frozen):
    requirements: list[RequirementResult] = Field(default_factory=list)
    scores: dict[str, dict[str, ScorePair]] = Field(default_factory=dict)   # group kind -> group -> pair
    coverage: list[Coverage] = Field(default_factory=list)
    d14: list[D14Layers] = Field(default_factory=list)
    transition: list[Transition] = Field(default_factory=list)


class Vantage(_Frozen):
    """Where an audit ran from: every SSH session, nmap scan and TLS/HTTP probe starts there, so
    a finding is true as seen from this machine (a firewall may show another side elsewhere)."""
    host: str                        # the machine's host name
    address: str | None = None       # the inventory's declared controller address, if any
    tool: str                        # "provdc 0.1.0": the version that judged


class AuditRun(_Frozen):
    schema_: Literal["provdc-audit/1", "provdc-audit/2"] = Field(SCHEMA, alias="schema")
    province: str
    started: datetime
    finished: datetime
    partial: bool = False            # some hosts or checks could not complete
    findings: list[Finding] = Field(default_factory=list)
    waivers: list[WaiverRecord] = Field(default_factory=list)
    requirements: list[RequirementResult] = Field(default_factory=list)
    scores: dict[str, dict[str, ScorePair]] = Field(default_factory=dict)
    coverage: list[Coverage] = Field(default_factory=list)
    d14: list[D14Layers] = Field(default_factory=list)
    transition: list[Transition] = Field(default_factory=list)
    vantage: Vantage | None = None   # runs written before 2026-12-03 do not say

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, by_alias=True) + "\n"

    def score(self, kind: str, group: str, with_waivers: bool = True) -> float | None:
        pair = self.scores.get(kind, {}).get(group)
        if pair is None:
            return None
        return pair.with_waivers if with_waivers else pair.without_waivers

    def group_scores(self, kind: str) -> dict[str, ScorePair]:
        return self.scores.get(kind, {})

    def failed(self) -> list[Finding]:
        """FAIL and ERROR findings, most severe first."""
        return sorted((f for f in self.findings if f.status in BAD),
                      key=lambda f: (-SEVERITY_WEIGHT[f.severity], f.check, f.subject))

    def not_assessed(self) -> list[RequirementResult]:
        return [r for r in self.requirements if r.status is Status.NOT_ASSESSED]


def load_run(path: Path) -> AuditRun:
    """Read one results file of any readable schema (raises ValueError with a readable reason).
    A run without a stored summary (provdc-audit/1) gets its layer scores derived on reading."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not a readable JSON file ({exc})") from None
    try:
        run = AuditRun.model_validate(data)
    except Exception as exc:  # noqa: BLE001 - pydantic's message, shortened for a label value
        raise ValueError(f"{path.name}: not a {' or '.join(READABLE_SCHEMAS)} results file "
                         f"({str(exc).splitlines()[0]})") from None
    if not run.scores:
        run = run.model_copy(update={"scores": {"layer": _layer_scores(run.findings)}})
    return run


def latest_run_file(directory: Path) -> Path | None:
    """The newest results file of a directory (names sort by their UTC timestamp)."""
    files = sorted(directory.glob("audit-*.json"))
    return files[-1] if files else None


def previous_run_file(path: Path) -> Path | None:
    """The run before `path` in the same directory, for drift."""
    earlier = [f for f in sorted(path.parent.glob("audit-*.json")) if f.name < path.name]
    return earlier[-1] if earlier else None


# ------------------------------------------------------------------------------------- scores

def score(findings: Iterable[Finding], *, waivers_count_as_pass: bool = True) -> float | None:
    """Severity-weighted share of passed controls (see the module docstring); None if nothing scored."""
    passed = total = 0
    for f in findings:
        weight = SEVERITY_WEIGHT[f.severity]
        status = f.status
        if status is Status.WAIVED:
            status = Status.PASS if waivers_count_as_pass else Status.FAIL
        if status in (Status.PASS, Status.FAIL, Status.ERROR):
            total += weight
            passed += weight if status is Status.PASS else 0
    return passed / total if total else None


def _pair(findings: list[Finding]) -> ScorePair:
    return ScorePair(with_waivers=score(findings), without_waivers=score(findings, waivers_count_as_pass=False))


def _layer_scores(findings: list[Finding]) -> dict[str, ScorePair]:
    return {layer: _pair([f for f in findings if f.layer == layer]) for layer in LAYERS}


def score_groups(inv) -> dict[str, dict[str, set[str]]]:
    """Systems, levels and agencies as sets of the host and system ids whose findings count
    for them. An agency owns the servers and the systems whose `owner` it is."""
    systems = {s.id: {f"system:{s.id}", *s.servers} for s in inv.doc.systems}
    levels: dict[str, set[str]] = {}
    for s in inv.doc.systems:
        levels.setdefault(str(s.level), set()).update(systems[s.id])
    agencies: dict[str, set[str]] = {}
    for srv in inv.doc.servers:
        if srv.owner:
            agencies.setdefault(srv.owner, set()).add(srv.id)
    for s in inv.doc.systems:
        if s.owner:
            agencies.setdefault(s.owner, set()).add(f"system:{s.id}")
    return {"system": systems, "level": levels, "agency": agencies}


def member(f: Finding, members: set[str]) -> bool:
    """Whether a finding counts for a group of score_groups (its host or its system is a member)."""
    return (f.host is not None and f.host in members) or (f.system is not None and f"system:{f.system}" in members)


def _scores(inv, findings: list[Finding]) -> dict[str, dict[str, ScorePair]]:
    out = {"all": {"all": _pair(findings)}, "layer": _layer_scores(findings)}
    for kind, groups in score_groups(inv).items():
        out[kind] = {name: _pair([f for f in findings if member(f, members)]) for name, members in sorted(groups.items())}
    return out


# ---------------------------------------------------------------------------- requirement roll-up

def _relevant(f: Finding, system, devices: frozenset[str] = frozenset()) -> bool:
    """A finding counts for a system when it is about one of its servers, about a network
    device (every system's traffic crosses them), about the system itself, or inventory-wide
    (design checks)."""
    if f.host is not None:
        return f.host in system.servers or f.host in devices
    return f.system is None or f.system == system.id


def _by_check(findings: list[Finding]) -> dict[str, list[Finding]]:
    index: dict[str, list[Finding]] = {}
    for f in findings:
        index.setdefault(f.check, []).append(f)
    return index


def _from_findings(req, system, by_check: dict[str, list[Finding]],
                   devices: frozenset[str] = frozenset()) -> tuple[Status, list[str], str]:
    mine = [f for check in req.checks for f in by_check.get(check, []) if _relevant(f, system, devices)]
    ran = {f.check for f in mine}
    judged = [f for f in mine if f.status is not Status.NOT_APPLICABLE]
    failing = sorted({f.subject for f in mine if f.status in BAD or f.status is Status.WAIVED})
    statuses = {f.status for f in judged}
    if Status.FAIL in statuses:
        return Status.FAIL, failing, f"{sum(f.status is Status.FAIL for f in judged)} of {len(judged)} findings failed"
    if Status.ERROR in statuses:
        return Status.ERROR, failing, f"{sum(f.status is Status.ERROR for f in judged)} findings could not be judged"
    unmeasured = sorted({f.subject for f in judged if f.status is Status.NOT_ASSESSED})
    if unmeasured:  # an appliance without a configuration backup: unknown, never a PASS
        return Status.NOT_ASSESSED, failing, f"not assessed on {', '.join(unmeasured)}"
    missing = sorted(set(req.checks) - ran)
    if missing:
        return Status.NOT_ASSESSED, failing, f"not run: {', '.join(missing)}"
    if not judged:
        return Status.NOT_APPLICABLE, failing, "every mapped check is not applicable here"
    if Status.WAIVED in statuses:
        return Status.WAIVED, failing, "failures waived"
    return Status.PASS, failing, f"{len(judged)} findings passed"


def _record_problem(record, base: Path | None) -> tuple[Status, str] | None:
    """An attachment that is missing (ERROR) or changed since it was recorded (FAIL)."""
    att = record.attachment
    if att is None:
        return None
    path = Path(att.path) if Path(att.path).is_absolute() or base is None else base / att.path
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return Status.ERROR, f"{record.id}: attachment {att.path} unreadable ({exc.strerror})"
    if att.sha256 and digest != att.sha256.lower():
        return Status.FAIL, f"{record.id}: attachment {att.path} changed since it was recorded (sha256 {digest[:12]}…)"
    return None


def _from_evidence(req, system, records: list, interval: float | None, today: date,
                   base: Path | None) -> tuple[Status, list[str], str]:
    mine = sorted((r for r in records if req.id in r.requirements and (not r.systems or system.id in r.systems)),
                  key=lambda r: r.date)
    if not mine:
        return Status.NOT_ASSESSED, [], NONE_RECORDED
    newest = mine[-1]
    ids = [r.id for r in mine]
    problem = _record_problem(newest, base)
    if problem:
        return problem[0], ids, problem[1]
    what = f"{newest.document}, {newest.date.isoformat()}, {newest.issuer}, approved by {newest.approver}"
    if interval is not None and newest.date + timedelta(days=interval) < today:
        return Status.FAIL, ids, f"{what}: older than {interval:g} days"
    if newest.valid_until is not None and newest.valid_until < today:
        return Status.FAIL, ids, f"{what}: expired {newest.valid_until.isoformat()}"
    return Status.MANUAL, ids, what


def requirement_results(inv, findings: list[Finding], today: date, catalogue) -> list[RequirementResult]:
    from provdc.inventory.catalogue import bar_for

    out = []
    devices = frozenset(d.id for d in inv.doc.devices)
    records = list(getattr(inv.doc, "evidence", []))
    by_check = _by_check(findings)
    for system in inv.doc.systems:
        fw = catalogue.framework(system.framework.value)
        bar = bar_for([system], catalogue)
        for req in fw.applicable(system.level):
            if req.checks:
                status, subjects, detail = _from_findings(req, system, by_check, devices)
                evidence: list[str] = []
            else:
                interval = bar.get(req.interval) if req.interval else None
                status, evidence, detail = _from_evidence(req, system, records, interval, today, inv.base)
                subjects = []
            out.append(RequirementResult(
                framework=fw.id, id=req.id, clause=req.clause, clause_verified=req.clause_verified, system=system.id,
                level=system.level, layer=catalogue.requirements[req.id].layer, met_by=req.met_by,
                automation=req.automation, status=status, checks=list(req.checks), failing=subjects, evidence=evidence,
                detail=detail))
    return out


def _requirement_scores(results: list[RequirementResult], findings: list[Finding], inv) -> dict[str, ScorePair]:
    systems = {s.id: s for s in inv.doc.systems}
    devices = frozenset(d.id for d in inv.doc.devices)
    by_check = _by_check(findings)
    out = {}
    for r in results:
        if r.checks:
            mine = [f for check in r.checks for f in by_check.get(check, []) if _relevant(f, systems[r.system], devices)]
            out[f"{r.framework}:{r.id}@{r.system}"] = _pair(mine)
    return out


def _coverage(inv, results: list[RequirementResult]) -> list[Coverage]:
    out = []
    keys = sorted({(s.framework.value, s.level) for s in inv.doc.systems})
    for fid, level in keys:
        systems = [s.id for s in inv.doc.systems if s.framework.value == fid and s.level == level]
        mine = [r for r in results if r.framework == fid and r.level == level and r.system == systems[0]]
        assessed = [r for r in results if r.framework == fid and r.level == level]
        out.append(Coverage(framework=fid, level=level, systems=len(systems), requirements=len(mine),
                            automated=sum(r.met_by == "automated" for r in mine),
                            evidence=sum(r.met_by == "evidence" for r in mine),
                            manual=sum(r.met_by == "manual" for r in mine),
                            not_assessed=sum(r.status is Status.NOT_ASSESSED for r in assessed)))
    return out


# ----------------------------------------------------------------------------- Directive 14

def _d14_state(f: Finding | None) -> tuple[str, str]:
    if f is None:
        return "error", "not checked"
    state = {Status.PASS: "ok", Status.NOT_APPLICABLE: "not_required", Status.WAIVED: "waived",
             Status.ERROR: "error"}.get(f.status)
    if state is None:
        state = "missing" if f.found == NONE_RECORDED else "expired"
    return state, "" if f.status is Status.NOT_APPLICABLE else f.found


def d14_layers(inv, findings: list[Finding]) -> list[D14Layers]:
    by_key = {(f.check, f.system): f for f in findings if f.check in D14_CHECKS.values()}
    rows = []
    for s in inv.doc.systems:
        states = {layer: _d14_state(by_key.get((check, s.id))) for layer, check in D14_CHECKS.items()}
        rows.append(D14Layers(system=s.id, level=s.level, **states))
    return rows


def transitions(inv, today: date) -> list[Transition]:
    """Systems still judged under Decree 85 that must meet Decree 331 by its deadline."""
    from provdc.inventory.catalogue import ND331_DEADLINE

    deadline = date.fromisoformat(ND331_DEADLINE)
    return [Transition(system=s.id, framework=s.framework.value, deadline=deadline, days_left=(deadline - today).days)
            for s in inv.doc.systems if s.framework.value == "nd85_tcvn11930"]


def summarise(inv, findings: list[Finding], today: date, catalogue=None) -> Summary:
    """Everything an audit run reports besides its findings, computed once when it is made."""
    from provdc.inventory.catalogue import load_catalogue

    catalogue = catalogue or load_catalogue()
    results = requirement_results(inv, findings, today, catalogue)
    scores = _scores(inv, findings)
    scores["requirement"] = _requirement_scores(results, findings, inv)
    return Summary(requirements=results, scores=scores, coverage=_coverage(inv, results), d14=d14_layers(inv, findings),
                   transition=transitions(inv, today))


# ---------------------------------------------------------------------------------------- drift

@dataclass
class Drift:
    """What changed between two runs, findings matched on (check, host, system) only."""

    new_failures: list[Finding]
    fixed: list[Finding]
    changed: list[tuple[Finding, Finding]]     # same status, different evidence found

    def counts(self) -> dict[str, int]:
        return {"new_failures": len(self.new_failures), "fixed": len(self.fixed), "changed": len(self.changed)}

    def to_json(self) -> str:
        def brief(f: Finding) -> dict:
            return {"check": f.check, "subject": f.subject, "status": f.status.value, "found": f.found,
                    "requirements": [f"{r.framework}:{r.id}" for r in f.requirements]}
        return json.dumps({"new_failures": [brief(f) for f in self.new_failures], "fixed": [brief(f) for f in self.fixed],
                           "changed": [{"before": brief(a), "after": brief(b)} for a, b in self.changed]},
                          ensure_ascii=False, indent=2) + "\n"


def drift(old: AuditRun, new: AuditRun) -> Drift:
    before = {f.key: f for f in old.findings}
    new_failures, fixed, changed = [], [], []
    for f in new.findings:
        prev = before.get(f.key)
        if f.status in BAD and (prev is None or prev.status not in BAD):
            new_failures.append(f)
        elif prev is not None and prev.status in BAD and f.status in (Status.PASS, Status.WAIVED):
            fixed.append(f)
        elif prev is not None and prev.status == f.status and prev.found != f.found:
            changed.append((prev, f))
    return Drift(new_failures, fixed, changed)
