"""`provdc inventory`: validate, export, statistics and schema of an inventory; import a draft
from spreadsheets, Ansible or a JSON export, and the spreadsheet template; discover what really
answers in the zones and diff it against what is declared."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from provdc.commands.common import err, out, write_atomically

@click.group()
def inventory() -> None:
    """Validate, export and summarise an inventory (a YAML file or a directory of them);
    import a draft from spreadsheets, Ansible or a JSON export (`import`, `template`)."""


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
@click.option("--format", "fmt", type=click.Choice(["ansible", "pyinfra", "file-sd", "json", "xlsx"]), default="ansible",
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
      xlsx      a workbook in the import template's layout (needs --output)
    """
    from provdc.inventory import exports, load_inventory

    inv = load_inventory(path)
    if fmt == "xlsx":
        from provdc.inventory.importing import write_workbook
        from provdc.inventory.tabular import rows_of

        if output is None:
            raise click.UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
        write_workbook(output, rows_of(inv.doc))
        err.print(f"wrote {output}")
        return
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


@inventory.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["csv", "xlsx", "ansible", "json"]))
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="SOURCE...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="New directory for the draft inventory (must not exist, or be empty).")
def import_(fmt: str, sources: tuple[Path, ...], out_dir: Path) -> None:
    """Write a draft inventory directory from what the province already keeps.

    \b
      csv      one file per kind of object, named like the sheets: servers.csv, agencies.csv,
               links.csv, systems.csv, services.csv (server, name, port, ...), ...
      xlsx     a workbook with those sheets (`provdc inventory template` writes an empty one,
               headers in Vietnamese or English)
      ansible  an Ansible inventory: INI, YAML or a directory (read with ansible-inventory
               --list), or the JSON that command prints; hosts become servers
      json     provdc's own export (`provdc inventory export --format json`)

    Every object is preceded by a comment saying where it came from. Cells and rows that
    cannot be imported are listed (sheet, row, column) and written to IMPORT-REJECTED.txt.
    The draft is then validated: every defect is reported at once. Exit 0 only when
    everything was imported and the draft is valid.

    \b
    Example:  provdc inventory template --format xlsx --lang vi -o kiem-ke.xlsx
              (fill it in)  provdc inventory import xlsx kiem-ke.xlsx --out inventory/soc-trang
    """
    from provdc.errors import InventoryError
    from provdc.inventory import load_inventory
    from provdc.inventory.importing import read_sources, render_draft, write_draft

    draft = read_sources(fmt, list(sources))
    command = f"provdc inventory import {fmt} " + " ".join(str(s) for s in sources)
    write_draft(out_dir, render_draft(draft, command))
    objects = sum(len(v) for v in draft.lists.values())
    err.print(f"wrote {out_dir}: {objects} objects from {len(sources)} source(s)")
    for r in draft.rejected:
        err.print(f"not imported: {r}", markup=False)
    try:
        load_inventory(out_dir)
    except InventoryError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        err.print(f"[bold red]draft is not valid yet:[/] {exc}; fix the sources or edit {out_dir}")
        raise SystemExit(1)
    if draft.rejected:
        err.print(f"[bold red]{len(draft.rejected)} cell(s) or row(s) not imported[/] (see {out_dir}/IMPORT-REJECTED.txt)")
        raise SystemExit(1)
    err.print("[green]draft is valid[/]")


@inventory.command()
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Language of sheet names and headers.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="The workbook (xlsx) or a new directory of CSV files (csv).")
def template(fmt: str, lang: str, output: Path) -> None:
    """Write an empty spreadsheet template for `provdc inventory import`.

    One sheet per kind of object (province, units, sites, zones, servers, services, devices,
    systems, agencies, links, maintenance, waivers, lab), one column per field, and a help
    sheet saying which columns are required and what each holds. Import accepts Vietnamese
    or English headers whichever template was used.
    """
    from provdc.inventory import tabular
    from provdc.inventory.importing import write_workbook

    if fmt == "xlsx":
        write_workbook(output, {}, lang)
    else:
        output.mkdir(parents=True, exist_ok=True)
        for sheet in tabular.SHEETS:
            head = list(tabular.KV_HEADERS[lang]) if sheet.key_value else [tabular.header(c, lang) for c in tabular.columns(sheet)]
            name = sheet.vi if lang == "vi" else sheet.name
            write_atomically(output / f"{name}.csv", ",".join(f'"{h}"' for h in head) + "\n"
                             + "".join(f'"{tabular.header(c, lang)}",\n' for c in tabular.columns(sheet)) * sheet.key_value)
    err.print(f"wrote {output}")


