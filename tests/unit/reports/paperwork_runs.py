"""Two audit runs of the lab example, made offline: the governance layer as it really runs
(no lab needed), plus synthetic host findings for SRV-02 that are failing in the first run and
partly fixed in the second, summarised by the results model itself."""

from __future__ import annotations

from datetime import date, datetime, timezone

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import AuditRun, Finding, RequirementRef, Status, summarise

HOSTS = ("portal-web1", "portal-web2", "db1", "mcdt-app1", "docs-app1", "db2", "mail1", "lgsp1", "mon1", "backup1")


def _host_findings(fixed: set[str]) -> list[Finding]:
    out = []
    for host in HOSTS:
        for check in ("accounts_only_root_uid0", "ssh_root_login_restricted"):
            failing = check == "ssh_root_login_restricted" and host in ("portal-web1", "db1") and host not in fixed
            out.append(Finding(check=check, layer="host", severity="high", status=Status.FAIL if failing else Status.PASS,
                               host=host, title=check, expected="PermitRootLogin no" if "ssh" in check else "only root",
                               found="PermitRootLogin yes" if failing else "ok",
                               requirements=[RequirementRef(framework="nd85_tcvn11930", id="SRV-02")]))
    return out


def make_run(inv, finished: datetime, fixed: set[str]) -> AuditRun:
    today = finished.date()
    base = run_audit(inv, Options(layers={"governance"}, today=today))
    findings = [*base.findings, *_host_findings(fixed)]
    summary = summarise(inv, findings, today)
    return AuditRun(province=inv.province.id, started=finished, finished=finished, findings=findings,
                    waivers=base.waivers, **dict(summary))


def two_runs(inv, year: int = 2026) -> list[AuditRun]:
    return [make_run(inv, datetime(year, 3, 2, 3, 0, tzinfo=timezone.utc), set()),
            make_run(inv, datetime(year, 11, 20, 3, 0, tzinfo=timezone.utc), {"portal-web1"})]


def write_runs(runs: list[AuditRun], directory) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for r in runs:
        (directory / f"audit-{r.finished:%Y%m%dT%H%M%SZ}.json").write_text(r.to_json(), encoding="utf-8")


TODAY = date(2026, 12, 2)
