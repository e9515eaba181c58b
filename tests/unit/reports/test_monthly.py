"""The monthly report grown up: trend against the previous month (the same functions for both
periods), failed findings grouped by requirement with owner agency and due date (the declared
rule), the per-agency breakdown (the run's own agency scores), the .docx from the document
model, and a Vietnamese version without English leftovers."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest

from provdc.checks.results import AppliedWaiver, Finding, RequirementRef, Status
from provdc.reports import monthly, paperwork, render
from provdc.reports.compute import VN
from provdc.reports.documents import to_docx
from provdc.reports.i18n import Locale
from tests.unit.reports.test_paperwork import docx_content
from tests.unit.reports.test_render import (NOW, audit_dir, audit_runs, hostile_inventory,  # noqa: F401 - fixtures
                                         report, write_audits)


def _f(**kw) -> Finding:
    base = dict(check="ssh_password_auth_disabled", layer="host", severity="high", status=Status.FAIL, host="db2")
    return Finding(**{**base, **kw})


# ------------------------------------------------------------------------------- pure logic

def test_previous_month_crosses_the_year():
    assert monthly.previous_month(datetime(2026, 1, 1, tzinfo=VN)) == (2025, 12)
    assert monthly.previous_month(datetime(2026, 11, 14, 21, 55, tzinfo=VN)) == (2026, 10)


def test_due_date_rule_severity_waiver_and_transition():
    found = date(2026, 11, 22)
    assert monthly.due_date(_f(severity="critical"), found, {}) == (date(2026, 11, 29), "severity")
    assert monthly.due_date(_f(severity="low"), found, {}) == (date(2027, 5, 21), "severity")
    expired = _f(waiver=AppliedWaiver(approver="CIO", expires=date(2026, 11, 1), justification="x"))
    assert monthly.due_date(expired, found, {}) == (date(2026, 11, 1), "waiver")
    system = _f(host=None, system="mcdt", severity="info")
    assert monthly.due_date(system, found, {"mcdt": date(2027, 7, 1)}) == (date(2027, 7, 1), "transition")


def test_findings_are_grouped_by_each_requirement_with_their_owner(report):
    run = report.security.run
    two = _f(requirements=[RequirementRef(framework="nd85_tcvn11930", id="SRV-01"),
                           RequirementRef(framework="nd85_tcvn11930", id="SRV-02")])
    none = _f(check="x_unmapped", host="db1")
    fake = run.model_copy(update={"findings": [two, none]})
    groups = monthly.by_requirement(fake, {"so-khcn": ["db2"]})
    assert list(groups) == ["nd85_tcvn11930:SRV-01", "nd85_tcvn11930:SRV-02", monthly.NO_REQUIREMENT]
    assert groups["nd85_tcvn11930:SRV-01"][0].owner == "so-khcn" and groups[monthly.NO_REQUIREMENT][0].owner is None
    # the real run: every failed finding appears, under each of its requirements
    real = monthly.by_requirement(run, report.agency_members)
    listed = {(i.finding.key) for items in real.values() for i in items}
    assert listed == {f.key for f in run.failed()}


def test_trend_reads_both_periods_and_tolerates_no_previous(report):
    rows = monthly.trend(report, None)
    assert all(r.previous is None and r.delta is None for r in rows)
    older = dataclasses.replace(report, systems=[dataclasses.replace(s, result=dataclasses.replace(s.result, availability=0.5))
                                                 for s in report.systems])
    rows = {(r.kind, r.subject): r for r in monthly.trend(report, older)}
    for s in report.systems:
        row = rows[("availability", s.id)]
        assert row.current == s.result.availability and row.previous == 0.5
    assert rows[("score", "all")].current == report.security.run.score("all", "all", True)


def test_agency_breakdown_uses_the_runs_agency_scores(report):
    run = report.security.run
    rows = monthly.agency_breakdown(report, report.agency_members)
    assert {r.agency for r in rows} == set(report.agency_members)
    for r in rows:
        assert r.score == run.group_scores("agency").get(r.agency)
    assert sum(r.failures for r in rows) <= len(run.failed())


# ------------------------------------------------------------------------------- rendering

@pytest.fixture(scope="module")
def with_previous(hostile_inventory, audit_runs, tmp_path_factory):  # noqa: F811
    """The report of PERIOD with its previous month, collected once per module (tests only read it)."""
    from provdc.checks.results import load_run
    from provdc.reports import collect
    from tests.unit.reports.conftest import PERIOD, RECORDED, served

    audits = write_audits(tmp_path_factory.mktemp("with-previous") / "audits", audit_runs)
    earlier = audits / "audit-20261101T000000Z.json"   # the run before: finished in October
    when = datetime(2026, 10, 31, 9, 0, tzinfo=VN)
    earlier.write_text(load_run(earlier).model_copy(update={"started": when, "finished": when}).to_json())
    with served(RECORDED) as prometheus:
        return collect.collect(hostile_inventory, prometheus, PERIOD, audits, step=60, now=NOW, previous=True)


def test_previous_month_is_collected_by_the_same_functions(with_previous):
    prev = with_previous.previous
    assert prev is not None and prev.period.start == datetime(2026, 10, 1, tzinfo=VN)
    # runs finished before the period (14/11): only the 01/11 run
    assert prev.security.run.finished < with_previous.period.start


def test_the_monthly_docx_opens_with_headings_and_the_models_figures(with_previous, tmp_path):
    r = with_previous
    doc = paperwork.monthly(r, "vi")
    text, tables = docx_content(to_docx(doc), tmp_path)
    loc = Locale("vi")
    for heading in ("Phạm vi và phương pháp", "So sánh với tháng trước", "Kết quả không đạt theo yêu cầu",
                    "Theo từng cơ quan chủ quản", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "(UTC+7)"):
        assert heading in text, heading
    systems = doc.table("systems")
    for s, row in zip(r.systems, systems.rows):
        assert row[0] == s.name and row[3] == loc.percent(s.result.availability, 3)
        assert doc.figures[f"availability_{s.id}"] == row[3]
    trend = {(row[0], row[1]): row for row in doc.table("trend").rows}
    for s, p in zip(r.systems, r.previous.systems):
        assert trend[("Mức sẵn sàng", s.id)][2:4] == (loc.percent(s.result.availability, 3), loc.percent(p.result.availability, 3))
    score = trend[("Điểm đánh giá", "Điểm (tính miễn trừ)")]
    assert score[2:4] == (loc.percent(r.security.run.score("all", "all"), 1), loc.percent(r.previous.security.run.score("all", "all"), 1))
    agencies = doc.table("agencies")
    names = r.agency_names
    for a in monthly.agency_breakdown(r, r.agency_members):
        row = next(x for x in agencies.rows if x[0] == names.get(a.agency, a.agency))
        assert row[3] == (loc.percent(a.score.with_waivers, 1) if a.score else "—") and row[5] == str(a.failures)
    # every time printed with its zone
    assert all("(UTC+7)" in t for t in re.findall(r"\d\d:\d\d:\d\d \d\d/\d\d/\d{4}[^\n|]*", text))
    written = render.write([r], "docx", "vi", tmp_path / "out")
    assert [p.suffix for p in written] == [".docx"]


# --------------------------------------------------------------------- no English leftovers

class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        if data.strip():
            self.parts.append(data.strip())


def _html_text(html: str) -> str:
    body = re.sub(r"<(style|svg|title)\b.*?</\1>", " ", html, flags=re.S)
    p = _Text()
    p.feed(body)
    return "\n".join(p.parts)


WORD = re.compile(r"[^\W\d_]{3,}")
ROMAN = re.compile(r"[ivxl]+")             # sections of a circular (§II.1.b.xviii) are cited as numbered
IDENTIFIER = re.compile(r"\S*[_./@:]\S*|\b[A-Z][A-Za-z]*[A-Z]+\w*")   # sshd_config, security.txt, SPF, DDoS
ALLOWED = {"provdc", "provision", "tags", "sshd", "Prometheus", "http", "nmap", "Mbps", "Gbps", "kbps", "bps", "critical",
           "Internet"}


def _identifiers(r) -> set[str]:
    """Words an identifier or evidence string of the inventory and the run may contain: the
    run's own findings (check ids, subjects, found/expected evidence) and requirement ids."""
    words: set[str] = set()
    run = r.security.run
    for f in run.findings:
        for text in (f.check, f.subject, f.found, f.expected, f.system or "", *(x.id for x in f.requirements)):
            words |= set(WORD.findall(text))
    for x in run.requirements:   # a citation's own words (TCVN, TT-BKHCN) stay; the catalogue's English around it may not
        words |= set(WORD.findall(f"{x.id} {x.system} {x.framework}"))
    for w in run.waivers:
        words |= set(WORD.findall(f"{w.check} {w.scope} {w.approver}"))
    for s in r.systems:
        words |= set(WORD.findall(" ".join([s.id, s.name, *(t.instance + " " + t.job + " " + t.server for t in s.targets)])))
    for link in r.links:
        words |= set(WORD.findall(f"{link.id} {link.kind} {link.provider}"))
    words |= set(WORD.findall(str(r.paperwork.model_dump())))   # heading, recipients, signers: inventory strings
    words |= {w for a in (*r.agency_names, *r.agency_names.values(), *r.agency_members) for w in WORD.findall(a)}
    return words


