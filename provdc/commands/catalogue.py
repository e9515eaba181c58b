"""`provdc catalogue`: the requirements of each framework, how they are met, their numbers."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import out
from provdc.errors import ProvdcError


def _statuses(audit: Path | None, framework: str, system: str | None) -> dict[str, list[dict]]:
    """Requirement id -> its status per system, from the newest run of `audit` (file or dir)."""
    if audit is None:
        return {}
    from provdc.checks.results import latest_run_file, load_run

    path = latest_run_file(audit) if audit.is_dir() else audit
    if path is None:
        raise ProvdcError(f"no audit-*.json in {audit}")
    try:
        run = load_run(path)
    except ValueError as exc:
        raise ProvdcError(str(exc)) from None
    found: dict[str, list[dict]] = {}
    for r in run.requirements:
        if r.framework == framework and (system is None or r.system == system):
            found.setdefault(r.id, []).append({"system": r.system, "status": r.status.value, "detail": r.detail})
    return found


def _status_text(row: dict) -> str:
    if row["status"]:
        return ", ".join(f"{s['system']} {s['status']}" for s in row["status"])
    return row["met_by"] + (f" ({row['automation']})" if row["automation"] else "")


def _parameters_text(row: dict) -> str:
    parts = []
    for name, p in row["parameters"].items():
        value = p.get("value", "/".join(str(v) for v in p["levels"].values()) or "-")
        parts.append(f"{name} {value} {p['unit']}")
    return "; ".join(parts)


def _csv(rows: list[dict], lang: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["framework", "id", "layer", "title", "clause", "clause_verified", "from_level", "met_by", "automation",
                "checks", "parameters", "status"])
    for r in rows:
        w.writerow([r["framework"], r["id"], r["layer"], r["title"][lang], r["clause"] or "", r["clause_verified"],
                    r["from_level"], r["met_by"], r["automation"] or "", " ".join(r["checks"]), _parameters_text(r),
                    _status_text(r)])
    return buf.getvalue()


@click.command()
@click.option("--framework", type=click.Choice(["nd85_tcvn11930", "nd331_tcvn14423"]), default="nd331_tcvn14423",
              show_default=True, help="Decree 85 with TCVN 11930, or Decree 331 with TCVN 14423.")
@click.option("--level", type=click.IntRange(1, 5), help="Only the requirements that apply at this level, with its numbers.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--audit", type=click.Path(exists=True, path_type=Path),
              help="An audit results file or directory: show each requirement's status per system from its newest run.")
@click.option("--system", help="With --audit: only this system's status.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="en", show_default=True, help="Language of titles.")
def catalogue(framework: str, level: int | None, fmt: str, audit: Path | None, system: str | None, lang: str) -> None:
    """The requirement catalogue: every requirement of a framework with its clause (as the
    source states it; unverified clauses are marked), the level it applies from, how provdc
    meets it (automated by named checks, evidence records, or manual) and its numbers per level.

    \b
      provdc catalogue --framework nd85_tcvn11930 --level 3
      provdc catalogue --format json > catalogue.json
      provdc catalogue --audit /var/lib/provdc/audits --system portal     # status per requirement
    """
    from provdc.inventory.catalogue import listing, load_catalogue

    cat = load_catalogue()
    rows = listing(cat, framework, level, _statuses(audit, framework, system))
    if fmt == "json":
        sys.stdout.write(json.dumps({"framework": framework, "name": cat.framework(framework).name.model_dump(),
                                     "level": level, "requirements": rows}, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(_csv(rows, lang))
        return
    t = Table(title=f"{cat.framework(framework).name(lang)}" + (f", level {level}" if level else ""), title_justify="left")
    for col in ("id", "requirement", "clause", "from", "met by / status", "parameters"):
        t.add_column(col, overflow="fold")
    for r in rows:
        clause = (r["clause"] or "—") + ("" if r["clause_verified"] else " [dim](unverified)[/]")
        t.add_row(r["id"], r["title"][lang], clause, str(r["from_level"]), _status_text(r), _parameters_text(r))
    out.print(t)
    counts = {k: sum(r["met_by"] == k for r in rows) for k in ("automated", "evidence", "manual")}
    out.print(f"{len(rows)} requirements: {counts['automated']} automated, {counts['evidence']} by evidence, "
              f"{counts['manual']} manual")