@inventory.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "dot"]), default="svg", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def diagram(path: Path, fmt: str, output: Path | None) -> None:
    """Draw the inventory's topology with Graphviz: sites and zones as boxes, servers and devices
    inside, links to agencies and Internet providers, for reports and dossiers.

    \b
      provdc inventory diagram inventory/ --format svg -o topology.svg
      provdc inventory diagram inventory/ --format png -o topology.png
    """
    from provdc.inventory import load_inventory
    from provdc.reports import topology

    data = topology.render(topology.source(load_inventory(path)), fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    err.print(f"wrote {output}")


# ------------------------------------------------------------------------ discover and diff

DIFF_TEXT = {
    "only_declared_hosts": {"en": "declared servers not answering", "vi": "máy chủ đã khai báo nhưng không trả lời"},
    "only_discovered_hosts": {"en": "answering hosts the inventory does not declare",
                              "vi": "máy đang trả lời nhưng chưa khai báo trong inventory"},
    "only_declared_services": {"en": "declared services not answering", "vi": "dịch vụ đã khai báo nhưng không trả lời"},
    "only_discovered_services": {"en": "open ports the inventory does not declare", "vi": "cổng đang mở nhưng chưa khai báo"},
    "not_probed": {"en": "UDP services (not probed)", "vi": "dịch vụ UDP (không dò)"},
    "outside_swept": {"en": "declared servers outside the swept zones", "vi": "máy chủ đã khai báo nằm ngoài các vùng đã quét"},
    "same": {"en": "declared and discovered agree", "vi": "khai báo và thực tế khớp nhau"},
}


def _sweep(zones, exclude: set[str]) -> dict:
    """Ping sweep of the zones, then a TCP connect scan of the hosts that answered."""
    import nmap  # python-nmap

    from provdc.checks.network import SCAN_PORTS

    scanner = nmap.PortScanner()
    excluded = ",".join(sorted(exclude)) or "0.0.0.0"
    cidrs = " ".join(str(z.cidr) for z in zones)
    with err.status(f"sweeping {cidrs}"):
        scanner.scan(hosts=cidrs, arguments=f"-sn -n -T4 --max-retries 3 --min-rate 500 --max-rtt-timeout 500ms "
                                            f"--initial-rtt-timeout 100ms -PE -PS22,80,443 --exclude {excluded}")
        alive = sorted(h for h in scanner.all_hosts() if scanner[h].state() == "up")
    if not alive:
        return {}
    with err.status(f"scanning {len(alive)} host(s) for open TCP ports"):
        scanner.scan(hosts=" ".join(alive), ports=SCAN_PORTS,
                     arguments="-sT -Pn -n -T4 --max-retries 1 --min-rate 2000 --max-rtt-timeout 150ms --initial-rtt-timeout 50ms")
    return {h: dict(scanner[h]) for h in scanner.all_hosts()}


@inventory.command()
@click.option("--zone", "zone_specs", multiple=True, required=True, metavar="NAME=CIDR",
              help="A zone to sweep (repeat for each zone); at most a /16 each.")
@click.option("--inventory", "inventory_path", type=click.Path(exists=True, path_type=Path),
              help="Refuse any zone outside this inventory's declared zones and link subnets.")
@click.option("--ssh-key", "ssh_key", metavar="REF",
              help="Reference to a private key (file:PATH or env:NAME): hosts with SSH open are asked their "
                   "hostname, OS, addresses and listeners.")
@click.option("--ssh-user", default="root", show_default=True)
@click.option("--known-hosts", type=click.Path(dir_okay=False, path_type=Path),
              help="Check host keys against this file (default: accept each key on first use into OUT/known_hosts).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for discovered.yaml (created; an existing discovered.yaml is replaced).")
def discover(zone_specs: tuple[str, ...], inventory_path: Path | None, ssh_key: str | None, ssh_user: str,
             known_hosts: Path | None, out_dir: Path) -> None:
    """Sweep the named zones with nmap (ping sweep, then open TCP ports of each host that
    answers) and write what really answers as a draft: zones and servers with their services, in
    the inventory's own shape, to merge by hand. Only the named CIDRs are touched; with
    --inventory each must lie inside a zone it declares, without it a public range is refused.
    This machine's own addresses are left out. UDP is not probed.

    \b
      provdc inventory discover --zone dc-dmz=10.99.10.0/24 --zone dc-srv=10.99.20.0/24 \\
          --inventory inventory/examples/lab --out discovered/
      provdc inventory diff inventory/examples/lab discovered/
    """
    from datetime import datetime, timezone

    from provdc.checks.network import local_addresses
    from provdc.exporters.monitoring import declared_networks
    from provdc.inventory import discovery, load_inventory
    from provdc.yamlread import dump_yaml

    zones = discovery.parse_zones(list(zone_specs))
    declared = declared_networks(load_inventory(inventory_path)) if inventory_path else None
    discovery.check_zones_in_scope(zones, declared)
    from provdc.secrets import SecretRef

    key = SecretRef.parse(ssh_key) if ssh_key else None   # a malformed reference fails before any packet
    hosts = discovery.hosts_from_scan(_sweep(zones, local_addresses()), zones, local_addresses())
    out_dir.mkdir(parents=True, exist_ok=True)
    if key is not None:
        hosts = _over_ssh(hosts, key, ssh_user, known_hosts, out_dir)
    proposal = discovery.draft(zones, hosts)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = (f"# Discovered by `provdc inventory discover` at {stamp} from this machine.\n"
              "# A draft: ids come from addresses, service names from nmap; merge into the inventory by hand.\n")
    write_atomically(out_dir / "discovered.yaml", header + dump_yaml(proposal, sort_keys=False, allow_unicode=True))
    services = sum(len(s["services"]) for s in proposal["servers"])
    err.print(f"wrote {out_dir / 'discovered.yaml'}: {len(hosts)} host(s), {services} open TCP service(s) "
              f"in {len(zones)} zone(s)")


def _over_ssh(hosts, key, user: str, known_hosts: Path | None, out_dir: Path) -> list:
    """Each host with SSH open asked SSH_SCRIPT in one round trip (eight at a time); a host that
    refuses keeps what the sweep saw, and the count is said."""
    from concurrent.futures import ThreadPoolExecutor

    from provdc.inventory import discovery
    from provdc.inventory.connection import Connection
    from provdc.proc import run_command

    # without --known-hosts, keys are learnt into OUT/known_hosts on first use
    hosts_file = str(known_hosts) if known_hosts else str(out_dir / "known_hosts")

    def ask(host):
        if 22 not in host.ports:
            return host, False
        conn = Connection(host.address, user, host.address, 22, key, Path.cwd(), hosts_file, first_use=not known_hosts)
        argv = conn.ssh_argv(discovery.SSH_SCRIPT)
        done = run_command(argv, timeout=20)
        return (discovery.with_ssh_facts(host, done.stdout), True) if done.returncode == 0 else (host, False)

    with err.status(f"asking {sum(22 in h.ports for h in hosts)} host(s) over SSH"), ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, hosts))
    refused = sum(1 for h, ok in answers if 22 in h.ports and not ok)
    if refused:
        err.print(f"[yellow]{refused} host(s) with SSH open did not answer with this key: kept as the sweep saw them[/]")
    return [h for h, _ in answers]


