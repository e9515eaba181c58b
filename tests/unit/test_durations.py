"""One duration parser, each program's own grammar: systemd.time(7) and Prometheus durations."""

from __future__ import annotations

import pytest

from provdc.checks.facts import parse_retention
from provdc.durations import DurationError, parse_duration

DAY = 86400.0

# every unit systemd.time(7) lists, with what systemd makes of it (seconds)
SYSTEMD = [("7", 7), ("7s", 7), ("7sec", 7), ("7second", 7), ("7seconds", 7),
           ("500ms", 0.5), ("500msec", 0.5), ("10us", 1e-5), ("10usec", 1e-5), ("10µs", 1e-5),
           ("3m", 180), ("3min", 180), ("3minute", 180), ("3minutes", 180),
           ("2h", 7200), ("2hr", 7200), ("2hour", 7200), ("2hours", 7200),
           ("90d", 90 * DAY), ("90day", 90 * DAY), ("90days", 90 * DAY),
           ("2w", 14 * DAY), ("2week", 14 * DAY), ("2weeks", 14 * DAY),
           ("3M", 3 * 2629800), ("3month", 3 * 2629800), ("3months", 3 * 2629800),
           ("1y", 31557600), ("1year", 31557600), ("1years", 31557600),
           ("1h 30min", 5400), ("2weeks5d", 19 * DAY), ("1.5h", 5400), ("  12 day ", 12 * DAY)]


@pytest.mark.parametrize("text,seconds", SYSTEMD)
def test_systemd_time_spans(text, seconds):
    assert parse_duration(text, "systemd") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["3mo", "infinity", "", "abc", "3 parsecs", "1h30x"])
def test_systemd_rejects_what_systemd_rejects(text):
    with pytest.raises(DurationError):
        parse_duration(text, "systemd")


def test_prometheus_durations():
    assert parse_duration("1s600ms", "prometheus") == pytest.approx(1.6)
    assert parse_duration("1m30s", "prometheus") == 90 and parse_duration("400d", "prometheus") == 400 * DAY
    for bad in ("", "1.5s", "90", "1M"):
        with pytest.raises(DurationError):
            parse_duration(bad, "prometheus")


def test_three_minutes_of_journal_is_not_a_quarter_of_logs():
    """The false PASS of the old parser: systemd's `m` is minutes, not months."""
    def journald(value):
        return ["--- /etc/systemd/journald.conf", "[Journal]", f"MaxRetentionSec={value}"]

    assert parse_retention(journald("3m"), [])["journal_days"] == pytest.approx(3 * 60 / DAY)
    assert parse_retention(journald("3M"), [])["journal_days"] == pytest.approx(91.3125)
    assert parse_retention(journald("bogus"), [])["journal_days"] is None


def _systemd_says(text: str) -> float | None:
    """What systemd itself makes of a time span (systemd-analyze timespan), in seconds."""
    import subprocess

    r = subprocess.run(["systemd-analyze", "timespan", text], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    micro = next(line.split(":", 1)[1] for line in r.stdout.splitlines() if line.strip().startswith("μs:"))
    return int(micro) / 1e6


@pytest.mark.parametrize("text,seconds", SYSTEMD)
def test_the_parser_agrees_with_systemd_itself(text, seconds):
    assert _systemd_says(text) == pytest.approx(parse_duration(text, "systemd"))


@pytest.mark.parametrize("text", ["3mo", "abc", "3 parsecs", "1h30x"])
def test_systemd_itself_rejects_them_too(text):
    assert _systemd_says(text) is None
