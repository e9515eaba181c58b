"""`provdc report`: the monthly compliance report (the default), the yearly report and the
bandwidth registration (provdc/commands/paperwork.py)."""

from __future__ import annotations

from pathlib import Path

import click

from provdc.commands import paperwork
from provdc.commands.common import DefaultCommandGroup, err, out


class ReportGroup(DefaultCommandGroup):
    default_command = "monthly"


@click.group(cls=ReportGroup)
def report() -> None:
    """Reports: monthly (the default: `provdc report PATH ...`), yearly (Form 08) and
    bandwidth-needs (Circular 06/2026 Form 01).

    \b
      provdc report inventory/examples/lab --prometheus http://127.0.0.1:19090 --month 2026-11
      provdc report yearly inventory/examples/lab --year 2026 --audit audits/
      provdc report bandwidth-needs inventory/examples/lab --year 2027 --prometheus http://127.0.0.1:19090
    """


def _period(month: str | None, date_from: str | None, date_to: str | None):
    from provdc.reports.compute import Period

    try:
        return Period.parse(month, date_from, date_to)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@report.command("monthly")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="PATH...")
@click.option("--prometheus", "urls", multiple=True, required=True, metavar="URL",
              help="Prometheus to query: one for all provinces (federated), or one per PATH, in order.")
@click.option("--month", help="Calendar month YYYY-MM (Vietnam time).")
@click.option("--from", "date_from", help="Start (ISO date or time).")
@click.option("--to", "date_to", help="End (ISO date or time).")
@click.option("--audit", type=click.Path(exists=True, path_type=Path),
              help="Audit results (a file, or a directory whose newest run is used; the run before it gives the drift).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md", "json", "csv", "docx"]), default="html",
              show_default=True, help="pdf also keeps the html it was printed from; docx is the Word document to sign.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports-out"), show_default=True)
@click.option("--step", type=float, help="Bucket length in seconds (default: 300 for a day or more, finer for short periods).")
def monthly(paths: tuple[Path, ...], urls: tuple[str, ...], month: str | None, date_from: str | None, date_to: str | None,
           audit: Path | None, lang: str, fmt: str, out_dir: Path, step: float | None) -> None:
    """Monthly compliance report: uptime SLA, link load against contract, audit scores and the
    Directive 14 status, agency connectivity, in Vietnamese or English.

    \b
      provdc report inventory/examples/lab --prometheus http://127.0.0.1:19090 --month 2026-11
      provdc report hue/ soc-trang/ --prometheus http://fed:9090 --month 2026-11 --format pdf
    """
    from provdc.inventory import load_inventory
    from provdc.reports import publish as monthly_report

    if len(urls) not in (1, len(paths)):
        raise click.UsageError("give one --prometheus for all provinces, or one per PATH")
    period = _period(month, date_from, date_to)
    sources = [(load_inventory(path), urls[0] if len(urls) == 1 else urls[i], str(path)) for i, path in enumerate(paths)]
    files = monthly_report.write(sources, period, audit, lang, fmt, out_dir, step, status=err.status)
    for f in files:
        out.print(f"wrote {f}")


report.add_command(paperwork.yearly)
report.add_command(paperwork.bandwidth_needs)