def _declared_servers(inv) -> dict:
    return {"servers": [{"id": s.id, "address": str(s.address), "ssh": {"port": s.ssh.port},
                         "services": [{"name": v.name, "port": v.port, "proto": v.proto} for v in s.services]}
                        for s in inv.doc.servers]}


def _read_discovered(path: Path) -> dict:
    import yaml

    from provdc.errors import ProvdcError

    file = path / "discovered.yaml" if path.is_dir() else path
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProvdcError(f"{file}: cannot read the discovery: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("servers", []), list):
        raise ProvdcError(f"{file}: not a discovery written by `provdc inventory discover`")
    return data


@inventory.command("diff")
@click.argument("declared", type=click.Path(exists=True, path_type=Path), metavar="DECLARED")
@click.argument("discovered", type=click.Path(exists=True, path_type=Path), metavar="DISCOVERED")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def diff_(declared: Path, discovered: Path, fmt: str, lang: str) -> None:
    """Hosts and services present on one side only: DECLARED is an inventory, DISCOVERED the
    directory (or discovered.yaml) `provdc inventory discover` wrote. Zone gateways and devices
    count as declared hosts; each server's SSH port is expected open. Exit 1 when they differ.

    \b
      provdc inventory diff inventory/examples/lab discovered/ --lang en
    """
    from provdc.inventory import discovery, load_inventory

    inv = load_inventory(declared)
    known = {str(z.gateway) for z in inv.doc.zones if z.gateway} | {str(d.address) for d in inv.doc.devices if d.address}
    result = discovery.diff(_declared_servers(inv), _read_discovered(discovered), known)
    if fmt == "json":
        out.print_json(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for key, items in result.as_dict().items():
            if items:
                out.print(f"[bold]{DIFF_TEXT[key][lang]}[/] ({len(items)})")
                for item in items:
                    out.print(f"  {item}", markup=False)
        if result.empty:
            out.print(f"[green]{DIFF_TEXT['same'][lang]}[/]")
    if not result.empty:
        raise SystemExit(1)
