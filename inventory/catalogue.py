"""The requirement catalogue: the regulations as data, one file per framework, loaded once.

`regulations/requirements.yaml` says what each requirement and parameter *is* (layer, titles in
Vietnamese and English, which way a number is stricter). `regulations/<framework>.yaml` says how
it applies under that framework: the clause as the source states it (unverified clauses are
marked, never invented), the level from which it applies, how it is met (`automated` by named
checks, `evidence` records judged against an interval, or `manual`), and the numbers per level.

Checks read their thresholds from here through a `Bar` (the numbers one host or system is held
to), provisioning writes the same numbers, and reports print them: no threshold lives in code.
The catalogue sits beside the inventory because every part judges or provisions by it, and the
inventory's own validation checks evidence and waiver references against it.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provdc.errors import ProvdcError
from provdc.yamlread import load_yaml

REGULATIONS = Path(__file__).resolve().parent / "regulations"
FRAMEWORKS = ("nd85_tcvn11930", "nd331_tcvn14423")
REQUIREMENT_LAYERS = ("network", "host", "application", "data", "availability", "governance")
MET_BY = ("automated", "evidence", "manual")
# Decree 331 Art. 39: systems whose build started before this date may still be on Decree 85 ...
ND331_CUTOFF = "2026-07-01"
# ... and must meet Decree 331's measures within 12 months of it.
ND331_DEADLINE = "2027-07-01"

Number = int | float


class CatalogueError(ProvdcError):
    """A catalogue file is malformed (a packaging error: the shipped files are tested)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    en: str = Field(min_length=1)
    vi: str = Field(min_length=1)

    def __call__(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


class ParameterInfo(_Strict):
    stricter: Literal["higher", "lower"]
    unit: str
    title: Text


class RequirementInfo(_Strict):
    layer: Literal["network", "host", "application", "data", "availability", "governance"]
    title: Text


class Shared(_Strict):
    requirements: dict[str, RequirementInfo]
    parameters: dict[str, ParameterInfo]


class ParameterValues(_Strict):
    levels: dict[int, Number]            # a level missing here: not required at that level
    source: str = Field(min_length=1)
    by_kind: dict[str, Number] = Field(default_factory=dict)   # a kind of system with its own rule


class Requirement(_Strict):
    id: str = Field(pattern=r"^[A-Z]{3}-\d{2}$")
    clause: str | None
    clause_verified: bool
    from_level: int = Field(ge=1, le=5)
    source: str
    met_by: Literal["automated", "evidence", "manual"]
    automation: Literal["full", "partial"] | None = None
    checks: tuple[str, ...] = ()
    evidence: str | None = None          # the record type that shows it (contract, report, ...)
    interval: str | None = None          # the parameter a record's date is judged against
    parameters: tuple[str, ...] = ()


class FrameworkFile(_Strict):
    framework: Literal["nd85_tcvn11930", "nd331_tcvn14423"]
    name: Text
    parameters: dict[str, ParameterValues]
    requirements: list[Requirement]


@dataclass(frozen=True)
class Framework:
    id: str
    name: Text
    parameters: dict[str, ParameterValues]
    requirements: dict[str, Requirement]        # in catalogue order

    def applicable(self, level: int) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.from_level <= level]

    def for_check(self, check_id: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if check_id in r.checks]

    def value(self, name: str, level: int, kind: str | None = None, stricter: str = "higher") -> Number | None:
        """The number `name` at `level` for a system of `kind`; None when not required there.
        A kind's own rule (online services keep logs 12 months) applies where stricter."""
        p = self.parameters.get(name)
        if p is None:
            return None
        candidates = [v for v in (p.levels.get(level), p.by_kind.get(kind or "")) if v is not None]
        if not candidates:
            return None
        return max(candidates) if stricter == "higher" else min(candidates)


@dataclass(frozen=True)
class Catalogue:
    requirements: dict[str, RequirementInfo]
    parameters: dict[str, ParameterInfo]
    frameworks: dict[str, Framework]

    def framework(self, framework_id: str) -> Framework:
        return self.frameworks[framework_id]

    def title(self, requirement_id: str, lang: str) -> str:
        return self.requirements[requirement_id].title(lang)

    def check_ids(self) -> set[str]:
        return {c for fw in self.frameworks.values() for r in fw.requirements.values() for c in r.checks}

    def stricter(self, parameter: str) -> str:
        return self.parameters[parameter].stricter


