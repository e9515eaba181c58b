"""The documents from real parts, no lab: a year of monitoring data backfilled into a loopback
Prometheus (`promtool tsdb create-blocks-from openmetrics`), two audit runs of the lab example
made offline, the .docx converted to PDF by headless LibreOffice, pages rendered by pdftoppm.

The yearly report lists every system with its requirement status and the year's availability
(qlvb loses one hour); the bandwidth registration raises the saturated link and lowers the idle
ones; the dossier of a level-3 system covers every requirement that applies to it."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from provdc.checks.results import load_run
from provdc.cli import main
from provdc.commands.paperwork import _yearly_uptime
from provdc.inventory import load_inventory
from provdc.inventory.catalogue import load_catalogue
from provdc.exporters import promapi
from provdc.lab.federation import free_port
from provdc.exporters.national import targets_per_system
from provdc.proc import spawn_detached, stop
from provdc.reports import collect, documents, paperwork
from provdc.reports.compute import VN
from provdc.reports.i18n import Locale

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "reports"))
from paperwork_runs import two_runs, write_runs  # noqa: E402

LAB = Path(__file__).resolve().parents[2] / "inventory" / "examples" / "lab"
START = int(datetime(2025, 12, 15, tzinfo=VN).timestamp())
STEP = 300
# link -> bits/s carried outbound (inbound carries half): 20 % of 100 Mbps, 97.5 % of 20 Mbps, 15 % of 2 Mbps
LOAD = {"wan-ubnd-tinh": 20e6, "wan-so-khcn": 19.5e6, "wan-xa-dong-son": 0.3e6}
DOWN = range(1000, 1012)          # qlvb's probe fails for 12 five-minute samples: one hour


def _openmetrics(path: Path, end: int) -> None:
    times = range(START, end, STEP)
    with path.open("w") as f:
        f.write("# TYPE probe_success gauge\n")
        # every target each system declares (its coverage counts them all); all of qlvb's fail together
        for sid, count in targets_per_system(load_inventory(LAB)).items():
            for n in range(count):
                labels = f'job="blackbox_tcp",instance="{sid}-{n}:443",server="{sid}",systems=",{sid},"'
                f.writelines(f"probe_success{{{labels}}} {0 if sid == 'qlvb' and k in DOWN else 1} {t}\n"
                             for k, t in enumerate(times))
        f.write("# TYPE provdc:link_octets:total gauge\n")
        for link, bps in LOAD.items():
            for direction, share in (("a_to_b", 1.0), ("b_to_a", 0.5)):
                per_step = bps * share / 8 * STEP
                f.writelines(f'provdc:link_octets:total{{link="{link}",direction="{direction}"}} {per_step * k:.0f} {t}\n'
                             for k, t in enumerate(times))
        f.write("# EOF\n")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backfill")
    end = int(time.time()) // STEP * STEP - 3600
    _openmetrics(tmp / "data.om", end)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=8760h",
                    str(tmp / "data.om"), str(tmp / "tsdb")], check=True, capture_output=True)
    (tmp / "data.om").unlink()
    # scrape jobs that tell the report the data's interval (5 minutes); their loopback targets are closed ports
    port, dead = free_port(), free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 5m, scrape_timeout: 10s}\nscrape_configs:\n"
        f"  - {{job_name: blackbox_tcp, static_configs: [{{targets: ['127.0.0.1:{dead}']}}]}}\n"
        f"  - {{job_name: snmp, static_configs: [{{targets: ['127.0.0.1:{dead}']}}]}}\n")
    pid = spawn_detached(["prometheus", f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                          f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=10y"], tmp / "prom.log")
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):   # ready, and its scrape jobs (the data's interval) known
            try:
                if len(promapi.targets(url)) == 2:
                    break
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.1)
        yield url
    finally:
        stop([pid])


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def audits(inv, tmp_path_factory):
    directory = tmp_path_factory.mktemp("audits")
    write_runs(two_runs(inv), directory)
    return directory


def pdf_text(pdf: Path) -> str:
    """The PDF's text in reading order, whitespace collapsed (cells wrap lines anywhere)."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def first_page_png(pdf: Path, out: Path) -> Path:
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)], check=True)
    return out.with_suffix(".png")


