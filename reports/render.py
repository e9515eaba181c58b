"""Render province reports: HTML and Markdown through jinja2; JSON and CSV from the data; PDF
from the HTML with headless Chromium (a Debian package, which also renders the inline SVG
charts and Vietnamese diacritics with the system fonts).

Templates only loop and print: every number is computed and formatted here.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from provdc.errors import ProvdcError
from provdc.proc import run_command
from provdc.reports import charts
from provdc.reports.collect import ProvinceReport
from provdc.reports.i18n import VN, Locale

FORMATS = ("html", "pdf", "md", "json", "csv", "docx")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def environment() -> Environment:
    return Environment(loader=PackageLoader("provdc.reports", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html", "htm", "xml", "html.j2"]), trim_blocks=True, lstrip_blocks=True)


def _state(loc: Locale, met: bool | None) -> str:
    return loc.t("unknown") if met is None else loc.t("met") if met else loc.t("not_met")


def province_view(r: ProvinceReport, loc: Locale) -> dict[str, Any]:
    """Everything a template prints for one province, as formatted strings."""
    start, end = r.period.start.timestamp(), r.period.end.timestamp()
    systems = []
    for s in r.systems:
        a = s.result
        systems.append({
            "id": s.id, "name": s.name, "level": s.level, "target": loc.percent(s.target_percent / 100),
            "availability": loc.percent(a.availability, 3), "coverage": loc.percent(a.coverage, 1),
            "downtime": loc.number(a.downtime_minutes, 1), "incident_count": len(a.incidents),
            "met": _state(loc, s.met), "met_class": {True: "ok", False: "bad", None: "unknown"}[s.met],
            "timeline": Markup(charts.timeline(s.buckets, r.step, start, end, [(a_, b_) for a_, b_, _ in s.maintenance],
                                               f"{s.name}: {loc.t('timeline')}")),
            "maintenance": [{"id": w, "start": loc.datetime(a_), "end": loc.datetime(b_)} for a_, b_, w in s.maintenance],
            "incidents": [{"start": loc.datetime(i.start), "end": loc.datetime(i.end), "minutes": loc.number(i.minutes, 1)}
                          for i in a.incidents],
            "targets": [{"target": t.instance, "job": t.job.removeprefix("blackbox_"), "server": t.server,
                         "availability": loc.percent(t.result.availability, 3), "coverage": loc.percent(t.result.coverage, 1),
                         "downtime": loc.number(t.result.downtime_minutes, 1), "samples": loc.percent(t.sample_ratio, 3)}
                        for t in s.targets],
        })
    links, unmeasured = [], []
    for link in r.links:
        if not link.measured:
            unmeasured.append({"id": link.id, "kind": link.kind})
            continue
        names = {"a_to_b": loc.t("a_to_b"), "b_to_a": loc.t("b_to_a")}
        rows = [{"direction": names[d.direction], "contract": loc.rate(d.contract_bps), "mean": loc.rate(d.mean_bps),
                 "peak": loc.rate(d.peak_bps), "p95": loc.rate(d.p95_bps), "utilisation": loc.percent(d.p95_utilisation, 1),
                 "worst": loc.percent(d.worst_window_utilisation, 1),
                 "compliant": _state(loc, d.compliant), "compliant_class": {True: "ok", False: "bad", None: "unknown"}[d.compliant],
                 "whole_period": d.whole_period_only} for d in link.directions]
        links.append({"id": link.id, "kind": link.kind, "provider": link.provider, "rows": rows,
                      "chart": Markup(charts.utilisation(link.utilisation, start, end, f"{link.id}: {loc.t('utilisation')}", names))})
    stats = r.stats
    tiers = ["province", "district", "commune", "all"]
    connectivity = [{"tier": loc.t(f"tier_{t}"), "agencies": stats.agencies_per_tier[t],
                     "lan": f"{stats.agencies_with_lan[t]} ({loc.percent((stats.agencies_with_lan[t].percent or 0) / 100, 1)})",
                     "wan": f"{stats.agencies_on_wan[t]} {loc.t(f'tier_{t}')}"} for t in tiers if stats.agencies_per_tier[t]]
    bandwidth_tiers = [{"tier": loc.t(f"tier_{t}"), "links": bw.links, "a_to_b": loc.rate(bw.a_to_b_bps), "b_to_a": loc.rate(bw.b_to_a_bps)}
                       for t, bw in stats.wan_bandwidth_per_tier.items()]
    reach = [{"id": a.id, "name": a.name, "tier": loc.t(f"tier_{a.tier}"),
              "availability": loc.percent(a.result.availability, 3) if a.result else "—",
              "coverage": loc.percent(a.result.coverage, 1) if a.result else "—"} for a in r.agencies if a.result]
    d14 = [{"system": d.system, "level": d.level, **{k: {"state": loc.t(f"state_{getattr(d, k)[0]}"),
                                                         "class": getattr(d, k)[0],
                                                         "detail": getattr(d, k)[1]} for k in ("onsite", "soc", "assessment", "national")}}
           for d in r.d14]
    met = [s for s in r.systems if s.met]
    measured = [link for link in r.links if link.measured]
    ok_links = [link for link in measured if all(d.compliant is not False for d in link.directions)]
    view = {"id": r.province, "name": r.name, "period": r.period.label if loc.lang == "en" else
            f"{loc.date(r.period.start)} – {loc.date(r.period.end.timestamp() - 1)}",
            "generated": loc.datetime(r.generated), "step": loc.duration(r.step),
            "sli_window": loc.duration(r.sli.window) if r.sli else "—",
            "systems": systems, "links": links, "unmeasured": unmeasured, "connectivity": connectivity,
            "bandwidth_tiers": bandwidth_tiers, "reach": reach, "d14": d14,
            "summary": {"systems": loc.t("summary_systems", met=len(met), total=len(r.systems)),
                        "links": loc.t("summary_links", ok=len(ok_links), total=len(measured))},
            "security": _security_view(r, loc), "document": _document_view(r, loc), "monthly": monthly_view(r, loc)}
    below = [s.name for s in r.systems if s.met is False]
    breaking = [link.id for link in measured if any(d.compliant is False for d in link.directions)]
    view["summary"]["below"] = loc.t("summary_below", systems=", ".join(below)) if below else ""
    view["summary"]["breaking"] = loc.t("summary_breaking", links=", ".join(breaking)) if breaking else ""
    view["summary"]["critical"] = view["summary"]["deadline"] = ""   # a report without an audit run
    if r.security:
        sec = r.security
        view["summary"]["score"] = loc.t("summary_score", with_waivers=loc.percent(_overall(sec, True), 1),
                                         without=loc.percent(_overall(sec, False), 1))
        critical = sum(1 for f in sec.failed if f.severity == "critical")
        view["summary"]["critical"] = loc.t("summary_critical", count=critical) if critical else ""
        transition = sec.run.transition
        view["summary"]["deadline"] = (loc.t("summary_deadline", count=len(transition), deadline=loc.date_of(transition[0].deadline),
                                             days=transition[0].days_left) if transition else "")
    return view


def _delta(loc: Locale, kind: str, row) -> str:
    if row.delta is None:
        return "—"
    sign = "+" if row.delta > 0 else ""
    if kind == "p95":
        return ("+" if row.delta > 0 else "−" if row.delta < 0 else "") + loc.rate(abs(row.delta))
    return f"{sign}{loc.number(row.delta * 100, 3 if kind == 'availability' else 1)} {loc.t('points')}"


def _vantage_text(r: ProvinceReport, loc: Locale) -> str:
    """Where the audit ran from: as the run recorded it, else as the inventory declares it."""
    v = r.security.run.vantage if r.security else None
    if v is not None:
        return loc.t("scope_vantage_run", host=v.host, address=f" ({v.address})" if v.address else "")
    return loc.t("scope_vantage_text", address=r.vantage) if r.vantage else loc.t("scope_vantage_none")


def monthly_view(r: ProvinceReport, loc: Locale) -> dict[str, Any]:
    """Scope and method, trend, findings by requirement with owner and due date, per-agency
    breakdown: formatted from reports/monthly.py's views, printed alike by HTML and .docx."""
    from provdc import __version__
    from provdc.inventory.catalogue import load_catalogue
    from provdc.reports import monthly

    cat = load_catalogue()
    names = r.agency_names
    sec = r.security
    scope = [(loc.t("scope_period"), f"{loc.datetime(r.period.start)} – {loc.datetime(r.period.end)}"),
             (loc.t("scope_monitoring"), loc.t("scope_monitoring_text", url=r.source or "—", step=loc.duration(r.step))),
             (loc.t("scope_sli"), loc.t("scope_sli_recorded" if r.sli is None or r.sli.recorded else "scope_sli_evaluated",
                                        window=loc.duration(r.sli.window) if r.sli else "—")),
             (loc.t("scope_link_rates"), loc.t("scope_link_rates_recorded", window=loc.duration(r.link_rates.interval))
              if r.link_rates and r.link_rates.recorded else loc.t("scope_link_rates_evaluated", step=loc.duration(r.step))),
             (loc.t("scope_vantage"), _vantage_text(r, loc)),
             (loc.t("scope_version"), f"provdc {__version__}" + (
                 loc.t("scope_version_audit", tool=sec.run.vantage.tool) if sec and sec.run.vantage else "")),
             (loc.t("scope_rules"), loc.t("scope_rules_text")),
             (loc.t("scope_audit"), loc.t("audit_run", when=loc.datetime(sec.run.finished)) if sec else loc.t("no_audit"))]
    if sec:
        c_total = sum(c.requirements * c.systems for c in sec.run.coverage)
        scope.append((loc.t("scope_not_assessed"), loc.t(
            "scope_not_assessed_text", total=c_total, not_assessed=sum(c.not_assessed for c in sec.run.coverage),
            manual=sum(c.manual * c.systems for c in sec.run.coverage), evidence=sum(c.evidence * c.systems for c in sec.run.coverage))))
    labels = {"availability": loc.t("trend_availability"), "p95": loc.t("trend_p95"), "score": loc.t("trend_score")}
    trend = []
    for row in monthly.trend(r, r.previous):
        if row.kind == "p95":
            link, direction = row.subject.split(" ")
            subject, cur, prev = f"{link} ({loc.t(direction)})", loc.rate(row.current), loc.rate(row.previous)
        elif row.kind == "score":
            subject = loc.t("score_with") if row.subject == "all" else loc.t("score_without")
            cur, prev = loc.percent(row.current, 1), loc.percent(row.previous, 1)
        else:
            subject, cur, prev = row.subject, loc.percent(row.current, 3), loc.percent(row.previous, 3)
        trend.append({"figure": labels[row.kind], "subject": subject, "current": cur, "previous": prev,
                      "delta": _delta(loc, row.kind, row)})
    prev_label = (f"{loc.date(r.previous.period.start)} – {loc.date(r.previous.period.end.timestamp() - 1)}"
                  if r.previous else "—")
    groups = []
    for key, items in (monthly.by_requirement(sec.run, r.agency_members).items() if sec else []):
        rid = key.split(":", 1)[1] if key else ""
        title = f"{rid} · {cat.title(rid, loc.lang)}" if rid else loc.t("no_requirement")
        groups.append({"requirement": title, "findings": [
            {"check": i.finding.check, "title": check_text(i.finding.check, "title", loc.lang, i.finding.title),
             "host": i.finding.subject, "severity": loc.t(f"severity_{i.finding.severity}"),
             "owner": names.get(i.owner, i.owner) if i.owner else "—", "due": loc.date_of(i.due),
             "why": loc.t(f"due_{i.reason}")} for i in items]})
    agencies = [{"agency": names.get(a.agency, a.agency), "systems": ", ".join(a.systems) or "—",
                 "below": ", ".join(a.below_target) or "—",
                 "with": loc.percent(a.score.with_waivers, 1) if a.score else "—",
                 "without": loc.percent(a.score.without_waivers, 1) if a.score else "—",
                 "failures": str(a.failures), "critical": str(a.critical)}
                for a in monthly.agency_breakdown(r, r.agency_members)]
    due_rule = loc.t("due_rule", **{k: v for k, v in monthly.DUE_DAYS.items()})
    return {"scope": scope, "trend": trend, "previous_period": prev_label, "requirements": groups,
            "agencies": agencies, "due_rule": due_rule}


