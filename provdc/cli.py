"""The `provdc` command: thin click commands over the typed API of each part.

Exit codes: 0 success; 1 tool or input error (invalid inventory, unreachable prerequisites);
2 usage error; 3 an audit found a FAIL; 4 provisioning failed on some hosts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provdc import __version__
from provdc.errors import InventoryError, ProvdcError

# soft_wrap: problem lines are file:line:column records that tools grep; never wrap them.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXAMPLES = Path(__file__).resolve().parent.parent / "inventory" / "examples"


def _examples_dir() -> Path:
    """Where the embedded example provinces live (the repo, or the installed package)."""
    if EXAMPLES.is_dir():
        return EXAMPLES
    import provdc.inventory as pkg
    return Path(pkg.__file__).parent / "examples"


class ProvdcGroup(click.Group):
    """Turns ProvdcError into one clear line (all problems for an inventory) instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InventoryError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            err.print(f"[bold red]error:[/] {exc}")
            ctx.exit(1)
        except ProvdcError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err.print(f"[bold red]error:[/] {exc}", markup=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still end in one line, not a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            ctx.exit(1)


@click.group(cls=ProvdcGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="provdc")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """provdc runs a provincial data center from one declarative YAML inventory.

    \b
    The inventory (sites, zones, servers, systems with their security level, agencies, links
    with contracted capacity) drives everything else:
      inventory   validate, export (Ansible, pyinfra, Prometheus file_sd, JSON), statistics
      lab         build the inventory's digital twin in network namespaces (root):
                  up, down, status, ssh, fault (stop, start, link-down, link-up, saturate)
      exporter    serve provdc's Prometheus metrics (inventory, contracts, SLA targets, audits)
      monitor     config, up, down, status: Prometheus + blackbox + snmp exporters from the inventory
      provision   harden the servers and set up the link endpoints' snmpd, through ansible-runner
      audit       four-layer security checks gated by level, every output format, diffs
      report      monthly compliance report (uptime, link load, audit, connectivity), vi or en

    \b
    Start with:   provdc inventory validate inventory/examples/lab
                  provdc inventory stats inventory/examples/thua-thien-hue
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# ------------------------------------------------------------------------------- inventory

@main.group()
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
        _write_atomically(output, text)
        err.print(f"wrote {output}")


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a failed export never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


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


# ------------------------------------------------------------------------------------- lab

@main.group()
def lab() -> None:
    """The inventory's digital twin on this machine (needs root).

    \b
    Every server becomes a network namespace with its inventory address, its own hostname,
    its own copy-on-write view of the filesystem, a real sshd and its declared services;
    every zone a bridge; every link a veth pair shaped to its contracted rate. Only addresses
    of the inventory's `lab.supernet` are used, and none of them is routed off this machine.

    \b
      provdc lab up inventory/examples/lab
      provdc lab ssh inventory/examples/lab db1 hostname
      provdc lab fault inventory/examples/lab stop db1
      provdc lab fault inventory/examples/lab saturate wan-xa-dong-son --seconds 20
      provdc lab down inventory/examples/lab
    """


lab_path = click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")


@lab.command("up")
@lab_path
def lab_up(path: Path) -> None:
    """Build the twin of the lab inventory at PATH (all or nothing)."""
    import time

    from provdc.lab import twin

    start = time.monotonic()
    running = twin.up(path, progress=lambda msg: err.print(f"  {msg}"))
    inv = running.inventory
    out.print(f"[green]lab '{running.plan.prefix}' is up[/] in {time.monotonic() - start:.1f} s: "
              f"{len(inv.doc.servers)} servers{_devices_with_sshd(running)}, {len(running.plan.namespaces)} namespaces, "
              f"{len(running.plan.links)} shaped links")
    out.print(f"  this machine is {running.plan.controller.ip} on the management zone")
    out.print(f"  try: provdc lab ssh {path} {inv.doc.servers[0].id} hostname")


def _devices_with_sshd(running) -> str:
    devices = len(running.anchors) - len(running.inventory.servers)
    return f" and {devices} Linux device{'s' if devices != 1 else ''} with sshd" if devices else ""


@lab.command("down")
@lab_path
def lab_down(path: Path) -> None:
    """Remove the lab: processes, namespaces, veths, bridges, routes, mounts, state."""
    from provdc.lab import twin

    found = twin.down(path)
    out.print(f"lab removed ({len(found)} namespaces, links and routes)" if found else "lab was not up: nothing to remove")


@lab.command("status")
@lab_path
def lab_status(path: Path) -> None:
    """Hosts (running, services listening, processes) and links (up, shaped) of a running lab."""
    from provdc.inventory.stats import human_rate
    from provdc.lab import twin

    host_rows, link_rows = twin.status(twin.attach(path))
    t = Table(title="Hosts", title_justify="left")
    for col in ("host", "address", "running", "listening", "processes"):
        t.add_column(col)
    for h in host_rows:
        ok = h.running and h.listening == h.declared
        t.add_row(h.id, h.address, "yes" if h.running else "[red]no[/]",
                  f"{'[green]' if ok else '[red]'}{h.listening}/{h.declared}[/]", str(h.processes))
    out.print(t)
    t = Table(title="Links", title_justify="left")
    for col in ("link", "state", "a→b", "b→a", "shaped"):
        t.add_column(col)
    for link in link_rows:
        t.add_row(link.id, "up" if link.up else "[red]down[/]", human_rate(link.a_to_b_bps),
                  human_rate(link.b_to_a_bps), "tbf" if link.shaped else "[red]no[/]")
    out.print(t)


@lab.command("ssh", context_settings={"ignore_unknown_options": True})
@lab_path
@click.argument("server")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def lab_ssh(path: Path, server: str, command: tuple[str, ...]) -> None:
    """Open SSH to SERVER of a running lab (or run COMMAND there), host keys checked. SERVER
    may also be a Linux device the inventory reaches over SSH (a router with `ssh:`)."""
    import os

    from provdc.lab import twin

    running = twin.attach(path)
    if server not in running.hosts:
        raise click.BadParameter(f"no server or SSH-managed device '{server}' (hosts: {', '.join(running.hosts)})",
                                 param_hint="SERVER")
    argv = running.ssh_argv(server, *command)
    os.execvp(argv[0], argv)


FAULTS = ("stop", "start", "link-down", "link-up", "saturate", "delay", "loss")


@lab.command("fault")
@lab_path
@click.argument("action", type=click.Choice(FAULTS), metavar="ACTION")
@click.argument("target", metavar="TARGET")
@click.option("--seconds", type=click.FloatRange(1, 3600), default=10, show_default=True, help="saturate: duration.")
@click.option("--direction", type=click.Choice(["a_to_b", "b_to_a"]), default="a_to_b", show_default=True,
              help="saturate: which way to send (a_to_b is egress at the link's end a).")
def lab_fault(path: Path, action: str, target: str, seconds: float, direction: str) -> None:
    """Planned faults on a running lab, so monitoring and reports see real downtime and load.

    \b
      stop HOST        power a server or device off: processes stop, links go down, files kept
      start HOST       bring it back; waits until its services listen again
      link-down LINK   take a link down at both ends
      link-up LINK     bring it back (routes restored)
      saturate LINK    fill it with iperf3 for --seconds; prints the rate against the contract
      delay / loss     need the kernel's netem qdisc: refused with that reason where it is missing
    """
    from provdc.inventory.stats import human_rate
    from provdc.lab import faults, twin

    running = twin.attach(path)
    if action in ("delay", "loss"):
        if not faults.netem_available(running):
            raise faults.unsupported(action)
        raise faults.LabError(f"{action} faults are not implemented yet")
    if action == "saturate":
        with out.status(f"saturating {target} ({direction}) for {seconds:.0f} s"):
            result = faults.saturate(running, target, seconds, direction)
        out.print(f"{target} {direction}: {human_rate(int(result.measured_bps))} measured, contract "
                  f"{human_rate(result.contract_bps)} ({result.ratio:.0%})")
        return
    act = {"stop": faults.stop_host, "start": faults.start_host, "link-down": faults.link_down, "link-up": faults.link_up}
    act[action](running, target)
    out.print(f"{target}: {action} done")


# -------------------------------------------------------------------------- exporter, monitor

def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("write HOST:PORT, e.g. 127.0.0.1:19300")
    return host, int(port)


@main.group()
def exporter() -> None:
    """provdc's own Prometheus exporter: inventory, contracts, SLA targets, audit results."""


@exporter.command("serve")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--listen", "listen", default="127.0.0.1:19300", show_default=True, help="HOST:PORT to listen on.")
@click.option("--audit-results", type=click.Path(file_okay=False, path_type=Path),
              help="Directory of audit-*.json results; the newest is exported at each scrape.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="Private key of --tls-cert.")
@click.option("--basic-auth-user", help="Require HTTP basic auth with this user name.")
@click.option("--basic-auth-password", metavar="REF", help="The password as a secret reference (env:NAME or file:PATH).")
def exporter_serve(path: Path, listen: str, audit_results: Path | None, tls_cert: str | None, tls_key: str | None,
                   basic_auth_user: str | None, basic_auth_password: str | None) -> None:
    """Serve /metrics for the inventory at PATH (and a landing page at /).

    Metrics are built fresh at every scrape; a missing or corrupt audit results file shows as
    provdc_audit_results_up 0 and never stops the inventory metrics.
    """
    from provdc.exporters.collector import build_registry
    from provdc.exporters.server import make_app, serve
    from provdc.inventory import load_inventory
    from provdc.secrets import SecretRef

    if bool(basic_auth_user) != bool(basic_auth_password):
        raise click.UsageError("--basic-auth-user and --basic-auth-password go together")
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    inv = load_inventory(path)
    credentials = None
    if basic_auth_user:
        credentials = (basic_auth_user, SecretRef.parse(basic_auth_password).resolve(inv.base))
    host, port = _listen(listen)
    server = serve(make_app(inv, build_registry(inv, audit_results), credentials), host, port, tls_cert, tls_key)
    err.print(f"provdc exporter for {inv.province.id} on {'https' if tls_cert else 'http'}://{host}:{port}/metrics")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@main.group()
def monitor() -> None:
    """Monitoring generated from the inventory: Prometheus, blackbox_exporter (uptime),
    snmp_exporter (link bandwidth) and provdc's exporter, with SLA and contract rules."""


def _settings(scrape_interval: str, sli_window: str, rate_window: str):
    from provdc.exporters.monitoring import Settings

    return Settings(scrape_interval=scrape_interval, sli_window=sli_window, rate_window=rate_window)


monitor_options = [
    click.option("--scrape-interval", default="15s", show_default=True, help="How often targets are probed and scraped."),
    click.option("--sli-window", default="1m", show_default=True, help="Window of the availability SLI recording rule."),
    click.option("--rate-window", default="5m", show_default=True, help="Window of the link rate recording rules."),
]


def _with_monitor_options(f):
    for option in reversed(monitor_options):
        f = option(f)
    return f


@monitor.command("config")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to write into.")
@_with_monitor_options
def monitor_config(path: Path, out: Path, scrape_interval: str, sli_window: str, rate_window: str) -> None:
    """Write prometheus.yml, blackbox.yml, snmp.yml.template, file_sd targets and rules for PATH.

    Check them with: promtool check config OUT/prometheus.yml; promtool check rules OUT/rules/*.yml
    """
    from provdc.exporters import monitoring
    from provdc.inventory import load_inventory

    files = monitoring.write(load_inventory(path), out, _settings(scrape_interval, sli_window, rate_window))
    out_console = "\n".join(f"  {f.relative_to(out)}" for f in files)
    out.mkdir(exist_ok=True)
    err.print(f"wrote {len(files)} files to {out}:\n{out_console}")


@monitor.command("up")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), help="Config, logs and TSDB (default /run/provdc/monitor-<province>).")
@click.option("--audit-results", type=click.Path(file_okay=False, path_type=Path), help="Directory of audit results to export.")
@_with_monitor_options
def monitor_up(path: Path, run_dir: Path | None, audit_results: Path | None, scrape_interval: str, sli_window: str, rate_window: str) -> None:
    """Start Prometheus, blackbox_exporter, snmp_exporter and provdc's exporter on loopback."""
    from provdc.exporters import stack

    running = stack.up(path, run_dir, _settings(scrape_interval, sli_window, rate_window), audit_results,
                       progress=lambda m: err.print(f"  {m}"))
    out.print(f"[green]monitoring is up[/]: Prometheus at {running.prometheus_url} (run dir {running.run_dir})")


