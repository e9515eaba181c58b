"""Rendering: every inventory string escaped, each language's conventions, all formats, roll-up."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import AuditRun, Finding, Status, WaiverRecord, summarise
from provdc.inventory import load_inventory
from provdc.reports import collect, render
from provdc.reports.i18n import Locale, catalog
from tests.conftest import LAB_INVENTORY
from tests.unit.reports.conftest import PERIOD, RECORDED, served

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def hostile_inventory(tmp_path_factory):
    """The lab inventory with a system named like an injection attempt (read only: one per module)."""
    root = tmp_path_factory.mktemp("hostile-inventory")
    for f in LAB_INVENTORY.glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        if f.name == "systems.yaml":
            text = text.replace("name: Hệ thống thư điện tử công vụ", 'name: "<script>alert(1)</script> & thư"')
        (root / f.name).write_text(text, encoding="utf-8")
    return load_inventory(root)


def _run(inv, findings: list[Finding]) -> AuditRun:
    """A run as the engine makes it: the real governance checks of `inv` plus `findings`,
    summarised by the results model (scores, roll-up, Directive 14)."""
    governance = run_audit(inv, Options(layers={"governance"}, today=NOW.date())).findings
    everything = sorted([*findings, *governance], key=lambda f: (f.host or "", f.system or "", f.layer, f.check))
    return AuditRun(province="lab", started=NOW, finished=NOW, findings=everything,
                    waivers=[WaiverRecord(check="tls_protocols_modern", scope="host:mail1", approver="CIO",
                                          expires=datetime(2026, 12, 2).date())],
                    **dict(summarise(inv, everything, NOW.date())))


@pytest.fixture(scope="module")
def audit_runs(hostile_inventory) -> dict[str, str]:
    """The two stored runs (file name: JSON), judged once per module: tests get their own copies."""
    fail = Finding(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.FAIL, host="db2",
                   found="PasswordAuthentication yes", remediation="provision --tags sshd")
    waived = Finding(check="tls_protocols_modern", layer="application", severity="critical", status=Status.WAIVED, host="mail1")
    run = _run(hostile_inventory, [fail, waived])
    earlier = _run(hostile_inventory, [fail.model_copy(update={"status": Status.PASS})])
    return {"audit-20261101T000000Z.json": earlier.to_json(), "audit-20261122T080000Z.json": run.to_json()}


def write_audits(directory, runs: dict[str, str]):
    directory.mkdir()
    for name, text in runs.items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def audit_dir(tmp_path, audit_runs):
    """The stored runs in the test's own directory (a test may rewrite them)."""
    return write_audits(tmp_path / "audits", audit_runs)


@pytest.fixture(scope="module")
def report(hostile_inventory, audit_runs, tmp_path_factory):
    """The report of PERIOD, collected once per module from its own copy of the runs (tests read
    it, never change it: dataclasses.replace makes their variants)."""
    with served(RECORDED) as prometheus:
        audits = write_audits(tmp_path_factory.mktemp("report") / "audits", audit_runs)
        return collect.collect(hostile_inventory, prometheus, PERIOD, audits, step=60, now=NOW)


def test_html_escapes_every_inventory_string(report):
    html = render.render_html([report], "vi")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; thư" in html
    assert "<svg" in html and "data-state=\"down\"" in html  # the charts are inline SVG


def test_vietnamese_and_english_conventions(report):
    vi = render.render_html([report], "vi")
    en = render.render_html([report], "en")
    assert "Báo cáo tuân thủ hằng tháng" in vi and "Monthly compliance report" in en
    assert "90,000%" in vi and "90.000%" in en               # mcdt availability, decimal comma in Vietnamese
    assert "22/11/2026" in vi and "2026-11-22" in en
    assert "Thông tư 06/2026/TT-BKHCN" in vi and "Circular 06/2026/TT-BKHCN" in en


