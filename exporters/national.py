"""Two levels of Prometheus: each province keeps its own, the nation federates aggregates only.

Pure functions, no I/O except `load_national` (reads NATIONAL.yaml) and `write_national`.

Province level (added to every generated provincial Prometheus by `monitoring.generate`):
  external_labels   {province: <id>} and, when the instance serves one site of it, {site: <id>}
  rules/province-aggregates.yml
                    the few series the centre needs, all named `province:...`; groups are
                    evaluated once per SLI window (availability, coverage, SLA targets, audit,
                    job health) and once per rate window (links: the carriers' 5-minute samples)

Nation level (`provdc monitor config --national NATIONAL.yaml --out DIR`):
  prometheus.yml    one /federate job per province, match[] on `province:.+` only, honor_labels
  rules/nation-alerts.yml
                    a province not reporting, systems below target per province
  rules/nation-recording.yml
                    `nation:...` counts per province for dashboards and the alerts

Why federation every `scrape_interval` <= half the provincial aggregate interval: /federate
hands out each series' newest sample with its own timestamp, so a federation that scrapes at
least twice per evaluation receives every sample (a repeat of the same timestamp is dropped by
the TSDB), and the national figures are computed from the very samples the province holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provdc.errors import InventoryError, ProvdcError
from provdc.inventory import Inventory
from provdc.yamlread import dump_yaml

PROVINCE_RULES = "rules/province-aggregates.yml"
AVAILABILITY_GROUP = "province-availability"   # its interval is the SLI window
AGGREGATE_MATCH = '{__name__=~"province:.+"}'
FEDERATE_JOB = "federate_"           # + province id: one job per province, `up` per province
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# ==================================================================================== province

def external_labels(inv: Inventory, site: str | None = None) -> dict[str, str]:
    """Labels every series of this provincial Prometheus carries when it leaves it
    (federation, remote_write, alerts). `site` when one province runs one instance per site."""
    labels = {"province": inv.province.id}
    if site:
        if site not in {s.id for s in inv.doc.sites}:
            raise ProvdcError(f"--site {site}: no such site in {inv.province.id} "
                              f"(sites: {', '.join(s.id for s in inv.doc.sites)})")
        labels["site"] = site
    return labels


def targets_per_system(inv: Inventory) -> dict[str, int]:
    """How many blackbox targets each system has: the denominator of its coverage."""
    from provdc.exporters.monitoring import probe_targets

    counts = {s.id: 0 for s in inv.doc.systems}
    for kind, groups in probe_targets(inv).items():
        if kind in ("node", "snmp"):
            continue
        for g in groups:
            for sid in g["labels"].get("systems", "").strip(",").split(","):
                if sid in counts:
                    counts[sid] += len(g["targets"])
    return counts


def _system_probes(system_id: str) -> str:
    from provdc.exporters.monitoring import _system_regex

    return 'probe_success{job=~"blackbox_.*",systems=~"%s"}' % _system_regex(system_id)


def system_sli_expr(system_id: str, window: str) -> str:
    """The system availability SLI over one window: its least available target's share of
    successful probes. The one definition: the rule records it, and a report over history the
    rule never saw evaluates this same expression (reports/sli.py)."""
    return f"min(avg_over_time({_system_probes(system_id)}[{window}]))"


def system_coverage_expr(system_id: str, window: str, expected_probes: int) -> str:
    """How much of one window is measured: recorded probes / expected probes of all the
    system's targets (a silent target lowers it), except that a window in which a target was
    measured down is measured whole: an outage often silences some probes (a timeout past the
    scrape), and their silence must not shrink the downtime the others recorded."""
    probes = _system_probes(system_id)
    least = f"min(avg_over_time({probes}[{window}]))"
    return (f"(clamp_max(sum(count_over_time({probes}[{window}])) / {expected_probes}, 1) and on() ({least} >= 1))"
            f" or (vector(1) and on() ({least} < 1))")


def province_rules(inv: Inventory, settings) -> dict[str, Any]:
    """The aggregate series of one province, every one named `province:...`.

    Availability group, once per SLI window W (non-overlapping windows, one sample each):
      province:system_availability:sli   least available target's share of successful probes in W
      province:system_coverage:ratio     recorded probes / expected probes of all the system's
                                         targets in W (a silent target lowers it)
    Links group, once per rate window (the 5-minute samples Circular 06 and carriers use):
      province:link_bytes_per_second:rate, province:link_utilisation:ratio (against contract),
      province:link_utilisation:p95_7d
    Metadata, audit and health (availability group): SLA target, level and name of each system,
    contracted rates, audit scores per layer and per level (with and without waivers), the last
    audit run, targets up per job, and province:reporting:up (1 while rules run).
    """
    from provdc.exporters.monitoring import _seconds

    window, interval = settings.sli_window, settings.scrape_interval
    expected = max(1, int(_seconds(window) / _seconds(interval)))
    availability = []
    for sid, targets in targets_per_system(inv).items():
        availability.append({"record": "province:system_availability:sli", "expr": system_sli_expr(sid, window),
                             "labels": {"system": sid}})
        if targets:
            availability.append({"record": "province:system_coverage:ratio",
                                 "expr": system_coverage_expr(sid, window, targets * expected), "labels": {"system": sid}})
    availability += [
        # the rolling 30 days the national "below target" alert judges, computed where the samples are
        {"record": "province:system_availability:avg30d", "expr": "avg_over_time(province:system_availability:sli[30d])"},
        {"record": "province:system_sla_target:ratio", "expr": "max by (system) (provdc_system_sla_target_ratio)"},
        {"record": "province:system_security_level:value", "expr": "max by (system) (provdc_system_security_level)"},
        {"record": "province:audit_score:ratio", "expr": "max by (layer, waivers) (provdc_audit_score_ratio)"},
        {"record": "province:audit_level_score:ratio", "expr": "max by (level, waivers) (provdc_audit_level_score_ratio)"},
        {"record": "province:audit_last_run:timestamp_seconds", "expr": "max(provdc_audit_last_run_timestamp_seconds)"},
        {"record": "province:job_targets_up:ratio", "expr": "avg by (job) (up)"},
        {"record": "province:job_targets:count", "expr": "count by (job) (up)"},
        {"record": "province:reporting:up", "expr": "vector(1)"},
        # the spacing of these samples: the centre's reports count expected samples from it
        {"record": "province:aggregate_window:seconds", "expr": f"vector({_seconds(window):g})"},
    ]
    links = [
        {"record": "province:link_bytes_per_second:rate", "expr": "max by (link, direction) (provdc:link_bytes_per_second:rate)"},
        {"record": "province:link_contracted_bytes_per_second:value",
         "expr": "max by (link, direction) (provdc_link_contracted_bytes_per_second)"},
        {"record": "province:link_utilisation:ratio", "expr": "max by (link, direction) (provdc:link_utilisation:ratio)"},
        {"record": "province:link_utilisation:p95_7d", "expr": "quantile_over_time(0.95, province:link_utilisation:ratio[7d])"},
    ]
    return {"groups": [
        {"name": AVAILABILITY_GROUP, "interval": window, "rules": availability},
        {"name": "province-links", "interval": settings.rate_window, "rules": links},
    ]}


# ================================================================================ NATIONAL.yaml

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


class RunnerEntry(_Strict):
    """The runner near a province's servers, reached over SSH (strict host keys)."""

    host: str
    port: int = Field(22, ge=1, le=65535)
    user: str = "root"
    key: str | None = Field(None, description="private key as a secret reference (file:PATH)")
    known_hosts: Path | None = Field(None, description="known_hosts file holding the runner's host key")
    bin_dir: str = Field("", description="directory of ansible-runner and provdc on the runner (default: its PATH)")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("file:"):
            raise ValueError("a key is a secret reference: file:PATH")
        return v


