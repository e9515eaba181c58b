"""`provdc national`: the centre's view of many provinces (roll-up report, runs fanned out)."""

from __future__ import annotations

from pathlib import Path

import click

from provdc.commands.common import err, out
from provdc.commands.report import _period


@click.group()
def national() -> None:
    """The national level: a ministry (or a province with many sites) over many provdc provinces.

    \b
    Each province keeps its own Prometheus and runs its own provisioning and audits; the centre
    federates only the `province:...` aggregates and reads those:
      provdc monitor config --national NATIONAL.yaml --out DIR   the federating Prometheus
      provdc national report NATIONAL.yaml --prometheus URL ...   roll-up from the federated data
    """


@national.command("report")
@click.argument("national_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="NATIONAL.yaml")
@click.option("--prometheus", "url", required=True, metavar="URL", help="The national (federating) Prometheus.")
@click.option("--month", help="Calendar month YYYY-MM (Vietnam time).")
@click.option("--from", "date_from", help="Start (ISO date or time).")
@click.option("--to", "date_to", help="End (ISO date or time).")
@click.option("--step", type=float, help="Bucket length in seconds (default 300 for a day or more); must divide the period.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "json"]), default="html", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports-out"), show_default=True)
def national_report(national_file: Path, url: str, month: str | None, date_from: str | None, date_to: str | None,
                    step: float | None, lang: str, fmt: str, out_dir: Path) -> None:
    """National roll-up: a summary page and one page per province of NATIONAL.yaml, from the
    aggregates federated at URL (availability and coverage per system, link load and its
    7-day p95, audit scores per layer and level, monitoring job health).

    A province that sends nothing shows as not reporting, never as 100 %.

    \b
      provdc national report national.yaml --prometheus http://127.0.0.1:9090 --month 2026-11
    """
    from provdc.exporters.national import load_national
    from provdc.reports import national as rollup

    nat = load_national(national_file)
    period = _period(month, date_from, date_to)
    with err.status(f"querying {url} for {len(nat.provinces)} provinces"):
        report = rollup.collect(nat, url, period, step)
    for f in rollup.write(report, fmt, lang, out_dir):
        out.print(f"wrote {f}")
    silent = [p.province for p in report.provinces if not p.reporting]
    if silent:
        err.print(f"[yellow]not reporting:[/] {', '.join(silent)}")
