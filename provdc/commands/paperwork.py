"""`provdc dossier`, `provdc report yearly`, `provdc report bandwidth-needs`: the documents the
authorities accept, in Word (.docx), PDF (LibreOffice from that .docx) or HTML."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import click

from provdc.commands.common import err, out

FORMAT = click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "html"]), default="docx", show_default=True,
                      help="pdf is converted by LibreOffice from the .docx, which is kept beside it.")
LANG = click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports-out"),
                   show_default=True)
INVENTORY = click.argument("path", type=click.Path(exists=True, path_type=Path))


def _runs(audit: Path | None) -> list:
    """Every audit run of a directory (or the one file), oldest first."""
    from provdc.checks.results import load_run

    if audit is None:
        return []
    files = sorted(audit.glob("audit-*.json")) if audit.is_dir() else [audit]
    try:
        return [load_run(f) for f in files]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _write(doc, fmt: str, out_dir: Path) -> None:
    from provdc.reports import documents

    with err.status(f"writing {doc.stem}.{fmt}"):
        files = documents.write(doc, fmt, out_dir)
    for f in files:
        out.print(f"wrote {f}")
    for flag in doc.flags():
        err.print(f"[yellow]not in the inventory:[/] {flag}", markup=True, highlight=False)


@click.command()
@INVENTORY
@click.option("--system", "system_id", required=True, metavar="ID", help="The system whose dossier is written.")
@click.option("--audit", type=click.Path(exists=True, path_type=Path),
              help="Audit results: a file, or a directory whose newest run gives each requirement's status.")
@FORMAT
@LANG
@OUT
def dossier(path: Path, system_id: str, audit: Path | None, fmt: str, lang: str, out_dir: Path) -> None:
    """The level dossier of one system: description, scope and scale, the topology diagram
    drawn from the inventory, devices and servers, the proposed level with its criteria, and
    the security plan: every requirement of the system's framework at its level with its
    current status (automated verdict, evidence, or to be done). What the inventory does not
    know is flagged in the document, never invented.

    \b
      provdc audit inventory/examples/lab --layers governance --out audits/
      provdc dossier inventory/examples/lab --system portal --audit audits/ --format pdf
    """
    from provdc.inventory import load_inventory
    from provdc.inventory.catalogue import load_catalogue
    from provdc.reports import paperwork, topology

    inv = load_inventory(path)
    if system_id not in {s.id for s in inv.doc.systems}:
        raise click.BadParameter(f"no system {system_id!r}; the inventory has {', '.join(s.id for s in inv.doc.systems)}",
                                 param_hint="--system")
    runs = _runs(audit)
    png = topology.render(topology.source(inv, system=system_id), "png")
    doc = paperwork.dossier(inv, system_id, runs[-1] if runs else None, lang, date.today(), load_catalogue(), png)
    _write(doc, fmt, out_dir)


@click.command()
@INVENTORY
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The report year (data 15/12 of the year before to 14/12).")
@click.option("--audit", type=click.Path(exists=True, path_type=Path), required=True,
              help="Audit results directory: the runs finished in the period are reported.")
@click.option("--prometheus", "url", metavar="URL", help="Prometheus for the year's availability and interruptions.")
@FORMAT
@LANG
@OUT
def yearly(path: Path, year: int, audit: Path, url: str | None, fmt: str, lang: str, out_dir: Path) -> None:
    """The yearly report on the security of the information systems (Decree 331/2026 Art.
    35-36, Form 08): per system its level, framework and approval decision, the audit runs and
    independent assessments of the period, the requirement roll-up, remediation between the
    first and the last run, the Directive 14 four layers, availability and interruptions.
    Period 15/12 of the year before to 14/12; due to the owner before 20/12, to the Ministry of
    Public Security before 25/12.

    \b
      provdc report yearly inventory/examples/lab --year 2026 --audit audits/ --prometheus http://127.0.0.1:19090
    """
    from provdc.inventory import load_inventory
    from provdc.inventory.catalogue import load_catalogue
    from provdc.reports import paperwork

    inv = load_inventory(path)
    uptime = _yearly_uptime(inv, url, year) if url else None
    doc = paperwork.yearly(inv, _runs(audit), year, lang, date.today(), load_catalogue(), uptime)
    _write(doc, fmt, out_dir)


def _yearly_uptime(inv, url: str, year: int):
    from provdc.reports import collect, paperwork
    from provdc.reports.compute import VN, Period

    first, last = paperwork.report_window(year)
    # 15/12 00:00 to the end of 14/12, Vietnam time
    period = Period(datetime(first.year, first.month, first.day, tzinfo=VN),
                    datetime(last.year, last.month, last.day, tzinfo=VN) + timedelta(days=1))
    period = collect.settled(period, datetime.now(timezone.utc), collect.settle_seconds(url))
    with err.status(f"querying {url} for the year"):
        systems, _ = collect.uptime(inv, url, period, collect.pick_step(period))
    return [paperwork.YearlyUptime(s.id, s.result.availability, s.result.coverage, len(s.result.incidents),
                                   s.result.downtime_minutes) for s in systems]


@click.command("bandwidth-needs")
@INVENTORY
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The plan year registered (measured: the year before).")
@click.option("--prometheus", "url", metavar="URL", required=True, help="Prometheus holding the links' counters.")
@FORMAT
@LANG
@OUT
def bandwidth_needs(path: Path, year: int, url: str, fmt: str, lang: str, out_dir: Path) -> None:
    """The yearly connection and bandwidth registration of the specialised data network
    (Circular 06/2026/TT-BKHCN Art. 11, Form 01, before 31/01): per agency and link its
    contract, the measured p95 of the year before and its worst 7-day p95, and which links to
    raise or lower.

    \b
      provdc report bandwidth-needs inventory/examples/lab --year 2027 --prometheus http://127.0.0.1:19090
    """
    from provdc.inventory import load_inventory
    from provdc.reports import collect, paperwork

    inv = load_inventory(path)
    period = paperwork.measured_year(year, datetime.now(timezone.utc))
    period = collect.settled(period, datetime.now(timezone.utc), collect.settle_seconds(url))
    with err.status(f"querying {url} for {period.start:%Y}"):
        loads = collect.bandwidth(inv, url, period, collect.pick_step(period))
    doc = paperwork.bandwidth_needs(inv, loads, year, period, lang, date.today())
    _write(doc, fmt, out_dir)