# A clause is cited as the source writes it (document, article, annex, section); the few English
# words the catalogue adds around a citation are said in Vietnamese in a Vietnamese document.
# Longest phrases first, so "clause not verified" is not split by a shorter entry.
_CLAUSE_VI = (
    ("same requirement as", "cùng yêu cầu với"),
    ("clause not verified", "điều khoản chưa được xác minh"),
    ("inactive accounts after", "tài khoản không hoạt động sau"),
    ("vulnerability management", "quản lý lỗ hổng"),
    ("penetration testing", "kiểm thử xâm nhập"),
    ("incident response", "ứng phó sự cố"),
    ("account-list review", "rà soát danh sách tài khoản"),
    ("session auto-lock", "tự động khóa phiên"),
    ("egress filtering", "lọc lưu lượng đi ra"),
    ("password rules", "quy tắc mật khẩu"),
    ("log review", "rà soát nhật ký"),
    ("log capacity", "dung lượng nhật ký"),
    ("lock-out", "khóa tài khoản"),
    ("transition", "chuyển tiếp"),
    ("Directive", "Chỉ thị"),
    ("Annex", "Phụ lục"),
    ("Form", "Mẫu"),
    ("Law", "Luật"),
)
_CLAUSE_VI_PATTERNS = (
    (re.compile(r"\bat level (\d)"), r"ở cấp độ \1"),
    (re.compile(r"\blevel (\d)"), r"cấp độ \1"),
    (re.compile(r"\bArt\.\s*"), "Điều "),
    (re.compile(r"\bND\b"), "NĐ"),
    (re.compile(r"(\d) days\b"), r"\1 ngày"),
    (re.compile(r"(\d) h\b"), r"\1 giờ"),
)


def clause_text(clause: str | None, lang: str) -> str:
    """A requirement's clause as a document in `lang` prints it ("" when the source gives none)."""
    if not clause:
        return ""
    if lang != "vi":
        return clause
    for english, vietnamese in _CLAUSE_VI:
        clause = clause.replace(english, vietnamese)
    for pattern, vietnamese in _CLAUSE_VI_PATTERNS:
        clause = pattern.sub(vietnamese, clause)
    return clause


def _read(path: Path) -> object:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path.name}: cannot be read: {exc}") from None


