"""The documents the authorities ask for, built from the results model, the inventory, the
catalogue and (where a document needs them) Prometheus figures:

* `dossier`: the level dossier of one system (Decree 85 Art. 15 / Decree 331 Form 06 content);
* `yearly`: the yearly report (Decree 331 Art. 35-36, Form 08), window 15/12 - 14/12;
* `bandwidth_needs`: the yearly connection and bandwidth registration (Circular 06/2026 Art. 11,
  Form 01, before 31/01).

Every figure is read from the audit runs (requirement statuses, scores, Directive 14 layers,
transition deadlines, drift) or from `compute` (availability, p95): nothing is recomputed here.
What the inventory does not know is flagged in the document, never invented.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from provdc.checks.results import AuditRun, RequirementResult, Status, drift
from provdc.inventory.catalogue import clause_text
from provdc.reports.compute import CONTRACT_LIMIT, VN, DirectionLoad, Period
from provdc.reports.documents import Document, Figure, Para, Section, Table, heading, safe_stem, template_path, tr
from provdc.reports.i18n import Locale

STATUS_ORDER = (Status.PASS, Status.FAIL, Status.ERROR, Status.WAIVED, Status.MANUAL, Status.NOT_ASSESSED,
                Status.NOT_APPLICABLE)


def _status(lang: str, s: Status | str) -> str:
    return tr(lang, f"status_{Status(s).value}")


def _new(inv, kind: str, lang: str, today: date, stem: str, title: str, subtitle: str) -> tuple[Document, list[Para]]:
    head, recipients, signatures, flags = heading(inv, kind, lang, today)
    doc = Document(kind=kind, lang=lang, stem=stem, heading=head, title=title, subtitle=subtitle, sections=[],
                   recipients=recipients, signatures=signatures, template=template_path(inv))
    return doc, flags


def _agency_name(inv, agency_id: str | None) -> str:
    if agency_id is None:
        return ""
    a = next((a for a in inv.doc.agencies if a.id == agency_id), None)
    return a.name if a else agency_id


def _clause(r, lang: str) -> str:
    if not r.clause:
        return tr(lang, "clause_none")
    clause = clause_text(r.clause, lang)
    return clause if r.clause_verified else f"{clause} ({tr(lang, 'unverified')})"


# ----------------------------------------------------------------------------------- the dossier

def _action(r: RequirementResult | None, inv, lang: str) -> str:
    """What the plan says for one requirement: the automated verdict, the evidence, or what is
    still to be done, read from the run's requirement result."""
    if r is None:
        return tr(lang, "todo_no_run")
    records = {e.id: e for e in inv.doc.evidence}
    if r.status is Status.PASS:
        return tr(lang, "action_pass", checks=", ".join(r.checks))
    if r.status is Status.MANUAL:
        newest = records.get(r.evidence[-1]) if r.evidence else None
        if newest is None:
            return r.detail
        return tr(lang, "action_evidence", document=newest.document, date=Locale(lang).date_of(newest.date), issuer=newest.issuer)
    if r.status is Status.NOT_ASSESSED:
        return tr(lang, "todo_evidence") if r.met_by != "automated" else tr(lang, "todo_check", checks=", ".join(r.checks))
    if r.status is Status.NOT_APPLICABLE:
        return tr(lang, "action_na")
    where = ", ".join(r.failing) if r.failing else r.detail
    if r.status is Status.WAIVED:
        return tr(lang, "action_waived", where=where)
    if r.status is Status.ERROR:
        return tr(lang, "action_error", where=where)
    if r.checks:
        return tr(lang, "action_fail", where=where)
    return tr(lang, "action_fail_evidence", detail=r.detail)


