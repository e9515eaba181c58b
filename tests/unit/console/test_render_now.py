"""/reports: "render this period now": officers and admins only, CSRF-checked, through reports.publish
(the code `provdc report` runs), kept in the state directory and listed with its status."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest


def _form(token: str, month: str = "2026-11", lang: str = "vi") -> dict:
    return {"csrf": token, "month": month, "lang": lang, "format": "html"}


def _wait_done(c, slot: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = c.get("/reports").text
        row = page[page.index(f'id="slot-{slot}"'):].split("</tr>")[0]
        if "run-running" not in row:
            return row
        time.sleep(0.1)
    raise AssertionError(f"{slot} still running")


def _fake_collect(calls):
    from provdc.inventory.stats import compute_stats
    from provdc.reports.collect import ProvinceReport

    def collect(inv, url, period, audit=None, step=None, now=None, previous=False):
        calls.append((url, period.label, audit))
        return ProvinceReport(inv.province.id, inv.province.name, period, 300.0, datetime.now(timezone.utc), [], [], [],
                              compute_stats(inv), None, inv.doc.paperwork)
    return collect


def test_an_officer_renders_a_month_through_the_report_code_kept_and_listed(running_with_prometheus, site, kit,
                                                                              monkeypatch):
    from provdc.reports import collect

    calls = []
    monkeypatch.setattr(collect, "collect", _fake_collect(calls))
    with running_with_prometheus.client() as c:
        kit.login(c, "officer")
        page = c.get("/reports").text
        assert 'id="render-now"' in page
        r = c.post("/reports/render", data=_form(kit.csrf_of(page)))
        assert r.status_code == 303
        slot = r.headers["location"].split("started=")[1]
        assert slot.startswith("console-2026-11-vi-")
        row = _wait_done(c, slot)
        assert "run-ok" in row and f"/reports/{slot}/report-" in row
        assert calls and calls[0][0] == "http://127.0.0.1:9" and calls[0][2] == site.state / "audits"
        files = [f.name for f in (site.state / "runs" / "report" / slot).iterdir()]
        assert "run.json" in files and any(f.endswith("-vi.html") for f in files)
        html_name = next(f for f in files if f.endswith(".html"))
        assert c.get(f"/reports/{slot}/{html_name}").status_code == 200
    assert "render_report" in (site.state / "console" / "audit.log").read_text(encoding="utf-8")


def test_a_render_without_prometheus_is_listed_as_failed_with_its_reason(running, site, kit):
    with running.client() as c:
        kit.login(c, "admin1")
        r = c.post("/reports/render", data=_form(kit.csrf_of(c.get("/reports").text), lang="en"))
        slot = r.headers["location"].split("started=")[1]
        row = _wait_done(c, slot)
        assert "run-failed" in row and "no Prometheus configured" in row


def test_render_without_its_csrf_token_is_refused(running, site, kit):
    with running.client() as c:
        kit.login(c, "officer")
        form = _form(kit.csrf_of(c.get("/reports").text))
        for bad in ({k: v for k, v in form.items() if k != "csrf"}, {**form, "csrf": "not-the-token"}):
            assert c.post("/reports/render", data=bad).status_code == 403
    assert not any(p.name.startswith("console-") for p in (site.state / "runs" / "report").iterdir())


@pytest.mark.parametrize("user", ["guest", "tech"])
def test_viewers_and_it_staff_cannot_render(running, site, kit, user):
    with running.client() as c:
        kit.login(c, user)
        page = c.get("/reports").text
        assert 'id="render-now"' not in page
        assert c.post("/reports/render", data=_form(kit.csrf_of(page))).status_code == 403
    assert not any(p.name.startswith("console-") for p in (site.state / "runs" / "report").iterdir())
    assert "render_report_refused" in (site.state / "console" / "audit.log").read_text(encoding="utf-8")


def test_a_bad_month_is_refused_clearly(running, site, kit):
    with running.client() as c:
        kit.login(c, "officer")
        r = c.post("/reports/render", data=_form(kit.csrf_of(c.get("/reports").text), month="2026-13\"><b>x"))
        assert r.status_code == 422 and "ghi tháng dạng YYYY-MM, ví dụ 2026-11" in r.text and "<b>x" not in r.text
        r = c.post("/reports/render?lang=en", data={**_form(kit.csrf_of(r.text)), "format": "docx"})
        assert r.status_code == 422 and "format html/pdf" in r.text


def test_render_needs_a_session(running):
    with running.client() as c:
        assert c.post("/reports/render", data={"csrf": "x", "month": "2026-11"}).status_code == 401


def test_a_month_not_begun_is_refused_and_renders_run_one_at_a_time(running_with_prometheus, site, kit, monkeypatch):
    import threading

    from provdc.reports import collect

    release = threading.Event()
    calls = []
    fake = _fake_collect(calls)

    def slow(*a, **k):
        release.wait(20)
        return fake(*a, **k)
    monkeypatch.setattr(collect, "collect", slow)
    with running_with_prometheus.client() as c:
        kit.login(c, "officer")
        token = kit.csrf_of(c.get("/reports").text)
        r = c.post("/reports/render", data=_form(token, month="2099-01"))
        assert r.status_code == 422 and "not begun" not in r.text     # Vietnamese by default
        assert "chưa bắt đầu" in r.text
        first = c.post("/reports/render", data=_form(token))
        assert first.status_code == 303
        busy = c.post("/reports/render?lang=en", data=_form(token))
        assert busy.status_code == 409 and "Another report is being rendered" in busy.text
        release.set()
        assert "run-ok" in _wait_done(c, first.headers["location"].split("started=")[1])
