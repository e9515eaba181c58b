"""`provdc inventory`: validate, export, statistics and schema of an inventory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import err, out, write_atomically

@click.group()
def inventory() -> None:
    """Validate, export and summarise an inventory (a YAML file or a directory of them)."""


inventory_path = click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")


@inventory.command()
@inventory_path
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when the inventory is valid.")
def validate(path: Path, quiet: bool) -> None:
    """Check PATH and report every problem at once as file:line:column: field: message.

    Exit 0 when valid, 1 when not. Checks types, unknown keys, duplicate ids and keys,
    dangling references, agency hierarchy cycles, addresses outside their zone, overlapping
    zones, security levels outside 1-5 and plaintext secrets.
    """
    from provdc.inventory import load_inventory

    inv = load_inventory(path)
    if not quiet:
        d = inv.doc
        out.print(f"[green]valid[/]: {inv.province.name} ({inv.province.id}) — {len(d.servers)} servers, "
                  f"{len(d.devices)} devices, {len(d.systems)} systems, {len(d.agencies)} agencies, "
                  f"{len(d.links)} links, from {len(inv.files)} file(s)")


@inventory.command()
@inventory_path
@click.option("--format", "fmt", type=click.Choice(["ansible", "pyinfra", "file-sd", "json"]), default="ansible",
              show_default=True, help="Output format.")
@click.option("--sd-kind", type=click.Choice(["hosts", "services", "agencies", "devices"]), default="hosts",
              show_default=True, help="With --format file-sd: which targets to list.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def export(path: Path, fmt: str, sd_kind: str, output: Path | None) -> None:
    """Export PATH for another tool.

    \b
      ansible   YAML inventory, groups by role, zone, site, agency, level and system
                (check it with: ansible-inventory -i FILE --list)
      pyinfra   a pyinfra inventory module (pyinfra FILE.py ...)
      file-sd   Prometheus file_sd JSON with topology labels (--sd-kind selects targets)
      json      the resolved model, defaults applied
    """
    from provdc.inventory import exports, load_inventory

    inv = load_inventory(path)
    text = exports.to_file_sd(inv, sd_kind) if fmt == "file-sd" else exports.EXPORTERS[fmt](inv)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        err.print(f"wrote {output}")


@inventory.command()
@inventory_path
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def stats(path: Path, as_json: bool) -> None:
    """The figures the province reports: agencies with LAN, agencies on the WAN per tier
    (e.g. 34/34 provincial units), servers per zone and level, contracted bandwidth."""
    from provdc.inventory import load_inventory
    from provdc.inventory.stats import compute_stats

    s = compute_stats(load_inventory(path))
    if as_json:
        out.print_json(json.dumps(s.to_dict(), ensure_ascii=False))
        return
    _print_stats(s)


def _print_stats(s) -> None:
    from provdc.inventory.stats import human_rate

    out.print(f"[bold]{s.name}[/] ({s.province}) — administration: {s.administration}")
    t = Table(title="Agencies", title_justify="left")
    for col in ("tier", "agencies", "with LAN", "on WAN"):
        t.add_column(col, justify="right" if col != "tier" else "left")
    for tier, n in s.agencies_per_tier.items():
        lan, wan = s.agencies_with_lan[tier], s.agencies_on_wan[tier]
        t.add_row(tier, str(n), f"{lan} ({lan.percent if lan.percent is not None else '-'}%)",
                  f"{wan} ({wan.percent if wan.percent is not None else '-'}%)")
    out.print(t)
    t = Table(title="Contracted bandwidth", title_justify="left")
    for col in ("link kind", "links", "a→b total", "b→a total"):
        t.add_column(col, justify="left" if col == "link kind" else "right")
    for kind, bw in s.bandwidth_per_link_kind.items():
        t.add_row(kind, str(bw.links), human_rate(bw.a_to_b_bps), human_rate(bw.b_to_a_bps))
    for tier, bw in s.wan_bandwidth_per_tier.items():
        t.add_row(f"wan to {tier} tier", str(bw.links), human_rate(bw.a_to_b_bps), human_rate(bw.b_to_a_bps))
    out.print(t)
    out.print("servers per zone: " + ", ".join(f"{k} {v}" for k, v in s.servers_per_zone.items()))
    out.print("servers per level: " + ", ".join(f"{k} {v}" for k, v in s.servers_per_level.items()))
    out.print("systems per level: " + ", ".join(f"{k} {v}" for k, v in s.systems_per_level.items()))
    if s.video_points:
        out.print(f"video-conference points: {s.video_points}")


@inventory.command()
def schema() -> None:
    """Print the inventory's JSON Schema (for editor completion and validation)."""
    from provdc.inventory.model import Document

    out.print_json(json.dumps(Document.model_json_schema(by_alias=True), ensure_ascii=False))
