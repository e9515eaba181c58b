"""The main job end to end on an example province, as stages with progress and durations.

Each stage calls the same API a user reaches step by step through the CLI. A failing stage stops
the run with its message; cleanup stages registered so far always run (teardown).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console


@dataclass
class StageResult:
    name: str
    seconds: float
    summary: str
    ok: bool


@dataclass
class StageRunner:
    """Runs named stages in order, timing each; cleanups run in reverse, whatever happened."""

    console: Console
    results: list[StageResult] = field(default_factory=list)
    _cleanups: list[tuple[str, Callable[[], object]]] = field(default_factory=list)

    def run(self, name: str, action: Callable[[], str]) -> str:
        start = time.monotonic()
        with self.console.status(f"[bold]{name}[/] ..."):
            try:
                summary = action()
            except BaseException:
                self.results.append(StageResult(name, time.monotonic() - start, "failed", False))
                self.console.print(f"[red]✗[/] {name} ({time.monotonic() - start:.1f} s)")
                raise
        seconds = time.monotonic() - start
        self.results.append(StageResult(name, seconds, summary, True))
        self.console.print(f"[green]✓[/] {name} ({seconds:.1f} s): {summary}", markup=True)
        return summary

    def on_exit(self, name: str, cleanup: Callable[[], object]) -> None:
        self._cleanups.append((name, cleanup))

    def cleanup(self) -> None:
        while self._cleanups:
            name, action = self._cleanups.pop()
            self.run(name, lambda: str(action() or "done"))

    @property
    def total_seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def run_demo(inventory_path: Path, console: Console, *, keep: bool = False) -> StageRunner:
    """Validate, summarise and export the example province (later parts add their stages)."""
    from provdc.inventory import exports, load_inventory
    from provdc.inventory.stats import compute_stats

    runner = StageRunner(console)
    holder: dict[str, object] = {}

    def validate() -> str:
        inv = load_inventory(inventory_path)
        holder["inv"] = inv
        d = inv.doc
        return f"{inv.province.name}: {len(d.servers)} servers, {len(d.systems)} systems, {len(d.agencies)} agencies, {len(d.links)} links"

    def stats() -> str:
        s = compute_stats(holder["inv"])  # type: ignore[arg-type]
        return (f"agencies on the WAN: province {s.agencies_on_wan['province']}, "
                f"commune {s.agencies_on_wan['commune']}; with LAN {s.agencies_with_lan['all']}")

    def export() -> str:
        inv = holder["inv"]
        hosts = exports.to_ansible_dict(inv)["all"]["hosts"]  # type: ignore[arg-type]
        return f"Ansible inventory with {len(hosts)} hosts, {len(exports.ansible_groups(inv))} groups"  # type: ignore[arg-type]

    def lab_up() -> str:
        from provdc.lab import twin

        lab = twin.up(inventory_path)
        holder["lab"] = lab
        if not keep:
            runner.on_exit("lab: down", lambda: f"removed {len(twin.down(inventory_path))} namespaces, links and routes")
        return f"{len(lab.plan.namespaces)} namespaces, {len(lab.anchors)} servers with sshd, {len(lab.plan.links)} shaped links"

    def lab_check() -> str:
        from provdc.lab import twin

        hosts, links = twin.status(holder["lab"])  # type: ignore[arg-type]
        listening = sum(h.listening for h in hosts)
        declared = sum(h.declared for h in hosts)
        if listening != declared:
            raise RuntimeError(f"only {listening}/{declared} declared services listen")
        return f"{listening}/{declared} declared services listening, {sum(link.up for link in links)}/{len(links)} links up"

    def planned_fault() -> str:
        from provdc.lab import faults

        lab = holder["lab"]
        link = min(lab.plan.links.values(), key=lambda lp: lp.a_to_b_bps)  # type: ignore[attr-defined]
        load = faults.saturate(lab, link.link, seconds=3)  # type: ignore[arg-type]
        host = next(iter(lab.anchors))  # type: ignore[attr-defined]
        faults.stop_host(lab, host)  # type: ignore[arg-type]
        faults.start_host(lab, host)  # type: ignore[arg-type]
        return f"{link.link} saturated at {load.ratio:.0%} of contract; {host} stopped and restarted"

    try:
        runner.run("inventory: load and validate", validate)
        runner.run("inventory: statistics", stats)
        runner.run("inventory: exports", export)
        if holder["inv"].doc.lab is not None:  # type: ignore[attr-defined]
            runner.run("lab: up (digital twin)", lab_up)
            runner.run("lab: every declared service listens", lab_check)
            runner.run("lab: planned load and fault", planned_fault)
    finally:
        runner.cleanup()
    return runner
