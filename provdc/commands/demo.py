"""`provdc demo`: the main job end to end on an example province."""

from __future__ import annotations

from pathlib import Path

import click

from provdc.commands.common import examples_dir, out

@click.command()
@click.option("--inventory", "inventory_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Inventory to run on (default: the embedded lab example, inventory/examples/lab).")
@click.option("--keep", is_flag=True, help="Leave what the demo built running (lab, monitoring) for exploring.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"), show_default=True,
              help="Where the reports are written.")
def demo(inventory_path: Path | None, keep: bool, out_dir: Path) -> None:
    """Run the main job end to end on an example province, stage by stage with durations:
    validate the inventory, build its lab twin (root), audit it, provision it, audit it again,
    start the monitoring stack, stop a server and saturate a link, check that Prometheus saw
    both, and render the compliance reports (Vietnamese and English, HTML and PDF, and JSON).
    Everything is torn down at the end, also after a failure, unless --keep."""
    from provdc.demo import MONITOR_DIR, run_demo

    path = inventory_path or examples_dir() / "lab"
    runner = run_demo(path, out, keep=keep, out_dir=out_dir.resolve())
    out.print(f"[bold]demo finished[/] in {runner.total_seconds:.1f} s")
    for result in runner.results:
        out.print(f"  {result.seconds:6.1f} s  {result.name}")
    out.print(f"reports and audits in {out_dir}")
    if keep:
        out.print("left running (--keep); when done:\n"
                  f"  provdc monitor down {path} --run-dir {MONITOR_DIR} --purge\n  provdc lab down {path}")
