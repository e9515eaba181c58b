"""A minimal client for the Prometheus HTTP API (instant and range queries, targets)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from provdc.errors import ProvdcError


class PrometheusError(ProvdcError):
    """Prometheus could not be reached or rejected a query."""


def api(base_url: str, path: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    url = f"{base_url.rstrip('/')}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - URL built from config
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise PrometheusError(f"{base_url}{path}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {getattr(exc, 'reason', exc)}") from None
    if body.get("status") != "success":
        raise PrometheusError(f"{path}: {body.get('error', 'query failed')}")
    return body["data"]


# A report's query may take as long as Prometheus lets it (its --query.timeout defaults to 2
# minutes): a month of 300 targets is seconds of work per query, longer side by side on a busy server.
QUERY_TIMEOUT = 120.0


def query(base_url: str, expr: str, at: float | None = None, timeout: float = 30) -> list[dict[str, Any]]:
    """Instant vector: [{"metric": {...}, "value": [ts, "v"]}, ...]. A live view keeps the short
    default; a report's query over a whole period passes QUERY_TIMEOUT."""
    params = {"query": expr, **({"time": at} if at is not None else {})}
    return api(base_url, "/api/v1/query", params, timeout)["result"]


def query_range(base_url: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    """Range matrix: [{"metric": {...}, "values": [[ts, "v"], ...]}, ...]."""
    return api(base_url, "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step},
               QUERY_TIMEOUT)["result"]


def scalar_by(results: list[dict[str, Any]], label: str) -> dict[str, float]:
    """{label value: float} from an instant vector."""
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in results}


def targets(base_url: str) -> list[dict[str, Any]]:
    return api(base_url, "/api/v1/targets", {"state": "active"})["activeTargets"]
