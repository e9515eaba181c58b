"""A report from a real Prometheus that scraped the lab twin while a host was stopped and a link
saturated: the report shows that downtime and that load; the HTML opens in headless Chromium
without console messages, its charts render, the PDF keeps its Vietnamese diacritics."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone

import pytest

from provdc.lab import faults
from provdc.reports import collect, render
from provdc.reports.compute import Period

pytestmark = pytest.mark.twin


@pytest.fixture(scope="module")
def lab_report(monitoring, lab):
    start = datetime.now(timezone.utc)
    time.sleep(6)
    # the outage and the load at once: docs-app1 (qlvb's only server) sits in the data center,
    # off the commune's WAN link, so neither disturbs the other's figures
    flood = threading.Thread(target=faults.saturate, args=(lab, "wan-xa-dong-son"), kwargs={"seconds": 24}, daemon=True)
    flood.start()
    time.sleep(4)
    faults.stop_host(lab, "docs-app1")
    try:
        time.sleep(10)
    finally:
        faults.start_host(lab, "docs-app1")
        flood.join(60)
    time.sleep(4)
    period = Period(start, datetime.now(timezone.utc))
    return collect.collect(lab.inventory, monitoring.prometheus_url, period)


def test_the_report_shows_the_downtime(lab_report):
    systems = {s.id: s for s in lab_report.systems}
    qlvb = systems["qlvb"]
    assert qlvb.result.availability < 1 and qlvb.met is False
    assert 0.1 <= qlvb.result.downtime_minutes <= 0.5       # about 10 s stopped (plus detection)
    assert len(qlvb.result.incidents) == 1
    assert systems["portal"].result.availability == 1.0      # untouched systems stay at 100 %
    # the outage is measured, not a gap (every probe of the stopped host records its failure)
    assert qlvb.result.coverage >= 0.9


def test_the_report_shows_the_load(lab_report):
    link = next(link for link in lab_report.links if link.id == "wan-xa-dong-son")
    a_to_b = link.directions[0]
    assert link.measured and a_to_b.contract_bps == 2_000_000
    assert 0.8 <= a_to_b.peak_bps / a_to_b.contract_bps <= 1.05
    quiet = next(link for link in lab_report.links if link.id == "wan-ubnd-tinh")
    assert quiet.directions[0].peak_bps < 0.05 * quiet.directions[0].contract_bps


CHROMIUM = ["chromium", *render.CHROMIUM_FLAGS]


def test_html_opens_in_chromium_without_console_messages_and_charts_render(lab_report, tmp_path):
    from PIL import Image

    [html] = render.write([lab_report], "html", "vi", tmp_path)
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                            "--window-size=1100,2400", f"--screenshot={shot}", html.as_uri()],
                           capture_output=True, text=True, timeout=120)
    assert shot.exists(), r.stderr[-500:]
    assert "CONSOLE" not in r.stderr, [line for line in r.stderr.splitlines() if "CONSOLE" in line]
    pixels = Image.open(shot).convert("RGB").getdata()
    green = sum(1 for p in pixels if p == (0x2e, 0x9d, 0x5b))
    red = sum(1 for p in pixels if p == (0xd6, 0x45, 0x41))
    assert green > 5000 and red > 100, (green, red)  # timelines drawn, qlvb's outage in red


def test_pdf_keeps_vietnamese_diacritics(lab_report, tmp_path):
    files = render.write([lab_report], "pdf", "vi", tmp_path)
    pdf = next(f for f in files if f.suffix == ".pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Báo cáo tuân thủ hằng tháng" in text
    assert "Hệ thống quản lý văn bản và điều hành" in text
    assert "Thông tư 06/2026/TT-BKHCN" in text