def test_security_section_scores_waivers_drift_and_d14(report):
    html = render.render_html([report], "en")
    assert "ssh_password_auth_disabled" in html and "provision --tags sshd" in html
    assert "SRV-01 7.2.2.1 #1" in html                                 # the requirement beside the failed check
    # drift as tables, not a paragraph of identifiers: db2's check passed in the previous run
    new = html.split("<h4>New failures (1)</h4>", 1)[1].split("</table>", 1)[0]
    assert "ssh_password_auth_disabled" in new and "<td>db2</td>" in new
    sec = report.security
    assert [f.key for f in sec.drift.new_failures] == [("ssh_password_auth_disabled", "db2", None)]
    assert sec.waivers == [("tls_protocols_modern", "host:mail1", "CIO", datetime(2026, 12, 2).date(), 10)]
    d14 = {d.system: d for d in report.d14}
    assert d14["qlvb"].soc[0] == "not_required"                  # level 2: no SOC duty (its contract ended 30/06/2026)
    assert d14["mcdt"].assessment[0] == "expired"                # 20/04/2025: more than a year before
    assert d14["portal"].assessment[0] == "ok" and d14["portal"].national[0] == "ok"
    assert d14["email"].onsite[0] == "missing" and d14["email"].assessment[0] == "not_required"  # level 2


def test_markdown_json_and_csv(report, tmp_path):
    md = render.render_markdown([report], "en")
    assert "| Link | Direction |" in md and "<script>" not in md
    data = json.loads(render.to_json([report]))
    mcdt = next(s for s in data["provinces"][0]["systems"] if s["id"] == "mcdt")
    assert mcdt["result"]["availability"] == pytest.approx(0.6)   # see test_collect_recorded: the JSON carries the same figure
    tables = render.to_csv([report])
    rows = list(csv.DictReader(io.StringIO(tables["uptime.csv"])))
    assert {r["system"] for r in rows} >= {"portal", "mcdt"}
    bw = list(csv.DictReader(io.StringIO(tables["bandwidth.csv"])))
    assert next(r for r in bw if r["link"] == "wan-xa-dong-son" and r["direction"] == "a_to_b")["p95_bps"] == "2e+06"
    written = render.write([report], "csv", "en", tmp_path / "out")
    assert sorted(p.name.split("-en-")[-1] for p in written) == ["bandwidth.csv", "security.csv", "uptime.csv"]


def test_rollup_of_several_provinces_has_a_summary(report):
    other = collect.ProvinceReport(**{**report.__dict__, "province": "lab2", "name": "Tỉnh Thứ Hai"})
    html = render.render_html([report, other], "vi")
    assert "Các tỉnh trong báo cáo" in html and html.count('class="province"') == 2
    assert "Tỉnh Thứ Hai" in html


def test_catalogues_have_the_same_keys():
    assert set(catalog("vi")) == set(catalog("en"))
    assert all(isinstance(k, str) for k in catalog("vi"))  # an unquoted yes: would become True


def test_number_formats():
    assert Locale("vi").percent(0.9995) == "99,95%" and Locale("en").percent(0.9995) == "99.95%"
    assert Locale("vi").number(1234567.891) == "1.234.567,89"
    assert Locale("vi").rate(2_000_000) == "2,00 Mbps"


def test_the_vietnamese_report_prints_no_english_check_text(report):
    from provdc.checks.engine import DEFAULT

    vi = render.render_html([report], "vi")
    shown = {f.check for f in report.security.failed}
    assert shown  # failed checks are printed with title and remediation
    for check_id in shown:
        c = DEFAULT[check_id]
        assert c.title not in vi and c.remediation not in vi, check_id
    en = render.render_html([report], "en")
    assert any(DEFAULT[c].title in en for c in shown)


def test_the_report_lists_requirements_not_assessed_and_coverage(report):
    vi = render.render_html([report], "vi")
    assert "Yêu cầu chưa được đánh giá" in vi and "NET-17" in vi
    assert "Mức độ bao phủ yêu cầu" in vi and "Nghị định 331/2026/NĐ-CP và TCVN 14423:2026" in vi