def dossier(inv, system_id: str, run: AuditRun | None, lang: str, today: date, catalogue, diagram_png: bytes) -> Document:
    system = next((s for s in inv.doc.systems if s.id == system_id), None)
    if system is None:
        from provdc.errors import ProvdcError
        raise ProvdcError(f"no system {system_id!r} in the inventory (systems: {', '.join(s.id for s in inv.doc.systems)})")
    fw = catalogue.framework(system.framework.value)
    loc = Locale(lang)
    doc, flags = _new(inv, "dossier", lang, today, safe_stem("dossier", inv.province.id, system.id, lang),
                      tr(lang, "dossier_title"), f"{system.name} ({system.id})")
    servers = [s for s in inv.doc.servers if s.id in system.servers]
    zones = {z.id: z for z in inv.doc.zones}
    used_zones = sorted({s.zone for s in servers})
    sites = sorted({zones[z].site for z in used_zones if z in zones})
    devices = [d for d in inv.doc.devices if d.site in sites]

    general = [(tr(lang, "f_name"), system.name), (tr(lang, "f_id"), system.id), (tr(lang, "f_kind"), tr(lang, f"kind_{system.kind.value}")),
               (tr(lang, "f_owner"), _agency_name(inv, system.owner) or tr(lang, "unknown")),
               (tr(lang, "f_framework"), fw.name(lang)), (tr(lang, "f_level"), str(system.level)),
               (tr(lang, "f_approval"), system.approval or tr(lang, "unknown")),
               (tr(lang, "f_started"), loc.date_of(system.started) if system.started else tr(lang, "unknown")),
               (tr(lang, "f_sla"), loc.percent(system.sla_target / 100))]
    if system.owner is None:
        flags.append(Para(tr(lang, "flag_owner"), "flag"))
    if system.approval is None:
        flags.append(Para(tr(lang, "flag_approval"), "flag"))
    if system.started is None:
        flags.append(Para(tr(lang, "flag_started"), "flag"))
    doc.sections.append(Section(tr(lang, "d_general"), [Table((tr(lang, "c_item"), tr(lang, "c_value")), general, "general")]))

    services = [(s.id, svc.name, f"{svc.port}/{svc.proto}", svc.kind, ", ".join(svc.from_)) for s in servers for svc in s.services]
    exposed = sum(1 for s in servers for svc in s.services if "internet" in svc.from_)
    scale = [Para(tr(lang, "d_scale_text", servers=len(servers), services=len(services), exposed=exposed,
                     zones=len(used_zones), sites=len(sites), devices=len(devices))),
             Table((tr(lang, "c_server"), tr(lang, "c_service"), tr(lang, "c_port"), tr(lang, "c_kind"), tr(lang, "c_from")),
                   services, "services"),
             Para(tr(lang, "flag_users"), "flag")]
    doc.figures.update({"servers": str(len(servers)), "services": str(len(services)), "devices": str(len(devices))})
    doc.sections.append(Section(tr(lang, "d_scale"), scale))
    doc.sections.append(Section(tr(lang, "d_topology"), [Figure(diagram_png, tr(lang, "d_topology_caption", system=system.id)),
                                                         Para(tr(lang, "d_topology_note"), "note")]))
    server_rows = [(s.id, s.hostname, str(s.address), s.zone, s.role, s.os, _agency_name(inv, s.owner) or "—") for s in servers]
    device_rows = [(d.id, d.kind.value, d.role or "—", d.site, d.zone or "—", str(d.address or "—"), d.ha_group or "—")
                   for d in devices]
    doc.sections.append(Section(tr(lang, "d_assets"), [
        Para(tr(lang, "d_servers")),
        Table((tr(lang, "c_id"), tr(lang, "c_hostname"), tr(lang, "c_address"), tr(lang, "c_zone"), tr(lang, "c_role"), "OS",
               tr(lang, "c_owner")), server_rows, "servers"),
        Para(tr(lang, "d_devices")),
        Table((tr(lang, "c_id"), tr(lang, "c_kind"), tr(lang, "c_role"), tr(lang, "c_site"), tr(lang, "c_zone"),
               tr(lang, "c_address"), tr(lang, "c_ha")), device_rows, "devices")]))
    if not any(d.ha_group for d in devices):
        flags.append(Para(tr(lang, "flag_ha"), "flag"))

    level_blocks = [Para(tr(lang, "d_level_text", level=system.level, framework=fw.name(lang))),
                    Para(tr(lang, f"criteria_{system.framework.value}_{system.level}"), "note")]
    kind_rule = texts_kind(lang, system)
    if kind_rule:
        level_blocks.append(Para(kind_rule))
    level_blocks.append(Para(tr(lang, "flag_criteria"), "flag"))
    doc.sections.append(Section(tr(lang, "d_level"), level_blocks))

    results = {r.id: r for r in (run.requirements if run else []) if r.system == system.id}
    rows, counts = [], Counter()
    for req in fw.applicable(system.level):
        r = results.get(req.id)
        state = _status(lang, r.status) if r else tr(lang, "status_no_run")
        counts[r.status.value if r else "NO_RUN"] += 1
        rows.append((req.id, _clause(req, lang), catalogue.title(req.id, lang), tr(lang, f"met_by_{req.met_by}"), state,
                     _action(r, inv, lang)))
    plan = [Para(tr(lang, "d_plan_text", count=len(rows), framework=fw.name(lang), level=system.level,
                    run=loc.datetime(run.finished) if run else tr(lang, "no_run")))]
    if run is None:
        plan.append(Para(tr(lang, "flag_no_run"), "flag"))
    plan.append(Table((tr(lang, "c_requirement"), tr(lang, "c_clause"), tr(lang, "c_title"), tr(lang, "c_met_by"),
                       tr(lang, "c_status"), tr(lang, "c_action")), rows, "plan", (1.7, 1.9, 4, 1.5, 1.5, 3.9)))
    plan.append(Table((tr(lang, "c_status"), tr(lang, "c_count")),
                      [(_status(lang, s), str(counts[s.value])) for s in STATUS_ORDER if counts[s.value]], "plan_counts"))
    doc.figures.update({f"status_{k}": str(v) for k, v in counts.items()})
    doc.figures["requirements"] = str(len(rows))
    doc.sections.append(Section(tr(lang, "d_plan"), plan))
    if run is not None:
        t = next((t for t in run.transition if t.system == system.id), None)
        if t is not None:
            doc.sections[-1].blocks.append(Para(tr(lang, "transition", deadline=loc.date_of(t.deadline), days=t.days_left), "note"))
    doc.sections.append(Section(tr(lang, "d_unknown"), flags or [Para(tr(lang, "none"))]))
    return doc


