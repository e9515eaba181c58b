"""The check registry: every check is a small pure function that judges facts, with its metadata.

A check declares its stable id (equal to its function name), layer, the security level from
which it applies, severity, title, rationale, remediation (and the provisioning tag that fixes
it), the clauses it implements per framework, and the facts it reads. Definition errors raise
at import, so a malformed check can never reach an audit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provdc.checks.results import LAYERS, SEVERITY_WEIGHT, Status

FRAMEWORKS = ("nd85_tcvn11930", "nd331_tcvn14423")
SCOPES = ("host", "system", "inventory")


@dataclass(frozen=True)
class Verdict:
    """What a check concluded: a status, what was expected and what was found."""

    status: Status
    expected: str = ""
    found: str = ""

    @classmethod
    def passed(cls, found: str = "", expected: str = "") -> "Verdict":
        return cls(Status.PASS, expected, found)

    @classmethod
    def failed(cls, expected: str, found: str) -> "Verdict":
        return cls(Status.FAIL, expected, found)

    @classmethod
    def not_applicable(cls, why: str) -> "Verdict":
        return cls(Status.NOT_APPLICABLE, "", why)

    @classmethod
    def error(cls, why: str) -> "Verdict":
        return cls(Status.ERROR, "", why)


@dataclass(frozen=True)
class Check:
    id: str
    layer: str
    level: int                       # applies from this security level up
    severity: str
    title: str
    rationale: str
    remediation: str
    tags: tuple[str, ...]            # provisioning tags that fix it (provdc provision --tags ...)
    clauses: dict[str, tuple[str, ...]]
    facts: tuple[str, ...]           # fact names the function receives, in order
    scope: str                       # host: per server; system: per system; inventory: once
    func: Callable[..., Verdict] = field(compare=False)


class CheckRegistry:
    """Checks by id. Tests build their own registry; `DEFAULT` holds provdc's checks."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, c: Check) -> Check:
        problems = []
        if c.id in self._checks:
            problems.append("duplicate id")
        if c.id != c.func.__name__:
            problems.append(f"id differs from the function name {c.func.__name__!r}")
        if c.layer not in LAYERS:
            problems.append(f"layer {c.layer!r} not in {LAYERS}")
        if c.severity not in SEVERITY_WEIGHT:
            problems.append(f"severity {c.severity!r} not in {tuple(SEVERITY_WEIGHT)}")
        if not 1 <= c.level <= 5:
            problems.append("level outside 1..5")
        if not c.remediation.strip() or not c.title.strip() or not c.rationale.strip():
            problems.append("title, rationale and remediation are required")
        if c.scope not in SCOPES:
            problems.append(f"scope {c.scope!r} not in {SCOPES}")
        if not c.clauses or any(fw not in FRAMEWORKS for fw in c.clauses):
            problems.append(f"clauses must map frameworks among {FRAMEWORKS}")
        if problems:
            raise ValueError(f"check {c.id}: " + "; ".join(problems))
        self._checks[c.id] = c
        return c

    def __iter__(self):
        return iter(sorted(self._checks.values(), key=lambda c: (LAYERS.index(c.layer), c.id)))

    def __len__(self) -> int:
        return len(self._checks)

    def __getitem__(self, check_id: str) -> Check:
        return self._checks[check_id]

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def check(self, *, layer: str, level: int, severity: str, title: str, rationale: str, remediation: str,
              clauses: dict[str, tuple[str, ...] | list[str]], facts: tuple[str, ...] = (), tags: tuple[str, ...] = (),
              scope: str = "host") -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
        """Decorator registering a check function under its own name."""
        def register(func: Callable[..., Verdict]) -> Callable[..., Verdict]:
            self.add(Check(func.__name__, layer, level, severity, title, rationale, remediation, tuple(tags),
                           {k: tuple(v) for k, v in clauses.items()}, tuple(facts), scope, func))
            return func
        return register


DEFAULT = CheckRegistry()
check = DEFAULT.check


def clause(l3: str, *, nd331: str | None = None) -> dict[str, tuple[str, ...]]:
    """Clause ids for both frameworks from the level-3 TCVN 11930 clause (7.x.y.z). The same
    requirement sits at 5.*, 6.*, 8.*, 9.* for levels 1, 2, 4, 5 (TT 12/2022 annexes)."""
    return {"nd85_tcvn11930": (l3,), "nd331_tcvn14423": (nd331 or f"TCVN 14423 ~ {l3}",)}


def describe(c: Check) -> dict[str, Any]:
    return {"id": c.id, "layer": c.layer, "level": c.level, "severity": c.severity, "title": c.title,
            "rationale": c.rationale, "remediation": c.remediation, "tags": list(c.tags),
            "clauses": {k: list(v) for k, v in c.clauses.items()}, "scope": c.scope}
