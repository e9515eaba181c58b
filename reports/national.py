"""The national roll-up: one page per province plus a summary, from the `province:...`
aggregates (federated at the centre, or read on the provincial Prometheus itself).

A system's availability is read exactly as the provincial report reads it
(`collect.system_sli_buckets` and `collect.system_result` on the system SLI the province's rules
record), links and audit scores as the exporter and `compute.direction_load` give them. The
same functions read the provincial Prometheus (no selector) and the national one (selector
`province="ID"`), so a province's report and the centre's roll-up of it are equal exactly when
federation delivered every sample.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provdc.errors import ProvdcError
from provdc.exporters import promapi
from provdc.reports.compute import Availability, DirectionLoad, Period, direction_load

LAYERS = ("network", "host", "application", "data", "governance")


@dataclass
class SystemFigures:
    id: str
    name: str
    level: int | None
    target_percent: float | None
    result: Availability

    @property
    def met(self) -> bool | None:
        return None if self.target_percent is None else self.result.met(self.target_percent)


@dataclass
class LinkFigures:
    id: str
    directions: list[DirectionLoad]
    p95_7d: dict[str, float]            # direction -> the province's own 7-day p95 at the period end


@dataclass
class ProvinceFigures:
    province: str
    name: str
    reporting: bool                     # aggregates arriving at the period's end
    window: float | None                # seconds between aggregate samples
    systems: list[SystemFigures] = field(default_factory=list)
    links: list[LinkFigures] = field(default_factory=list)
    layer_scores: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    level_scores: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    audit_finished: float | None = None
    jobs: dict[str, tuple[float, int]] = field(default_factory=dict)   # job -> (share up, targets)


@dataclass
class NationalReport:
    nation: str
    name: str
    period: Period
    step: float
    generated: datetime
    provinces: list[ProvinceFigures]


def _sel(province: str | None, extra: str = "") -> str:
    parts = ([f'province="{province}"'] if province else []) + ([extra] if extra else [])
    return "{" + ",".join(parts) + "}"


def _pairs(results: list[dict[str, Any]], key: str) -> dict[str, tuple[float | None, float | None]]:
    out: dict[str, list[float | None]] = {}
    for r in results:
        slot = out.setdefault(r["metric"].get(key, ""), [None, None])
        slot[0 if r["metric"].get("waivers") == "counted" else 1] = float(r["value"][1])
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def province_figures(url: str, province: str, name: str, period: Period, step: float, *,
                     federated: bool, inventory=None) -> ProvinceFigures:
    """One province's figures from its aggregates. `federated`: the URL is the national
    Prometheus and series are picked by their `province` label; else the provincial one."""
    sel = province if federated else None
    end = period.end.timestamp()
    # reporting: sending at the period's end; figures: whatever part of the period it sent
    # (a province silent for part of it shows that part as a coverage gap)
    # federated samples carry their own timestamps, so they are never marked stale: a silent
    # province's last sample would still answer an instant query for 5 minutes. Reporting means
    # its newest heartbeat is at most two aggregate windows old.
    from provdc.reports.collect import SliSource, maintenance_of, recorded_window, system_result, system_sli_buckets

    window = recorded_window(url, period, sel)
    last = promapi.query(url, f"timestamp(province:reporting:up{_sel(sel)})", end)
    reporting = bool(last) and window is not None and end - float(last[0]["value"][1]) <= 2 * window
    fig = ProvinceFigures(province, name, reporting=reporting, window=window)
    if fig.window is None:
        return fig
    source = SliSource(True, fig.window)
    buckets = system_sli_buckets(url, period, step, source, province=sel)
    targets = promapi.scalar_by(promapi.query(url, f"province:system_sla_target:ratio{_sel(sel)}", end), "system")
    levels = promapi.scalar_by(promapi.query(url, f"province:system_security_level:value{_sel(sel)}", end), "system")
    names = {s.id: s.name for s in inventory.doc.systems} if inventory is not None else {}
    for sid in sorted(set(buckets) | set(targets)):
        target = targets.get(sid)
        # planned maintenance is known where the inventory is; a province given by URL only
        # reports its maintenance time as measured time
        windows = maintenance_of(inventory, "systems", sid) if inventory is not None else []
        fig.systems.append(SystemFigures(sid, names.get(sid, sid), int(levels[sid]) if sid in levels else None,
                                         None if target is None else round(target * 100, 6),
                                         system_result(buckets.get(sid, []), step, source, period, windows)))
    fig.links = _links(url, sel, period)
    fig.layer_scores = _pairs(promapi.query(url, f"province:audit_score:ratio{_sel(sel)}", end), "layer")
    fig.level_scores = _pairs(promapi.query(url, f"province:audit_level_score:ratio{_sel(sel)}", end), "level")
    last = promapi.query(url, f"province:audit_last_run:timestamp_seconds{_sel(sel)}", end)
    fig.audit_finished = float(last[0]["value"][1]) if last else None
    ups = promapi.scalar_by(promapi.query(url, f"province:job_targets_up:ratio{_sel(sel)}", end), "job")
    sizes = promapi.scalar_by(promapi.query(url, f"province:job_targets:count{_sel(sel)}", end), "job")
    fig.jobs = {job: (ups[job], int(sizes.get(job, 0))) for job in sorted(ups)}
    return fig


def _links(url: str, sel: str | None, period: Period) -> list[LinkFigures]:
    """Every 5-minute (rate window) sample of each link direction in the period, as recorded."""
    end = period.end.timestamp()
    raw = promapi.query(url, f"province:link_bytes_per_second:rate{_sel(sel)}[{int(period.seconds * 1000)}ms]", end)
    contracts = {(r["metric"]["link"], r["metric"]["direction"]): float(r["value"][1]) * 8
                 for r in promapi.query(url, f"province:link_contracted_bytes_per_second:value{_sel(sel)}", end)}
    p95 = {(r["metric"]["link"], r["metric"]["direction"]): float(r["value"][1])
           for r in promapi.query(url, f"province:link_utilisation:p95_7d{_sel(sel)}", end)}
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for r in raw:
        m = r["metric"]
        samples.setdefault(m["link"], {})[m["direction"]] = [(float(t), float(v) * 8) for t, v in r["values"]
                                                            if float(t) > period.start.timestamp()]
    out = []
    for link in sorted(samples):
        if not all((link, d) in contracts for d in samples[link]):
            continue  # no contracted rate known: utilisation would be meaningless (the exporter publishes it)
        directions = [direction_load(d, int(contracts[(link, d)]), s, period) for d, s in sorted(samples[link].items())]
        out.append(LinkFigures(link, directions, {d: p95[(link, d)] for d in samples[link] if (link, d) in p95}))
    return out


def collect(nat, url: str, period: Period, step: float | None = None, now: datetime | None = None) -> NationalReport:
    """The roll-up of every province of NATIONAL.yaml from the national Prometheus at `url`."""
    now = now or datetime.now(timezone.utc)
    if period.end > now:
        raise ProvdcError(f"the period ends in the future ({period.end.isoformat()}); end it at or before now")
    from provdc.reports.collect import pick_step

    step = step or pick_step(period)   # the provincial report's bucket choice (5 minutes for a month)
    if abs(period.seconds / step - round(period.seconds / step)) > 1e-9:
        raise ProvdcError(f"--step {step:g} s does not divide the period ({period.seconds:g} s) into whole buckets")
    provinces = [province_figures(url, p.id, p.name, period, step, federated=True, inventory=p.inventory) for p in nat.provinces]
    return NationalReport(nat.doc.nation, nat.doc.name, period, step, now, provinces)


# ------------------------------------------------------------------------------------ render

def figures_json(fig: ProvinceFigures) -> dict[str, Any]:
    """One province's figures as plain data (what the roll-up and a provincial run compare)."""
    return json.loads(json.dumps(asdict(fig), default=str))


