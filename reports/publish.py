"""The monthly report, end to end: collect each province from its Prometheus (this period and the
previous month, for the trend), render, write. The one path both `provdc report` and the console's
"render this period now" take."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from provdc.inventory import Inventory
from provdc.reports import collect, render
from provdc.reports.compute import Period


def write(sources: list[tuple[Inventory, str, str]], period: Period, audit: Path | None, lang: str, fmt: str, out: Path,
          step: float | None = None,
          status: Callable[[str], contextlib.AbstractContextManager] = lambda _: contextlib.nullcontext()) -> list[Path]:
    """`sources`: (inventory, its Prometheus URL, how to name it in progress messages); returns the files written."""
    reports = []
    for inv, url, label in sources:
        with status(f"querying {url} for {label}"):
            reports.append(collect.collect(inv, url, period, audit, step, previous=True))
    return render.write(reports, fmt, lang, out)