def texts_kind(lang: str, system) -> str:
    """A rule of the level criteria that the system's kind triggers (Decree 331 Art. 13)."""
    if system.kind.value == "one_stop_shop":
        return tr(lang, "kind_rule_tthc")
    if system.kind.value == "lgsp":
        return tr(lang, "kind_rule_shared")
    return ""


# ------------------------------------------------------------------------------ the yearly report

def report_window(year: int) -> tuple[date, date]:
    """Decree 331 Art. 36: data from 15/12 of the previous year to 14/12 of the year."""
    return date(year - 1, 12, 15), date(year, 12, 14)


def runs_in_window(runs: list[AuditRun], year: int) -> list[AuditRun]:
    first, last = report_window(year)
    return sorted((r for r in runs if first <= r.finished.astimezone(VN).date() <= last), key=lambda r: r.finished)


@dataclass
class YearlyUptime:
    """A system's availability over the window, from `collect.uptime` (compute's rule)."""

    system: str
    availability: float | None
    coverage: float
    incidents: int
    downtime_minutes: float


def yearly(inv, runs: list[AuditRun], year: int, lang: str, today: date, catalogue,
           uptime: list[YearlyUptime] | None = None) -> Document:
    loc = Locale(lang)
    first, last = report_window(year)
    window = runs_in_window(runs, year)
    doc, flags = _new(inv, "yearly", lang, today, safe_stem("yearly", inv.province.id, year, lang),
                      tr(lang, "y_title", year=year), tr(lang, "y_subtitle", province=inv.province.name))
    doc.figures.update({"window_start": loc.date_of(first), "window_end": loc.date_of(last),
                        "deadline_owner": loc.date_of(date(year, 12, 20)), "deadline_ministry": loc.date_of(date(year, 12, 25))})
    doc.sections.append(Section(tr(lang, "y_basis"), [
        Para(tr(lang, "y_basis_text", start=doc.figures["window_start"], end=doc.figures["window_end"],
                owner=doc.figures["deadline_owner"], ministry=doc.figures["deadline_ministry"])),
        Para(tr(lang, "y_form_note"), "note")]))
    if not window:
        flags.append(Para(tr(lang, "flag_no_runs", start=loc.date_of(first), end=loc.date_of(last)), "flag"))
    newest = window[-1] if window else None

    transition = {t.system: t for t in newest.transition} if newest else {}
    rows = []
    for s in inv.doc.systems:
        t = transition.get(s.id)
        rows.append((s.id, s.name, str(s.level), tr(lang, f"fw_short_{s.framework.value}"),
                     s.approval or tr(lang, "unknown"), _agency_name(inv, s.owner) or tr(lang, "unknown"),
                     loc.date_of(t.deadline) if t else "—"))
        if s.approval is None:
            flags.append(Para(tr(lang, "flag_approval_of", system=s.id), "flag"))
    doc.sections.append(Section(tr(lang, "y_systems"), [
        Table((tr(lang, "c_id"), tr(lang, "c_name"), tr(lang, "f_level"), tr(lang, "f_framework"), tr(lang, "f_approval"),
               tr(lang, "f_owner"), tr(lang, "c_transition")), rows, "systems", (1.2, 2.6, 0.8, 1.8, 2, 1.8, 1.3))]))

    run_rows = []
    for r in window:
        failed = len(r.failed())
        run_rows.append((loc.datetime(r.finished), str(len(r.findings)), str(failed),
                         loc.percent(r.score("all", "all", True), 1), loc.percent(r.score("all", "all", False), 1),
                         tr(lang, "word_yes") if r.partial else tr(lang, "word_no")))
    assessments = []
    for s in inv.doc.systems:
        a = s.d14.assessment
        if a is not None:
            assessments.append((s.id, loc.date_of(a.date), a.assessor, a.licence or tr(lang, "unknown"),
                                tr(lang, "word_yes") if first <= a.date <= last else tr(lang, "word_no")))
    doc.sections.append(Section(tr(lang, "y_assessments"), [
        Para(tr(lang, "y_runs_text", count=len(window))),
        Table((tr(lang, "c_finished"), tr(lang, "c_findings"), tr(lang, "c_failed"), tr(lang, "c_score_with"),
               tr(lang, "c_score_without"), tr(lang, "c_partial")), run_rows, "runs"),
        Para(tr(lang, "y_independent")),
        Table((tr(lang, "c_system"), tr(lang, "c_date"), tr(lang, "c_assessor"), tr(lang, "c_licence"), tr(lang, "c_in_window")),
              assessments, "assessments")]))

    roll = []
    per_system = Counter()
    for s in inv.doc.systems:
        mine = [r for r in (newest.requirements if newest else []) if r.system == s.id]
        c = Counter(r.status.value for r in mine)
        for k, v in c.items():
            per_system[(s.id, k)] = v
        roll.append((s.id, str(len(mine)), *(str(c[st.value]) for st in STATUS_ORDER)))
    doc.figures.update({f"req_{sid}_{k}": str(v) for (sid, k), v in per_system.items()})
    detail = [(r.system, r.id, _clause(catalogue.framework(r.framework).requirements[r.id], lang), catalogue.title(r.id, lang),
               _status(lang, r.status), _action(r, inv, lang))
              for r in (newest.requirements if newest else [])]
    doc.sections.append(Section(tr(lang, "y_requirements"), [
        Para(tr(lang, "y_requirements_text", run=loc.datetime(newest.finished) if newest else tr(lang, "no_run"))),
        Table((tr(lang, "c_system"), tr(lang, "c_count"), *(_status(lang, st) for st in STATUS_ORDER)), roll, "rollup"),
        Para(tr(lang, "y_annex_pointer"), "note")]))

    remediation: list = []
    if len(window) >= 2:
        d = drift(window[0], window[-1])
        still = [f for f in window[-1].failed()]
        doc.figures.update({"fixed": str(len(d.fixed)), "new_failures": str(len(d.new_failures)), "open": str(len(still))})
        remediation.append(Para(tr(lang, "y_remediation_text", first=loc.datetime(window[0].finished),
                                   last=loc.datetime(window[-1].finished), fixed=len(d.fixed), new=len(d.new_failures),
                                   open=len(still))))
        owners = _owners(inv)
        remediation.append(Table((tr(lang, "c_check"), tr(lang, "c_subject"), tr(lang, "c_severity"), tr(lang, "c_requirement"),
                                  tr(lang, "c_owner"), tr(lang, "c_state")),
                                 [(f.check, f.subject, f.severity, ", ".join(r.id for r in f.requirements),
                                   owners.get(f.subject, "—"), tr(lang, "state_open")) for f in still]
                                 + [(f.check, f.subject, f.severity, ", ".join(r.id for r in f.requirements),
                                     owners.get(f.subject, "—"), tr(lang, "state_fixed")) for f in d.fixed], "remediation"))
        remediation.append(Para(tr(lang, "flag_due_dates"), "flag"))
    else:
        remediation.append(Para(tr(lang, "flag_one_run"), "flag"))
    doc.sections.append(Section(tr(lang, "y_remediation"), remediation))

    d14_rows = [(d.system, str(d.level), *(f"{tr(lang, 'd14_' + getattr(d, k)[0])}" + (f": {getattr(d, k)[1]}" if getattr(d, k)[1] else "")
                                          for k in ("onsite", "soc", "assessment", "national"))) for d in (newest.d14 if newest else [])]
    doc.sections.append(Section(tr(lang, "y_d14"), [
        Table((tr(lang, "c_system"), tr(lang, "f_level"), tr(lang, "d14_onsite"), tr(lang, "d14_soc"), tr(lang, "d14_assessment"),
               tr(lang, "d14_national")), d14_rows, "d14")]))

    if uptime is None:
        doc.sections.append(Section(tr(lang, "y_incidents"), [Para(tr(lang, "flag_no_prometheus"), "flag")]))
    else:
        rows = [(u.system, loc.percent(u.availability, 3), loc.percent(u.coverage, 1), str(u.incidents), loc.number(u.downtime_minutes, 1))
                for u in uptime]
        doc.figures.update({f"availability_{u.system}": loc.percent(u.availability, 3) for u in uptime})
        doc.sections.append(Section(tr(lang, "y_incidents"), [
            Para(tr(lang, "y_incidents_text")),
            Table((tr(lang, "c_system"), tr(lang, "c_availability"), tr(lang, "c_coverage"), tr(lang, "c_incidents"),
                   tr(lang, "c_downtime")), rows, "uptime"),
            Para(tr(lang, "flag_incident_reports"), "flag")]))
    flags.append(Para(tr(lang, "flag_changes"), "flag"))
    doc.sections.append(Section(tr(lang, "d_unknown"), flags))
    doc.sections.append(Section(tr(lang, "y_annex"), [
        Table((tr(lang, "c_system"), tr(lang, "c_requirement"), tr(lang, "c_clause"), tr(lang, "c_title"), tr(lang, "c_status"),
               tr(lang, "c_action")), detail, "requirements", (1.2, 1.7, 1.8, 3.8, 1.5, 4))]))
    return doc


