"""Audit outputs besides JSON: JUnit XML, SARIF 2.1.0 and CSV, each showing the requirement
(framework, id, clause) beside every finding.

Pure functions of an AuditRun (and the registry for rule metadata); deterministic ordering so
outputs diff cleanly between runs. Figures (scores, drift) come from `results`, never from here.
"""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

from provdc import __version__
from provdc.checks.registry import DEFAULT, CheckRegistry, requirements_of
from provdc.checks.results import AuditRun, Finding, Status

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SARIF_KIND = {Status.PASS: "pass", Status.FAIL: "fail", Status.ERROR: "review", Status.MANUAL: "review",
              Status.NOT_APPLICABLE: "notApplicable", Status.WAIVED: "fail",
              Status.NOT_ASSESSED: "open"}
SKIPPED = (Status.NOT_APPLICABLE, Status.WAIVED, Status.MANUAL, Status.NOT_ASSESSED)


def _subject(f: Finding) -> str:
    return f.subject


def requirement_labels(f: Finding) -> str:
    """'nd85_tcvn11930 SRV-03 (7.2.2.1 #3); ...': the requirements a finding serves."""
    return "; ".join(f"{r.framework} {r.id}" + (f" ({r.clause})" if r.clause else "") for r in f.requirements)


def to_junit(run: AuditRun) -> str:
    """One test suite per layer, one test case per finding (classname: host, system or inventory)."""
    root = ET.Element("testsuites", name=f"provdc audit {run.province}")
    for layer in sorted({f.layer for f in run.findings}):
        findings = [f for f in run.findings if f.layer == layer]
        suite = ET.SubElement(root, "testsuite", name=layer, tests=str(len(findings)),
                              failures=str(sum(f.status is Status.FAIL for f in findings)),
                              errors=str(sum(f.status is Status.ERROR for f in findings)),
                              skipped=str(sum(f.status in SKIPPED for f in findings)),
                              time=f"{sum(f.seconds for f in findings):.3f}")
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=_subject(f), name=f.check, time=f"{f.seconds:.4f}")
            detail = (f"requirements: {requirement_labels(f)}\nexpected: {f.expected}\nfound: {f.found}\n"
                      f"remediation: {f.remediation}")
            if f.status is Status.FAIL:
                ET.SubElement(case, "failure", message=f.found or f.title, type=f.severity).text = detail
            elif f.status is Status.ERROR:
                ET.SubElement(case, "error", message=f.found or "error").text = detail
            elif f.status in SKIPPED:
                reason = f"waived by {f.waiver.approver} until {f.waiver.expires}" if f.waiver else f.found
                ET.SubElement(case, "skipped", message=f"{f.status.value}: {reason}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def to_sarif(run: AuditRun, registry: CheckRegistry = DEFAULT) -> dict:
    """SARIF 2.1.0: rules carry the checks' metadata, results every finding but not-applicable."""
    used = sorted({f.check for f in run.findings})
    rules = []
    for check_id in used:
        c = registry[check_id] if check_id in registry else None
        rules.append({"id": check_id, "name": check_id,
                      "shortDescription": {"text": c.title if c else check_id},
                      "fullDescription": {"text": c.rationale if c else check_id},
                      "help": {"text": c.remediation if c else ""},
                      "properties": {"layer": c.layer, "fromLevel": c.level, "severity": c.severity,
                                     "requirements": requirements_of(c.id), "tags": [c.layer, *c.tags]}
                      if c else {}})
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in run.findings:
        if f.status is Status.NOT_APPLICABLE:
            continue
        kind = SARIF_KIND[f.status]
        result = {"ruleId": f.check, "ruleIndex": index[f.check], "kind": kind,
                  "level": SARIF_LEVEL[f.severity] if kind == "fail" else "none",
                  "message": {"text": f"{_subject(f)}: {f.found or f.title}" + (f" (expected {f.expected})" if f.expected else "")},
                  "locations": [{"logicalLocations": [{"name": _subject(f), "kind": "resource",
                                                       "fullyQualifiedName": f"{run.province}/{_subject(f)}"}]}],
                  "properties": {"status": f.status.value, "evidence": f.evidence, "seconds": f.seconds,
                                 "requirements": [r.model_dump() for r in f.requirements], "bar": f.bar}}
        if f.status is Status.WAIVED and f.waiver:
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification":
                                       f"{f.waiver.justification} (approved by {f.waiver.approver}, expires {f.waiver.expires})"}]
        results.append(result)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "provdc", "version": __version__, "informationUri": "https://provdc.invalid/docs",
                            "rules": rules}},
        "invocations": [{"executionSuccessful": not run.partial, "startTimeUtc": run.started.isoformat(),
                         "endTimeUtc": run.finished.isoformat()}],
        "results": results}]}


def to_csv(run: AuditRun) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["province", "host", "system", "layer", "check", "requirements", "severity", "status", "expected", "found",
                "remediation", "waiver_approver", "waiver_expires", "seconds"])
    for f in run.findings:
        w.writerow([run.province, f.host or "", f.system or "", f.layer, f.check, requirement_labels(f), f.severity,
                    f.status.value, f.expected, f.found, f.remediation, f.waiver.approver if f.waiver else "",
                    f.waiver.expires if f.waiver else "", f"{f.seconds:.4f}"])
    return out.getvalue()