@monitor.command("down")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--purge", is_flag=True, help="Also delete the run directory, including the collected data.")
def monitor_down(path: Path, run_dir: Path | None, purge: bool) -> None:
    """Stop the monitoring stack (the data stays unless --purge)."""
    from provdc.exporters import stack

    stopped = stack.down(path, run_dir, purge)
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "monitoring was not running")


@monitor.command("status")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path))
def monitor_status(path: Path, run_dir: Path | None) -> None:
    """Every scrape target with its health and last error."""
    from provdc.exporters import stack

    rows = stack.target_health(stack.attach(path, run_dir))
    t = Table(title="Targets", title_justify="left")
    for col in ("job", "instance", "health", "last error"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["job"], r["instance"], r["health"] if r["health"] == "up" else f"[red]{r['health']}[/]", r["error"][:60])
    out.print(t)
    up = sum(r["health"] == "up" for r in rows)
    out.print(f"{up}/{len(rows)} targets up")


# ------------------------------------------------------------------------------- provision

def _remediation_plan(path: Path):
    """The roles and hosts that fix the checks that failed in an audit results file."""
    from provdc.checks.engine import DEFAULT
    from provdc.checks.results import load_run
    from provdc.playbooks.remediate import plan_remediation

    try:
        run = load_run(path)
    except ValueError as exc:
        raise ProvdcError(str(exc)) from None
    return plan_remediation(run, DEFAULT)