def test_the_monthly_report_is_headed_and_signed_from_the_inventory(report):
    vi = render.render_html([report], "vi")
    assert report.paperwork is not None and report.paperwork.unit == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    for needed in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
                   "……/BC-SKHCN", "Nơi nhận:", "NGƯỜI PHÊ DUYỆT", "Giám đốc Sở Khoa học và Công nghệ", "(UTC+7)"):
        assert needed in vi, needed


def test_the_summary_names_what_a_director_must_act_on(report):
    from provdc.reports.i18n import Locale

    view = render.province_view(report, Locale("vi"))
    below = [s.name for s in report.systems if s.met is False]
    assert below and view["summary"]["below"] == f"Dưới mục tiêu: {', '.join(below)}"
    t = report.security.run.transition
    assert view["summary"]["deadline"].startswith(f"{len(t)} hệ thống phải đáp ứng Nghị định 331/2026 trước ngày 01/07/2027")
    critical = sum(1 for f in report.security.failed if f.severity == "critical")
    assert view["summary"]["critical"] == (f"{critical} lỗi nghiêm trọng (critical) chưa khắc phục" if critical else "")
    breaking = [link.id for link in report.links if link.measured and any(d.compliant is False for d in link.directions)]
    assert view["summary"]["breaking"] == (f"Vượt quy định 7 ngày (Thông tư 06/2026): {', '.join(breaking)}" if breaking else "")


def test_provdc_report_and_the_console_share_reports_publish(hostile_inventory, prometheus, audit_dir, tmp_path,
                                                             monkeypatch):
    """`provdc report` is reports.publish.write: the console's "render this period now" runs the same."""
    from click.testing import CliRunner

    from provdc.cli import main
    from provdc.reports import publish as monthly

    seen = []
    real = monthly.write
    monkeypatch.setattr(monthly, "write", lambda *a, **k: seen.append(a) or real(*a, **k))
    start, end = PERIOD.start.isoformat(), PERIOD.end.isoformat()
    result = CliRunner().invoke(main, ["report", str(hostile_inventory.base), "--prometheus", prometheus, "--from", start,
                                       "--to", end, "--audit", str(audit_dir), "--lang", "en", "--step", "60",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0][0][0][1] == prometheus
    written = [p.name for p in (tmp_path / "out").iterdir()]
    assert len(written) == 1 and written[0].endswith("-en.html")


def test_utilisation_chart_keeps_each_pixel_columns_extremes():
    """A month of 5-minute samples on a 640-pixel chart: at most four points per pixel column
    (first, lowest, highest, last, in time order), so the peak and the trough are still drawn."""
    from provdc.reports import charts

    start = 1_790_787_600.0
    pts = [(start + 300 * (i + 1), 0.5 + 0.01 * (i % 7)) for i in range(8928)]
    pts[4000] = (pts[4000][0], 1.2)                                 # one burst
    pts[6000] = (pts[6000][0], 0.01)                                # one trough
    per_second = 610 / (8928 * 300)
    kept = charts.thin(pts, start, per_second)
    assert kept[0] == pts[0] and kept[-1] == pts[-1] and pts[4000] in kept and pts[6000] in kept
    assert kept == sorted(kept) and len(kept) <= 4 * 611
    for col in {int((t - start) * per_second) for t, _ in pts}:
        mine = [p for p in pts if int((p[0] - start) * per_second) == col]
        shown = [p for p in kept if int((p[0] - start) * per_second) == col]
        assert min(v for _, v in shown) == min(v for _, v in mine) and max(v for _, v in shown) == max(v for _, v in mine)
    svg = charts.utilisation({"a_to_b": pts}, start, start + 8928 * 300, "l1", {})
    assert svg.count(",") - 0 <= 4 * 611 + 10                      # the polyline's points, not 8,928
    assert charts.thin(pts[:3], start, per_second) == pts[:3]
