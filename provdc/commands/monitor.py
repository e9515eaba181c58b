"""`provdc exporter` and `provdc monitor`: provdc's exporter and the generated monitoring stack."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import err, out

def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("write HOST:PORT, e.g. 127.0.0.1:19300")
    return host, int(port)


@click.group()
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


@click.group()
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
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path), metavar="[PATH]")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to write into.")
@click.option("--national", "national_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Instead of one province: the national federating Prometheus for the provinces of this file "
                   "(its intervals are the file's `settings:`, not the options below).")
@click.option("--site", help="This instance serves one site of the province: add `site` to its external labels.")
@_with_monitor_options
def monitor_config(path: Path | None, out: Path, national_file: Path | None, site: str | None, scrape_interval: str,
                   sli_window: str, rate_window: str) -> None:
    """Write prometheus.yml, blackbox.yml, snmp.yml.template, file_sd targets and rules for the
    province at PATH; with --national, the national Prometheus that federates the provinces.

    Every provincial Prometheus carries `external_labels: {province: ID}` and records the
    aggregates the centre needs (rules/province-aggregates.yml, all named `province:...`).

    \b
    NATIONAL.yaml (every problem reported with file:line:column):
      version: 1
      nation: vn
      name: Bộ Khoa học và Công nghệ
      settings: {scrape_interval: 30s, not_reporting_for: 5m}   # optional
      provinces:
        - inventory: hue/                        # id and name from the inventory
          prometheus: http://10.1.0.5:9090       # federated: /federate, province:* only
          exporter: http://10.1.0.5:19300         # optional: exporter health
        - id: soc-trang
          prometheus: https://prom.soctrang.example:9090

    Check them with: promtool check config OUT/prometheus.yml; promtool check rules OUT/rules/*.yml
    """
    from provdc.exporters import monitoring

    if national_file is not None:
        from provdc.exporters import national

        if path is not None or site:
            raise click.UsageError("--national takes no PATH and no --site (the provinces are in the file)")
        nat = national.load_national(national_file)
        files = national.write_national(nat, out)
        err.print(f"national Prometheus for {len(nat.provinces)} provinces:")
    else:
        from provdc.inventory import load_inventory

        if path is None:
            raise click.UsageError("give the inventory PATH of a province, or --national NATIONAL.yaml")
        settings = _settings(scrape_interval, sli_window, rate_window)
        if site:
            settings = monitoring.Settings(**{**settings.__dict__, "extra": {"site": site}})
        files = monitoring.write(load_inventory(path), out, settings)
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