def _leftovers(vi: str, en: str, allowed: set[str]) -> set[str]:
    """English words of the English rendering that the Vietnamese one prints too."""
    statuses = {s.value for s in Status}     # all capitals, but words a reader must be able to read

    def words(text: str) -> set[str]:
        kept = IDENTIFIER.sub(lambda m: m.group(0) if m.group(0) in statuses else " ", text)
        return {w for w in WORD.findall(kept) if w.isascii() and not ROMAN.fullmatch(w)}

    return (words(vi) & words(en)) - allowed


def test_the_vietnamese_monthly_report_has_no_english_leftovers(with_previous, tmp_path):
    r = with_previous
    allowed = ALLOWED | _identifiers(r)
    html = {lang: _html_text(render.render_html([r], lang)) for lang in ("vi", "en")}
    docx = {lang: docx_content(to_docx(paperwork.monthly(r, lang)), tmp_path)[0] for lang in ("vi", "en")}
    assert not _leftovers(html["vi"], html["en"], allowed)
    assert not _leftovers(docx["vi"], docx["en"], allowed)
    # and the check works: an untranslated label would be caught
    assert _leftovers(html["vi"] + "\nPer owner agency", html["en"], allowed) == {"Per", "owner", "agency"}
    assert "FAIL" not in html["vi"].split()