def _owners(inv) -> dict[str, str]:
    """Owner agency of each finding subject (a server, or system:<id>)."""
    out = {s.id: _agency_name(inv, s.owner) for s in inv.doc.servers if s.owner}
    out.update({f"system:{s.id}": _agency_name(inv, s.owner) for s in inv.doc.systems if s.owner})
    return out


# ------------------------------------------------------------------------ bandwidth registration

STANDARD_RATES = [1e6 * m for m in (1, 2, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)]
TARGET_UTILISATION = 0.7          # provdc's sizing rule: the worst 7-day p95 at 70 % of the new contract
LOWER_BELOW = 0.3                 # provdc's rule: a contract whose worst 7-day p95 stays under 30 % is oversized
JUSTIFY_ABOVE = 0.2               # Circular 06 Art. 11: more than 20 % above the last registration needs a justification


def propose(d: DirectionLoad) -> tuple[str, int | None]:
    """raise / lower / keep / unmeasured, and the proposed capacity (bits/s) for a direction."""
    u = d.worst_window_utilisation
    if u is None:
        return "unmeasured", None
    if u <= LOWER_BELOW or u > CONTRACT_LIMIT:
        need = d.worst_window_p95_bps / TARGET_UTILISATION
        size = next((r for r in STANDARD_RATES if r >= need), math.ceil(need / 1e6) * 1e6)
        if u > CONTRACT_LIMIT:
            return "raise", int(max(size, d.contract_bps))
        if size < d.contract_bps:
            return "lower", int(size)
    return "keep", d.contract_bps


