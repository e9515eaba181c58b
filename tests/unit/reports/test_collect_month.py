"""Calendar months through recorded API responses: February (28 days) and January (31 days),
5-minute buckets, one hour down in each, checked by hand against the month length."""

from __future__ import annotations

import pytest

from provdc.exporters.national import targets_per_system
from provdc.reports import collect
from provdc.reports.compute import Period
from tests.unit.reports.conftest import serve

LABELS = {"job": "blackbox_tcp", "instance": "10.99.20.13:8443", "server": "lgsp1", "service": "lgsp-api", "systems": ",lgsp,"}


def serve_month(period: Period, inv):
    """Every one of lgsp's declared targets (six in the lab inventory) down for the same hour."""
    step = 300
    times = [period.start.timestamp() + step * (i + 1) for i in range(int(period.seconds // step))]
    down = set(times[100:112])  # 12 buckets = one hour
    targets = [{**LABELS, "instance": f"10.99.20.13:{8443 + n}"} for n in range(targets_per_system(inv)["lgsp"])]
    shares = {"resultType": "matrix", "result": [{"metric": t, "values": [[x, "0" if x in down else "1"] for x in times]}
                                                 for t in targets]}
    counts = {"resultType": "matrix", "result": [{"metric": t, "values": [[x, "20"] for x in times]} for t in targets]}
    empty = {"resultType": "matrix", "result": []}
    return serve({"targets": {"activeTargets": [{"labels": {"job": "blackbox_tcp"}, "scrapeInterval": "15s"}]},
                  "avg_over_time": shares, "count_over_time": counts, "rate": empty,
                  "@": {"resultType": "vector", "result": []}})


@pytest.mark.parametrize("year,month,days", [(2026, 2, 28), (2026, 1, 31)])
def test_one_hour_down_in_a_calendar_month(lab_inventory, year, month, days):
    period = Period.month(year, month)
    server = serve_month(period, lab_inventory)
    try:
        systems, _ = collect.uptime(lab_inventory, f"http://127.0.0.1:{server.server_port}", period, collect.pick_step(period))
    finally:
        server.shutdown()
        server.server_close()
    lgsp = next(s for s in systems if s.id == "lgsp")
    assert collect.pick_step(period) == 300
    assert lgsp.result.availability == pytest.approx(1 - 3600 / (days * 86400))  # 99.8512 % / 99.8656 %
    assert lgsp.result.downtime_minutes == pytest.approx(60)
    assert lgsp.result.coverage == pytest.approx(1.0)
    assert len(lgsp.result.incidents) == 1 and lgsp.result.incidents[0].minutes == pytest.approx(60)
    assert lgsp.met is False  # 99.9 % target
