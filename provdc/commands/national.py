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
    and runs each province's audits and provisioning on the runner near its servers:
      provdc national audit NATIONAL.yaml --results-dir DIR       results shipped back
      provdc national provision NATIONAL.yaml --results-dir DIR   artifacts shipped back
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


@national.command("audit")
@click.argument("national_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="NATIONAL.yaml")
@click.option("--results-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where each province's shipped-back results go (RESULTS_DIR/<province>/audit-*.json).")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64), help="Provinces run at once.")
@click.option("--layer", "layers", multiple=True, type=click.Choice(["network", "host", "application", "data", "governance"]),
              help="Only these layers (repeatable; default all).")
@click.option("--province", "only", multiple=True, help="Only these provinces (repeatable).")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds per province before it is an ERROR.")
def national_audit(national_file: Path, results_dir: Path, concurrency: int, layers: tuple[str, ...], only: tuple[str, ...],
                   timeout: float) -> None:
    """Audit every province with a `runner:` on that runner, near its servers, and ship the
    results back: ansible-runner transmit | ssh RUNNER ansible-runner worker | process.

    At most --concurrency provinces run at once; each province's results are kept whatever
    happens to the others. Exit 0 if every province's audit ran (its findings are in its
    results), 1 if some runner was unreachable, timed out or failed (those show as ERROR).

    \b
    In NATIONAL.yaml, per province:
      inventory: hue/
      runner: {host: 127.0.0.1, port: 2222, user: root, key: file:keys/runner, known_hosts: keys/known_hosts}
    """
    from provdc.playbooks import remote

    _run_on_runners(national_file, only, concurrency, results_dir, timeout, "auditing",
                    lambda provdc_bin: remote.audit_argv(provdc_bin, list(layers)))


@national.command("provision")
@click.argument("national_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="NATIONAL.yaml")
@click.option("--results-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where each province's shipped-back ansible-runner artifacts go (RESULTS_DIR/<province>/).")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64), help="Provinces run at once.")
@click.option("--check", "check_mode", is_flag=True, help="Dry run in every province: report what would change.")
@click.option("--tags", help="Only these roles (comma-separated), as `provdc provision --tags`.")
@click.option("--province", "only", multiple=True, help="Only these provinces (repeatable).")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds per province before it is an ERROR.")
def national_provision(national_file: Path, results_dir: Path, concurrency: int, check_mode: bool, tags: str | None,
                       only: tuple[str, ...], timeout: float) -> None:
    """Provision every province with a `runner:` on that runner (`provdc provision` there,
    near its servers) and ship each run's ansible-runner artifacts back; same fan-out as
    `national audit`. Exit 1 if some province failed or its runner was unreachable."""
    from provdc.playbooks import remote

    flags = (["--check"] if check_mode else []) + ([f"--tags={tags}"] if tags else [])
    _run_on_runners(national_file, only, concurrency, results_dir, timeout, "provisioning",
                    lambda provdc_bin: remote.provision_argv(provdc_bin, flags))


def _run_on_runners(national_file: Path, only: tuple[str, ...], concurrency: int, results_dir: Path, timeout: float,
                    doing: str, command) -> None:
    """Fan one provdc command out to the provinces' runners and print each province's outcome."""
    from rich.table import Table

    from provdc.exporters.national import load_national
    from provdc.playbooks import remote

    nat = load_national(national_file)
    unknown = set(only) - {p.id for p in nat.provinces}
    if unknown:
        raise click.BadParameter(f"not in {national_file.name}: {', '.join(sorted(unknown))}", param_hint="--province")
    chosen = [p for p in nat.provinces if p.runner and (not only or p.id in only)]
    if not chosen:
        raise click.UsageError("no selected province has a `runner:` in the national file")
    base = national_file.parent

    def job(p):
        r = p.runner
        host = remote.RunnerHost(r.host, r.port, r.user, r.key, (base / r.known_hosts) if r.known_hosts else None, r.bin_dir)
        provdc_bin = f"{r.bin_dir}/provdc" if r.bin_dir else "provdc"
        return lambda: remote.remote_provdc(p.id, p.inventory_path, host, results_dir, base, command(provdc_bin), timeout)

    with err.status(f"{doing} {len(chosen)} provinces, {concurrency} at once"):
        outcomes = remote.fan_out({p.id: job(p) for p in chosen}, concurrency)
    t = Table(title="Provinces", title_justify="left")
    for col in ("province", "status", "results", "error"):
        t.add_column(col)
    for pid, o in outcomes.items():
        style = "green" if o.status == "successful" else "red"
        t.add_row(pid, f"[{style}]{o.status}[/]", ", ".join(str(f) for f in o.results) or str(results_dir / pid), o.error[:100])
    out.print(t)
    if any(o.status != "successful" for o in outcomes.values()):
        raise SystemExit(1)
