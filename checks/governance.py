"""Governance: the Directive 14/CT-TTg four-layer model and approvals, judged from the
inventory's evidence against today's date, per information system."""

from __future__ import annotations

from datetime import date, timedelta

from provdc.checks.registry import Verdict, check
from provdc.checks.results import NONE_RECORDED
from provdc.inventory.catalogue import ND331_CUTOFF, ND331_DEADLINE, bar_for



@check(layer="governance", level=1, severity="high", title="an on-site security team is named (layer 1)",
       rationale="Directive 14 layer 1: the agency's own security staff run day-to-day protection (ND 85 Art. 20.1.b).",
       remediation="Record d14.onsite_team (unit, lead, members) for the system in the inventory.",
       facts=("system",), scope="system")
def d14_onsite_team(system) -> Verdict:
    team = system.d14.onsite_team
    return Verdict.passed(team.unit) if team else Verdict.failed("a named on-site team", NONE_RECORDED)


@check(layer="governance", level=3, severity="high", title="a professional monitoring (SOC) contract is in force (layer 2)",
       rationale="Directive 14 layer 2: a professional organisation monitors the system continuously (TT 31/2017 Art. 5).",
       remediation="Renew the SOC contract and record d14.soc (provider, contract_end) in the inventory.",
       facts=("system", "today"), scope="system")
def d14_soc_contract_valid(system, today) -> Verdict:
    soc = system.d14.soc
    if soc is None:
        return Verdict.failed("a SOC contract in force", NONE_RECORDED)
    found = f"{soc.provider}, ends {soc.contract_end.isoformat()}"
    return Verdict.passed(found) if soc.contract_end >= today else Verdict.failed("contract end on or after today", found)


ASSESSED_FROM_LEVEL = 3  # the level of d14_assessment_fresh below


def assessment_due(system) -> date | None:
    """When the next independent assessment is due, by the interval of the system's framework
    and level (None below level 3 or where the framework sets none; 1970-01-01 if none was ever
    recorded: due now). The exporter publishes it and the alert warns 30 days ahead."""
    interval = bar_for([system]).get("assessment_interval_days")
    if system.level < ASSESSED_FROM_LEVEL or interval is None:
        return None
    a = system.d14.assessment
    return date(1970, 1, 1) if a is None else a.date + timedelta(days=interval)


@check(layer="governance", level=ASSESSED_FROM_LEVEL, severity="high", title="an independent assessment is recent enough for the level (layer 3)",
       rationale="ND 85 Art. 20.2.c: level 3 and 4 systems are assessed yearly, level 5 every 6 months, by a licensed organisation.",
       remediation="Commission the independent assessment and record d14.assessment (date, assessor).",
       facts=("system", "today", "bar"), scope="system")
def d14_assessment_fresh(system, today, bar) -> Verdict:
    a = system.d14.assessment
    limit = bar["assessment_interval_days"]
    if a is None:
        return Verdict.failed(f"an assessment within {limit:g} days", NONE_RECORDED)
    age = (today - a.date).days
    found = f"{a.assessor}, {a.date.isoformat()} ({age} days ago)"
    return Verdict.passed(found) if age <= limit else Verdict.failed(f"within {limit:g} days ({bar.why('assessment_interval_days')})", found)


@check(layer="governance", level=3, severity="medium", title="connected to the national monitoring system (layer 4)",
       rationale="Directive 14 layer 4: sensors and SOC share data with the national monitoring centre (TT 31/2017 Art. 5.2.e).",
       remediation="Register the connection and record d14.national_monitoring.connected in the inventory.",
       facts=("system",), scope="system")
def d14_national_monitoring(system) -> Verdict:
    n = system.d14.national_monitoring
    return Verdict.passed(f"connected {n.connected.isoformat()}") if n else Verdict.failed("a recorded connection", NONE_RECORDED)


@check(layer="governance", level=1, severity="medium", title="the security level approval decision is recorded",
       rationale="Every system needs its approved level dossier (ND 85 Art. 12; NĐ 331 Art. 18).",
       remediation="Record the approval decision (number and date) in the system's `approval` field.",
       facts=("system",), scope="system")
def level_approval_recorded(system) -> Verdict:
    return Verdict.passed(system.approval) if system.approval else Verdict.failed("an approval decision", NONE_RECORDED)


@check(layer="governance", level=1, severity="medium", title="the system is judged under the framework in force",
       rationale="Decree 331/2026 is in force since 19/08/2026. Systems built before 01/07/2026 may stay on Decree 85 "
                 "but must meet Decree 331's measures by 01/07/2027 (Art. 39); newer systems follow Decree 331.",
       remediation="Re-assess the system under Decree 331 / TCVN 14423 and set its framework to nd331_tcvn14423 "
                   "(with the new approval decision).",
       facts=("system", "today"), scope="system")
def framework_current(system, today) -> Verdict:
    if system.framework.value == "nd331_tcvn14423":
        return Verdict.passed("Decree 331 / TCVN 14423")
    cutoff, deadline = date.fromisoformat(ND331_CUTOFF), date.fromisoformat(ND331_DEADLINE)
    if system.started is not None and system.started >= cutoff:
        return Verdict.failed(f"nd331_tcvn14423 (build started {system.started.isoformat()}, after {ND331_CUTOFF})",
                              "nd85_tcvn11930")
    if today >= deadline:
        return Verdict.failed(f"nd331_tcvn14423 since {ND331_DEADLINE}", "still nd85_tcvn11930")
    return Verdict.passed(f"nd85_tcvn11930 until {ND331_DEADLINE} ({(deadline - today).days} days left to meet Decree 331)")