def test_the_yearly_report_from_a_year_of_data_and_two_runs(prometheus, inv, audits, tmp_path):
    from PIL import Image

    runs = [load_run(f) for f in sorted(audits.glob("audit-*.json"))]
    uptime = _yearly_uptime(inv, prometheus, 2026)
    doc = paperwork.yearly(inv, runs, 2026, "vi", date(2026, 12, 2), load_catalogue(), uptime)
    loc = Locale("vi")
    qlvb = next(u for u in uptime if u.system == "qlvb")
    assert qlvb.incidents == 1 and qlvb.downtime_minutes == pytest.approx(60, rel=1e-4) and qlvb.coverage == pytest.approx(1.0, abs=1e-3)
    assert all(u.availability == 1.0 for u in uptime if u.system != "qlvb")
    rows = {r[0]: r for r in doc.table("uptime").rows}
    assert rows["qlvb"][1] == loc.percent(qlvb.availability, 3) and rows["qlvb"][3] == "1"
    rollup = {r[0]: r for r in doc.table("rollup").rows}
    assert set(rollup) == {s.id for s in inv.doc.systems}
    for s in inv.doc.systems:
        assert rollup[s.id][1] == str(sum(r.system == s.id for r in runs[-1].requirements))
    files = documents.write(doc, "pdf", tmp_path)
    text = pdf_text(files[-1])
    for needed in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO TÌNH HÌNH BẢO ĐẢM AN TOÀN HỆ THỐNG THÔNG",
                   "15/12/2025", "14/12/2026", "20/12/2026", "25/12/2026", "Hệ thống quản lý văn bản và điều hành",
                   "Mô hình bảo vệ 4 lớp (Chỉ thị 14/CT-TTg)", "Lực lượng tại chỗ"):
        assert needed in text, needed
    pixels = Image.open(first_page_png(files[-1], tmp_path / "page")).convert("L").getdata()
    assert sum(1 for p in pixels if p < 128) > 2000        # a page with text on it, not a blank


def test_the_bandwidth_registration_from_a_year_of_data(prometheus, inv, tmp_path):
    period = paperwork.measured_year(2027, datetime.now(timezone.utc))
    period = collect.settled(period, datetime.now(timezone.utc), collect.settle_seconds(prometheus))
    loads = collect.bandwidth(inv, prometheus, period, collect.pick_step(period))
    doc = paperwork.bandwidth_needs(inv, loads, 2027, period, "vi", date(2026, 12, 2))
    loc = Locale("vi")
    by = {(r[1], r[3]): r for r in doc.table("links").rows}
    out = "chiều đi"
    for load in loads:
        if load.measured:
            d = load.directions[0]
            assert by[(load.id, out)][5] == loc.rate(d.p95_bps)
            assert d.p95_bps == pytest.approx(LOAD[load.id], rel=1e-3)
    assert by[("wan-so-khcn", out)][7] == "Tăng" and by[("wan-so-khcn", out)][8] == "30,00 Mbps"
    assert by[("wan-ubnd-tinh", out)][7] == "Giảm" and by[("wan-ubnd-tinh", out)][8] == "30,00 Mbps"
    assert by[("wan-xa-dong-son", out)][7] == "Giảm" and by[("wan-xa-dong-son", out)][8] == "1,00 Mbps"
    assert by[("wan-phuong-trung-tam", out)][7] == "Chưa đo"
    text = pdf_text(documents.write(doc, "pdf", tmp_path)[-1])
    assert "ĐĂNG KÝ NHU CẦU KẾT NỐI, BĂNG THÔNG" in text and "31/01/2027" in text and "Thông tư 06/2026/TT-BKHCN" in text


def test_the_dossier_of_a_level_3_system_through_the_cli(inv, audits, tmp_path):
    result = CliRunner().invoke(main, ["dossier", str(LAB), "--system", "portal", "--audit", str(audits), "--format", "pdf",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "dossier-lab-portal-vi.pdf"
    text = pdf_text(pdf)
    applicable = [r.id for r in load_catalogue().framework("nd85_tcvn11930").applicable(3)]
    assert all(rid in text for rid in applicable), [rid for rid in applicable if rid not in text]
    assert "HỒ SƠ ĐỀ XUẤT CẤP ĐỘ AN TOÀN HỆ THỐNG THÔNG TIN" in text and "Sơ đồ kết nối" in text
    docx = tmp_path / "dossier-lab-portal-vi.docx"
    from docx import Document as Docx

    assert len(Docx(str(docx)).inline_shapes) == 1        # the topology diagram is in the Word file


def test_the_monthly_report_trend_and_word_document_from_backfilled_months(prometheus, inv, audits, tmp_path):
    """January 2026 beside December 2025 (qlvb's one hour down, data from 15/12): the previous
    month's figure is collect's own for December; the .docx converts to PDF with the sections."""
    from provdc.reports.monthly import trend

    report = collect.collect(inv, prometheus, collect.Period.month(2026, 1), audits, previous=True)
    december = collect.collect(inv, prometheus, collect.Period.month(2025, 12), audits)
    rows = {(r.kind, r.subject): r for r in trend(report, report.previous)}
    qlvb = rows[("availability", "qlvb")]
    assert qlvb.current == pytest.approx(1.0)
    assert qlvb.previous == next(s.result.availability for s in december.systems if s.id == "qlvb") < 1
    doc = paperwork.monthly(report, "vi")
    text = pdf_text(documents.write(doc, "pdf", tmp_path)[-1])
    for needed in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Phạm vi và phương pháp", "So sánh với tháng trước",
                   "Kết quả không đạt theo yêu cầu", "Theo từng cơ quan chủ quản", "01/12/2025 – 31/12/2025", "(UTC+7)"):
        assert needed in text, needed
