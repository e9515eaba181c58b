"""The results model: the requirement roll-up, scores per group, coverage, Directive 14 and
drift, each computed once and read by the CLI, the exporter and the reports alike."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import AuditRun, Finding, Status, drift, load_run, summarise
from provdc.cli import main
from provdc.exporters.collector import build_registry
from provdc.inventory import load_inventory
from provdc.reports.collect import read_security
from tests.conftest import LAB_INVENTORY

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def inv(tmp_path):
    """A copy of the lab inventory with its evidence attachment, so tests may change files."""
    shutil.copytree(LAB_INVENTORY, tmp_path / "lab")
    return load_inventory(tmp_path / "lab")


def host(check: str, host_id: str, status: Status, severity: str = "medium") -> Finding:
    return Finding(check=check, layer="host", severity=severity, status=status, host=host_id)


def governance(inv) -> list[Finding]:
    return run_audit(inv, Options(layers={"governance"}, today=TODAY)).findings


def result(summary, framework: str, requirement: str, system: str):
    return next(r for r in summary.requirements if (r.framework, r.id, r.system) == (framework, requirement, system))


def test_a_requirement_passes_only_when_every_mapped_check_passed_on_every_relevant_host(inv):
    ok = [host(c, h, Status.PASS) for c in ("password_complexity", "password_max_age") for h in ("portal-web1", "portal-web2", "db1")]
    s = summarise(inv, ok, TODAY)
    assert result(s, "nd85_tcvn11930", "SRV-03", "portal").status is Status.PASS
    one_bad = [f if (f.host, f.check) != ("db1", "password_max_age") else f.model_copy(update={"status": Status.FAIL}) for f in ok]
    r = result(summarise(inv, one_bad, TODAY), "nd85_tcvn11930", "SRV-03", "portal")
    assert r.status is Status.FAIL and r.failing == ["db1"]
    # mcdt shares db1: its requirement fails too, and the failing host is named
    assert result(summarise(inv, one_bad, TODAY), "nd85_tcvn11930", "SRV-03", "mcdt").failing == ["db1"]


def test_a_mapped_check_that_did_not_run_leaves_the_requirement_not_assessed(inv):
    only_one = [host("password_complexity", h, Status.PASS) for h in ("portal-web1", "portal-web2", "db1")]
    r = result(summarise(inv, only_one, TODAY), "nd85_tcvn11930", "SRV-03", "portal")
    assert r.status is Status.NOT_ASSESSED and "password_max_age" in r.detail


def test_errors_and_waivers_roll_up(inv):
    s = summarise(inv, [host("firewall_default_deny", "lgsp1", Status.ERROR), host("firewall_default_deny", "db2", Status.PASS)], TODAY)
    assert result(s, "nd331_tcvn14423", "SRV-07", "lgsp").status is Status.ERROR
    rules_ok = [host("firewall_sources_match_declared", h, Status.PASS) for h in ("lgsp1", "db2")]
    s = summarise(inv, [host("firewall_default_deny", "lgsp1", Status.WAIVED), host("firewall_default_deny", "db2", Status.PASS),
                        *rules_ok], TODAY)
    assert result(s, "nd331_tcvn14423", "SRV-07", "lgsp").status is Status.WAIVED


def test_a_requirement_no_check_sees_is_manual_or_not_assessed_never_pass(inv):
    s = summarise(inv, governance(inv), TODAY)
    manual = [r for r in s.requirements if not r.checks]
    assert manual and all(r.status is not Status.PASS for r in manual)
    assert result(s, "nd85_tcvn11930", "NET-17", "portal").status is Status.NOT_ASSESSED   # nothing recorded
    quy_che = result(s, "nd85_tcvn11930", "GOV-02", "portal")
    assert quy_che.status is Status.MANUAL and quy_che.evidence == ["quy-che-attt-2026"] and "QĐ 45/QĐ-UBND" in quy_che.detail


def test_evidence_older_than_its_interval_fails_under_the_framework_that_sets_one(inv):
    s = summarise(inv, governance(inv), TODAY)
    scan = result(s, "nd331_tcvn14423", "GOV-12", "lgsp")        # every 183 days at level 3 under Decree 331
    assert scan.status is Status.FAIL and "older than 183 days" in scan.detail


def test_a_changed_or_missing_attachment_is_caught(inv):
    attachment = inv.base / "evidence" / "quy-che-attt-2026.txt"
    attachment.write_text("altered after it was recorded\n", encoding="utf-8")
    changed = result(summarise(inv, [], TODAY), "nd85_tcvn11930", "GOV-02", "portal")
    assert changed.status is Status.FAIL and "changed since it was recorded" in changed.detail
    attachment.unlink()
    assert result(summarise(inv, [], TODAY), "nd85_tcvn11930", "GOV-02", "portal").status is Status.ERROR


def test_an_agency_that_owns_only_a_system_is_scored(inv):
    assert not any(s.owner == "ubnd-tinh" for s in inv.doc.servers)        # it owns systems, no server
    findings = [host("ssh_password_auth_disabled", "portal-web1", Status.FAIL, "high"), *governance(inv)]
    s = summarise(inv, findings, TODAY)
    pair = s.scores["agency"]["ubnd-tinh"]
    assert pair.with_waivers is not None and pair.with_waivers < 1


def test_coverage_counts_every_applicable_requirement_once_per_framework_and_level(inv):
    s = summarise(inv, governance(inv), TODAY)
    for c in s.coverage:
        assert c.requirements == c.automated + c.evidence + c.manual
    nd331_l3 = next(c for c in s.coverage if (c.framework, c.level) == ("nd331_tcvn14423", 3))
    assert nd331_l3.systems == 1 and nd331_l3.requirements >= 80


def test_directive_14_layers_are_read_from_the_d14_findings(inv):
    s = summarise(inv, governance(inv), TODAY)
    d14 = {d.system: d for d in s.d14}
    assert d14["portal"].soc[0] == "ok" and d14["email"].onsite[0] == "missing"
    assert d14["mcdt"].assessment[0] == "expired"


def _write(dirpath, stamp: str, run: AuditRun):
    path = dirpath / f"audit-{stamp}.json"
    path.write_text(run.to_json(), encoding="utf-8")
    return path


def test_cli_diff_report_drift_and_exporter_agree_on_the_same_two_runs(inv, tmp_path):
    base = governance(inv)
    before = [host("ssh_password_auth_disabled", "db1", Status.FAIL, "high"), host("auditd_running", "db2", Status.PASS), *base]
    after = [host("ssh_password_auth_disabled", "db1", Status.PASS, "high"), host("auditd_running", "db2", Status.FAIL), *base]
    # the same governance check failing for two systems must never be matched across them
    after = [f.model_copy(update={"status": Status.FAIL, "found": "changed"}) if (f.check, f.system) == ("d14_onsite_team", "portal")
             else f for f in after]
    runs = tmp_path / "audits"
    runs.mkdir()
    old = AuditRun(province="lab", started=NOW, finished=NOW, findings=before, **dict(summarise(inv, before, TODAY)))
    new = AuditRun(province="lab", started=NOW, finished=NOW, findings=after, **dict(summarise(inv, after, TODAY)))
    old_path, new_path = _write(runs, "20261201T000000Z", old), _write(runs, "20261202T000000Z", new)
    expected = drift(load_run(old_path), load_run(new_path)).counts()
    assert expected == {"new_failures": 2, "fixed": 1, "changed": 0}

    cli = CliRunner().invoke(main, ["audit", "diff", str(old_path), str(new_path), "--json"])
    import json
    data = json.loads(cli.output)
    assert {k: len(v) for k, v in data.items()} == expected

    report = read_security(runs, TODAY).drift
    assert report.counts() == expected

    reg = build_registry(inv, runs)
    assert {k: reg.get_sample_value("provdc_audit_drift_findings", {"kind": k}) for k in expected} == \
        {k: float(v) for k, v in expected.items()}
    # and the agency scores the CLI prints are the exporter's
    pair = new.scores["agency"]["ubnd-tinh"]
    assert reg.get_sample_value("provdc_audit_group_score_ratio", {"kind": "agency", "group": "ubnd-tinh", "waivers": "counted"}) \
        == pair.with_waivers


def test_an_audit_run_records_where_it_ran_and_which_version_judged(lab_inventory):
    import socket

    from provdc import __version__
    from provdc.checks.engine import vantage_of
    from provdc.checks.results import AuditRun

    v = vantage_of(lab_inventory)
    assert v.host == socket.gethostname() and v.tool == f"provdc {__version__}"
    assert v.address is None                      # the lab example declares no controller address
    declared = lab_inventory.doc.model_copy(update={"lab": lab_inventory.doc.lab.model_copy(update={"controller": "10.99.10.5"})})
    assert vantage_of(type(lab_inventory)(declared, lab_inventory.base, lab_inventory.files)).address == "10.99.10.5"
    now = datetime.now(timezone.utc)
    run = AuditRun(province="p", started=now, finished=now, vantage=v)
    assert AuditRun.model_validate_json(run.to_json()).vantage == v          # kept in the file
    assert AuditRun(province="p", started=now, finished=now).vantage is None  # an older run does not say
