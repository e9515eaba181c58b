"""The console's Starlette application.

Every page but /login and /health needs a session: a GET without one is sent to /login, any
other method gets 401. Sessions are server-side (a random token in a Secure, HttpOnly,
SameSite=Strict cookie); each carries its CSRF token, which every POST must send back in its
form (the login form uses a double-submit cookie, as there is no session yet). Every action
(login, failed login, logout, evidence, download) goes to STATE/console/audit.log.
Pages are rendered with the reports' Jinja2 environment (autoescape, StrictUndefined),
overlaid with the console's templates; there is no JavaScript and no external asset.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from jinja2 import ChoiceLoader, PackageLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from provdc.checks.results import AuditRun, drift, load_run
from provdc.console import evidence, views
from provdc.console.auth import ROLES, Accounts, Session, allowed
from provdc.console.live import LiveCache, SlaHistory, history_rows, recent_load
from provdc.console.texts import LANGS, t
from provdc.errors import InventoryError, ProvdcError
from provdc.inventory import Inventory, load_inventory
from provdc.inventory.catalogue import clause_text
from provdc.reports import charts, publish, render, topology
from provdc.reports.compute import VN, Period

SESSION_COOKIE = "provdc_session"
LOGIN_CSRF_COOKIE = "provdc_login_csrf"
PUBLIC = ("/login", "/health", "/static/")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class Config:
    inventory: Path
    state: Path
    prometheus: str | None = None
    read_only: bool = False        # `provdc console`: view only, no form writes anything
    secure_cookies: bool = True
    live_ttl: float = 15.0         # seconds a Prometheus snapshot is reused (drills and tests shorten it)


@dataclass
class Store:
    """What the pages read, reloaded when its files change (inventory, audit runs)."""

    config: Config
    lock: threading.Lock = field(default_factory=threading.Lock)
    _inv: tuple[tuple, Inventory] | None = None
    _runs: dict[Path, tuple[float, AuditRun]] = field(default_factory=dict)

    def _fingerprint(self) -> tuple:
        p = self.config.inventory
        files = [p] if p.is_file() else sorted(p.rglob("*.y*ml"))
        return tuple((str(f), f.stat().st_mtime_ns) for f in files)

    def inventory(self) -> Inventory:
        with self.lock:
            fp = self._fingerprint()
            if self._inv is None or self._inv[0] != fp:
                self._inv = (fp, load_inventory(self.config.inventory))
            return self._inv[1]

    def run_files(self) -> list[Path]:
        return sorted((self.config.state / "audits").glob("audit-*.json"), reverse=True)

    def run(self, path: Path) -> AuditRun:
        mtime = path.stat().st_mtime
        cached = self._runs.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_run(path))
            self._runs[path] = cached
        return cached[1]

    def latest(self) -> AuditRun | None:
        files = self.run_files()
        return self.run(files[0]) if files else None

    def reports(self) -> list[dict]:
        """Every report run's slot with its files and, when it has one, its run.json (status, detail, period)."""
        root = self.config.state / "runs" / "report"
        out = []
        for slot in sorted((p for p in root.glob("*") if p.is_dir()), reverse=True):
            files = sorted(f.name for f in slot.iterdir() if f.suffix in (".html", ".pdf", ".md", ".json", ".csv")
                           and f.name != "run.json")
            record = _read_record(slot / "run.json")
            if files or record:
                out.append({"slot": slot.name, "files": files, "status": record.get("status", "ok"),
                            "detail": record.get("detail", ""), "period": record.get("period", ""),
                            "user": record.get("user", "")})
        return out


