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
