"""The console's security rules, against the real app served by uvicorn over TLS on loopback."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from provdc.console.auth import MAX_FAILURES, Accounts, ConsoleError

PAGES = ["/", "/topology", "/systems", "/systems/portal", "/links", "/links/wan-so-khcn", "/agencies",
         "/agencies/so-khcn", "/audits", "/reports", "/reports/2026-11-01T07-00/report-vi.html", "/activity"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_but_login_and_health_needs_a_session(running, page):
    with running.client() as c:
        r = c.get(page)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert c.post(page, data={}).status_code in (401, 405)
        assert c.get(page, cookies={"provdc_session": "forged"}).status_code == 303


def test_login_and_health_are_open_and_a_session_opens_every_page(running, kit):
    with running.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/login").status_code == 200
        r = kit.login(c, "admin1")
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        for page in PAGES:
            r = c.get(page)
            assert r.status_code == 200, page
            assert "content-security-policy" in r.headers


def test_unauthenticated_post_is_401(running):
    with running.client() as c:
        assert c.post("/systems/portal/evidence", data={"csrf": "x"}).status_code == 401
        assert c.post("/logout", data={}).status_code == 401


def _evidence_form(token: str, ident: str = "bien-ban-2026") -> dict:
    return {"csrf": token, "id": ident, "requirement": "GOV-02", "document": "QĐ 99/QĐ-UBND", "date": "2026-11-20",
            "issuer": "UBND tỉnh", "approver": "Chủ tịch UBND tỉnh"}


def test_a_form_without_its_csrf_token_is_refused(running, site, kit):
    with running.client() as c:
        kit.login(c, "officer")
        page = c.get("/systems/portal").text
        form = _evidence_form(kit.csrf_of(page))
        for bad in ({k: v for k, v in form.items() if k != "csrf"}, {**form, "csrf": "not-the-token"}):
            r = c.post("/systems/portal/evidence", data=bad)
            assert r.status_code == 403
        assert not (site.inventory / "console-evidence.yaml").exists()
        # the logout form too, and the login form (double-submit cookie)
        assert c.post("/logout", data={}).status_code == 403
    with running.client() as fresh:
        fresh.get("/login")
        assert fresh.post("/login", data={"user": "officer", "password": kit.PASSWORD}).status_code == 403


def test_an_officer_records_evidence_validated_versioned_and_logged(running, site, kit):
    with running.client() as c:
        kit.login(c, "officer")
        token = kit.csrf_of(c.get("/systems/portal").text)
        r = c.post("/systems/portal/evidence", data=_evidence_form(token))
        assert r.status_code == 200 and "phiên bản 1" in r.text
        saved = yaml.safe_load((site.inventory / "console-evidence.yaml").read_text(encoding="utf-8"))
        assert saved["evidence"][0]["id"] == "bien-ban-2026" and saved["evidence"][0]["systems"] == ["portal"]
        assert (site.state / "console" / "evidence-versions" / "0001.yaml").exists()
        # an unknown requirement and a bad date are both reported, and nothing changes
        bad = {**_evidence_form(token, "khac"), "requirement": "XYZ-99", "date": "hôm qua"}
        r = c.post("/systems/portal/evidence", data=bad)
        assert r.status_code == 422 and "XYZ-99" in r.text and "date" in r.text
        assert len(yaml.safe_load((site.inventory / "console-evidence.yaml").read_text())["evidence"]) == 1
    from provdc.inventory import load_inventory
    assert "bien-ban-2026" in {e.id for e in load_inventory(site.inventory).doc.evidence}
    log = [json.loads(x) for x in (site.state / "console" / "audit.log").read_text().splitlines()]
    actions = [(e["user"], e["action"]) for e in log]
    assert ("officer", "record_evidence") in actions and ("officer", "record_evidence_rejected") in actions
    assert all(e["time"].endswith("+00:00") for e in log)


@pytest.mark.parametrize("user", ["guest", "tech", "admin1"])
def test_only_a_security_officer_records_evidence(running, site, user, kit):
    with running.client() as c:
        kit.login(c, user)
        page = c.get("/systems/portal").text
        assert 'id="evidence-form"' not in page
        r = c.post("/systems/portal/evidence", data=_evidence_form(kit.csrf_of(page)))
        assert r.status_code == 403
    assert not (site.inventory / "console-evidence.yaml").exists()
    log = (site.state / "console" / "audit.log").read_text()
    assert f'"user": "{user}", "action": "record_evidence_refused"' in log


def test_a_locked_out_login_stays_locked(running, site, kit):
    with running.client() as c:
        for _ in range(MAX_FAILURES):
            assert kit.login(c, "tech", "wrong password!").status_code == 401
        r = kit.login(c, "tech")                    # the right password, too late
        assert r.status_code == 401 and "provdc_session" not in r.headers.get("set-cookie", "")
    # a restart does not lift it: the lock-out is in the state directory
    assert Accounts(site.state).locked_until("tech") is not None
    assert Accounts(site.state).login("tech", kit.PASSWORD) is None
    other = Accounts(site.state).login("guest", kit.PASSWORD)
    assert other is not None                        # one account's lock-out locks no one else
    log = (site.state / "console" / "audit.log").read_text()
    assert '"action": "login_locked"' in log


def test_an_inventory_name_with_markup_is_escaped_everywhere(running, kit):
    with running.client() as c:
        kit.login(c, "admin1")
        for page in ("/", "/systems", "/systems/portal", "/topology", "/audits"):
            html = c.get(page).text
            assert "<script>document.title" not in html and "<img src=x" not in html, page
        assert "&lt;script&gt;document.title" in c.get("/systems").text


def test_english_switch_and_vietnamese_default(running, kit):
    with running.client() as c:
        kit.login(c, "guest")
        assert "Tổng quan" in c.get("/").text
        r = c.get("/systems?lang=en")
        assert ">Systems<" in r.text and 'lang="en"' in r.text
        assert 'lang="en"' in c.get("/").text         # remembered in a cookie


def test_report_download_cannot_leave_the_archive(running, kit):
    with running.client() as c:
        kit.login(c, "guest")
        assert c.get("/reports/2026-11-01T07-00/report-en.html").text.endswith("November report</body></html>")
        assert c.get("/reports/..%2F..%2Fconsole/users.json").status_code == 404
        assert c.get("/reports/2026-11-01T07-00/..%2F..%2F..%2Fconsole%2Fusers.json").status_code == 404


def test_audits_diff_and_filters_read_the_stored_runs(running, site, kit):
    from provdc.checks.results import drift, load_run

    files = sorted((site.state / "audits").glob("audit-*.json"))
    expected = drift(load_run(files[0]), load_run(files[1]))
    with running.client() as c:
        kit.login(c, "guest")
        html = c.get(f"/audits?a={files[0].name}&b={files[1].name}").text
        assert f"({len(expected.new_failures)})" in html and 'id="diff"' in html
        filtered = c.get("/audits?status=FAIL").text
        rows = re.findall(r'<span class="status status-(\w+)">', filtered.split('id="findings"')[1])
        assert rows and set(rows) == {"FAIL"}


def test_account_rules(kit):
    import tempfile
    from pathlib import Path

    acc = Accounts(Path(tempfile.mkdtemp()))
    with pytest.raises(ConsoleError) as exc:
        acc.add_user("Bad Name", "root", "short")
    assert "user name" in str(exc.value) and "role" in str(exc.value) and "password" in str(exc.value)
    acc.add_user("ok.user", "viewer", kit.PASSWORD)
    assert acc.users()["ok.user"]["hash"].startswith("$argon2id$")
    assert kit.PASSWORD not in (acc.dir / "users.json").read_text()


def _waiver_form(token: str, check: str = "level_approval_recorded") -> dict:
    return {"csrf": token, "check": check, "host": "", "justification": "Quyết định phê duyệt cấp độ đang trình ký",
            "expires": "2099-01-31"}


def test_an_officer_approves_a_waiver_named_as_approver_validated_and_logged(running, site, kit):
    with running.client() as c:
        kit.login(c, "officer")
        page = c.get("/systems/qlvb").text
        assert 'id="waiver-form"' in page and "<option>level_approval_recorded</option>" in page
        token = kit.csrf_of(page)
        r = c.post("/systems/qlvb/waiver", data={**_waiver_form(token), "approver": "someone-else"})
        assert r.status_code == 200, r.text[-500:]
        r = c.post("/systems/qlvb/waiver", data=_waiver_form(token, "no_such_check"))
        assert r.status_code == 422 and "no_such_check" in r.text
    from provdc.inventory import load_inventory
    waivers = load_inventory(site.inventory).doc.waivers
    mine = [w for w in waivers if w.check == "level_approval_recorded"]
    assert len(mine) == 1 and mine[0].approver == "officer" and mine[0].scope.system == "qlvb"
    assert (site.state / "console" / "waivers-versions" / "0001.yaml").exists()
    assert '"action": "approve_waiver"' in (site.state / "console" / "audit.log").read_text()


@pytest.mark.parametrize("user", ["guest", "tech"])
def test_only_a_security_officer_approves_waivers(running, site, user, kit):
    with running.client() as c:
        kit.login(c, user)
        page = c.get("/systems/qlvb").text
        assert 'id="waiver-form"' not in page
        assert c.post("/systems/qlvb/waiver", data=_waiver_form(kit.csrf_of(page))).status_code == 403
    assert not (site.inventory / "console-waivers.yaml").exists()