def bandwidth_needs(inv, loads, year: int, measured: Period, lang: str, today: date) -> Document:
    """`loads`: collect.bandwidth over the measured period (its p95 and worst 7-day p95)."""
    loc = Locale(lang)
    doc, flags = _new(inv, "bandwidth", lang, today, safe_stem("bandwidth-needs", inv.province.id, year, lang),
                      tr(lang, "b_title", year=year), tr(lang, "b_subtitle", province=inv.province.name))
    doc.figures["deadline"] = loc.date_of(date(year, 1, 31))
    doc.sections.append(Section(tr(lang, "b_basis"), [
        Para(tr(lang, "b_basis_text", year=year, deadline=doc.figures["deadline"],
                start=loc.date(measured.start), end=loc.date(measured.end.timestamp() - 1))),
        Para(tr(lang, "b_rule", limit=loc.percent(CONTRACT_LIMIT, 0), target=loc.percent(TARGET_UTILISATION, 0),
                low=loc.percent(LOWER_BELOW, 0)), "note")]))
    links = {link.id: link for link in inv.doc.links}
    rows, changes = [], []
    total_now = total_new = 0
    for load in loads:
        link = links[load.id]
        agency = _agency_name(inv, link.b.agency) if link.b.agency else (link.b.provider or link.provider or "—")
        for d in load.directions:
            verdict, size = propose(d) if load.measured else ("unmeasured", None)
            doc.figures[f"p95_{load.id}_{d.direction}"] = loc.rate(d.p95_bps)
            doc.figures[f"worst_{load.id}_{d.direction}"] = loc.percent(d.worst_window_utilisation, 1)
            rows.append((agency, load.id, tr(lang, f"linkkind_{load.kind}"), tr(lang, f"dir_{d.direction}"), loc.rate(d.contract_bps),
                         loc.rate(d.p95_bps), loc.percent(d.worst_window_utilisation, 1), tr(lang, f"verdict_{verdict}"),
                         loc.rate(size) if size else "—"))
            if link.kind.value == "wan":
                total_now += d.contract_bps
                total_new += size or d.contract_bps
            if verdict in ("raise", "lower"):
                changes.append(Para(tr(lang, f"b_change_{verdict}", link=load.id, direction=tr(lang, f"dir_{d.direction}"),
                                       worst=loc.percent(d.worst_window_utilisation, 1), contract=loc.rate(d.contract_bps),
                                       size=loc.rate(size)), "bullet"))
    doc.sections.append(Section(tr(lang, "b_links"), [
        Table((tr(lang, "c_agency"), tr(lang, "c_link"), tr(lang, "c_kind"), tr(lang, "c_direction"), tr(lang, "c_contract"),
               tr(lang, "c_p95_year"), tr(lang, "c_worst7"), tr(lang, "c_proposal"), tr(lang, "c_new_capacity")), rows, "links")]))
    doc.sections.append(Section(tr(lang, "b_changes"), changes or [Para(tr(lang, "b_no_change"))]))
    if total_now and (total_new - total_now) / total_now > JUSTIFY_ABOVE:
        doc.sections[-1].blocks.append(Para(tr(lang, "b_justify", share=loc.percent((total_new - total_now) / total_now, 1)), "flag"))
    unmeasured = [load.id for load in loads if not load.measured]
    if unmeasured:
        flags.append(Para(tr(lang, "flag_unmeasured", links=", ".join(unmeasured)), "flag"))
    flags.append(Para(tr(lang, "flag_form01"), "flag"))
    doc.sections.append(Section(tr(lang, "d_unknown"), flags))
    return doc


