"""The real monitoring stack (Prometheus, blackbox_exporter, snmp_exporter, our exporter) scraping
the lab twin: uptime probes, the availability SLI, link utilisation against contract."""

from __future__ import annotations

import subprocess
import urllib.request

import pytest

from provdc.exporters import stack
from provdc.lab import faults
from tests.conftest import LAB_INVENTORY

pytestmark = pytest.mark.twin

from tests.integration.conftest import INTERVAL, SETTINGS, _value, _wait  # noqa: E402

SERVICE_JOBS = ("blackbox_tcp", "blackbox_tls", "blackbox_ssh", "blackbox_http", "blackbox_https")


def test_every_declared_service_target_is_up(monitoring, lab_inventory):
    jobs = "|".join(SERVICE_JOBS)
    declared = sum(1 for s in lab_inventory.doc.servers for svc in s.services
                   if svc.proto == "tcp" and svc.kind != "node_exporter")
    _wait(lambda: _value(monitoring, f'count(probe_success{{job=~"{jobs}"}} == 1)') == declared, 20, "all services up")
    assert _value(monitoring, f'count(probe_success{{job=~"{jobs}"}})') == declared
    # each target's first scrape comes at its own offset within the interval: wait for all
    _wait(lambda: _value(monitoring, 'count(up{job="node"} == 1)') == len(lab_inventory.servers), 10, "node exporters up")
    _wait(lambda: _value(monitoring, 'count(up{job="snmp"} == 1)') == 2, 10, "snmp targets up")
    health = stack.target_health(monitoring)
    assert all(t["health"] == "up" for t in health), [t for t in health if t["health"] != "up"]


def test_stopped_host_probes_fail_within_two_scrape_intervals_and_the_sli_drops(monitoring, lab):
    _wait(lambda: _value(monitoring, 'provdc:system_availability:sli{system="qlvb"}') == 1, 40, "qlvb SLI at 1")
    faults.stop_host(lab, "docs-app1")
    try:
        took = _wait(lambda: _value(monitoring, 'max(probe_success{server="docs-app1"})') == 0, 10, "probes at 0", step=0.2)
        assert took <= 2 * INTERVAL + 1, took  # +1 s for the query itself and rule evaluation lag
        _wait(lambda: _value(monitoring, 'provdc:system_availability:sli{system="qlvb"}') < 1, 10, "qlvb SLI drops")
        assert _value(monitoring, 'provdc:system_availability:sli{system="portal"}') == 1  # other systems unaffected
    finally:
        faults.start_host(lab, "docs-app1")
    _wait(lambda: _value(monitoring, 'min(probe_success{server="docs-app1"})') == 1, 15, "probes back at 1")


def test_saturated_wan_link_shows_its_utilisation_against_contract(monitoring, lab):
    # 12 s of flood: the 8 s rate window and the rule evaluation after it lie inside it
    faults.saturate(lab, "wan-xa-dong-son", seconds=12)
    ratio = _value(monitoring, 'provdc:link_utilisation:ratio{link="wan-xa-dong-son",direction="a_to_b"}')
    assert 0.9 <= ratio <= 1.05, ratio  # the flood keeps the shaper full; counters jitter a little
    assert _value(monitoring, 'provdc:link_utilisation:max_ratio{link="wan-xa-dong-son"}') == pytest.approx(ratio)
    assert _value(monitoring, 'provdc:link_utilisation:ratio{link="wan-ubnd-tinh",direction="a_to_b"}') < 0.1
    assert _value(monitoring, 'provdc:link_up{link="wan-xa-dong-son"}') == 1


def test_our_exposition_passes_promtool(monitoring):
    url = f"http://{SETTINGS.listen_host}:{SETTINGS.exporter_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback
        text = r.read().decode()
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _value(monitoring, "provdc_up") == 1


def test_up_twice_is_refused(monitoring):
    with pytest.raises(stack.MonitorError, match="already running"):
        stack.up(LAB_INVENTORY, monitoring.run_dir, SETTINGS)
