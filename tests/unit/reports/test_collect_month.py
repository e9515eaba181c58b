"""Calendar months through recorded API responses: February (28 days) and January (31 days),
5-minute buckets, one hour down in each, checked by hand against the month length."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from provdc.reports import collect
from provdc.reports.compute import Period

LABELS = {"job": "blackbox_tcp", "instance": "10.99.20.13:8443", "server": "lgsp1", "service": "lgsp-api", "systems": ",lgsp,"}


def serve_month(period: Period):
    step = 300
    times = [period.start.timestamp() + step * (i + 1) for i in range(int(period.seconds // step))]
    down = set(times[100:112])  # 12 buckets = one hour
    shares = {"resultType": "matrix", "result": [{"metric": LABELS, "values": [[t, "0" if t in down else "1"] for t in times]}]}
    counts = {"resultType": "matrix", "result": [{"metric": LABELS, "values": [[t, "20"] for t in times]}]}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query).get("query", [""])[0]
            if url.path.endswith("/targets"):
                data = {"activeTargets": [{"labels": {"job": "blackbox_tcp"}, "scrapeInterval": "15s"}]}
            elif " @ " in q or "provdc:link" in q:
                data = {"resultType": "vector" if " @ " in q else "matrix", "result": []}
            else:
                data = counts if q.startswith("count_over_time") else shares
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("year,month,days", [(2026, 2, 28), (2026, 1, 31)])
def test_one_hour_down_in_a_calendar_month(lab_inventory, year, month, days):
    period = Period.month(year, month)
    server = serve_month(period)
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
