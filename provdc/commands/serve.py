"""`provdc serve`: the long-running operations service (supervised monitoring stack, alerting,
scheduled audits and reports)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from provdc.commands.common import out
from provdc.commands.monitor import _listen, _settings, _with_monitor_options


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--state", "state", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/provdc"),
              show_default=True, help="State directory: runs, audit results, reports, the TSDB. One service per directory.")
@click.option("--listen", default="127.0.0.1:19400", show_default=True,
              help="HOST:PORT of serve's own /metrics (health, jobs) and /reports/.")
@click.option("--port-base", type=int, default=19000, show_default=True,
              help="The children listen on loopback at BASE+90 (Prometheus), +93 (Alertmanager), +115 (blackbox), "
                   "+116 (snmp), +300 (provdc exporter).")
@click.option("--alert-wait", default="2m", show_default=True, metavar="DURATION",
              help="How long a host or service stays down before it alerts, and Alertmanager's first wait "
                   "(shorten only for drills and tests).")
@click.option("--console", "console_listen", metavar="HOST:PORT",
              help="Also serve the web console (HTTPS) here, reading this service's Prometheus and state; "
                   "accounts: `provdc console add-user`.")
@click.option("--console-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The console's PEM certificate (default: self-signed, made in STATE/console/tls/).")
@click.option("--console-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Its PEM key.")
@click.option("--print-systemd-unit", is_flag=True, help="Print a hardened systemd unit for these arguments and exit.")
@click.option("--user", default="provdc", show_default=True, help="With --print-systemd-unit: the service's system user.")
@_with_monitor_options
def serve(path: Path, state: Path, listen: str, port_base: int, alert_wait: str, console_listen: str | None,
          console_cert: Path | None, console_key: Path | None, print_systemd_unit: bool, user: str,
          scrape_interval: str, sli_window: str, rate_window: str) -> None:
    """Run the province's operations service for the inventory at PATH, until SIGTERM.

    \b
    * supervises Prometheus (400 days of data: 13 monthly reports and the 7-day link rule),
      Alertmanager, blackbox_exporter, snmp_exporter and provdc's exporter, restarting a
      crashed child with backoff (provdc_serve_child_restarts_total);
    * reloads them when the inventory changes (or on SIGHUP), after validating it: an invalid
      inventory keeps the running configuration, and says why in the log, in
      STATE/inventory-problems.txt and as provdc_serve_inventory_valid 0;
    * runs the inventory's `schedule` (default: audit daily at 02:00, report on the 1st at 07:00,
      Vietnam time), keeping each run in STATE/runs/JOB/SLOT/; a run missed while the service was
      down runs at start-up, marked late; the report is e-mailed with its PDFs.

    \b
      provdc serve inventory/ --state /var/lib/provdc
      provdc serve inventory/ --print-systemd-unit > /etc/systemd/system/provdc.service
    """
    from dataclasses import replace

    from provdc import serve as service
    from provdc.exporters.alerting import AlertSettings

    host, port = _listen(listen)
    if print_systemd_unit:
        exe = shutil.which("provdc") or str(Path(sys.executable).with_name("provdc"))
        out.print(service.systemd_unit(exe, path.resolve(), state.resolve(), listen, user), markup=False, end="")
        return
    settings = replace(_settings(scrape_interval, sli_window, rate_window), prometheus_port=port_base + 90,
                       alertmanager_port=port_base + 93, blackbox_port=port_base + 115, snmp_port=port_base + 116,
                       exporter_port=port_base + 300, serve_port=port)
    # the defaults group for 30 s and batch for 5 min; a shortened wait (drills, tests) shortens all three
    alerts = AlertSettings() if alert_wait == "2m" else AlertSettings(down_for=alert_wait, group_wait=alert_wait,
                                                                      group_interval=alert_wait)
    svc = service.Service(service.Options(path.resolve(), state, (host, port), settings, alerts))
    svc.install_signal_handlers()
    if console_listen:
        from provdc.console.app import Config
        from provdc.console.server import serve_in_thread, server

        chost, cport = _listen(console_listen)
        config = Config(path.resolve(), state.resolve(), f"http://{settings.listen_host}:{settings.prometheus_port}")
        serve_in_thread(server(config, chost, cport, console_cert, console_key))
    svc.run()
