"""`provdc audit`: the four-layer audit, its outputs and diffs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import DefaultCommandGroup, err, out, write_atomically
from provdc.errors import ProvdcError

STATUS_STYLE = {"PASS": "green", "FAIL": "red", "ERROR": "bold red", "WAIVED": "yellow", "NOT_APPLICABLE": "dim", "MANUAL": "cyan",
                "NOT_ASSESSED": "magenta"}


@click.group(cls=DefaultCommandGroup)
def audit() -> None:
    """Four-layer security audit gated by security level (`provdc audit PATH`), and the
    difference between two runs (`provdc audit diff OLD.json NEW.json`)."""


@audit.command("run")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--layer", "layers", multiple=True, type=click.Choice(["network", "host", "application", "data", "governance"]),
              help="Only these layers (repeatable).")
@click.option("--system", "systems", multiple=True, help="Only the servers and evidence of these systems (repeatable).")
@click.option("--limit", help="Only these hosts (comma-separated server ids).")
@click.option("--waivers", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Extra waivers (YAML).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "junit", "sarif", "csv", "html"]), default="table",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep every run here as audit-<UTC time>.json (what exporters and reports read).")
@click.option("--timeout", type=float, default=20, show_default=True, help="Seconds per host for fact gathering.")
def audit_run(path: Path, layers: tuple[str, ...], systems: tuple[str, ...], limit: str | None, waivers: Path | None,
          fmt: str, output: Path | None, results_dir: Path | None, timeout: float) -> None:
    """Four-layer security audit of PATH, gated by each system's security level.

    Facts are gathered once per host over one SSH connection, all hosts in parallel; each check
    is judged from them. Exit 0 when nothing failed, 3 when a check FAILs or ends in ERROR (an
    unreachable host is never a pass), 1 on a tool error, 2 on a usage error.
    """
    from provdc.checks.engine import Options, run_audit
    from provdc.inventory import load_inventory
    from provdc.inventory.waivers import load_waivers

    inv = load_inventory(path)
    opts = Options(layers=set(layers) or None, systems=set(systems) or None,
                   hosts=set(limit.split(",")) if limit else None, waivers=load_waivers(waivers), timeout=timeout)
    unknown = (opts.hosts or set()) - set(inv.servers) | (opts.systems or set()) - set(inv.systems)
    if unknown:
        raise click.BadParameter(f"not in the inventory: {', '.join(sorted(unknown))}")
    with err.status("auditing"):
        run = run_audit(inv, opts, progress=lambda m: err.print(f"  {m}"))
    if results_dir:
        results_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(results_dir / f"audit-{run.finished:%Y%m%dT%H%M%SZ}.json", run.to_json())
    if fmt == "table" and not output:
        _print_findings(run)
    else:
        text = _audit_text(run, fmt)
        if output:
            write_atomically(output, text)
            err.print(f"wrote {output}")
        else:
            sys.stdout.write(text)
    failed = [f for f in run.findings if f.status.value in ("FAIL", "ERROR")]
    sys.exit(3 if failed else 0)


def _audit_text(run, fmt: str) -> str:
    from provdc.checks import outputs

    if fmt == "json":
        return run.to_json()
    if fmt == "junit":
        return outputs.to_junit(run)
    if fmt == "sarif":
        return json.dumps(outputs.to_sarif(run), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return outputs.to_csv(run)
    if fmt == "html":
        from provdc.reports.render import render_audit_html

        return render_audit_html(run)
    raise click.BadParameter(f"format {fmt} writes to the terminal only; use --format json to write a file")


@audit.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_diff(old: Path, new: Path, as_json: bool) -> None:
    """New failures, fixes and changed evidence between two audit runs (exit 3 if anything new fails)."""
    from provdc.checks.results import drift, load_run

    try:
        d = drift(load_run(old), load_run(new))
    except ValueError as exc:
        raise ProvdcError(str(exc)) from None
    if as_json:
        sys.stdout.write(d.to_json())
    else:
        for title, items in (("new failures", d.new_failures), ("fixed", d.fixed)):
            out.print(f"[bold]{title}[/] ({len(items)})")
            for f in items:
                out.print(f"  {f.check} @ {f.subject}: {f.found}", markup=False)
        out.print(f"[bold]changed evidence[/] ({len(d.changed)})")
        for a, b in d.changed:
            out.print(f"  {b.check} @ {b.subject}: {a.found} -> {b.found}", markup=False)
    sys.exit(3 if d.new_failures else 0)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _print_findings(run) -> None:
    """The table of judged findings, then the run's own figures (read from the run, never
    recomputed here): counts, scores per group, coverage and deadlines."""
    from collections import Counter

    from provdc.checks.outputs import requirement_labels

    t = Table(title=f"Audit of {run.province}", title_justify="left")
    for col in ("host / system", "layer", "check", "requirement", "severity", "status", "found"):
        t.add_column(col, overflow="fold")
    for f in run.findings:
        if f.status.value == "NOT_APPLICABLE":
            continue
        style = STATUS_STYLE[f.status.value]
        t.add_row(f.subject, f.layer, f.check, requirement_labels(f) if f.status.value in ("FAIL", "ERROR") else "",
                  f.severity, f"[{style}]{f.status.value}[/]", f.found[:80], )
    out.print(t)
    counts = Counter(f.status.value for f in run.findings)
    out.print("  ".join(f"{k} {v}" for k, v in sorted(counts.items())) + (" — [red]partial run[/]" if run.partial else ""))
    for kind in ("layer", "system", "level", "agency"):
        pairs = run.group_scores(kind)
        out.print(f"scores by {kind} (with / without waivers): " + ", ".join(
            f"{k} {_percent(p.with_waivers)}/{_percent(p.without_waivers)}" for k, p in pairs.items() if p.with_waivers is not None))
    for c in run.coverage:
        out.print(f"requirements {c.framework} level {c.level} ({c.systems} systems): {c.requirements} apply — "
                  f"{c.automated} automated, {c.evidence} by evidence, {c.manual} manual; {c.not_assessed} not assessed")
    for tr in run.transition:
        out.print(f"[yellow]{tr.system}[/] is judged under Decree 85: meet Decree 331 by {tr.deadline.isoformat()} "
                  f"({tr.days_left} days left)")
    out.print("score = weight of passed / weight of passed, failed and errored checks; critical 10, high 5, medium 3, low 1")