def test_the_cli_writes_the_monthly_docx(hostile_inventory, prometheus, audit_dir, tmp_path):  # noqa: F811
    from click.testing import CliRunner

    from provdc.cli import main
    from tests.unit.reports.conftest import PERIOD

    result = CliRunner().invoke(main, ["report", str(hostile_inventory.base), "--prometheus", prometheus,
                                       "--from", PERIOD.start.isoformat(), "--to", PERIOD.end.isoformat(), "--step", "60",
                                       "--audit", str(audit_dir), "--format", "docx", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = list((tmp_path / "out").glob("*.docx"))
    assert len(written) == 1 and "So sánh với tháng trước" in docx_content(written[0].read_bytes(), tmp_path)[0]


def test_the_scope_block_reads_the_runs_coverage_and_the_html_prints_due_dates(with_previous):
    from provdc import __version__

    r = with_previous
    view = render.province_view(r, Locale("en"))["monthly"]
    scope = dict(view["scope"])
    cov = r.security.run.coverage
    assert f"{sum(c.not_assessed for c in cov)} not assessed" in scope["Requirements not assessed, manual"]
    assert scope["Tool version"] == f"provdc {__version__}" and r.source in scope["Monitoring data"]
    html = render.render_html([r], "vi")
    groups = monthly.by_requirement(r.security.run, r.agency_members)
    first = next(iter(groups.values()))[0]
    assert Locale("vi").date_of(first.due) in html and "Hạn khắc phục tính từ ngày đánh giá: nghiêm trọng 7 ngày" in html


def test_the_vantage_point_and_version_are_the_runs_own_when_it_recorded_them(with_previous):
    from dataclasses import replace

    from provdc.checks.results import Vantage

    r = with_previous
    run = r.security.run.model_copy(update={"vantage": Vantage(host="may-kiem-tra", address="10.99.0.1", tool="provdc 0.0.9")})
    recorded = replace(r, security=replace(r.security, run=run))
    scope = dict(render.province_view(recorded, Locale("en"))["monthly"]["scope"])
    assert scope["Audit vantage point"].startswith("may-kiem-tra (10.99.0.1), as the audit run recorded it")
    assert scope["Tool version"].endswith("; the audit was judged by provdc 0.0.9")
    vi = dict(render.province_view(recorded, Locale("vi"))["monthly"]["scope"])
    assert "may-kiem-tra (10.99.0.1), theo ghi nhận của lần đánh giá" in vi["Điểm thực hiện đánh giá"]


def test_markdown_carries_the_same_sections(with_previous):
    md = render.render_markdown([with_previous], "vi")
    for heading in ("### Phạm vi và phương pháp", "### So sánh với tháng trước", "### Kết quả không đạt theo yêu cầu",
                    "### Theo từng cơ quan chủ quản"):
        assert heading in md, heading
