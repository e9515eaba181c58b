"""Governance: the Directive 14/CT-TTg four-layer model and approvals, judged from the
inventory's evidence against today's date, per information system."""

from __future__ import annotations

from datetime import date, timedelta

from provdc.checks.registry import Verdict, check

D14 = {"nd85_tcvn11930": ("Chỉ thị 14/CT-TTg", "ND 85 Art. 20"), "nd331_tcvn14423": ("Chỉ thị 14/CT-TTg", "NĐ 331 Art. 31")}


@check(layer="governance", level=1, severity="high", title="an on-site security team is named (layer 1)",
       rationale="Directive 14 layer 1: the agency's own security staff run day-to-day protection (ND 85 Art. 20.1.b).",
       remediation="Record d14.onsite_team (unit, lead, members) for the system in the inventory.",
       clauses=D14, facts=("system",), scope="system")
def d14_onsite_team(system) -> Verdict:
    team = system.d14.onsite_team
    return Verdict.passed(team.unit) if team else Verdict.failed("a named on-site team", "none recorded")


@check(layer="governance", level=3, severity="high", title="a professional monitoring (SOC) contract is in force (layer 2)",
       rationale="Directive 14 layer 2: a professional organisation monitors the system continuously (TT 31/2017 Art. 5).",
       remediation="Renew the SOC contract and record d14.soc (provider, contract_end) in the inventory.",
       clauses=D14, facts=("system", "today"), scope="system")
def d14_soc_contract_valid(system, today) -> Verdict:
    soc = system.d14.soc
    if soc is None:
        return Verdict.failed("a SOC contract in force", "none recorded")
    found = f"{soc.provider}, ends {soc.contract_end.isoformat()}"
    return Verdict.passed(found) if soc.contract_end >= today else Verdict.failed("contract end on or after today", found)


ASSESSED_FROM_LEVEL = 3  # the level of d14_assessment_fresh below


def assessment_interval_days(level: int) -> int:
    """Days between independent assessments: level 5 every 6 months, levels 3-4 yearly."""
    return 183 if level >= 5 else 365


def assessment_due(system) -> date | None:
    """When the next independent assessment is due (None below level 3; 1970-01-01 if none was
    ever recorded: due now). The exporter publishes it and the alert warns 30 days ahead."""
    if system.level < ASSESSED_FROM_LEVEL:
        return None
    a = system.d14.assessment
    return date(1970, 1, 1) if a is None else a.date + timedelta(days=assessment_interval_days(system.level))


@check(layer="governance", level=ASSESSED_FROM_LEVEL, severity="high", title="an independent assessment is recent enough for the level (layer 3)",
       rationale="ND 85 Art. 20.2.c: level 3 and 4 systems are assessed yearly, level 5 every 6 months, by a licensed organisation.",
       remediation="Commission the independent assessment and record d14.assessment (date, assessor).",
       clauses=D14, facts=("system", "today"), scope="system")
def d14_assessment_fresh(system, today) -> Verdict:
    a = system.d14.assessment
    limit = assessment_interval_days(system.level)
    if a is None:
        return Verdict.failed(f"an assessment within {limit} days", "none recorded")
    age = (today - a.date).days
    found = f"{a.assessor}, {a.date.isoformat()} ({age} days ago)"
    return Verdict.passed(found) if age <= limit else Verdict.failed(f"within {limit} days", found)


@check(layer="governance", level=3, severity="medium", title="connected to the national monitoring system (layer 4)",
       rationale="Directive 14 layer 4: sensors and SOC share data with the national monitoring centre (TT 31/2017 Art. 5.2.e).",
       remediation="Register the connection and record d14.national_monitoring.connected in the inventory.",
       clauses=D14, facts=("system",), scope="system")
def d14_national_monitoring(system) -> Verdict:
    n = system.d14.national_monitoring
    return Verdict.passed(f"connected {n.connected.isoformat()}") if n else Verdict.failed("a recorded connection", "none recorded")


@check(layer="governance", level=1, severity="medium", title="the security level approval decision is recorded",
       rationale="Every system needs its approved level dossier (ND 85 Art. 12; NĐ 331 Art. 18).",
       remediation="Record the approval decision (number and date) in the system's `approval` field.",
       clauses={"nd85_tcvn11930": ("ND 85 Art. 12",), "nd331_tcvn14423": ("NĐ 331 Art. 18",)}, facts=("system",), scope="system")
def level_approval_recorded(system) -> Verdict:
    return Verdict.passed(system.approval) if system.approval else Verdict.failed("an approval decision", "none recorded")
