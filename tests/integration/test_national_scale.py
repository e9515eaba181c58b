"""Scale: 34 provincial Prometheus instances holding only aggregate series (a province's few
hundred `province:...` series, scraped from a synthetic source on loopback) and one national
instance federating all of them."""

from __future__ import annotations

import time

import pytest

from provdc.exporters import promapi
from provdc.lab import federation as F

PROVINCES, SYSTEMS, LINKS = 34, 20, 40
SERIES = SYSTEMS * 5 + LINKS * 2 * 4 + 5 * 2 + 4 * 2 + 2     # what aggregate_exposition writes per province


@pytest.fixture(scope="module")
def nation34(tmp_path_factory):
    fed = F.Federation(tmp_path_factory.mktemp("national34"))
    try:
        for k in range(1, PROVINCES + 1):
            fed.add_aggregate_province(f"tinh-{k:02d}", SYSTEMS, LINKS, interval="5s")
        fed.start_national({"scrape_interval": "5s", "evaluation_interval": "5s", "not_reporting_for": "10s"})
        yield fed
    finally:
        left = fed.stop()
        assert not left, f"processes would not stop: {left}"


def _wait_value(url: str, expr: str, want: float, timeout: float) -> float:
    deadline, got = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        rows = promapi.query(url, expr)
        got = float(rows[0]["value"][1]) if rows else None
        if got == want:
            return got
        time.sleep(0.5)
    return got


def test_34_provinces_federate_only_their_aggregates(nation34):
    url = nation34.national.url
    assert _wait_value(url, "count(count by (province) (province:reporting:up))", PROVINCES, 30) == PROVINCES
    rows = promapi.query(url, 'count by (province) ({__name__=~"province:.+"})')
    assert len(rows) == PROVINCES and {float(r["value"][1]) for r in rows} == {SERIES}
    assert promapi.query(url, 'count({__name__=~".+",__name__!~"province:.+|nation:.+|up|scrape_.+|ALERTS.*"})') == []
    assert promapi.query(url, 'count(up{job=~"federate_.+"} == 1)')[0]["value"][1] == str(PROVINCES)
    # the recording rule runs on its own schedule: the round after the last province arrived
    assert _wait_value(url, "nation:provinces_reporting:count", PROVINCES, 20) == PROVINCES