def _validated(model: type[BaseModel], path: Path) -> BaseModel:
    try:
        return model.model_validate(_read(path))
    except ValidationError as exc:
        lines = [f"{path.name}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CatalogueError("malformed catalogue:\n" + "\n".join(lines)) from None


def _cross_check(shared: Shared, fw: FrameworkFile, name: str) -> list[str]:
    """What the schema cannot say: references between the files, and how each is met."""
    problems, seen = [], set()
    for i, r in enumerate(fw.requirements):
        where = f"{name}: requirements[{i}] ({r.id})"
        if r.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(r.id)
        if r.id not in shared.requirements:
            problems.append(f"{where}: not in requirements.yaml")
        if (r.met_by == "automated") != bool(r.checks) or (r.met_by == "automated") != (r.automation is not None):
            problems.append(f"{where}: automated requirements, and only they, name checks and an automation")
        for p in (*r.parameters, *([r.interval] if r.interval else [])):
            if p not in fw.parameters or p not in shared.parameters:
                problems.append(f"{where}: parameter {p} is not defined")
    for p in fw.parameters:
        if p not in shared.parameters:
            problems.append(f"{name}: parameters.{p}: not in requirements.yaml")
    return problems


@lru_cache(maxsize=1)
def load_catalogue(directory: Path = REGULATIONS) -> Catalogue:
    """Read and validate the shipped catalogue once per process."""
    shared = _validated(Shared, directory / "requirements.yaml")
    frameworks, problems = {}, []
    for fid in FRAMEWORKS:
        path = directory / f"{fid}.yaml"
        fw = _validated(FrameworkFile, path)
        if fw.framework != fid:
            problems.append(f"{path.name}: framework: says {fw.framework}")
        problems += _cross_check(shared, fw, path.name)
        frameworks[fid] = Framework(fid, fw.name, dict(fw.parameters), {r.id: r for r in fw.requirements})
    if problems:
        raise CatalogueError("inconsistent catalogue:\n" + "\n".join(problems))
    return Catalogue(dict(shared.requirements), dict(shared.parameters), frameworks)


# ------------------------------------------------------------------------------------- the bar

@dataclass(frozen=True)
class Setter:
    """Who sets a number: the system, its framework and level."""

    system: str
    framework: str
    level: int

    def __str__(self) -> str:
        return f"{self.system} ({self.framework}, level {self.level})"


@dataclass
class Bar:
    """The numbers a host (or a system) is held to: per parameter, the strictest value among
    the systems it serves, under each system's own framework and level, and who set it.

    A check reads `bar["password_max_days"]`; the engine then records, from `read`, which
    numbers the verdict used and who set them, so the finding can say so."""

    values: dict[str, tuple[Number, Setter]]
    read: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Number:
        self.read.add(name)
        if name not in self.values:
            raise KeyError(f"no system here requires {name}")
        return self.values[name][0]

    def get(self, name: str) -> Number | None:
        self.read.add(name)
        return self.values[name][0] if name in self.values else None

    def setter(self, name: str) -> Setter | None:
        return self.values[name][1] if name in self.values else None

    def why(self, name: str) -> str:
        """Who set the number, for a verdict's expected text."""
        setter = self.setter(name)
        return f"set by {setter}" if setter else "not required here"

    def fresh(self) -> "Bar":
        """The same numbers with an empty read set (one per verdict)."""
        return Bar(self.values)

    def used(self) -> dict[str, tuple[Number, Setter]]:
        return {name: self.values[name] for name in sorted(self.read) if name in self.values}

    def describe_used(self) -> str:
        return "; ".join(f"{name} {value:g} set by {setter}" for name, (value, setter) in self.used().items())


def bar_for(systems: list, catalogue: Catalogue | None = None) -> Bar:
    """The bar of a host serving `systems` (inventory System objects): each parameter's
    strictest value among them. A host serving no system is held to Decree 85 at level 1."""
    catalogue = catalogue or load_catalogue()
    subjects = [(s.id, s.framework.value, s.level, s.kind.value) for s in systems] or [("-", FRAMEWORKS[0], 1, None)]
    values: dict[str, tuple[Number, Setter]] = {}
    for name, info in catalogue.parameters.items():
        for sid, fid, level, kind in subjects:
            v = catalogue.framework(fid).value(name, level, kind, info.stricter)
            if v is None:
                continue
            current = values.get(name)
            if current is None or (v > current[0] if info.stricter == "higher" else v < current[0]):
                values[name] = (v, Setter(sid, fid, level))
    return Bar(values)


# -------------------------------------------------------------------------------- as a listing

def listing(catalogue: Catalogue, framework_id: str, level: int | None = None,
            statuses: dict[str, list[dict]] | None = None) -> list[dict]:
    """The requirements of one framework (those applying at `level`, if given) as plain rows:
    titles, clause, how each is met, its parameters (all levels, or the value at `level`),
    and, from an audit run, its status per system (`statuses`: requirement id -> rows)."""
    fw = catalogue.framework(framework_id)
    rows = []
    for r in (fw.applicable(level) if level else fw.requirements.values()):
        info = catalogue.requirements[r.id]
        params = {}
        for name in dict.fromkeys((*r.parameters, *([r.interval] if r.interval else []))):
            p = fw.parameters[name]
            params[name] = {"unit": catalogue.parameters[name].unit, "source": p.source,
                            "levels": {str(k): v for k, v in sorted(p.levels.items())},
                            **({"by_kind": dict(p.by_kind)} if p.by_kind else {}),
                            **({"value": fw.value(name, level, None, catalogue.stricter(name))} if level else {})}
        rows.append({"id": r.id, "framework": fw.id, "layer": info.layer, "title": info.title.model_dump(),
                     "clause": r.clause, "clause_verified": r.clause_verified, "from_level": r.from_level,
                     "source": r.source, "met_by": r.met_by, "automation": r.automation, "checks": list(r.checks),
                     "evidence": r.evidence, "interval": r.interval, "parameters": params,
                     "status": (statuses or {}).get(r.id, [])})
    return rows
