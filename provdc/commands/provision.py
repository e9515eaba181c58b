"""`provdc provision`: the project's roles through ansible-runner."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import err, out
from provdc.errors import ProvdcError

def _remediation_plan(path: Path, devices: frozenset[str] = frozenset()):
    """The roles and hosts that fix the checks that failed in an audit results file."""
    from provdc.checks.engine import DEFAULT
    from provdc.checks.results import load_run
    from provdc.playbooks.remediate import plan_remediation

    try:
        run = load_run(path)
    except ValueError as exc:
        raise ProvdcError(str(exc)) from None
    return plan_remediation(run, DEFAULT, devices)


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--check", "check_mode", is_flag=True, help="Dry run: report what would change, change nothing.")
@click.option("--diff", is_flag=True, help="Show file differences.")
@click.option("--limit", help="Only these hosts or groups (Ansible pattern, e.g. role_web, db1,db2, servers or snmp_agents).")
@click.option("--tags", help="Only these roles (comma-separated): sshd, sysctl, password_policy, shell, permissions, "
                              "logging, time, auditd, updates, node_exporter, firewall; snmpd (link endpoints).")
@click.option("--forks", type=click.IntRange(1, 500), help="Parallel hosts (default: all of them).")
@click.option("--remediate", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Apply only the fixes for the checks that FAILed in this audit results file, on the hosts where they failed.")
@click.option("--canary", is_flag=True,
              help="Provision the first selected server alone first; the rest follow only if it converged and "
                   "still accepts a new SSH login.")
@click.option("--no-accelerate", is_flag=True,
              help="Run on plain Ansible's linear strategy even when Mitogen is installed (by default Mitogen's "
                   "strategy is used when it supports the installed ansible-core; package installation always "
                   "runs on plain Ansible).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/provdc/runs"),
              show_default=True, help="Where each run's artifacts are kept.")
def provision(path: Path, check_mode: bool, diff: bool, limit: str | None, tags: str | None, forks: int | None,
              remediate: Path | None, canary: bool, no_accelerate: bool, runs_dir: Path) -> None:
    """Provision the servers of PATH with the project's roles through ansible-runner.

    Servers get the hardening baseline; Linux devices that measure a link (`ssh` set on the
    device) get snmpd serving their counters to the monitoring zones, with the community read
    from its secret reference on this machine. Exit 0 when every host converged, 4 when some host failed or was unreachable, 1 on a tool
    error. The roles are what `provdc audit` verifies; --remediate runs only the roles that fix
    what an audit found.

    Runs are accelerated by Mitogen for Ansible when it is installed and supports the installed
    ansible-core (one Python interpreter per host for the whole run instead of one per task);
    the first line says which strategy was chosen and why. --no-accelerate runs plain Ansible.
    """
    from provdc.inventory import load_inventory
    from provdc.lab.guard import require_lab_routed
    from provdc.playbooks.runner import DEPRECATION_NOTE, detect_strategy
    from provdc.playbooks.runner import provision as run_provision

    inv = load_inventory(path)
    require_lab_routed(inv, "provision")
    tag_list = tags.split(",") if tags else None
    if remediate:
        if tags or limit:
            raise click.UsageError("--remediate chooses the roles and hosts itself: leave out --tags and --limit")
        plan = _remediation_plan(remediate, frozenset(inv.devices))
        if plan.manual:
            err.print(f"no role fixes these failed checks (see their remediation): {', '.join(plan.manual)}")
        if not plan.tags:
            out.print("nothing to remediate: no failed check in that audit has a provisioning fix")
            return
        tag_list, limit = plan.tags, plan.limit
        err.print(f"remediating with tags: {', '.join(tag_list)} on {limit or 'all hosts'}")
    if inv.unmanaged_snmp_agents:
        err.print("configure SNMP by hand on these link endpoints (no `ssh`: not provisioned by provdc): "
                  + ", ".join(d.id for d in inv.unmanaged_snmp_agents))
    strategy = detect_strategy(accelerate=not no_accelerate)
    err.print(f"strategy: {strategy.reason}" + (f" ({DEPRECATION_NOTE})" if strategy.accelerated else ""))
    with err.status("provisioning") as status:
        def progress(host: str, task: str, state: str) -> None:
            status.update(f"provisioning: {host}: {task} [{state}]")
            if state in ("failed", "unreachable"):
                err.print(f"  [red]{host}: {task}: {state}[/]")
        result = run_provision(inv, check=check_mode, diff=diff, limit=limit, tags=tag_list, forks=forks,
                               canary=canary, runs_dir=runs_dir, strategy=strategy,
                               on_event=progress)
    t = Table(title=f"Provisioning {'(check mode) ' if check_mode else ''}of {inv.province.id}", title_justify="left")
    for col in ("host", "ok", "changed", "failed", "unreachable"):
        t.add_column(col, justify="left" if col == "host" else "right")
    for host, h in sorted(result.hosts.items()):
        t.add_row(host, str(h.ok), str(h.changed), f"[red]{h.failed}[/]" if h.failed else "0",
                  f"[red]{h.unreachable}[/]" if h.unreachable else "0")
    out.print(t)
    if result.canary_failed:
        err.print(f"[red]canary {result.canary} did not converge or refused a new SSH login: the other servers were "
                  "not touched[/]")
    elif result.canary:
        out.print(f"canary {result.canary} converged and accepted a new SSH login; the others followed")
    out.print(f"artifacts: {result.run_dir}")
    sys.exit(result.exit_code)
