"""The level dossier, the yearly report and the bandwidth registration: every figure a document
prints equals the results model's (or compute's), every requirement that applies is covered,
the statutory dates are stated, the .docx opens with python-docx, the province's template and
heading come from the inventory with located errors, and HTML escapes inventory strings."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document as Docx

from provdc.checks.results import drift
from provdc.errors import InventoryError
from provdc.inventory import load_inventory
from provdc.inventory.catalogue import load_catalogue
from provdc.reports import documents, paperwork, topology
from provdc.reports.compute import VN, Period, direction_load
from provdc.reports.documents import tr
from provdc.reports.i18n import Locale

sys.path.insert(0, str(Path(__file__).parent))
from paperwork_runs import TODAY, two_runs  # noqa: E402

LAB = Path(__file__).resolve().parents[3] / "inventory" / "examples" / "lab"


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def runs(inv):
    return two_runs(inv)


@pytest.fixture(scope="module")
def png(inv):
    return topology.render(topology.source(inv, system="portal"), "png")


def docx_content(data: bytes, tmp_path: Path) -> tuple[str, list[list[list[str]]]]:
    """All paragraph text and every table (rows of cell texts) of a .docx, as Word stores it."""
    path = tmp_path / "doc.docx"
    path.write_bytes(data)
    d = Docx(str(path))
    text = "\n".join(p.text for p in d.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    cells = "\n".join(c for t in tables for row in t for c in row)
    return text + "\n" + cells, tables


def _status(lang, s):
    return tr(lang, f"status_{s.value}")


# ------------------------------------------------------------------------------------ dossier

@pytest.mark.parametrize("system", ["portal", "lgsp"])
def test_the_dossier_covers_every_requirement_with_the_runs_status(inv, runs, png, system):
    cat = load_catalogue()
    sys_obj = next(s for s in inv.doc.systems if s.id == system)
    doc = paperwork.dossier(inv, system, runs[-1], "vi", TODAY, cat, png)
    plan = doc.table("plan")
    applicable = [r.id for r in cat.framework(sys_obj.framework.value).applicable(sys_obj.level)]
    assert [row[0] for row in plan.rows] == applicable and len(applicable) > 50
    results = {r.id: r for r in runs[-1].requirements if r.system == system}
    for row in plan.rows:
        assert row[4] == _status("vi", results[row[0]].status), row
    counts = Counter(r.status.value for r in results.values())
    assert {k: int(v) for k, v in doc.figures.items() if k.startswith("status_")} == {f"status_{k}": v for k, v in counts.items()}
    assert doc.figures["requirements"] == str(len(applicable))


def test_the_dossier_flags_what_the_inventory_does_not_know(inv, runs, png):
    doc = paperwork.dossier(inv, "mcdt", runs[-1], "vi", TODAY, load_catalogue(), png)
    flags = "\n".join(doc.flags())
    assert "systems[].approval" in flags          # mcdt has no approval decision recorded
    assert "số người dùng" in flags               # user counts are a level criterion the inventory lacks
    assert ("Quyết định phê duyệt cấp độ", tr("vi", "unknown")) in doc.table("general").rows


def test_the_dossier_docx_prints_the_model(inv, runs, png, tmp_path):
    doc = paperwork.dossier(inv, "portal", runs[-1], "vi", TODAY, load_catalogue(), png)
    text, tables = docx_content(documents.to_docx(doc), tmp_path)
    for needed in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
                   "HỒ SƠ ĐỀ XUẤT CẤP ĐỘ AN TOÀN HỆ THỐNG THÔNG TIN", "6. Phương án bảo đảm an toàn thông tin theo yêu cầu",
                   "Thí Nghiệm, ngày 02 tháng 12 năm 2026", "……/HSĐX-SKHCN", "Nơi nhận:", "Giám đốc Sở Khoa học và Công nghệ"):
        assert needed in text, needed
    plan = doc.table("plan")
    word_plan = next(t for t in tables if t[0] == list(plan.columns))
    assert [tuple(r) for r in word_plan[1:]] == plan.rows


def test_the_topology_names_the_systems_servers_and_links(inv):
    source = topology.source(inv, system="portal")
    for node in ("server__portal-web1", "server__db1", "device__wan-rtr", "link-wan-xa-dong-son", "2 Mbps"):
        assert node in source
    assert "server__mail1" not in source              # not a server of the portal
    assert topology.SYSTEM_FILL in source and "state-" not in source    # a document: highlighted, not live-coloured
    assert topology.render(topology.source(inv), "svg").lstrip().startswith(b"<?xml")
    with pytest.raises(topology.DiagramError, match="no system"):
        topology.source(inv, system="nope")


# ------------------------------------------------------------------------------------- yearly

def test_the_yearly_report_states_the_statutory_window_and_deadlines(inv, runs, tmp_path):
    doc = paperwork.yearly(inv, runs, 2026, "vi", TODAY, load_catalogue())
    text, _ = docx_content(documents.to_docx(doc), tmp_path)
    assert "Số liệu tính từ ngày 15/12/2025 đến ngày 14/12/2026" in text
    assert "trước ngày 20/12/2026" in text and "Bộ Công an trước ngày 25/12/2026" in text
    assert "Mẫu số 08" in text and "BÁO CÁO TÌNH HÌNH BẢO ĐẢM AN TOÀN HỆ THỐNG THÔNG TIN NĂM 2026" in text


def test_a_run_outside_the_window_is_not_reported(inv, runs):
    assert paperwork.runs_in_window(runs, 2026) == runs
    late = runs[0].model_copy(update={"finished": datetime(2026, 12, 14, 17, 30, tzinfo=VN)})
    after = runs[0].model_copy(update={"finished": datetime(2026, 12, 15, 0, 30, tzinfo=VN)})
    assert paperwork.runs_in_window([late, after], 2026) == [late]
    assert paperwork.runs_in_window([after], 2027) == [after]


def test_every_yearly_figure_is_the_results_models(inv, runs):
    doc = paperwork.yearly(inv, runs, 2026, "en", TODAY, load_catalogue())
    newest = runs[-1]
    assert [row[0] for row in doc.table("systems").rows] == [s.id for s in inv.doc.systems]
    order = paperwork.STATUS_ORDER
    for row in doc.table("rollup").rows:
        counts = Counter(r.status for r in newest.requirements if r.system == row[0])
        assert row[1] == str(sum(counts.values()))
        assert list(row[2:]) == [str(counts[s]) for s in order], row
    assert len(doc.table("requirements").rows) == len(newest.requirements)
    loc = Locale("en")
    for row, run in zip(doc.table("runs").rows, runs):
        assert row[2] == str(len(run.failed()))
        assert row[3] == loc.percent(run.score("all", "all", True), 1)
        assert row[4] == loc.percent(run.score("all", "all", False), 1)
    d = drift(runs[0], runs[-1])
    assert doc.figures["fixed"] == str(len(d.fixed)) == "1"        # portal-web1's root login
    assert doc.figures["new_failures"] == str(len(d.new_failures))
    assert doc.figures["open"] == str(len(newest.failed()))
    fixed = [r for r in doc.table("remediation").rows if r[5] == tr("en", "state_fixed")]
    assert [(r[0], r[1]) for r in fixed] == [("ssh_root_login_restricted", "portal-web1")]
    assert [row[0] for row in doc.table("d14").rows] == [d.system for d in newest.d14]
    assert any("--prometheus" in f for f in doc.flags())


def test_one_run_is_not_enough_for_remediation(inv, runs):
    doc = paperwork.yearly(inv, runs[-1:], 2026, "vi", TODAY, load_catalogue())
    assert tr("vi", "flag_one_run") in doc.flags()


# ---------------------------------------------------------------------------------- bandwidth

def _load(contract: int, level: float) -> object:
    period = Period(datetime(2026, 1, 1, tzinfo=VN), datetime(2026, 1, 15, tzinfo=VN))
    t0 = period.start.timestamp()
    samples = [(t0 + 300 * (k + 1), contract * level) for k in range(int(period.seconds // 300))]
    return direction_load("a_to_b", contract, samples, period)


@pytest.mark.parametrize("level,verdict,size", [(0.95, "raise", 20_000_000), (0.5, "keep", 10_000_000),
                                                (0.1, "lower", 2_000_000)])
def test_the_proposal_rule(level, verdict, size):
    assert paperwork.propose(_load(10_000_000, level)) == (verdict, size)


def test_the_bandwidth_registration_prints_computes_figures(inv):
    from provdc.reports.collect import LinkLoad

    loads = [LinkLoad(link.id, link.kind.value, link.provider or "", link.id == "wan-xa-dong-son",
                      [_load(link.capacity.a_to_b, 0.95), _load(link.capacity.b_to_a, 0.2)], {}) for link in inv.doc.links]
    doc = paperwork.bandwidth_needs(inv, loads, 2027, Period(datetime(2026, 1, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN)),
                                    "vi", TODAY)
    loc = Locale("vi")
    row = next(r for r in doc.table("links").rows if r[1] == "wan-xa-dong-son" and r[3] == tr("vi", "dir_a_to_b"))
    d = loads[[x.id for x in loads].index("wan-xa-dong-son")].directions[0]
    assert row[0] == "UBND xã Đông Sơn" and row[4] == loc.rate(d.contract_bps) and row[5] == loc.rate(d.p95_bps)
    assert row[6] == loc.percent(d.worst_window_utilisation, 1) and row[7] == "Tăng"
    assert doc.figures["deadline"] == "31/01/2027"
    assert any("wan-ubnd-tinh" in f for f in doc.flags())          # not measured: flagged, not guessed


# --------------------------------------------------------------------------- the inventory side

def _copy_lab(tmp_path: Path, paperwork_yaml: str) -> Path:
    dest = tmp_path / "lab"
    shutil.copytree(LAB, dest)
    (dest / "paperwork.yaml").write_text(paperwork_yaml, encoding="utf-8")
    return dest


def test_a_missing_template_is_an_inventory_problem_with_file_and_line(tmp_path):
    path = _copy_lab(tmp_path, "paperwork:\n  unit: SỞ KH&CN\n  place: Thí Nghiệm\n  template: letterhead.docx\n")
    inv = load_inventory(path)
    with pytest.raises(InventoryError) as exc:
        documents.template_path(inv)
    [problem] = exc.value.problems
    assert str(problem).startswith("lab/paperwork.yaml:4:") and "paperwork.template" in str(problem)


def test_an_unknown_number_field_is_refused_where_it_is_written(tmp_path):
    path = _copy_lab(tmp_path, "paperwork:\n  unit: SỞ KH&CN\n  place: Thí Nghiệm\n  number: '{seq}/{kind}-{unit}'\n")
    with pytest.raises(InventoryError) as exc:
        load_inventory(path)
    assert any("paperwork.yaml:4" in str(p) and "{unit}" in str(p) for p in exc.value.problems)


def test_the_provinces_template_keeps_its_letterhead(inv, runs, png, tmp_path):
    letterhead = Docx(str(documents.SHIPPED_TEMPLATE))
    letterhead.sections[0].header.paragraphs[0].text = "TRUNG TÂM TÍCH HỢP DỮ LIỆU · 02 Lê Lợi"
    letterhead.add_paragraph("sample text that must not survive")
    path = _copy_lab(tmp_path, "paperwork:\n  unit: SỞ KH&CN\n  place: Huế\n  number: 'BC-{year}/{seq}'\n"
                               "  template: letterhead.docx\n  signers: [{role: approved, title: Giám đốc}]\n")
    letterhead.save(str(path / "letterhead.docx"))
    province = load_inventory(path)
    doc = paperwork.dossier(province, "portal", runs[-1], "vi", TODAY, load_catalogue(), png)
    out = tmp_path / "x.docx"
    out.write_bytes(documents.to_docx(doc))
    d = Docx(str(out))
    assert d.sections[0].header.paragraphs[0].text == "TRUNG TÂM TÍCH HỢP DỮ LIỆU · 02 Lê Lợi"
    text = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "BC-2026/……" in text and "Huế, ngày 02 tháng 12 năm 2026" in text
    assert "sample text" not in "\n".join(p.text for p in d.paragraphs)
    assert tr("vi", "flag_recipients") in doc.flags()


def test_html_escapes_inventory_strings(tmp_path, runs, png):
    path = _copy_lab(tmp_path, "paperwork:\n  unit: '<script>alert(1)</script>'\n  place: Thí Nghiệm\n")
    province = load_inventory(path)
    html = documents.to_html(paperwork.dossier(province, "portal", runs[-1], "vi", TODAY, load_catalogue(), png))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data:image/png;base64," in html


def test_without_paperwork_the_heading_is_flagged_not_invented(tmp_path, runs, png):
    dest = tmp_path / "lab"
    shutil.copytree(LAB, dest)
    (dest / "paperwork.yaml").unlink()
    doc = paperwork.dossier(load_inventory(dest), "portal", runs[-1], "vi", TODAY, load_catalogue(), png)
    assert tr("vi", "flag_paperwork") in doc.flags()
    assert doc.heading.unit == "TỈNH THÍ NGHIỆM" and doc.heading.number == "……/HSĐX"


def test_the_catalogues_match_and_hold_only_strings():
    vi, en = documents.texts("vi"), documents.texts("en")
    assert set(vi) == set(en)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in [*vi.items(), *en.items()])  # no bare yes/no


def test_the_cli_refuses_an_unknown_system_and_keeps_the_monthly_report_the_default(tmp_path):
    from click.testing import CliRunner

    from provdc.cli import main

    r = CliRunner().invoke(main, ["dossier", str(LAB), "--system", "nope"])
    assert r.exit_code == 2 and "no system 'nope'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["report", str(LAB), "--prometheus", "http://127.0.0.1:9", "--month", "2026-11",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 1 and "cannot reach Prometheus" in r.output      # the monthly report ran
    r = CliRunner().invoke(main, ["dossier", str(LAB), "--system", "qlvb", "--format", "html", "--out", str(tmp_path)])
    assert r.exit_code == 0 and (tmp_path / "dossier-lab-qlvb-vi.html").exists()
    assert "systems[].approval" in r.output                                # flagged on the console too