class ProvinceEntry(_Strict):
    """One province: where its Prometheus is, and optionally its inventory and exporter."""

    id: str | None = Field(None, description="province id; read from the inventory when it is given")
    name: str | None = None
    inventory: Path | None = Field(None, description="inventory of the province (relative to NATIONAL.yaml)")
    prometheus: str = Field(description="URL of the provincial Prometheus the centre federates from")
    exporter: str | None = Field(None, description="URL of the province's provdc exporter (health only)")
    runner: RunnerEntry | None = Field(None, description="where the province's audits and provisioning run")

    _check_prometheus = field_validator("prometheus")(lambda cls, v: _url(v))
    _check_exporter = field_validator("exporter")(lambda cls, v: v if v is None else _url(v))

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not ID.match(v):
            raise ValueError("lower-case letters, digits and '-' only")
        return v


class NationalSettings(_Strict):
    scrape_interval: str = Field("30s", description="federation interval: at most half the provincial SLI window")
    evaluation_interval: str = "30s"
    not_reporting_for: str = Field("5m", description="how long a province may be silent before the alert fires")
    retention: str = "400d"
    listen: str = "127.0.0.1:9090"

    @field_validator("scrape_interval", "evaluation_interval", "not_reporting_for", "retention")
    @classmethod
    def _duration(cls, v: str) -> str:
        if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", v):
            raise ValueError(f"not a Prometheus duration: {v!r}")
        return v


