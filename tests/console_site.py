"""Shared by the console tests (unit and browser): a console over a copy of the lab inventory (one system renamed with markup, to prove it inert),
a temporary state directory with two offline audit runs (the governance layer needs no lab),
a report archive, and one account per role."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import yaml

from provdc.console.app import Config
from provdc.console.auth import Accounts

PASSWORD = "correct horse battery"
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
LAB = Path(__file__).resolve().parents[1] / "inventory" / "examples" / "lab"
ROLES = {"admin1": "admin", "officer": "security_officer", "tech": "it_staff", "guest": "viewer"}


@dataclass
class Site:
    inventory: Path
    state: Path
    config: Config


def make_site(root: Path, lab_inventory: Path = LAB) -> Site:
    from provdc.checks.engine import Options, run_audit
    from provdc.inventory import load_inventory

    inv_dir = root / "inventory"
    shutil.copytree(lab_inventory, inv_dir)
    systems = inv_dir / "systems.yaml"
    doc = yaml.safe_load(systems.read_text(encoding="utf-8"))
    doc["systems"][0]["name"] = HOSTILE
    systems.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    agencies = inv_dir / "agencies.yaml"      # an agency is drawn in the topology: its name must be inert there too
    doc = yaml.safe_load(agencies.read_text(encoding="utf-8"))
    doc["agencies"][0]["name"] = HOSTILE
    agencies.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    state = root / "state"
    (state / "audits").mkdir(parents=True)
    inv = load_inventory(inv_dir)
    for i, today in enumerate((date(2026, 11, 1), date(2026, 12, 1))):
        run = run_audit(inv, Options(layers={"governance"}, today=today))
        stamp = datetime(2026, 11 + i, 1, 2, 0, tzinfo=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        (state / "audits" / f"audit-{stamp}.json").write_text(run.to_json(), encoding="utf-8")
    report = state / "runs" / "report" / "2026-11-01T07-00"
    report.mkdir(parents=True)
    (report / "report-vi.html").write_text("<html><body>Báo cáo tháng 11</body></html>", encoding="utf-8")
    (report / "report-en.html").write_text("<html><body>November report</body></html>", encoding="utf-8")
    accounts = Accounts(state)
    for name, role in ROLES.items():
        accounts.add_user(name, role, PASSWORD)
    return Site(inv_dir, state, Config(inv_dir, state, prometheus=None, read_only=False))


def _start(srv) -> tuple[threading.Thread, str]:
    """uvicorn in a thread; its https:// address once it listens."""
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    return thread, f"https://127.0.0.1:{srv.servers[0].sockets[0].getsockname()[1]}"


class Running:
    """The console served by uvicorn over TLS on a free loopback port, in a thread."""

    def __init__(self, config: Config) -> None:
        from provdc.console.server import server, self_signed

        self.cert, _ = self_signed(config.state, "127.0.0.1")
        self.server = server(config, "127.0.0.1", 0, None, None)
        self.thread, self.url = _start(self.server)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=str(self.cert), follow_redirects=False, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Switchboard:
    """An ASGI app handing each request to the console of the test being run (or 503 between
    tests). It answers uvicorn's lifespan itself: the console has no startup or shutdown work."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        app = self.app
        if app is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)


class SharedServer:
    """One uvicorn over TLS for a whole test session, serving each test's own console (its site,
    accounts and state): a uvicorn stops in about 0.2 s (its 0.1 s tick and shutdown pause),
    paid once here instead of once per test. The settings are the product's (uvicorn_server)."""

    def __init__(self, tls_dir: Path) -> None:
        from provdc.console.server import self_signed, uvicorn_server

        self.cert, key = self_signed(tls_dir, "127.0.0.1")
        self.board = Switchboard()
        self.server = uvicorn_server(self.board, "127.0.0.1", 0, (self.cert, key))
        self.thread, self.url = _start(self.server)

    @contextmanager
    def serving(self, config: Config) -> Iterator["SharedServer"]:
        from provdc.console.app import create_app

        self.board.app = create_app(config)
        try:
            yield self
        finally:
            self.board.app = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=str(self.cert), follow_redirects=False, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form, as a browser does (GET for the token, then POST)."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"user": user, "password": password, "csrf": token})


class Kit:
    """The helpers and constants tests use (tests import no module: --import-mode=importlib)."""

    PASSWORD = PASSWORD
    HOSTILE = HOSTILE
    csrf_of = staticmethod(csrf_of)
    login = staticmethod(login)


def copy_site(template: Path, root: Path) -> Site:
    """A fresh copy of a made site: tests never see each other's accounts, lock-outs or evidence."""
    shutil.copytree(template, root)
    return Site(root / "inventory", root / "state", Config(root / "inventory", root / "state", read_only=False))


# ------------------------------------------------------------------------------ the browser

ARTEFACTS = Path(__file__).resolve().parents[1] / "test-artefacts" / "console"
PAGES = ["/", "/topology", "/systems", "/systems/portal", "/systems/qlvb", "/links", "/links/wan-xa-dong-son",
         "/agencies", "/agencies/ubnd-xa-dong-son", "/audits", "/reports", "/activity"]


def browser():
    """Debian's Chromium through its chromium-driver (no download: both paths are given), headless,
    trusting the console's self-signed certificate, keeping the page's console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", "--window-size=1366,900",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-features=OptimizationHints,MediaRouter", "--lang=vi"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))


def browser_login(driver, url: str, user: str, password: str = PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    from selenium.webdriver.support.ui import WebDriverWait   # a click does not wait for the next page

    WebDriverWait(driver, 15).until(lambda d: not d.current_url.endswith("/login")
                                    or d.find_elements(By.CSS_SELECTOR, "p.error"))


def visit_all(driver, url: str, out: Path, pages: list[str] = PAGES) -> dict[str, list]:
    """Every page: full-page screenshot kept in `out`, and the console's problems per page."""
    out.mkdir(parents=True, exist_ok=True)
    problems = {}
    for page in pages:
        driver.set_window_size(1366, 700)        # measure each page from the same start
        driver.get(url + page)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1366, min(max(height, 560) + 150, 4000))   # + the headless window's chrome
        name = page.strip("/").replace("/", "-") or "overview"
        driver.save_screenshot(str(out / f"{name}.png"))
        problems[page] = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    return problems
