"""Recorded Prometheus API responses, served from loopback by a tiny fake Prometheus."""

from __future__ import annotations

import json
import threading
import urllib.parse
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from provdc.reports.compute import VN, Period

# A 10-minute period cut into 1-minute buckets; the scrape interval is 15 s (4 probes/bucket).
# It straddles the start of the portal's maintenance window (14/11 22:00-23:30): buckets 0-4
# are before it, buckets 5-9 inside it.
PERIOD = Period(datetime(2026, 11, 14, 21, 55, tzinfo=VN), datetime(2026, 11, 14, 22, 5, tzinfo=VN))
T0 = PERIOD.start.timestamp()
TIMES = [T0 + 60 * (i + 1) for i in range(10)]
PORTAL = {"job": "blackbox_https", "instance": "https://10.99.10.11:443/", "server": "portal-web1", "service": "https",
          "systems": ",portal,"}
DB = {"job": "blackbox_tcp", "instance": "10.99.30.11:5432", "server": "db1", "service": "postgresql", "systems": ",portal,mcdt,"}
AGENCY = {"job": "blackbox_icmp", "instance": "10.99.100.10", "agency": "ubnd-xa-dong-son"}


def matrix(series: list[tuple[dict, list[float | None]]]) -> dict:
    return {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t, str(v)] for t, v in zip(TIMES, values) if v is not None]} for labels, values in series]}


# portal-web1: bucket 4 half failed; bucket 6 not measured at all (a gap)
# db1: all fine except bucket 8 fully failed; the inventory's maintenance window does not cover it
RECORDED = {
    "avg_over_time": matrix([(PORTAL, [1, 1, 1, 1, .5, 1, None, 1, 1, 1]), (DB, [1, 1, 1, 1, 1, 1, 1, 1, 0, 1]),
                             (AGENCY, [1] * 10)]),
    "count_over_time": matrix([(PORTAL, [4, 4, 4, 4, 4, 4, None, 4, 4, 4]), (DB, [4] * 10), (AGENCY, [4] * 10)]),
    "@": {"resultType": "vector", "result": [{"metric": PORTAL, "value": [T0 + 600, "0.944"]}]},
    "rate": matrix([({"link": "wan-xa-dong-son", "direction": "a_to_b"}, [25_000.0 * (i + 1) for i in range(10)]),
                    ({"link": "wan-xa-dong-son", "direction": "b_to_a"}, [1000.0] * 10)]),
    "targets": {"activeTargets": [{"labels": {"job": j}, "scrapeInterval": "15s"}
                                  for j in ("blackbox_https", "blackbox_tcp", "blackbox_icmp", "snmp")]},
}


QUERIES: list[str] = []  # the link-load queries the report made


class FakePrometheus(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        if url.path.endswith("/targets"):
            data = RECORDED["targets"]
        elif "provdc:link_octets:total" in q:
            QUERIES.append(q)
            data = RECORDED["rate"]
        elif " @ " in q:
            data = RECORDED["@"]
        else:
            data = RECORDED["count_over_time" if q.startswith("count_over_time") else "avg_over_time"]
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


