"""Durations as the programs that wrote them mean them: one parser, two grammars.

* `systemd` (systemd.time(7)): journald's MaxRetentionSec and friends. A bare number is seconds;
  components may follow each other with or without spaces ("1h 30min", "2weeks5d"). `m` is
  minutes, `M` and `month` are 30.44 days, `y` 365.25 days, exactly as systemd computes them.
* `prometheus`: the API's compound durations ("1s600ms", "1m30s"); `y` is 365 days.

Reading `3m` as three months would judge a three-minute journal as a quarter's logs: the grammar
is never guessed.
"""

from __future__ import annotations

import re

SYSTEMD_UNITS = {
    **dict.fromkeys(("usec", "us", "µs", "μs"), 1e-6),
    **dict.fromkeys(("msec", "ms"), 1e-3),
    **dict.fromkeys(("seconds", "second", "sec", "s", ""), 1.0),
    **dict.fromkeys(("minutes", "minute", "min", "m"), 60.0),
    **dict.fromkeys(("hours", "hour", "hr", "h"), 3600.0),
    **dict.fromkeys(("days", "day", "d"), 86400.0),
    **dict.fromkeys(("weeks", "week", "w"), 604800.0),
    **dict.fromkeys(("months", "month", "M"), 2629800.0),     # 30.44 days
    **dict.fromkeys(("years", "year", "y"), 31557600.0),      # 365.25 days
}
PROMETHEUS_UNITS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}

_SYSTEMD_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Zµμ]*)")
_PROMETHEUS_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


class DurationError(ValueError):
    """Text that is not a duration of the grammar."""


def _parse_systemd(text: str) -> float:
    stripped = text.strip()
    if stripped in ("", "infinity"):
        raise DurationError(f"not a finite systemd time span: {text!r}")
    total, pos = 0.0, 0
    while pos < len(stripped):
        m = _SYSTEMD_PART.match(stripped, pos)
        # units are case-sensitive (M is months, m minutes) and must be known
        if not m or m.end() == pos or m.group(2) not in SYSTEMD_UNITS:
            raise DurationError(f"not a systemd time span: {text!r}")
        total += float(m.group(1)) * SYSTEMD_UNITS[m.group(2)]
        pos = m.end()
        while pos < len(stripped) and stripped[pos].isspace():
            pos += 1
    return total


def _parse_prometheus(text: str) -> float:
    parts = list(_PROMETHEUS_PART.finditer(text or ""))
    if not parts or "".join(m.group(0) for m in parts) != text:
        raise DurationError(f"not a Prometheus duration: {text!r}")
    return sum(int(m.group(1)) * PROMETHEUS_UNITS[m.group(2)] for m in parts)


def parse_duration(text: str, grammar: str) -> float:
    """Seconds in `text`, read with `grammar` ("systemd" or "prometheus"); DurationError if not one."""
    if grammar == "systemd":
        return _parse_systemd(text)
    if grammar == "prometheus":
        return _parse_prometheus(text)
    raise ValueError(f"unknown duration grammar {grammar!r}")