def _document_view(r: ProvinceReport, loc: Locale) -> dict[str, Any]:
    """The national heading, number, place and date, recipients and signers, from the
    inventory's paperwork section (the same as the other documents')."""
    from provdc.reports.documents import heading_of, tr

    head, recipients, signatures, flags = heading_of(r.paperwork, r.name, "monthly", loc.lang, r.generated.astimezone(VN).date())
    return {"heading": head, "recipients": recipients, "signatures": signatures, "flags": [f.text for f in flags],
            "recipients_label": tr(loc.lang, "recipients"), "sign_hint": tr(loc.lang, "sign_hint")}


def _status_text(lang: str, status) -> str:
    from provdc.reports.documents import tr

    return tr(lang, f"status_{status.value}")


def _overall(sec, with_waivers: bool) -> float | None:
    return sec.run.score("all", "all", with_waivers)


def check_text(check_id: str, field_name: str, lang: str, fallback: str) -> str:
    """A check's title or remediation in the report's language, from the registry's texts."""
    from provdc.checks.engine import DEFAULT
    from provdc.checks.registry import text

    return text(DEFAULT[check_id], field_name, lang) if check_id in DEFAULT else fallback


def _remediation(f, lang: str) -> str:
    from provdc.checks.engine import DEFAULT

    c = DEFAULT[f.check] if f.check in DEFAULT else None
    if c is None:
        return f.remediation
    tag = f" (provdc provision --tags {','.join(c.tags)})" if c.tags else ""
    return check_text(f.check, "remediation", lang, f.remediation) + tag


