"""The `provdc` command: thin click commands over the typed API of each part.

Exit codes: 0 success; 1 tool or input error (invalid inventory, unreachable prerequisites);
2 usage error; 3 an audit found a FAIL; 4 provisioning failed on some hosts.
"""

from __future__ import annotations

import click

from provdc import __version__
from provdc.commands import audit, catalogue, console, demo, inventory, lab, monitor, national, paperwork, provision, report, serve
from provdc.commands.common import ProvdcGroup

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
      catalogue   the requirements of each framework, how they are met, their numbers per level
      report      monthly compliance report (uptime, link load, audit, connectivity), vi or en;
                  yearly (Decree 331 Form 08), bandwidth-needs (Circular 06/2026 Form 01)
      dossier     a system's level dossier: topology, assets, level, security plan (Word, PDF)
      serve       the operations service: supervised monitoring + alerting, scheduled audits and reports
      national    the centre over many provinces: roll-up report from federated aggregates

    \b
    Start with:   provdc inventory validate inventory/examples/lab
                  provdc inventory stats inventory/examples/thua-thien-hue
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# One module per command group (provdc/commands/); add a new group here.
main.add_command(inventory.inventory)
main.add_command(lab.lab)
main.add_command(monitor.exporter)
main.add_command(monitor.monitor)
main.add_command(provision.provision)
main.add_command(audit.audit)
main.add_command(catalogue.catalogue)
main.add_command(report.report)
main.add_command(serve.serve)
main.add_command(console.console)
main.add_command(national.national)
main.add_command(paperwork.dossier)
main.add_command(demo.demo)


if __name__ == "__main__":  # pragma: no cover
    main()