class NationalDoc(_Strict):
    version: int = 1
    nation: str = Field("vn", description="id of the national level, an external label of the national Prometheus")
    name: str = "Bộ / Ministry"
    settings: NationalSettings = NationalSettings()
    provinces: list[ProvinceEntry] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != 1:
            raise ValueError("unsupported version (this provdc reads version 1)")
        return v


@dataclass(frozen=True)
class Province:
    """A province as the centre knows it (entry resolved: id, name, inventory if any)."""

    id: str
    name: str
    prometheus: str
    exporter: str | None
    inventory: Inventory | None = None
    inventory_path: Path | None = None
    runner: RunnerEntry | None = None


@dataclass(frozen=True)
class National:
    doc: NationalDoc
    path: Path
    provinces: list[Province] = field(default_factory=list)


class NationalError(InventoryError):
    """NATIONAL.yaml has problems; `problems` lists every one with file:line:column."""

    def __init__(self, problems: list) -> None:
        super().__init__(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        self.args = (f"national file has {len(problems)} {noun}",)


def load_national(path: Path) -> National:
    """Read and validate NATIONAL.yaml; every problem at once, each with its position."""
    from provdc.inventory import load_inventory
    from provdc.inventory.load import _message, field_path
    from provdc.inventory.source import BROKEN, Pos, Problem, load_yaml, position_of

    problems: list[Problem] = []
    raw = load_yaml(path, path.name, problems)
    if raw is BROKEN:
        raise NationalError(problems)
    if not isinstance(raw, dict):
        raise NationalError([Problem(Pos(path.name, 1, 1), "", "a national file must be a mapping (version, provinces, ...)")])
    try:
        doc = NationalDoc.model_validate(raw)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
            message = "unknown key" if e["type"] == "extra_forbidden" else _message(e, loc)
            problems.append(Problem(position_of(raw, loc, key=e["type"] == "extra_forbidden"), field_path(raw, loc), message))
        raise NationalError(problems) from None
    provinces, seen = [], {}
    for i, entry in enumerate(doc.provinces):
        def problem(field_name: str | None, message: str, i=i) -> None:
            loc = ("provinces", i) + ((field_name,) if field_name else ())
            problems.append(Problem(position_of(raw, loc), field_path(raw, loc), message))

        inv = None
        if entry.inventory is not None:
            inv_path = entry.inventory if entry.inventory.is_absolute() else path.parent / entry.inventory
            try:
                inv = load_inventory(inv_path)
            except InventoryError as exc:
                problem("inventory", f"{inv_path}: {exc} ({'; '.join(str(p) for p in exc.problems[:3])})")
                continue
            if entry.id and entry.id != inv.province.id:
                problem("id", f"{entry.id!r} differs from the inventory's province id {inv.province.id!r}")
        pid = entry.id or (inv.province.id if inv else None)
        if pid is None:
            problem(None, "give `id`, or `inventory` to read it from")
            continue
        if pid in seen:
            problem("id" if entry.id else "inventory", f"province {pid!r} is listed twice (first at entry {seen[pid] + 1})")
            continue
        seen[pid] = i
        if entry.runner is not None and inv is None:
            problem("runner", "a runner audits the province's inventory: give `inventory` too")
            continue
        provinces.append(Province(pid, entry.name or (inv.province.name if inv else pid), entry.prometheus, entry.exporter, inv,
                                  inv_path if inv else None, entry.runner))
    if problems:
        raise NationalError(problems)
    return National(doc, path, provinces)


# ===================================================================================== nation

def _static(url: str, province: str) -> dict[str, Any]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {"targets": [f"{parts.hostname}:{port}"], "labels": {"province": province}}


def national_prometheus(nat: National) -> dict[str, Any]:
    s = nat.doc.settings
    jobs = []
    for p in nat.provinces:
        parts = urlsplit(p.prometheus)
        jobs.append({"job_name": FEDERATE_JOB + p.id, "honor_labels": True, "scheme": parts.scheme,
                     "metrics_path": f"{parts.path}/federate", "params": {"match[]": [AGGREGATE_MATCH]},
                     "static_configs": [_static(p.prometheus, p.id)]})
    exporters = [p for p in nat.provinces if p.exporter]
    for p in exporters:
        parts = urlsplit(p.exporter)
        # only the exporter's health: the province's figures come through federation
        jobs.append({"job_name": f"provdc_exporter_{p.id}", "scheme": parts.scheme, "metrics_path": f"{parts.path}/metrics",
                     "static_configs": [_static(p.exporter, p.id)],
                     "metric_relabel_configs": [{"source_labels": ["__name__"], "action": "keep",
                                                 "regex": "provdc_up|provdc_audit_results_up"}]})
    return {"global": {"scrape_interval": s.scrape_interval, "evaluation_interval": s.evaluation_interval,
                       "external_labels": {"nation": nat.doc.nation}},
            "rule_files": ["rules/nation-recording.yml", "rules/nation-alerts.yml"],
            "scrape_configs": jobs}


def national_recording() -> dict[str, Any]:
    return {"groups": [{"name": "nation", "rules": [
        {"record": "nation:provinces_reporting:count", "expr": "count(count by (province) (province:reporting:up))"},
        {"record": "nation:systems_below_target:count",
         "expr": ("count by (province) (province:system_availability:avg30d "
                  "< on (province, system) province:system_sla_target:ratio)")},
        {"record": "nation:systems:count", "expr": "count by (province) (province:system_sla_target:ratio)"},
    ]}]}


def national_alerts(nat: National) -> dict[str, Any]:
    wait = nat.doc.settings.not_reporting_for
    from provdc.exporters.monitoring import _seconds

    # older than two of the province's own aggregate windows plus three federation rounds
    stale = 3 * _seconds(nat.doc.settings.scrape_interval)
    federate = f'up{{job=~"{FEDERATE_JOB}.+"}}'
    return {"groups": [{"name": "nation-alerts", "rules": [
        {"alert": "NationalProvinceNotReporting",
         # the federation scrape fails, or it succeeds but the heartbeat is old (rules stopped).
         # Federated samples keep their timestamps and are never marked stale: judge their age.
         "expr": (f"max by (province) ({federate}) == 0 or "
                  f"(time() - max by (province) (timestamp(province:reporting:up))) "
                  f"> on (province) (2 * max by (province) (province:aggregate_window:seconds) + {stale:g})"),
         "for": wait, "labels": {"severity": "page"},
         "annotations": {"summary": "Province {{ $labels.province }} sends no aggregates to the centre",
                         "summary_vi": "Tỉnh {{ $labels.province }} không gửi số liệu tổng hợp về trung ương"}},
        {"alert": "NationalSystemsBelowTarget", "expr": "nation:systems_below_target:count > 0", "for": "1h",
         "labels": {"severity": "ticket"},
         "annotations": {"summary": "Province {{ $labels.province }}: {{ $value }} system(s) below their SLA target over 30 days",
                         "summary_vi": "Tỉnh {{ $labels.province }}: {{ $value }} hệ thống dưới mục tiêu SLA trong 30 ngày"}},
        {"alert": "NationalProvdcExporterDown", "expr": 'up{job=~"provdc_exporter_.+"} == 0 or provdc_up == 0',
         "for": wait, "labels": {"severity": "ticket"},
         "annotations": {"summary": "Province {{ $labels.province }}: its provdc exporter is down or incomplete"}},
    ]}]}


def _yaml(data: Any, header: str) -> str:
    return f"# {header}\n# Generated by `provdc monitor config --national`. Do not edit: regenerate.\n" + \
        dump_yaml(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def generate_national(nat: National) -> dict[str, str]:
    return {
        "prometheus.yml": _yaml(national_prometheus(nat), f"National Prometheus of {nat.doc.name}: federates {len(nat.provinces)} provinces"),
        "rules/nation-recording.yml": _yaml(national_recording(), "national counts per province"),
        "rules/nation-alerts.yml": _yaml(national_alerts(nat), "province not reporting, systems below target"),
    }


def write_national(nat: National, out: Path) -> list[Path]:
    from provdc.exporters.monitoring import write_files

    return write_files(generate_national(nat), out)
