"""console/views.py: states from probes and utilisation, the audit filters (pure, offline)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from provdc.checks.results import Finding, Status
from provdc.console import views
from provdc.console.live import Live, month_to_date


def test_a_system_is_down_when_any_server_is_down_and_up_only_when_all_are_measured_up():
    states = {"a": "up", "b": "down", "c": "unknown"}
    assert views.system_state(["a", "b"], states) == "down"
    assert views.system_state(["a"], states) == "up"
    assert views.system_state(["a", "c"], states) == "unknown"
    assert views.system_state([], states) == "unknown"


def test_probe_values_become_states_and_links_over_ninety_percent_warn(site):
    from provdc.inventory import load_inventory

    inv = load_inventory(site.inventory)
    live = Live(taken=datetime.now(timezone.utc), probes={"portal-web1": 1.0, "portal-web2": 0.0},
                link_now={("wan-xa-dong-son", "a_to_b"): 0.96, ("wan-so-khcn", "a_to_b"): 0.2, ("nope", "a_to_b"): 5.0})
    states = views.status_map(inv, live)
    assert states["portal-web1"] == "up" and states["portal-web2"] == "down" and states["db1"] == "unknown"
    assert states["portal"] == "down"
    assert states["wan-xa-dong-son"] == "warn" and states["wan-so-khcn"] == "up" and states["inet-domestic"] == "unknown"
    assert ("nope", "a_to_b") not in views.utilisation_now(inv, live)


def test_audit_filters_combine_and_a_hosts_level_is_its_systems(site):
    from provdc.inventory import load_inventory

    inv = load_inventory(site.inventory)
    f = [Finding(check="x", layer="host", severity="high", status=Status.FAIL, host="docs-app1"),
         Finding(check="y", layer="governance", severity="low", status=Status.PASS, system="portal"),
         Finding(check="z", layer="host", severity="low", status=Status.PASS, host="portal-web1")]
    assert [x.check for x in views.filter_findings(f, inv, layer="host")] == ["x", "z"]
    assert [x.check for x in views.filter_findings(f, inv, level="2")] == ["x"]           # qlvb is level 2
    assert [x.check for x in views.filter_findings(f, inv, system="portal")] == ["y", "z"]
    assert [x.check for x in views.filter_findings(f, inv, status="PASS", host="portal-web1")] == ["z"]


def test_deadlines_are_soonest_first_and_month_to_date_starts_in_vietnam_time(site):
    from provdc.inventory import load_inventory

    inv = load_inventory(site.inventory)
    got = views.deadlines(inv, None, date(2026, 12, 2))
    assert got and [d.when for d in got] == sorted(d.when for d in got)
    period = month_to_date(datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc))    # 01:00 on 1 Dec in Vietnam
    assert period.start.isoformat() == "2026-12-01T00:00:00+07:00"


def test_certificates_from_the_probes_join_the_deadlines_with_days_left(site):
    from provdc.console.live import certificates_from
    from provdc.inventory import load_inventory

    expiry = datetime(2026, 12, 20, 3, 0, tzinfo=timezone.utc).timestamp()
    results = [{"metric": {"server": "portal-web1", "service": "https", "instance": "10.0.0.1:443"}, "value": [0, str(expiry)]},
               {"metric": {"server": "portal-web1", "service": "https", "instance": "10.0.0.2:443"},
                "value": [0, str(expiry + 86400 * 30)]},
               {"metric": {"instance": "10.9.9.9:443"}, "value": [0, str(expiry + 86400)]}]
    certs = certificates_from(results)
    assert certs == {"portal-web1 · https": datetime(2026, 12, 20, 3, 0, tzinfo=timezone.utc),
                     "10.9.9.9:443": datetime(2026, 12, 21, 3, 0, tzinfo=timezone.utc)}
    inv = load_inventory(site.inventory)
    got = views.deadlines(inv, None, date(2026, 12, 2), limit=100, certificates=certs)
    mine = [d for d in got if d.what == "certificate_expiry"]
    assert [(d.subject, d.days_left) for d in mine] == [("portal-web1 · https", 18), ("10.9.9.9:443", 19)]
    assert [d.when for d in got] == sorted(d.when for d in got)


def test_the_overview_lists_certificates_beside_the_other_deadlines(running, kit, monkeypatch):
    from provdc.console import live

    real = live.snapshot

    def snapshot(inv, url, now=None):
        got = real(inv, url, now)
        got.certificates = {"portal-web1 · <b>https</b>": datetime(2027, 1, 5, tzinfo=timezone.utc)}
        return got
    monkeypatch.setattr(live, "snapshot", snapshot)
    with running.client() as c:
        kit.login(c, "guest")
        page = c.get("/?lang=en").text
    table = page[page.index('id="deadlines"'):].split("</table>")[0]
    assert "TLS certificate expiry" in table and "portal-web1 · &lt;b&gt;https&lt;/b&gt;" in table


def _sa(ident: str, availability: float | None, target: float = 99.5):
    from provdc.reports.collect import SystemAvailability
    from provdc.reports.compute import Availability

    result = Availability(availability, 1.0 if availability is not None else 0.0, 0.0, 0.0, 0.0)
    return SystemAvailability(ident, ident, 2, target, result, [], [], [])


def test_sla_history_months_are_calendar_months_in_vietnam_time_newest_first():
    from provdc.console.live import months_before

    got = months_before(datetime(2026, 12, 31, 18, 0, tzinfo=timezone.utc), 3)    # 1 Jan 2027 01:00 in Vietnam
    assert [p.start.strftime("%Y-%m") for p in got] == ["2026-12", "2026-11", "2026-10"]
    assert got[0].end.isoformat() == "2027-01-01T00:00:00+07:00"


def test_sla_history_rows_read_the_reports_availability_and_target():
    from provdc.console.live import history_rows

    months = [("2026-12", [_sa("portal", 0.9999)]), ("2026-11", [_sa("portal", 0.98), _sa("qlvb", 1.0)]),
              ("2026-10", [_sa("portal", None)]), ("2026-09", [])]
    rows = history_rows("portal", months, partial="2026-12")
    assert [(r.month, r.availability, r.met, r.partial) for r in rows] == [
        ("2026-12", 0.9999, True, True), ("2026-11", 0.98, False, False), ("2026-10", None, None, False)]
    assert all(r.target_percent == 99.5 for r in rows)


def test_sla_history_computes_each_closed_month_once_through_collect_uptime(site, monkeypatch):
    from provdc.console.live import SlaHistory
    from provdc.inventory import load_inventory
    from provdc.reports import collect

    calls = []

    def uptime(inv, url, period, step):
        calls.append(period.start.strftime("%Y-%m"))
        return [_sa(s.id, 0.999) for s in inv.doc.systems], []
    monkeypatch.setattr(collect, "uptime", uptime)
    inv = load_inventory(site.inventory)
    history = SlaHistory("http://127.0.0.1:9", months=3)
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    months, error = history.get(inv, now)
    assert error is None and [m for m, _ in months] == ["2026-11", "2026-10", "2026-09"]
    history.get(inv, now)
    assert calls == ["2026-11", "2026-10", "2026-09"]
    assert SlaHistory(None).get(inv, now) == ([], "no Prometheus configured (--prometheus)")


def test_the_system_page_shows_its_sla_history(running, kit, monkeypatch):
    from provdc.console import live

    monkeypatch.setattr(live.SlaHistory, "get", lambda self, inv, now=None: (
        [("2026-11", [_sa("portal", 0.98, 99.9)]), ("2026-10", [_sa("portal", 0.99995, 99.9)])], None))
    with running.client() as c:
        kit.login(c, "guest")
        page = c.get("/systems/portal?lang=en").text
    table = page[page.index('id="sla-history"'):].split("</table>")[0]
    assert "2026-11" in table and "98.000 %" in table and "Missed" in table and "Met" in table and "99.9 %" in table


def test_an_unreachable_prometheus_is_asked_once_not_once_per_month_and_page(site, monkeypatch):
    from provdc.console.live import SlaHistory
    from provdc.errors import ProvdcError
    from provdc.inventory import load_inventory
    from provdc.reports import collect

    calls = []

    def uptime(inv, url, period, step):
        calls.append(period)
        raise ProvdcError("Prometheus at http://127.0.0.1:9 did not answer")
    monkeypatch.setattr(collect, "uptime", uptime)
    inv = load_inventory(site.inventory)
    history = SlaHistory("http://127.0.0.1:9", months=6)
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert history.get(inv, now) == ([], "Prometheus at http://127.0.0.1:9 did not answer")
    assert history.get(inv, now)[1] == "Prometheus at http://127.0.0.1:9 did not answer"
    assert len(calls) == 1
