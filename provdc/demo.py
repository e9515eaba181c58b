"""The main job end to end on an example province, as stages with progress and durations.

Each stage calls the same API a user reaches step by step through the CLI. A failing stage stops
the run with its message; cleanup stages registered so far always run (teardown).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
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


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - a service still starting answers with errors
            pass
        time.sleep(step)
    return False


def _indicators_complete(url: str) -> bool:
    """Every system's recorded coverage sample is whole (the rules have seen full windows)."""
    from provdc.exporters import promapi

    rows = promapi.query(url, "province:system_coverage:ratio")
    return bool(rows) and min(float(r["value"][1]) for r in rows) >= 1 - 1e-9


MONITOR_DIR = Path("/run/provdc/demo/monitor")  # the demo's own stack, apart from a user's


def run_demo(inventory_path: Path, console: Console, *, keep: bool = False, out_dir: Path = Path("demo-out")) -> StageRunner:
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
        devices = len(lab.anchors) - len(lab.inventory.servers)
        return (f"{len(lab.plan.namespaces)} namespaces, {len(lab.inventory.servers)} servers and {devices} Linux routers "
                f"with sshd, {len(lab.plan.links)} shaped links")

    def lab_check() -> str:
        from provdc.lab import twin

        hosts, links = twin.status(holder["lab"])  # type: ignore[arg-type]
        listening = sum(h.listening for h in hosts)
        declared = sum(h.declared for h in hosts)
        if listening != declared:
            raise RuntimeError(f"only {listening}/{declared} declared services listen")
        return f"{listening}/{declared} declared services listening, {sum(link.up for link in links)}/{len(links)} links up"

    def audit(label: str) -> Callable[[], str]:
        def run_stage() -> str:
            from collections import Counter

            from provdc.checks.engine import Options, run_audit

            run = run_audit(holder["inv"], Options())  # type: ignore[arg-type]
            audits = out_dir / "audits"
            audits.mkdir(parents=True, exist_ok=True)
            (audits / f"audit-{run.finished:%Y%m%dT%H%M%S%fZ}.json").write_text(run.to_json(), encoding="utf-8")
            holder["audits"] = audits
            holder[f"audit_{label}"] = run
            counts = Counter(f.status.value for f in run.findings)
            summary = (f"{len(run.findings)} findings: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR; "
                       f"score {run.score('all', 'all'):.0%}")
            if label == "after" and "audit_before" in holder:
                from provdc.checks.results import drift

                d = drift(holder["audit_before"], run)  # type: ignore[arg-type]
                summary += f"; {len(d.fixed)} fixed, {len(d.new_failures)} new failures"
            return summary
        return run_stage

    def provision() -> str:
        from provdc.playbooks.runner import provision as run_provision

        result = run_provision(holder["inv"], runs_dir=out_dir / "runs")  # type: ignore[arg-type]
        if result.exit_code != 0:
            raise RuntimeError(f"provisioning failed on {[h for h, s in result.hosts.items() if s.failed or s.unreachable]}")
        changed = sum(h.changed for h in result.hosts.values())
        return f"{len(result.hosts)} hosts converged, {changed} changes (artifacts in {result.run_dir})"

    def monitor_up() -> str:
        from provdc.exporters import stack
        from provdc.exporters.monitoring import Settings

        settings = Settings(scrape_interval="2s", sli_window="4s", rate_window="20s")
        running = stack.up(inventory_path, MONITOR_DIR, settings)
        holder["stack"] = running
        if not keep:
            # the demo's time series served its reports; a user's `monitor down` keeps them
            runner.on_exit("monitor: down", lambda: "stopped " + ", ".join(stack.down(inventory_path, MONITOR_DIR, purge=True)))
        expected = len(stack.target_health(running)) if _wait(lambda: len(stack.target_health(running)) > 0, 20) else 0
        _wait(lambda: sum(t["health"] == "up" for t in stack.target_health(running)) == expected, 30)
        up = sum(t["health"] == "up" for t in stack.target_health(running))
        # the report's period starts once every system's availability indicator has a whole
        # window of probes behind it: before that nothing could be measured in full, and the
        # whole report would open with a coverage gap
        _wait(lambda: _indicators_complete(running.prometheus_url), 30)
        holder["monitor_start"] = datetime.now(timezone.utc)
        return f"Prometheus at {running.prometheus_url}: {up}/{expected} targets up"

    def planned_fault() -> str:
        from provdc.lab import faults

        lab = holder["lab"]
        link = min(lab.plan.links.values(), key=lambda lp: lp.a_to_b_bps)  # type: ignore[attr-defined]
        host = lab.inventory.doc.servers[0].id  # type: ignore[attr-defined]
        time.sleep(4)  # a first bucket of normal service
        faults.stop_host(lab, host)  # type: ignore[arg-type]
        holder["fault"] = (link.link, host)
        time.sleep(8)  # a few scrape rounds of downtime for monitoring to record
        faults.start_host(lab, host)  # type: ignore[arg-type]
        # then the load, longer than the 20 s rate window so the recorded utilisation reaches
        # the real load; meanwhile the outage's last scrapes are stored, well before the report
        load = faults.saturate(lab, link.link, seconds=24)  # type: ignore[arg-type]
        return f"{host} down for 8 s, restarted; {link.link} saturated at {load.ratio:.0%} of contract (iperf3)"

    def monitoring_saw_it() -> str:
        from provdc.exporters import promapi

        url = holder["stack"].prometheus_url  # type: ignore[attr-defined]
        link, host = holder["fault"]  # type: ignore[misc]
        peak = promapi.query(url, f'max_over_time(provdc:link_utilisation:max_ratio{{link="{link}"}}[2m])')
        down = promapi.query(url, f'min_over_time(min(probe_success{{server="{host}"}})[2m:2s])')
        peak_v = float(peak[0]["value"][1]) if peak else float("nan")
        down_v = float(down[0]["value"][1]) if down else float("nan")
        if not (peak_v > 0.5 and down_v == 0):
            raise RuntimeError(f"monitoring did not record the fault (peak utilisation {peak_v}, min probe {down_v})")
        return f"peak utilisation of {link} {peak_v:.0%} of contract; {host} probes reached 0"

    def reports() -> str:
        from datetime import datetime, timezone

        from provdc.reports import collect, render
        from provdc.reports.compute import Period

        period = Period(holder["monitor_start"], datetime.now(timezone.utc))  # type: ignore[arg-type]
        data = collect.collect(holder["inv"], holder["stack"].prometheus_url, period,  # type: ignore[arg-type,attr-defined]
                               holder.get("audits"))  # type: ignore[arg-type]
        written = [f for lang in ("vi", "en") for f in render.write([data], "pdf", lang, out_dir)]
        written += render.write([data], "json", "en", out_dir)  # the same figures, for machines
        holder["reports"] = written
        summary = f"{len(written)} files in {out_dir} (html and pdf, vi and en; json)"
        measured = [x for x in data.systems if x.result.availability is not None]
        if measured:
            worst = min(measured, key=lambda x: x.result.availability)
            summary += f"; lowest availability: {worst.id} {worst.result.availability:.2%}"
        return summary

    try:
        runner.run("inventory: load and validate", validate)
        runner.run("inventory: statistics", stats)
        runner.run("inventory: exports", export)
        if holder["inv"].doc.lab is not None:  # type: ignore[attr-defined]
            runner.run("lab: up (digital twin)", lab_up)
            runner.run("lab: every declared service listens", lab_check)
            runner.run("audit: four layers, gated by level (before provisioning)", audit("before"))
            runner.run("provision: hardening roles and link-endpoint snmpd through ansible-runner", provision)
            runner.run("audit: again, after provisioning", audit("after"))
            runner.run("monitor: up (Prometheus, blackbox, snmp, provdc exporters)", monitor_up)
            runner.run("lab: planned load and fault", planned_fault)
            runner.run("monitor: the fault is in Prometheus", monitoring_saw_it)
            runner.run("reports: monthly compliance report for the run (vi, en; html, pdf)", reports)
    finally:
        runner.cleanup()
    return runner