def _read_record(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_record(path: Path, record: dict) -> None:
    tmp = path.with_name(".run.json.tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


# ------------------------------------------------------------------------------ helpers

def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "vi"
    return lang if lang in LANGS else "vi"


def _pct(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v * 100:.{digits}f} %"


def _score(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f} %"   # a score is a share of 1


def _bps(v: float | None) -> str:
    if v is None:
        return "—"
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if v >= size:
            return f"{v / size:.1f} {unit}"
    return f"{v:.0f} bit/s"


class Console:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.accounts = Accounts(config.state)
        self.store = Store(config)
        self.live = LiveCache(config.prometheus, config.live_ttl)
        self.sla = SlaHistory(config.prometheus)
        self.renders: list[threading.Thread] = []     # "render this period now" workers (tests join them)
        # the project's one environment, with the console's templates in front of the reports'
        base = render.environment()
        self.env = base.overlay(loader=ChoiceLoader([PackageLoader("provdc.console", "templates"), base.loader]))
        self.env.globals.update(pct=_pct, score=_score, bps=_bps, roles=ROLES, clause_text=clause_text)

    # -- responses
    def page(self, request: Request, template: str, session: Session | None, status: int = 200, **data) -> Response:
        lang = _lang(request)
        body = self.env.get_template(template).render(
            lang=lang, t=lambda key: t(key, lang), session=session, path=request.url.path,
            query=str(request.url.query), read_only=self.config.read_only, **data)
        response = Response(body, status_code=status, media_type="text/html; charset=utf-8")
        if request.query_params.get("lang") in LANGS:
            response.set_cookie("lang", lang, max_age=365 * 86400, secure=self.config.secure_cookies, httponly=True,
                                samesite="strict")
        return response

    def client(self, request: Request) -> str:
        return request.client.host if request.client else ""

    def session(self, request: Request) -> Session | None:
        return self.accounts.session(request.cookies.get(SESSION_COOKIE))

    # -- the pages
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def login_form(self, request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = self.page(request, "login.html.j2", None, csrf=token, error=False)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, secure=self.config.secure_cookies, httponly=True, samesite="strict")
        return response

    async def login(self, request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, str(form.get("csrf", ""))):
            return PlainTextResponse(t("csrf_refused", _lang(request)), status_code=403)
        name = str(form.get("user", "")).strip()
        result = self.accounts.login(name, str(form.get("password", "")))
        if result is None:
            locked = self.accounts.locked_until(name) is not None
            self.accounts.record(name, "login_locked" if locked else "login_failed", client=self.client(request))
            token = secrets.token_urlsafe(24)
            response = self.page(request, "login.html.j2", None, status=401, csrf=token, error=True)
            response.set_cookie(LOGIN_CSRF_COOKIE, token, secure=self.config.secure_cookies, httponly=True,
                                samesite="strict")
            return response
        token, session = result
        self.accounts.record(session.user, "login", client=self.client(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, secure=self.config.secure_cookies, httponly=True, samesite="strict")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        self.accounts.record(session.user, "logout", client=self.client(request))
        self.accounts.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def overview(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        live = self.live.get(inv)
        run = self.store.latest()
        states = views.status_map(inv, live)
        month = {m.id: m for m in live.month}
        week = {w.id: w for w in live.week}
        now = views.utilisation_now(inv, live)
        today = datetime.now(timezone.utc).date()
        return self.page(request, "overview.html.j2", session, inv=inv, live=live, run=run, states=states, month=month,
                         week=week, now=now, deadlines=views.deadlines(inv, run, today, certificates=live.certificates),
                         levels=sorted((run.group_scores("level") if run else {}).items()))

    def topology_page(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        states = views.status_map(inv, self.live.get(inv))
        pages = {"server": None, "device": None, "link": "/links/{}", "agency": "/agencies/{}"}
        system_of = views.systems_of_host(inv)

        def href(kind: str, ident: str) -> str | None:
            if kind == "server" and system_of.get(ident):
                return f"/systems/{sorted(system_of[ident])[0]}"
            pattern = pages.get(kind)
            return pattern.format(ident) if pattern else None
        svg = Markup(topology.svg_inline(inv, states, href))   # noqa: S704 - dot escaped every inventory string
        return self.page(request, "topology.html.j2", session, inv=inv, svg=svg)

    def systems(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        live = self.live.get(inv)
        return self.page(request, "systems.html.j2", session, inv=inv, states=views.status_map(inv, live),
                         month={m.id: m for m in live.month}, run=self.store.latest())

    def system(self, request: Request, session: Session, message: str = "", error: str = "", status: int = 200) -> Response:
        inv = self.store.inventory()
        ident = request.path_params["ident"]
        system = next((s for s in inv.doc.systems if s.id == ident), None)
        if system is None:
            return self.page(request, "error.html.j2", session, status=404, message=t("not_found", _lang(request)))
        live = self.live.get(inv)
        run = self.store.latest()
        months, sla_error = self.sla.get(inv)
        this_month = datetime.now(timezone.utc).astimezone(VN).strftime("%Y-%m")
        sla_history = history_rows(ident, [(this_month, live.month), *months], partial=this_month)
        from provdc.inventory.catalogue import load_catalogue
        return self.page(request, "system.html.j2", session, inv=inv, system=system, states=views.status_map(inv, live),
                         month=next((m for m in live.month if m.id == ident), None), run=run, catalogue=load_catalogue(),
                         requirements=[r for r in (run.requirements if run else []) if r.system == ident],
                         findings=views.filter_findings(run.findings, inv, system=ident) if run else [],
                         sla_history=sla_history, sla_error=sla_error or live.error,
                         d14=next((d for d in (run.d14 if run else []) if d.system == ident), None),
                         waivers=[w for w in (run.waivers if run else []) if w.scope in (f"system:{ident}", "all")],
                         can_record=allowed(session.role, "record_evidence") and not self.config.read_only,
                         can_waive=allowed(session.role, "approve_waiver") and not self.config.read_only,
                         failing=sorted({f.check for f in (run.failed() if run else []) if f.system == ident
                                         or f.host in system.servers}),
                         message=message, error=error, today=date.today().isoformat(), status=status)

    async def record_evidence(self, request: Request, session: Session) -> Response:
        form = await request.form()
        ident = request.path_params["ident"]
        if not allowed(session.role, "record_evidence") or self.config.read_only:
            self.accounts.record(session.user, "record_evidence_refused", ident, self.client(request))
            return self.page(request, "error.html.j2", session, status=403, message=t("forbidden", _lang(request)))
        inv = self.store.inventory()
        entry = evidence.entry_from_form({k: str(v) for k, v in form.items()}, ident)
        try:
            version = evidence.record(self.config.inventory, self.config.state, entry, inv)
        except (evidence.EvidenceError, InventoryError) as exc:
            self.accounts.record(session.user, "record_evidence_rejected", f"{ident}: {exc}", self.client(request))
            return self.system(request, session, error=str(exc), status=422)
        self.accounts.record(session.user, "record_evidence", f"{ident}: {entry['id']} (version {version})",
                             self.client(request))
        return self.system(request, session, message=f"{t('saved', _lang(request))} {version}")

    async def approve_waiver(self, request: Request, session: Session) -> Response:
        form = await request.form()
        ident = request.path_params["ident"]
        if not allowed(session.role, "approve_waiver") or self.config.read_only:
            self.accounts.record(session.user, "approve_waiver_refused", ident, self.client(request))
            return self.page(request, "error.html.j2", session, status=403, message=t("forbidden", _lang(request)))
        inv = self.store.inventory()
        entry = evidence.waiver_from_form({k: str(v) for k, v in form.items()}, ident, session.user)
        try:
            version = evidence.record(self.config.inventory, self.config.state, entry, inv, kind="waivers")
        except (evidence.EvidenceError, InventoryError) as exc:
            self.accounts.record(session.user, "approve_waiver_rejected", f"{ident}: {exc}", self.client(request))
            return self.system(request, session, error=str(exc), status=422)
        self.accounts.record(session.user, "approve_waiver", f"{ident}: {entry['check']} until {entry['expires']} "
                             f"(version {version})", self.client(request))
        return self.system(request, session, message=f"{t('saved', _lang(request))} {version}")

    def links(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        live = self.live.get(inv)
        return self.page(request, "links.html.j2", session, inv=inv, states=views.status_map(inv, live),
                         now=views.utilisation_now(inv, live), week={w.id: w for w in live.week}, live=live)

    def link(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        ident = request.path_params["ident"]
        link = next((ln for ln in inv.doc.links if ln.id == ident), None)
        if link is None:
            return self.page(request, "error.html.j2", session, status=404, message=t("not_found", _lang(request)))
        live = self.live.get(inv)
        week = next((w for w in live.week if w.id == ident), None)
        charts_ = {}
        for key, load in (("chart", week), ("chart_hour", recent_load(inv, self.config.prometheus, ident))):
            # a NaN or infinite sample (a fresh counter's first rate) would void the whole polyline
            series = {d: [(t, v) for t, v in pts if math.isfinite(v)] for d, pts in (load.utilisation.items() if load else [])}
            points = [t for pts in series.values() for t, _ in pts]
            if points:
                charts_[key] = Markup(charts.utilisation(series, min(points), max(points), link.id,  # noqa: S704
                                                         {"a_to_b": "A→B", "b_to_a": "B→A"}))  # charts escapes
        return self.page(request, "link.html.j2", session, inv=inv, link=link, week=week, chart=charts_.get("chart"),
                         chart_hour=charts_.get("chart_hour"),
                         now=views.utilisation_now(inv, live), state=views.status_map(inv, live).get(ident, "unknown"))

    def agencies(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        from provdc.inventory.stats import compute_stats
        return self.page(request, "agencies.html.j2", session, inv=inv, stats=compute_stats(inv),
                         states=views.status_map(inv, self.live.get(inv)))

    def agency(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        ident = request.path_params["ident"]
        agency = next((a for a in inv.doc.agencies if a.id == ident), None)
        if agency is None:
            return self.page(request, "error.html.j2", session, status=404, message=t("not_found", _lang(request)))
        links = [ln for ln in inv.doc.links if ident in (ln.a.agency, ln.b.agency)]
        systems = [s for s in inv.doc.systems if s.owner == ident]
        return self.page(request, "agency.html.j2", session, inv=inv, agency=agency, links=links, systems=systems,
                         states=views.status_map(inv, self.live.get(inv)))

    def audits(self, request: Request, session: Session) -> Response:
        inv = self.store.inventory()
        files = self.store.run_files()
        runs = [(f.name, self.store.run(f)) for f in files]
        q = request.query_params
        names = [n for n, _ in runs]
        chosen = q.get("run") if q.get("run") in names else (names[0] if names else None)
        run = dict(runs).get(chosen) if chosen else None
        filters = {k: q.get(k, "") for k in ("layer", "level", "system", "host", "status")}
        findings = views.filter_findings(run.findings, inv, **filters) if run else []
        diff = None
        if q.get("a") in names and q.get("b") in names:
            diff = drift(dict(runs)[q["a"]], dict(runs)[q["b"]])
        return self.page(request, "audits.html.j2", session, inv=inv, runs=runs, chosen=chosen, run=run, findings=findings,
                         filters=filters, diff=diff, a=q.get("a", ""), b=q.get("b", ""), failed_count=views.failed_count)

    def reports(self, request: Request, session: Session, status: int = 200, error: str = "") -> Response:
        today = datetime.now(timezone.utc).astimezone(VN).date()
        last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        return self.page(request, "reports.html.j2", session, status=status, archive=self.store.reports(), error=error,
                         can_render=allowed(session.role, "render_report") and not self.config.read_only,
                         default_month=last, started=request.query_params.get("started", ""))

    async def render_report(self, request: Request, session: Session) -> Response:
        """Render one month's report now, in a thread, through the same code as `provdc report`
        (reports.publish); its slot under STATE/runs/report carries a run.json like a scheduled run's."""
        lang_ui = _lang(request)
        if not allowed(session.role, "render_report") or self.config.read_only:
            self.accounts.record(session.user, "render_report_refused", "", self.client(request))
            return self.page(request, "error.html.j2", session, status=403, message=t("forbidden", lang_ui))
        form = await request.form()
        month, lang, fmt = str(form.get("month", "")), str(form.get("lang", "vi")), str(form.get("format", "html"))
        problem = None
        if lang not in LANGS or fmt not in ("html", "pdf"):
            problem = t("render_bad_choice", lang_ui)
        else:
            try:
                period = Period.parse(month, None, None)
            except ValueError:
                problem = t("render_month_form", lang_ui)     # Period's own message names the CLI's --month
            else:
                if period.start > datetime.now(timezone.utc):
                    problem = t("render_future", lang_ui)
        if problem is not None:
            self.accounts.record(session.user, "render_report_rejected", f"{month[:20]!r}: {problem}", self.client(request))
            return self.reports(request, session, status=422, error=f"{t('render_bad_month', lang_ui)}: {problem}")
        if any(w.is_alive() for w in self.renders):     # one at a time: each is a month of Prometheus queries
            return self.reports(request, session, status=409, error=t("render_busy", lang_ui))
        self.renders = [w for w in self.renders if w.is_alive()]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        slot = self.config.state / "runs" / "report" / f"console-{month}-{lang}-{stamp}"
        slot.mkdir(parents=True, exist_ok=True)
        record = {"job": "report", "source": "console", "user": session.user, "period": month, "lang": lang,
                  "format": fmt, "status": "running", "started": datetime.now(timezone.utc).isoformat()}
        _write_record(slot / "run.json", record)
        self.accounts.record(session.user, "render_report", f"{month} {lang} {fmt} -> {slot.name}", self.client(request))
        worker = threading.Thread(target=self._render, args=(slot, record, period, lang, fmt), daemon=True)
        worker.start()
        self.renders.append(worker)
        return RedirectResponse(f"/reports?started={slot.name}", status_code=303)

    def _render(self, slot: Path, record: dict, period: Period, lang: str, fmt: str) -> None:
        try:
            if not self.config.prometheus:
                raise ProvdcError("no Prometheus configured (--prometheus): nothing to compute availability from")
            audits = self.config.state / "audits"
            audit = audits if audits.is_dir() and any(audits.glob("audit-*.json")) else None
            files = publish.write([(self.store.inventory(), self.config.prometheus, str(self.config.inventory))],
                                  period, audit, lang, fmt, slot)
            record.update(status="ok", detail=", ".join(f.name for f in files))
        except ProvdcError as exc:
            record.update(status="failed", detail=str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken render is recorded as failed, the console goes on
            record.update(status="failed", detail=f"{type(exc).__name__}: {exc}")
        record["finished"] = datetime.now(timezone.utc).isoformat()
        _write_record(slot / "run.json", record)

    def report_file(self, request: Request, session: Session) -> Response:
        root = (self.config.state / "runs" / "report").resolve()
        target = (root / request.path_params["slot"] / request.path_params["name"]).resolve()
        if root not in target.parents or not target.is_file():
            return self.page(request, "error.html.j2", session, status=404, message=t("not_found", _lang(request)))
        self.accounts.record(session.user, "download_report", str(target.relative_to(root)), self.client(request))
        return FileResponse(target, filename=target.name)

    def activity(self, request: Request, session: Session) -> Response:
        if not allowed(session.role, "manage_users"):
            return self.page(request, "error.html.j2", session, status=403, message=t("forbidden", _lang(request)))
        return self.page(request, "activity.html.j2", session, entries=self.accounts.audit_log())


# ------------------------------------------------------------------- the guard and the app

def _guarded(console: Console, handler, post: bool = False):
    """Session required; for a POST, the session's CSRF token too."""
    async def endpoint(request: Request) -> Response:
        session = console.session(request)
        if session is None:
            if request.method == "GET":
                return RedirectResponse("/login", status_code=303)
            return PlainTextResponse("401: log in first\n", status_code=401)
        if post:
            form = await request.form()
            if not hmac.compare_digest(session.csrf, str(form.get("csrf", ""))):
                console.accounts.record(session.user, "csrf_refused", request.url.path, console.client(request))
                return PlainTextResponse(t("csrf_refused", _lang(request)), status_code=403)
            return await handler(request, session)
        from starlette.concurrency import run_in_threadpool
        return await run_in_threadpool(handler, request, session)
    return endpoint


class SecurityHeaders:
    """CSP without scripts, no framing, no sniffing, no caching of pages, HSTS."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"strict-transport-security", b"max-age=31536000")]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)
        await self.app(scope, receive, send_with_headers)


def create_app(config: Config) -> Starlette:
    c = Console(config)
    g = lambda handler, post=False: _guarded(c, handler, post)  # noqa: E731 - a table of routes reads better
    routes = [
        Route("/health", c.health),
        Route("/login", c.login_form, methods=["GET"]),
        Route("/login", c.login, methods=["POST"]),
        Route("/logout", g(c.logout, post=True), methods=["POST"]),
        Route("/", g(c.overview)),
        Route("/topology", g(c.topology_page)),
        Route("/systems", g(c.systems)),
        Route("/systems/{ident}", g(c.system), methods=["GET"]),
        Route("/systems/{ident}/evidence", g(c.record_evidence, post=True), methods=["POST"]),
        Route("/systems/{ident}/waiver", g(c.approve_waiver, post=True), methods=["POST"]),
        Route("/links", g(c.links)),
        Route("/links/{ident}", g(c.link)),
        Route("/agencies", g(c.agencies)),
        Route("/agencies/{ident}", g(c.agency)),
        Route("/audits", g(c.audits)),
        Route("/reports", g(c.reports), methods=["GET"]),
        Route("/reports/render", g(c.render_report, post=True), methods=["POST"]),
        Route("/reports/{slot}/{name}", g(c.report_file)),
        Route("/activity", g(c.activity)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.console = c
    app.add_middleware(SecurityHeaders)
    return app