@main.command()
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
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/provdc/runs"),
              show_default=True, help="Where each run's artifacts are kept.")
def provision(path: Path, check_mode: bool, diff: bool, limit: str | None, tags: str | None, forks: int | None,
              remediate: Path | None, canary: bool, runs_dir: Path) -> None:
    """Provision the servers of PATH with the project's roles through ansible-runner.

    Servers get the hardening baseline; Linux devices that measure a link (`ssh` set on the
    device) get snmpd serving their counters to the monitoring zones, with the community read
    from its secret reference on this machine. Exit 0 when every host converged, 4 when some host failed or was unreachable, 1 on a tool
    error. The roles are what `provdc audit` verifies; --remediate runs only the roles that fix
    what an audit found.
    """
    from provdc.inventory import load_inventory
    from provdc.lab.guard import require_lab_routed
    from provdc.playbooks.runner import provision as run_provision

    inv = load_inventory(path)
    require_lab_routed(inv, "provision")
    tag_list = tags.split(",") if tags else None
    if remediate:
        if tags or limit:
            raise click.UsageError("--remediate chooses the roles and hosts itself: leave out --tags and --limit")
        plan = _remediation_plan(remediate)
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
    with err.status("provisioning") as status:
        def progress(host: str, task: str, state: str) -> None:
            status.update(f"provisioning: {host}: {task} [{state}]")
            if state in ("failed", "unreachable"):
                err.print(f"  [red]{host}: {task}: {state}[/]")
        result = run_provision(inv, check=check_mode, diff=diff, limit=limit, tags=tag_list, forks=forks,
                               canary=canary, runs_dir=runs_dir, on_event=progress)
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


