"""The national roll-up renders offline: every province string escaped, silent provinces shown
as not reporting with no figures, numbers in each language's conventions."""

from __future__ import annotations

from datetime import datetime, timezone

from provdc.reports.compute import Availability, Period
from provdc.reports.national import NationalReport, ProvinceFigures, SystemFigures, render_html, to_json


def _report() -> NationalReport:
    ok = ProvinceFigures("tinh-1", "Tỉnh <b>Một</b>", True, 60.0,
                         systems=[SystemFigures("portal", "Cổng <script>x</script>", 3, 99.5,
                                                Availability(0.99512, 1.0, 10.5, 0.0, 2160.0))],
                         layer_scores={"host": (0.9, 0.8)}, level_scores={"3": (0.85, 0.7)}, jobs={"snmp": (1.0, 2)})
    silent = ProvinceFigures("tinh-2", "Tỉnh Hai", False, None)
    period = Period(datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 2, tzinfo=timezone.utc))
    return NationalReport("vn", "Bộ & Ngành", period, 300.0, datetime(2026, 11, 2, tzinfo=timezone.utc), [ok, silent])


def test_html_escapes_every_string_and_marks_silent_provinces():
    html = render_html(_report(), "vi")
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Một" in html
    assert "Bộ &amp; Ngành" in html
    assert "1/2 tỉnh, thành phố đang gửi số liệu" in html and "Không gửi số liệu" in html
    assert "99,512%" in html                       # Vietnamese decimal comma
    assert "99.512%" in render_html(_report(), "en")


def test_json_keeps_the_figures():
    import json

    data = json.loads(to_json(_report()))
    assert data["schema"] == "provdc-national-report/1"
    assert data["provinces"][0]["systems"][0]["result"]["availability"] == 0.99512
    assert data["provinces"][1]["reporting"] is False and data["provinces"][1]["systems"] == []
