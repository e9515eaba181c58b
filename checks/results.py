"""Audit results: the versioned JSON an audit run writes and exporters and reports read.

One file per run (`audit-<UTC timestamp>.json`). Findings carry status, evidence and timing;
scores are derived from findings, never stored separately, so they cannot disagree.

Score formula (documented for auditors): each finding weighs by severity (critical 10, high 5,
medium 3, low 1, info 0). A layer's score is the weight of PASS findings over the weight of
PASS, FAIL and ERROR findings (ERROR counts against: an unverified control is not a passed
one). "With waivers" counts WAIVED findings as passed; "without waivers" counts them as FAIL.
NOT_APPLICABLE and MANUAL findings do not enter the score.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "provdc-audit/1"
SEVERITY_WEIGHT = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}
LAYERS = ("network", "host", "application", "data", "governance")


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    MANUAL = "MANUAL"
    WAIVED = "WAIVED"


class AppliedWaiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approver: str
    expires: date
    justification: str


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    layer: Literal["network", "host", "application", "data", "governance"]
    severity: Literal["critical", "high", "medium", "low", "info"]
    status: Status
    host: str | None = None          # server or device id; None for inventory-wide checks
    system: str | None = None
    title: str = ""
    expected: str = ""
    found: str = ""
    evidence: str = ""               # the command or probe
    remediation: str = ""            # what fixes it (and the provisioning tag)
    seconds: float = 0.0
    waiver: AppliedWaiver | None = None


class WaiverRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    scope: str                       # e.g. "system:email", "host:db1", "all"
    approver: str
    expires: date


class AuditRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["provdc-audit/1"] = Field(SCHEMA, alias="schema")
    province: str
    started: datetime
    finished: datetime
    partial: bool = False            # some hosts or checks could not complete
    findings: list[Finding] = Field(default_factory=list)
    waivers: list[WaiverRecord] = Field(default_factory=list)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, by_alias=True) + "\n"


def load_run(path: Path) -> AuditRun:
    """Read one results file (raises ValueError with a readable reason if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not a readable JSON file ({exc})") from None
    try:
        return AuditRun.model_validate(data)
    except Exception as exc:  # noqa: BLE001 - pydantic's message, shortened for a label value
        raise ValueError(f"{path.name}: not a {SCHEMA} results file ({str(exc).splitlines()[0]})") from None


def latest_run_file(directory: Path) -> Path | None:
    """The newest results file of a directory (names sort by their UTC timestamp)."""
    files = sorted(directory.glob("audit-*.json"))
    return files[-1] if files else None


def score(findings: list[Finding], *, waivers_count_as_pass: bool = True) -> float | None:
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


def layer_scores(run: AuditRun, *, waivers_count_as_pass: bool = True) -> dict[str, float | None]:
    return {layer: score([f for f in run.findings if f.layer == layer], waivers_count_as_pass=waivers_count_as_pass)
            for layer in LAYERS}


def grouped_scores(run: AuditRun, groups: dict[str, set[str]]) -> dict[str, tuple[float | None, float | None]]:
    """Scores (with, without waivers) of the findings of each group, a group being a set of
    host and system ids (e.g. a system's servers and itself, or an agency's servers)."""
    out = {}
    for name, members in groups.items():
        findings = [f for f in run.findings if f.host in members or f.system in members]
        out[name] = (score(findings), score(findings, waivers_count_as_pass=False))
    return out


def level_groups(systems) -> dict[int, set[str]]:
    """Members of each security level: every system of that level and its servers (the
    grouping of the report's and the exporter's per-level scores)."""
    out: dict[int, set[str]] = {}
    for s in systems:
        out.setdefault(s.level, set()).update({s.id, *s.servers})
    return dict(sorted(out.items()))