# ----------------------------------------------------------------------------------- audit

def _load_waivers(path: Path | None):
    """Waivers from a YAML file (a list, or a mapping with `waivers:`), every error located."""
    if path is None:
        return []
    from pydantic import TypeAdapter, ValidationError

    from provdc.errors import InventoryError
    from provdc.inventory.load import field_path
    from provdc.inventory.model import Waiver
    from provdc.inventory.source import BROKEN, Problem, load_yaml, position_of

    problems: list = []
    data = load_yaml(path, path.name, problems)
    if problems or data is BROKEN:
        raise InventoryError(problems)
    items = data.get("waivers", []) if isinstance(data, dict) else data
    try:
        return TypeAdapter(list[Waiver]).validate_python(items or [])
    except ValidationError as exc:
        raise InventoryError([Problem(position_of(items, tuple(e["loc"])), field_path(items, tuple(e["loc"])),
                                      e["msg"]) for e in exc.errors()]) from None


STATUS_STYLE = {"PASS": "green", "FAIL": "red", "ERROR": "bold red", "WAIVED": "yellow", "NOT_APPLICABLE": "dim", "MANUAL": "cyan"}


class DefaultCommandGroup(click.Group):
    """A group that runs its default command when the first argument is not a subcommand, so
    `provdc audit PATH` and `provdc audit diff OLD NEW` both read naturally."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@main.group(cls=DefaultCommandGroup)
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

    inv = load_inventory(path)
    opts = Options(layers=set(layers) or None, systems=set(systems) or None,
                   hosts=set(limit.split(",")) if limit else None, waivers=_load_waivers(waivers), timeout=timeout)
    unknown = (opts.hosts or set()) - set(inv.servers) | (opts.systems or set()) - set(inv.systems)
    if unknown:
        raise click.BadParameter(f"not in the inventory: {', '.join(sorted(unknown))}")
    with err.status("auditing"):
        run = run_audit(inv, opts, progress=lambda m: err.print(f"  {m}"))
    if results_dir:
        results_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(results_dir / f"audit-{run.finished:%Y%m%dT%H%M%SZ}.json", run.to_json())
    if fmt == "table" and not output:
        _print_findings(run, inv)
    else:
        text = _audit_text(run, fmt)
        if output:
            _write_atomically(output, text)
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
    from provdc.checks.outputs import diff
    from provdc.checks.results import load_run

    try:
        d = diff(load_run(old), load_run(new))
    except ValueError as exc:
        raise ProvdcError(str(exc)) from None
    if as_json:
        sys.stdout.write(d.to_json())
    else:
        for title, items in (("new failures", d.new_failures), ("fixed", d.fixed)):
            out.print(f"[bold]{title}[/] ({len(items)})")
            for f in items:
                out.print(f"  {f.check} @ {f.host or f.system or 'inventory'}: {f.found}", markup=False)
        out.print(f"[bold]changed evidence[/] ({len(d.changed)})")
        for a, b in d.changed:
            out.print(f"  {b.check} @ {b.host or b.system or 'inventory'}: {a.found} -> {b.found}", markup=False)
    sys.exit(3 if d.new_failures else 0)


def _audit_groups(inv) -> dict[str, dict[str, set[str]]]:
    """Systems, levels and agencies as sets of host and system ids, for grouped scores."""
    systems = {s.id: {s.id, *s.servers} for s in inv.doc.systems}
    levels: dict[str, set[str]] = {}
    for s in inv.doc.systems:
        levels.setdefault(f"level {s.level}", set()).update(systems[s.id])
    agencies: dict[str, set[str]] = {}
    for srv in inv.doc.servers:
        if srv.owner:
            agencies.setdefault(srv.owner, set()).add(srv.id)
    for s in inv.doc.systems:
        if s.owner:
            agencies.setdefault(s.owner, set()).add(s.id)
    return {"system": systems, "level": levels, "agency": agencies}


def _print_findings(run, inv=None) -> None:
    from collections import Counter

    from provdc.checks.results import layer_scores

    t = Table(title=f"Audit of {run.province}", title_justify="left")
    for col in ("host / system", "layer", "check", "severity", "status", "found"):
        t.add_column(col, overflow="fold")
    for f in run.findings:
        if f.status.value == "NOT_APPLICABLE":
            continue
        style = STATUS_STYLE[f.status.value]
        t.add_row(f.host or f.system or "inventory", f.layer, f.check, f.severity, f"[{style}]{f.status.value}[/]", f.found[:80])
    out.print(t)
    counts = Counter(f.status.value for f in run.findings)
    out.print("  ".join(f"{k} {v}" for k, v in sorted(counts.items())) + (" — [red]partial run[/]" if run.partial else ""))
    scores = layer_scores(run)
    out.print("scores by layer (waivers counted): " + ", ".join(f"{k} {v:.0%}" for k, v in scores.items() if v is not None))
    if inv is not None:
        from provdc.checks.results import grouped_scores

        for kind, groups in _audit_groups(inv).items():
            pairs = grouped_scores(run, groups)
            out.print(f"scores by {kind} (with / without waivers): " + ", ".join(
                f"{k} {w:.0%}/{wo:.0%}" for k, (w, wo) in pairs.items() if w is not None))
    out.print("score = weight of passed / weight of passed, failed and errored checks; critical 10, high 5, medium 3, low 1")


# ---------------------------------------------------------------------------------- report

def _period(month: str | None, date_from: str | None, date_to: str | None):
    from datetime import datetime

    from provdc.reports.compute import VN, Period

    if month and (date_from or date_to):
        raise click.UsageError("give --month, or --from and --to, not both")
    if month:
        try:
            year, mon = (int(x) for x in month.split("-"))
            return Period.month(year, mon)
        except ValueError:
            raise click.BadParameter("write YYYY-MM, e.g. 2026-11", param_hint="--month") from None
    if not (date_from and date_to):
        raise click.UsageError("give --month YYYY-MM, or --from and --to (ISO dates or times, Vietnam time if no zone)")

    def parse(text: str, name: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(f"not an ISO date or time: {text}", param_hint=name) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=VN)

    period = Period(parse(date_from, "--from"), parse(date_to, "--to"))
    if period.end <= period.start:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    return period


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="PATH...")
@click.option("--prometheus", "urls", multiple=True, required=True, metavar="URL",
              help="Prometheus to query: one for all provinces (federated), or one per PATH, in order.")
@click.option("--month", help="Calendar month YYYY-MM (Vietnam time).")
@click.option("--from", "date_from", help="Start (ISO date or time).")
@click.option("--to", "date_to", help="End (ISO date or time).")
@click.option("--audit", type=click.Path(exists=True, path_type=Path),
              help="Audit results (a file, or a directory whose newest run is used; the run before it gives the drift).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md", "json", "csv"]), default="html", show_default=True,
              help="pdf also keeps the html it was printed from.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports-out"), show_default=True)
@click.option("--step", type=float, help="Bucket length in seconds (default: 300 for a day or more, finer for short periods).")
def report(paths: tuple[Path, ...], urls: tuple[str, ...], month: str | None, date_from: str | None, date_to: str | None,
           audit: Path | None, lang: str, fmt: str, out_dir: Path, step: float | None) -> None:
    """Monthly compliance report: uptime SLA, link load against contract, audit scores and the
    Directive 14 status, agency connectivity, in Vietnamese or English.

    \b
      provdc report inventory/examples/lab --prometheus http://127.0.0.1:19090 --month 2026-11
      provdc report hue/ soc-trang/ --prometheus http://fed:9090 --month 2026-11 --format pdf
    """
    from provdc.inventory import load_inventory
    from provdc.reports import collect, render

    if len(urls) not in (1, len(paths)):
        raise click.UsageError("give one --prometheus for all provinces, or one per PATH")
    period = _period(month, date_from, date_to)
    reports = []
    for i, path in enumerate(paths):
        url = urls[0] if len(urls) == 1 else urls[i]
        with err.status(f"querying {url} for {path}"):
            reports.append(collect.collect(load_inventory(path), url, period, audit, step))
    files = render.write(reports, fmt, lang, out_dir)
    for f in files:
        out.print(f"wrote {f}")


# ------------------------------------------------------------------------------------ demo

@main.command()
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

    path = inventory_path or _examples_dir() / "lab"
    runner = run_demo(path, out, keep=keep, out_dir=out_dir.resolve())
    out.print(f"[bold]demo finished[/] in {runner.total_seconds:.1f} s")
    for result in runner.results:
        out.print(f"  {result.seconds:6.1f} s  {result.name}")
    out.print(f"reports and audits in {out_dir}")
    if keep:
        out.print("left running (--keep); when done:\n"
                  f"  provdc monitor down {path} --run-dir {MONITOR_DIR} --purge\n  provdc lab down {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
