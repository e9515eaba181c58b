"""`provdc lab`: the inventory's digital twin (up, down, status, ssh, fault)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import err, out

@click.group()
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