def measured_year(year: int, now: datetime) -> Period:
    """The calendar year before the plan year (Vietnam time), ending no later than now."""
    start = datetime(year - 1, 1, 1, tzinfo=VN)
    end = min(datetime(year, 1, 1, tzinfo=VN), now.astimezone(VN).replace(minute=0, second=0, microsecond=0))
    if end <= start:
        end = start + timedelta(days=1)
    return Period(start, end)


# ------------------------------------------------------------------------------ the monthly report

def monthly(r, lang: str) -> Document:
    """The monthly report as a document (.docx, and PDF by LibreOffice from it): the same
    formatted strings the HTML report prints (render.province_view), laid out as sections and
    tables; the charts stay in the HTML."""
    from provdc.reports.documents import SHIPPED_TEMPLATE, heading_of
    from provdc.reports.i18n import Locale as Loc
    from provdc.reports.render import province_view

    loc = Loc(lang)
    v = province_view(r, loc)
    m = v["monthly"]
    head, recipients, signatures, flags = heading_of(r.paperwork, r.name, "monthly", lang, r.generated.astimezone(VN).date())
    doc = Document(kind="monthly", lang=lang, stem=safe_stem("report", r.province, f"{r.period.start:%Y%m%d}", lang),
                   heading=head, title=loc.t("title"), subtitle=loc.t("subtitle", province=r.name, period=v["period"]),
                   sections=[], recipients=recipients, signatures=signatures, template=r.template or SHIPPED_TEMPLATE)
    s = v["summary"]
    summary = [Para(loc.t("generated", when=v["generated"]), "note"), *flags]
    summary += [Para(s[k], "bullet") for k in ("systems", "links", "score", "below", "breaking", "critical", "deadline") if s.get(k)]
    doc.sections.append(Section(loc.t("summary"), summary))
    doc.sections.append(Section(loc.t("scope_method"), [Table((loc.t("scope_item"), loc.t("scope_value")), list(m["scope"]), "scope", (1, 3))]))
    doc.sections.append(Section(loc.t("trend"), [
        Para(loc.t("trend_text", period=m["previous_period"]), "note"),
        Table((loc.t("trend_figure"), loc.t("trend_subject"), loc.t("trend_current"), loc.t("trend_previous"), loc.t("trend_delta")),
              [(x["figure"], x["subject"], x["current"], x["previous"], x["delta"]) for x in m["trend"]], "trend")]))
    doc.sections.append(Section(loc.t("uptime"), [
        Para(f"{loc.t('accounting_rule')}. {loc.t('rule_text', step=v['step'], window=v['sli_window'])}", "note"),
        Table((loc.t("system"), loc.t("level"), loc.t("target"), loc.t("availability"), loc.t("coverage"), loc.t("downtime"),
               loc.t("incidents"), ""),
              [(x["name"], str(x["level"]), x["target"], x["availability"], x["coverage"], x["downtime"], str(x["incident_count"]),
                x["met"]) for x in v["systems"]], "systems")]))
    links = [(link["id"], row["direction"], row["contract"], row["p95"], row["utilisation"], row["worst"], row["compliant"])
             for link in v["links"] for row in link["rows"]]
    doc.sections.append(Section(loc.t("bandwidth"), [
        Para(loc.t("bandwidth_rule"), "note"),
        Table((loc.t("link"), loc.t("direction"), loc.t("contract"), loc.t("p95"), loc.t("utilisation"), loc.t("worst_window"),
               loc.t("compliant")), links, "links")]))
    sec = v["security"]
    blocks: list = []
    if sec is None:
        blocks.append(Para(loc.t("no_audit")))
    else:
        blocks += [Para(loc.t("audit_run", when=sec["finished"]), "note"), Para(loc.t("score_rule"), "note"),
                   Table((loc.t("layer"), loc.t("score_with"), loc.t("score_without")),
                         [(x["layer"], x["with"], x["without"]) for x in sec["layers"]], "layers")]
    doc.sections.append(Section(loc.t("security"), blocks))
    if sec is not None:
        req = [Para(m["due_rule"], "note")]
        for g in m["requirements"]:
            req.append(Para(g["requirement"]))
            req.append(Table((loc.t("check"), loc.t("host"), loc.t("severity"), loc.t("owner"), loc.t("due"), loc.t("due_why")),
                             [(f["title"], f["host"], f["severity"], f["owner"], f["due"], f["why"]) for f in g["findings"]],
                             "requirement", (3, 1.5, 1, 2, 1.2, 1.3)))
        doc.sections.append(Section(loc.t("by_requirement"), req, 2))
        doc.sections.append(Section(loc.t("not_assessed"), [
            Table((loc.t("requirement"), loc.t("system"), loc.t("scope")),
                  [(f"{x['id']} {x['clause']} · {x['title']}", x["system"], x["met_by"]) for x in sec["not_assessed"]],
                  "not_assessed", (4, 1, 1.5))], 2))
    doc.sections.append(Section(loc.t("agency_breakdown"), [
        Table((loc.t("agency"), loc.t("systems_of"), loc.t("below_target"), loc.t("score_with"), loc.t("score_without"),
               loc.t("failures"), loc.t("critical_count")),
              [(a["agency"], a["systems"], a["below"], a["with"], a["without"], a["failures"], a["critical"]) for a in m["agencies"]],
              "agencies")], 2))
    doc.sections.append(Section(loc.t("d14"), [
        Table((loc.t("system"), loc.t("level"), loc.t("d14_onsite"), loc.t("d14_soc"), loc.t("d14_assessment"), loc.t("d14_national")),
              [(d["system"], str(d["level"]), *(d[k]["state"] for k in ("onsite", "soc", "assessment", "national"))) for d in v["d14"]],
              "d14")]))
    doc.figures.update({f"availability_{x['id']}": x["availability"] for x in v["systems"]})
    doc.figures.update({f"trend_{i}": f"{x['current']}|{x['previous']}" for i, x in enumerate(m["trend"])})
    return doc