def _requirement_labels(f, lang: str) -> list[str]:
    from provdc.inventory.catalogue import clause_text, load_catalogue

    cat = load_catalogue()
    return [f"{r.id} {clause_text(r.clause, lang)} · {cat.title(r.id, lang)}".replace("  ", " ") for r in f.requirements]


def _security_view(r: ProvinceReport, loc: Locale) -> dict[str, Any] | None:
    sec = r.security
    if sec is None:
        return None

    from provdc.inventory.catalogue import clause_text, load_catalogue

    cat = load_catalogue()
    run = sec.run

    def pairs(kind: str, key: str) -> list[dict[str, Any]]:
        return [{key: k, "with": loc.percent(p.with_waivers, 1), "without": loc.percent(p.without_waivers, 1)}
                for k, p in run.group_scores(kind).items() if p.with_waivers is not None]

    def finding(f):
        return {"check": f.check, "title": check_text(f.check, "title", loc.lang, f.title), "host": f.subject,
                "severity": loc.t(f"severity_{f.severity}"), "status": _status_text(loc.lang, f.status), "found": f.found, "expected": f.expected,
                "remediation": _remediation(f, loc.lang), "requirements": _requirement_labels(f, loc.lang)}

    layers = [{**row, "layer": loc.t(f"layer_{row['layer']}")} for row in pairs("layer", "layer")]
    drift = sec.drift
    return {
        "finished": loc.datetime(run.finished), "partial": run.partial,
        "layers": layers, "systems": pairs("system", "system"), "levels": pairs("level", "level"),
        "agencies": pairs("agency", "agency"),
        "failed": [finding(f) for f in sec.failed],
        "waivers": [{"check": c, "scope": s, "approver": a, "expires": loc.date_of(e), "days": d} for c, s, a, e, d in sec.waivers],
        "has_previous": drift is not None,
        "new_failures": [finding(f) for f in drift.new_failures] if drift else [],
        "fixed": [finding(f) for f in drift.fixed] if drift else [],
        "coverage": [{"framework": cat.framework(c.framework).name(loc.lang), "level": c.level, "systems": c.systems,
                      "requirements": c.requirements, "automated": c.automated, "evidence": c.evidence, "manual": c.manual,
                      "not_assessed": c.not_assessed} for c in run.coverage],
        "not_assessed": [{"id": r.id, "system": r.system, "title": cat.title(r.id, loc.lang), "clause": clause_text(r.clause, loc.lang) or "—",
                          "met_by": loc.t(f"met_by_{r.met_by}")} for r in sec.not_assessed],
        "transition": [{"system": t.system, "deadline": loc.date_of(t.deadline), "days": t.days_left} for t in run.transition],
    }


