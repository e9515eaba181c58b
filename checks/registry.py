"""The check registry: every check is a small pure function that judges facts, with its metadata.

A check declares its stable id (equal to its function name), layer, the security level from
which it applies, severity, title, rationale, remediation (and the provisioning tag that fixes
it) and the facts it reads. Which requirements a check serves, per framework, is the
catalogue's to say (inventory/regulations/), never the check's. Its Vietnamese title and
remediation live in `texts/vi.yaml`. Definition errors raise at import, so a malformed check
can never reach an audit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


from provdc.checks.results import LAYERS, SEVERITY_WEIGHT, Status
from provdc.yamlread import load_yaml

TEXTS = Path(__file__).resolve().parent / "texts"
SCOPES = ("host", "device", "appliance", "system", "inventory")


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

    @classmethod
    def not_assessed(cls, why: str) -> "Verdict":
        """Nothing to judge (an appliance without a configuration backup): never a PASS."""
        return cls(Status.NOT_ASSESSED, "", why)


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
    facts: tuple[str, ...]           # fact names the function receives, in order
    scope: str                       # host: per server; device: per SSH-managed device; appliance: per
                                     # device without ssh (its configuration backup); system; inventory: once
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
              facts: tuple[str, ...] = (), tags: tuple[str, ...] = (),
              scope: str = "host") -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
        """Decorator registering a check function under its own name."""
        def register(func: Callable[..., Verdict]) -> Callable[..., Verdict]:
            self.add(Check(func.__name__, layer, level, severity, title, rationale, remediation, tuple(tags),
                           tuple(facts), scope, func))
            return func
        return register


DEFAULT = CheckRegistry()
check = DEFAULT.check


@lru_cache(maxsize=4)
def _texts(lang: str) -> dict[str, dict[str, str]]:
    path = TEXTS / f"{lang}.yaml"
    return load_yaml(path.read_text(encoding="utf-8")) if path.exists() else {}


def text(c: Check, field_name: str, lang: str) -> str:
    """A check's title or remediation in `lang` (English is the code's own text)."""
    if lang == "en":
        return getattr(c, field_name)
    return _texts(lang).get(c.id, {}).get(field_name) or getattr(c, field_name)


def requirements_of(check_id: str) -> dict[str, list[dict[str, Any]]]:
    """The requirements a check serves, per framework, from the catalogue."""
    from provdc.inventory.catalogue import load_catalogue

    cat = load_catalogue()
    return {fid: [{"id": r.id, "clause": r.clause, "clause_verified": r.clause_verified} for r in fw.for_check(check_id)]
            for fid, fw in cat.frameworks.items()}


def describe(c: Check) -> dict[str, Any]:
    return {"id": c.id, "layer": c.layer, "level": c.level, "severity": c.severity, "title": c.title,
            "title_vi": text(c, "title", "vi"), "rationale": c.rationale, "remediation": c.remediation,
            "remediation_vi": text(c, "remediation", "vi"), "tags": list(c.tags),
            "requirements": requirements_of(c.id), "scope": c.scope}
