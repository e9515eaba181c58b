"""Recorded Prometheus API responses, served from loopback by a tiny fake Prometheus."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
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
    # bits/s, as the report's expression (8 * rate(...)) answers: 200 kbit/s .. 2 Mbit/s, and 8 kbit/s
    "rate": matrix([({"link": "wan-xa-dong-son", "direction": "a_to_b"}, [200_000.0 * (i + 1) for i in range(10)]),
                    ({"link": "wan-xa-dong-son", "direction": "b_to_a"}, [8000.0] * 10)]),
    "targets": {"activeTargets": [{"labels": {"job": j}, "scrapeInterval": "15s"}
                                  for j in ("blackbox_https", "blackbox_tcp", "blackbox_icmp", "snmp")]},
}


QUERIES: list[str] = []  # the link-load queries the report made


SLI = re.compile(r'systems=~"\.\*,([a-z0-9-]+),\.\*"\}\[(\d+)ms\]')
DIVISOR = re.compile(r"\) / (\d+), 1\)")


def system_series(q: str, params: dict, shares: dict, counts: dict) -> dict:
    """What Prometheus answers to the report's system SLI subqueries (exporters/national.py
    system_sli_expr and system_coverage_expr, see reports/collect.py system_sli_buckets), worked
    out from the per-bucket target data: the SLI is the least share among the system's recorded
    targets; coverage the recorded share of the expected probes (whole where a failure was
    seen), summed over the windows of a bucket (step / window of them)."""
    sid, window_ms = SLI.search(q).group(1), int(SLI.search(q).group(2))
    per_bucket = float(params["step"][0]) * 1000 / window_ms        # SLI windows in a bucket
    count_of = {json.dumps(labels, sort_keys=True): dict(values) for labels, values in counts["result"]}
    mine = [(dict(values), count_of.get(json.dumps(labels, sort_keys=True), {}))
            for labels, values in shares["result"] if f",{sid}," in labels.get("systems", "")]
    out = []
    for t in sorted({t for values, _ in mine for t in values}):
        present = [(float(values[t]), float(counted.get(t, 0))) for values, counted in mine if t in values]
        if q.startswith("sum_over_time") and min(v for v, _ in present) < 1:
            out.append([t, str(per_bucket)])          # a failure seen: the windows are measured whole
        elif q.startswith("sum_over_time"):
            per_window = sum(c for _, c in present) / per_bucket
            out.append([t, str(per_bucket * min(1.0, per_window / int(DIVISOR.search(q).group(1))))])
        else:
            out.append([t, str(min(v for v, _ in present))])
    return {"resultType": "matrix", "result": [{"metric": {}, "values": out}] if out else []}


def answer(path: str, q: str, params: dict, recorded: dict) -> dict:
    """The fake Prometheus' answer to one API call, from `recorded` (keys as RECORDED's)."""
    if path.endswith("/targets"):
        return recorded["targets"]
    if path.endswith("/rules"):
        return {"groups": []}                      # no provdc rules loaded: the SLI is evaluated on demand
    if "province:" in q:
        return {"resultType": "vector", "result": []}
    for series, key in (("provdc:link_rate_interval:seconds", "link_rate_interval"),
                        ("provdc:probe_count_interval:seconds", "probe_count_interval")):
        if series in q:   # a record group's interval series: (its value, samples)
            return _interval_answer(q, recorded.get(key))
    if "provdc:link" in q:
        QUERIES.append(q)
        # the instant summaries of recorded rates (count, mean, peak, p95) are not recorded here
        return recorded["rate"] if path.endswith("query_range") else {"resultType": "vector", "result": []}
    if " @ " in q:
        return recorded["@"]
    if "min(avg_over_time(" in q or "clamp_max(sum(count_over_time(" in q:
        return system_series(q, params, _pairs(recorded["avg_over_time"]), _pairs(recorded["count_over_time"]))
    data = recorded["count_over_time" if q.startswith("count_over_time") else "avg_over_time"]
    if q.endswith(" < 1"):   # as Prometheus filters: only the points below 1, only series left with one
        rows = [{**r, "values": [p for p in r["values"] if float(p[1]) < 1]} for r in data["result"]]
        data = {**data, "result": [r for r in rows if r["values"]]}
    return data


def _interval_answer(q: str, recorded: tuple[float, int] | None) -> dict:
    if recorded is None:
        return {"resultType": "vector", "result": []}          # no rules ran
    value, count = recorded
    return {"resultType": "vector", "result": [{"metric": {}, "value": [TIMES[-1], str(
        count if q.startswith("count_over_time") else value)]}]}


def _pairs(data: dict) -> dict:
    """A matrix as [(labels, [[t, v], ...]), ...], the form system_series reads."""
    return {"result": [(r["metric"], [(t, v) for t, v in r["values"]]) for r in data["result"]]}


def serve(recorded: dict) -> ThreadingHTTPServer:
    """A loopback fake Prometheus answering from `recorded`."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            url = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(url.query)
            data = answer(url.path, params.get("query", [""])[0], params, recorded)
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # a quick shutdown
    return server


@contextmanager
def served(recorded: dict) -> Iterator[str]:
    """The fake Prometheus' address while the block runs."""
    server = serve(recorded)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus():
    with served(RECORDED) as url:
        yield url