def render_html(reports: list[ProvinceReport], lang: str) -> str:
    loc = Locale(lang)
    return environment().get_template("report.html.j2").render(
        t=loc.t, lang=lang, provinces=[province_view(r, loc) for r in reports])


def render_markdown(reports: list[ProvinceReport], lang: str) -> str:
    loc = Locale(lang)
    env = environment()
    env.autoescape = False  # Markdown: cells are cleaned by the `cell` filter instead
    env.filters["cell"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
    return env.get_template("report.md.j2").render(t=loc.t, lang=lang, provinces=[province_view(r, loc) for r in reports])


def to_json(reports: list[ProvinceReport]) -> str:
    def default(o):
        if hasattr(o, "isoformat"):
            return o.isoformat()
        if hasattr(o, "value"):
            return o.value
        if hasattr(o, "model_dump"):
            return o.model_dump(mode="json")
        return str(o)

    data = []
    for r in reports:
        d = asdict(r)
        d.pop("previous")   # its own report; the trend below carries its figures
        d.pop("template")
        for s in d["systems"]:
            s.pop("buckets")  # bulky; the JSON carries the results, the HTML the timeline
        d["d14"] = [row.model_dump(mode="json") for row in r.d14]
        if r.security is not None:   # the run's own lists, as the HTML prints them
            d["security"]["failed"] = [f.model_dump(mode="json") for f in r.security.failed]
            d["security"]["not_assessed"] = [x.model_dump(mode="json") for x in r.security.not_assessed]
            d["security"]["drift_counts"] = r.security.drift.counts() if r.security.drift else None
        data.append(d)
    return json.dumps({"schema": "provdc-report/1", "provinces": data}, default=default, ensure_ascii=False, indent=2) + "\n"


def to_csv(reports: list[ProvinceReport]) -> dict[str, str]:
    """Three tables: uptime.csv, bandwidth.csv, security.csv (machine-readable: '.' decimals)."""
    uptime, bandwidth, security = io.StringIO(), io.StringIO(), io.StringIO()
    u, b, s = csv.writer(uptime), csv.writer(bandwidth), csv.writer(security)
    u.writerow(["province", "system", "level", "target_percent", "availability", "coverage", "downtime_minutes",
                "incidents", "maintenance_minutes", "met"])
    b.writerow(["province", "link", "direction", "contract_bps", "mean_bps", "peak_bps", "p95_bps", "worst_7day_p95_bps",
                "compliant", "samples"])
    s.writerow(["province", "check", "host", "layer", "severity", "status", "found", "remediation"])
    for r in reports:
        for sys in r.systems:
            a = sys.result
            u.writerow([r.province, sys.id, sys.level, sys.target_percent, _num(a.availability), _num(a.coverage),
                        _num(a.downtime_minutes), len(a.incidents), _num(a.maintenance_minutes), sys.met])
        for link in r.links:
            for d in link.directions:
                b.writerow([r.province, link.id, d.direction, d.contract_bps, _num(d.mean_bps), _num(d.peak_bps), _num(d.p95_bps),
                            _num(d.worst_window_p95_bps), d.compliant, d.samples])
        if r.security:
            for f in r.security.run.findings:
                s.writerow([r.province, f.check, f.host or "", f.layer, f.severity, f.status.value, f.found, f.remediation])
    return {"uptime.csv": uptime.getvalue(), "bandwidth.csv": bandwidth.getvalue(), "security.csv": security.getvalue()}


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise ProvdcError("PDF needs Chromium (Debian package chromium): apt-get install chromium")


def html_to_pdf(html_path: Path, pdf_path: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        result = run_command([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                              f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()], timeout=120)
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise ProvdcError(f"Chromium could not print the PDF: {result.describe()}")


def write(reports: list[ProvinceReport], fmt: str, lang: str, out: Path) -> list[Path]:
    """Write the report in `fmt` under `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"report-{'-'.join(r.province for r in reports)}-{reports[0].period.start:%Y%m%d}-{lang}"
    if fmt == "json":
        path = out / f"{stem}.json"
        path.write_text(to_json(reports), encoding="utf-8")
        return [path]
    if fmt == "csv":
        paths = []
        for name, text in to_csv(reports).items():
            path = out / f"{stem}-{name}"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        return paths
    if fmt == "md":
        path = out / f"{stem}.md"
        path.write_text(render_markdown(reports, lang), encoding="utf-8")
        return [path]
    if fmt == "docx":   # one Word document per province, from the document model
        from provdc.reports import documents, paperwork

        return [p for r in reports for p in documents.write(paperwork.monthly(r, lang), "docx", out)]
    return write_html_or_pdf(render_html(reports, lang), out / stem, fmt)


def write_html_or_pdf(html: str, stem: Path, fmt: str) -> list[Path]:
    """The HTML at STEM.html and, for `pdf`, the PDF printed from it beside it."""
    html_path = stem.with_name(f"{stem.name}.html")
    html_path.write_text(html, encoding="utf-8")
    if fmt == "html":
        return [html_path]
    pdf = stem.with_name(f"{stem.name}.pdf")
    html_to_pdf(html_path, pdf)
    return [html_path, pdf]


def render_audit_html(run) -> str:
    """A self-contained HTML page of one audit run (every inventory string escaped)."""
    from collections import Counter

    from provdc.checks.outputs import requirement_labels
    from provdc.inventory.catalogue import clause_text

    loc = Locale("en")
    counts = Counter(f.status.value for f in run.findings)
    findings = [{"subject": f.subject, "layer": f.layer, "check": f.check, "requirements": requirement_labels(f),
                 "title": f.title, "severity": f.severity, "status": f.status.value, "expected": f.expected, "found": f.found,
                 "remediation": f.remediation,
                 "waiver": f"{f.waiver.approver}, until {f.waiver.expires}" if f.waiver else ""}
                for f in run.findings if f.status.value != "NOT_APPLICABLE"]
    requirements = [{"id": r.id, "framework": r.framework, "clause": clause_text(r.clause, loc.lang) or "—", "system": r.system,
                     "status": r.status.value, "detail": r.detail} for r in run.requirements]
    return environment().get_template("audit.html.j2").render(
        province=run.province, finished=loc.datetime(run.finished), partial=run.partial,
        counts=[{"status": k, "count": v} for k, v in sorted(counts.items())],
        scores=[{"layer": k, "with": loc.percent(p.with_waivers, 1), "without": loc.percent(p.without_waivers, 1)}
                for k, p in run.group_scores("layer").items() if p.with_waivers is not None],
        findings=findings, requirements=requirements)