def to_json(report: NationalReport) -> str:
    return json.dumps({"schema": "provdc-national-report/1", "nation": report.nation, "name": report.name,
                       "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
                       "step_seconds": report.step, "generated": report.generated.isoformat(),
                       "provinces": [figures_json(p) for p in report.provinces]},
                      ensure_ascii=False, indent=2, default=str) + "\n"


def _overall(pairs: dict[str, tuple[float | None, float | None]]) -> float | None:
    values = [w for w, _ in pairs.values() if w is not None]
    return min(values) if values else None


def view(report: NationalReport, lang: str) -> dict[str, Any]:
    from provdc.reports.i18n import Locale

    loc = Locale(lang)
    state = {True: ("ok", loc.t("met")), False: ("bad", loc.t("not_met")), None: ("unknown", loc.t("unknown"))}
    pages, summary = [], []
    for p in report.provinces:
        systems = [{"id": s.id, "name": s.name, "level": s.level if s.level is not None else "—",
                    "target": loc.percent(None if s.target_percent is None else s.target_percent / 100),
                    "availability": loc.percent(s.result.availability, 3), "coverage": loc.percent(s.result.coverage, 1),
                    "downtime": loc.number(s.result.downtime_minutes, 1), "incidents": len(s.result.incidents),
                    "met_class": state[s.met][0], "met": state[s.met][1]} for s in p.systems]
        links = [{"id": link.id, "direction": loc.t(d.direction), "contract": loc.rate(d.contract_bps), "mean": loc.rate(d.mean_bps),
                  "p95": loc.rate(d.p95_bps), "utilisation": loc.percent(d.p95_utilisation, 1),
                  "p95_7d": loc.percent(link.p95_7d.get(d.direction), 1),
                  "compliant_class": state[d.compliant][0], "compliant": state[d.compliant][1]}
                 for link in p.links for d in link.directions]
        pages.append({
            "id": p.province, "name": p.name, "reporting": p.reporting, "systems": systems, "links": links,
            "layers": [{"layer": loc.t(f"layer_{k}"), "with": loc.percent(w, 1), "without": loc.percent(wo, 1)}
                       for k, (w, wo) in p.layer_scores.items()],
            "levels": [{"level": k, "with": loc.percent(w, 1), "without": loc.percent(wo, 1)} for k, (w, wo) in p.level_scores.items()],
            "audit_finished": loc.datetime(p.audit_finished) if p.audit_finished else "—",
            "jobs": [{"job": j, "up": loc.percent(share, 1), "targets": n} for j, (share, n) in p.jobs.items()],
        })
        met = sum(1 for s in p.systems if s.met)
        lowest = min((s.result.availability for s in p.systems if s.result.availability is not None), default=None)
        ok_links = sum(1 for link in p.links if all(d.compliant is not False for d in link.directions))
        summary.append({"id": p.province, "name": p.name, "reporting": p.reporting,
                        "systems": loc.t("summary_systems", met=met, total=len(p.systems)),
                        "lowest": loc.percent(lowest, 3), "links": f"{ok_links}/{len(p.links)}",
                        "score": loc.percent(_overall(p.layer_scores), 1)})
    period = (report.period.label if lang == "en" else
              f"{loc.date(report.period.start)} – {loc.date(report.period.end.timestamp() - 1)}")
    return {"nation": report.name, "period": period, "generated": loc.datetime(report.generated),
            "step": loc.duration(report.step), "summary": summary, "pages": pages,
            "reporting": sum(1 for p in report.provinces if p.reporting), "total": len(report.provinces)}


def render_html(report: NationalReport, lang: str) -> str:
    from provdc.reports.i18n import Locale
    from provdc.reports.render import environment

    return environment().get_template("national.html.j2").render(t=Locale(lang).t, lang=lang, r=view(report, lang))


def write(report: NationalReport, fmt: str, lang: str, out: Path) -> list[Path]:
    from provdc.reports.render import write_html_or_pdf

    out.mkdir(parents=True, exist_ok=True)
    stem = f"national-{report.nation}-{report.period.start:%Y%m%d}-{lang}"
    if fmt == "json":
        path = out / f"{stem}.json"
        path.write_text(to_json(report), encoding="utf-8")
        return [path]
    return write_html_or_pdf(render_html(report, lang), out / stem, fmt)
