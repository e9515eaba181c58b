"""Generate everything Prometheus needs from the inventory.

Pure functions: `generate()` returns {relative path: text}; `write()` puts it in a directory.
Targets come only from the inventory and must lie inside its declared zones or link subnets
(checked before anything is written: nothing outside the province is ever probed).

Files:
  prometheus.yml              scrape jobs (file_sd), rule files
  blackbox.yml                probe modules
  snmp.yml.template           snmp_exporter if_mib modules; communities are filled in at run time
  targets/*.json              file_sd target groups with topology labels
  rules/provdc-recording.yml  availability SLI per target and system; link rates and utilisation
  rules/provdc-alerts.yml     SLA burn, link p95 above 90 % of contract, link down, audit, waivers
  rules/provdc-operations.yml and alertmanager.yml   from alerting.py (routes, receivers, down, due dates)

Availability rule (stated in reports too): a target's SLI is the share of successful probes in
the SLI window; a system's SLI is the minimum over its targets (a system is only as available
as its least available declared service).
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provdc.errors import ScopeError
from provdc.durations import parse_duration
from provdc.exporters import alerting
from provdc.inventory import Inventory
from provdc.inventory.exports import file_sd
from provdc.secrets import SecretRef
from provdc.yamlread import dump_yaml

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
COMMUNITY_PLACEHOLDER = "__provdc_secret__:"


@dataclass(frozen=True)
class Settings:
    """Intervals and where each component listens (loopback by default)."""

    scrape_interval: str = "15s"
    sli_window: str = "1m"          # availability SLI: share of successful probes over this window
    rate_window: str = "5m"         # link rate window (Circular 06/2026 samples every 5 minutes)
    listen_host: str = "127.0.0.1"
    prometheus_port: int = 19090
    blackbox_port: int = 19115
    snmp_port: int = 19116
    exporter_port: int = 19300
    alertmanager_port: int = 19093
    serve_port: int | None = None   # `provdc serve` sets its own port: its health and job metrics are scraped
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scrape_timeout(self) -> str:
        # 80 % of the interval, in milliseconds: blackbox gets the timeout minus 0.5 s for its
        # probe, and a probe cut off by the scrape records no sample at all (a gap, not a failure)
        return f"{max(1000, int(_seconds(self.scrape_interval) * 800))}ms"


def _seconds(duration: str) -> float:
    return parse_duration(duration, "prometheus")


# ------------------------------------------------------------------------------------ scope

def declared_networks(inv: Inventory) -> list[ipaddress.IPv4Network]:
    nets = [z.cidr for z in inv.doc.zones]
    nets += [getattr(link, end).address.network for link in inv.doc.links for end in ("a", "b")
             if getattr(link, end).address is not None]
    return nets


def check_scope(inv: Inventory, addresses: list[str]) -> None:
    """Refuse any target outside the inventory's declared zones and link subnets."""
    nets = declared_networks(inv)
    outside = sorted({a for a in addresses if not any(ipaddress.IPv4Address(a) in n for n in nets)})
    if outside:
        raise ScopeError(f"refusing to probe addresses outside the inventory's zones: {', '.join(outside)}")


def _host_of(target: str) -> str:
    """The address of a target written as ADDRESS, ADDRESS:PORT or a URL."""
    return urlsplit(target if "://" in target else f"//{target}").hostname or target


# ---------------------------------------------------------------------------------- targets

def probe_targets(inv: Inventory) -> dict[str, list[dict[str, Any]]]:
    """file_sd groups per blackbox module, plus node_exporter and SNMP targets."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("icmp", "tcp", "tls", "ssh", "http", "https", "node", "snmp")}
    out["icmp"] = file_sd(inv, "hosts") + file_sd(inv, "agencies") + [
        {"targets": g["targets"], "labels": {**g["labels"], "device_kind": g["labels"].pop("kind")}} for g in file_sd(inv, "devices")]
    for group, svc in zip(file_sd(inv, "services"), (svc for s in inv.doc.servers for svc in s.services)):
        address = group["targets"][0]
        if svc.proto != "tcp":
            continue  # blackbox has no generic UDP prober; the host's ICMP probe covers it
        if svc.kind == "node_exporter":
            out["node"].append(group)
        elif svc.kind in ("http", "https"):
            scheme = "https" if svc.tls or svc.kind == "https" else "http"
            out[scheme].append({"targets": [f"{scheme}://{address}{svc.path or '/'}"], "labels": group["labels"]})
        elif svc.kind == "ssh":
            out["ssh"].append(group)
        else:
            out["tls" if svc.tls else "tcp"].append(group)
    out["snmp"] = _snmp_targets(inv)
    check_scope(inv, [_host_of(t) for groups in out.values() for g in groups for t in g["targets"]])
    return out


def _snmp_key(snmp) -> tuple[str, ...]:
    """What makes two agents readable with the same snmp_exporter module."""
    if snmp.version == "3":
        return ("3", snmp.username, snmp.auth_password, snmp.priv_password, snmp.auth_protocol, snmp.priv_protocol)
    return ("2c", snmp.community)


def _snmp_modules(inv: Inventory) -> dict[tuple[str, ...], str]:
    """One if_mib module per distinct way of reading an agent (v2c community or v3 user) among
    the devices that measure a link: key -> module name. Validation guarantees each is complete."""
    keys = sorted({_snmp_key(inv.devices[d].snmp) for d in inv.measuring_devices
                   if d in inv.devices and inv.devices[d].snmp is not None})
    return {key: f"if_mib_{i}" if key[0] == "2c" else f"if_mib_v3_{i}" for i, key in enumerate(keys)}


def _snmp_targets(inv: Inventory) -> list[dict[str, Any]]:
    modules = _snmp_modules(inv)
    groups = []
    for g in file_sd(inv, "devices"):
        dev = inv.devices[g["labels"]["device"]]
        if dev.id in inv.measuring_devices:
            labels = {**g["labels"], "__param_module": modules[_snmp_key(dev.snmp)]}
            labels.pop("kind", None)
            groups.append({"targets": g["targets"], "labels": labels})
    return groups


# ------------------------------------------------------------------------------ prometheus.yml

def _probe_job(name: str, module: str, settings: Settings) -> dict[str, Any]:
    return {"job_name": name, "metrics_path": "/probe", "params": {"module": [module]},
            "file_sd_configs": [{"files": [f"targets/{name.removeprefix('blackbox_')}.json"]}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": f"{settings.listen_host}:{settings.blackbox_port}"}]}


def prometheus_config(settings: Settings) -> dict[str, Any]:
    jobs = [{"job_name": "provdc", "static_configs": [{"targets": [f"{settings.listen_host}:{settings.exporter_port}"]}]}]
    if settings.serve_port is not None:
        jobs.append({"job_name": "provdc_serve", "static_configs": [{"targets": [f"{settings.listen_host}:{settings.serve_port}"]}]})
    for kind, module in (("icmp", "icmp"), ("tcp", "tcp_connect"), ("tls", "tcp_tls"), ("ssh", "ssh_banner"),
                         ("http", "http_any"), ("https", "https_2xx")):
        jobs.append(_probe_job(f"blackbox_{kind}", module, settings))
    jobs.append({"job_name": "node", "file_sd_configs": [{"files": ["targets/node.json"]}]})
    jobs.append({"job_name": "snmp", "metrics_path": "/snmp", "file_sd_configs": [{"files": ["targets/snmp.json"]}],
                 "relabel_configs": [
                     {"source_labels": ["__address__"], "target_label": "__param_target"},
                     {"source_labels": ["__param_target"], "target_label": "instance"},
                     {"target_label": "__address__", "replacement": f"{settings.listen_host}:{settings.snmp_port}"}]})
    return {"global": {"scrape_interval": settings.scrape_interval, "scrape_timeout": settings.scrape_timeout,
                       "evaluation_interval": settings.scrape_interval},
            "alerting": alerting.prometheus_alerting(settings.listen_host, settings.alertmanager_port),
            "rule_files": ["rules/provdc-recording.yml", "rules/provdc-alerts.yml", "rules/provdc-operations.yml"],
            "scrape_configs": jobs}


def blackbox_config() -> dict[str, Any]:
    ip4 = {"preferred_ip_protocol": "ip4"}
    # Availability probes: certificate validity is judged by the audit, not by uptime.
    insecure = {"insecure_skip_verify": True}
    return {"modules": {
        "icmp": {"prober": "icmp", "timeout": "2s", "icmp": ip4},
        "tcp_connect": {"prober": "tcp", "timeout": "3s", "tcp": ip4},
        "tcp_tls": {"prober": "tcp", "timeout": "3s", "tcp": {**ip4, "tls": True, "tls_config": insecure}},
        "ssh_banner": {"prober": "tcp", "timeout": "3s", "tcp": {**ip4, "query_response": [{"expect": "^SSH-2.0-"}]}},
        "http_any": {"prober": "http", "timeout": "5s",
                     "http": {**ip4, "valid_status_codes": [200, 204, 301, 302, 307, 308], "follow_redirects": False}},
        "https_2xx": {"prober": "http", "timeout": "5s", "http": {**ip4, "fail_if_not_ssl": True, "tls_config": insecure}},
    }}


def snmp_config(inv: Inventory, communities: dict[str, str] | None = None) -> dict[str, Any]:
    """if_mib modules with numeric OIDs (Debian ships no IF-MIB text). Without `communities`
    (reference -> value) each secret is a placeholder naming its reference: the file holds none."""
    lookups = [{"labels": ["ifIndex"], "labelname": "ifName", "oid": IF_NAME, "type": "DisplayString"}]
    index = [{"labelname": "ifIndex", "type": "gauge"}]
    metrics = [
        {"name": "ifHCInOctets", "oid": IF_HC_IN, "type": "counter", "help": "Octets received (IF-MIB ifHCInOctets)",
         "indexes": index, "lookups": lookups},
        {"name": "ifHCOutOctets", "oid": IF_HC_OUT, "type": "counter", "help": "Octets sent (IF-MIB ifHCOutOctets)",
         "indexes": index, "lookups": lookups},
        {"name": "ifOperStatus", "oid": IF_OPER_STATUS, "type": "gauge", "help": "1 up, 2 down (IF-MIB ifOperStatus)",
         "indexes": index, "lookups": lookups},
    ]
    secret = lambda ref: (communities or {}).get(ref, COMMUNITY_PLACEHOLDER + ref)  # noqa: E731
    out = {}
    for key, module in _snmp_modules(inv).items():
        if key[0] == "2c":
            version, auth = 2, {"community": secret(key[1])}
        else:
            _, user, auth_ref, priv_ref, auth_proto, priv_proto = key
            version, auth = 3, {"security_level": "authPriv", "username": user, "password": secret(auth_ref),
                                "auth_protocol": auth_proto, "priv_protocol": priv_proto, "priv_password": secret(priv_ref)}
        out[module] = {"walk": [IF_OPER_STATUS, IF_NAME, IF_HC_IN, IF_HC_OUT], "metrics": metrics,
                       "version": version, "max_repetitions": 25, "retries": 2, "timeout": "3s", "auth": auth}
    return out


def _snmp_refs(inv: Inventory) -> list[str]:
    return sorted({ref for key in _snmp_modules(inv) for ref in (key[1:2] if key[0] == "2c" else key[2:4])})


def render_snmp_secrets(inv: Inventory) -> dict[str, Any]:
    """The snmp_exporter config with communities and v3 passphrases resolved from their
    references (run time)."""
    return snmp_config(inv, {ref: SecretRef.parse(ref).resolve(inv.base) for ref in _snmp_refs(inv)})


# ------------------------------------------------------------------------------------ rules

def _system_regex(system_id: str) -> str:
    return f".*,{system_id},.*"  # ids are [a-z0-9-]: no regex metacharacters


LINK_OCTETS = "provdc:link_octets:total"
LINK_RATE = "provdc:link_bits_per_second:rate"              # recorded once per rate window
LINK_RATE_INTERVAL = "provdc:link_rate_interval:seconds"    # that window, recorded beside it
LINK_RATES_GROUP = "provdc-link-rates"
PROBES = 'probe_success{job=~"blackbox_.*"}'
PROBE_COUNT = "provdc:probe_success:count5m"                 # probes recorded in each report bucket
PROBE_SUCCESSES = "provdc:probe_success:sum5m"               # of which successful
PROBE_COUNT_INTERVAL = "provdc:probe_count_interval:seconds"  # that bucket, recorded beside them
PROBE_COUNTS_GROUP = "provdc-probe-counts"


def probe_count_exprs(bucket: str) -> tuple[str, str]:
    """Each target's probes recorded and successful in `bucket` (a duration) ending at the
    evaluation time, the end excluded by a millisecond so that a probe on the edge between two
    buckets counts in one of them. The one definition: the rules record them once per bucket
    and a report over buckets the rules did not record evaluates the same over each bucket."""
    window = f"{int(round(_seconds(bucket) * 1000)) - 1}ms"
    return f"count_over_time({PROBES}[{window}])", f"sum_over_time({PROBES}[{window}])"


def link_rate_expr(window: str) -> str:
    """Each link direction's mean rate in bits/s (as contracts are written) over `window` ending
    at the evaluation time, from its octet counter. The one definition: the rules record it once
    per rate window (LINK_RATE), and a report over buckets the rules did not record evaluates
    this same expression over each bucket (reports/collect.py)."""
    return f"8 * rate({LINK_OCTETS}[{window}])"


def recording_rules(inv: Inventory, settings: Settings) -> dict[str, Any]:
    sli = [{"record": "provdc:target_availability:sli",
            "expr": f"avg_over_time({PROBES}[{settings.sli_window}])"}]
    for s in inv.doc.systems:
        sli.append({"record": "provdc:system_availability:sli",
                    "expr": f'min(provdc:target_availability:sli{{systems=~"{_system_regex(s.id)}"}})',
                    "labels": {"system": s.id}})
    links = []
    for link in inv.doc.links:
        m = link.measured_by
        if m is None:
            continue
        at_a = m.device == link.a.device
        sel = f'job="snmp",device="{m.device}",ifName="{m.interface}"'
        # counters at end a: out is a->b; at end b the directions swap
        for counter, direction in (("ifHCOutOctets", "a_to_b" if at_a else "b_to_a"),
                                   ("ifHCInOctets", "b_to_a" if at_a else "a_to_b")):
            links.append({"record": "provdc:link_bytes_per_second:rate",
                          "expr": f"rate({counter}{{{sel}}}[{settings.rate_window}])",
                          "labels": {"link": link.id, "direction": direction}})
            # the counter itself under the link's name: reports take the mean rate of each of
            # their buckets from it, whatever the bucket length
            links.append({"record": LINK_OCTETS, "expr": f"{counter}{{{sel}}}",
                          "labels": {"link": link.id, "direction": direction}})
        links.append({"record": "provdc:link_up", "expr": f"ifOperStatus{{{sel}}} == bool 1", "labels": {"link": link.id}})
    links += [
        {"record": "provdc:link_bytes_per_second:max_rate", "expr": "max by (link) (provdc:link_bytes_per_second:rate)"},
        {"record": "provdc:link_utilisation:ratio",
         "expr": "provdc:link_bytes_per_second:rate / on(link, direction) group_left() provdc_link_contracted_bytes_per_second"},
        {"record": "provdc:link_utilisation:max_ratio", "expr": "max by (link) (provdc:link_utilisation:ratio)"},
    ]
    # the 5-minute rates reports read (non-overlapping windows, one sample each): the mean of
    # those in a bucket is the bucket's rate up to boundary effects, from 1/20 of the samples
    rates = [{"record": LINK_RATE, "expr": link_rate_expr(settings.rate_window)},
             {"record": LINK_RATE_INTERVAL, "expr": f"vector({_seconds(settings.rate_window):g})"}]
    # each target's probe counts per 5-minute bucket, for reports: a month of them is 1/20 of
    # the probes' samples, and the buckets where something failed or went unmeasured are few
    count, successes = probe_count_exprs(settings.rate_window)
    probes = [{"record": PROBE_COUNT, "expr": count}, {"record": PROBE_SUCCESSES, "expr": successes},
              {"record": PROBE_COUNT_INTERVAL, "expr": f"vector({_seconds(settings.rate_window):g})"}]
    return {"groups": [{"name": "provdc-availability", "rules": sli}, {"name": "provdc-links", "rules": links},
                       {"name": LINK_RATES_GROUP, "interval": settings.rate_window, "rules": rates},
                       {"name": PROBE_COUNTS_GROUP, "interval": settings.rate_window, "rules": probes}]}


def alert_rules() -> dict[str, Any]:
    in_maintenance = ('label_replace(provdc_maintenance_active{target_kind="system"} == 1, "system", "$1", "target", "(.*)")')
    burn = []
    for name, window, factor, wait in (("ProvdcSLABurnFast", "1h", 14.4, "5m"), ("ProvdcSLABurnSlow", "6h", 6, "30m")):
        burn.append({
            "alert": name,
            "expr": (f"((1 - avg_over_time(provdc:system_availability:sli[{window}])) > on(system) group_left() "
                     f"((1 - provdc_system_sla_target_ratio) * {factor}) unless on(system) {in_maintenance})"
                     # x 1 with the owner agency's label, which alert routes match
                     " * on(system) group_left(agency) provdc_system_owner"),
            "for": wait, "labels": {"severity": "page" if factor > 10 else "ticket"},
            "annotations": {"summary": "System {{ $labels.system }} is spending its monthly error budget "
                                       f"{factor}x too fast over {window}"}})
    return {"groups": [{"name": "provdc-alerts", "rules": burn + [
        {"alert": "ProvdcLinkP95AboveContract",
         "expr": "quantile_over_time(0.95, provdc:link_utilisation:ratio[7d]) > 0.9", "for": "1h",
         "labels": {"severity": "ticket"},
         "annotations": {"summary": "Link {{ $labels.link }} ({{ $labels.direction }}): 95th percentile over 7 days "
                                    "is above 90 % of the contracted capacity (Circular 06/2026/TT-BKHCN)"}},
        {"alert": "ProvdcLinkDown", "expr": "provdc:link_up == 0", "for": "2m", "labels": {"severity": "page"},
         "annotations": {"summary": "Link {{ $labels.link }} is down"}},
        {"alert": "ProvdcCriticalAuditFailure",
         "expr": 'provdc_check_status{severity="critical", status=~"FAIL|ERROR"} == 1', "labels": {"severity": "page"},
         "annotations": {"summary": "Critical check {{ $labels.check }} fails on {{ $labels.host }}"}},
        {"alert": "ProvdcWaiverExpiring", "expr": "(provdc_waiver_expiry_timestamp_seconds - time()) / 86400 < 14",
         "labels": {"severity": "ticket"},
         "annotations": {"summary": "Waiver for {{ $labels.check }} ({{ $labels.scope }}) expires in "
                                    "{{ $value | humanize }} days"}},
        {"alert": "ProvdcExporterProblem", "expr": "provdc_up == 0 or provdc_audit_results_up == 0", "for": "10m",
         "labels": {"severity": "ticket"}, "annotations": {"summary": "provdc exporter cannot read all of its inputs"}},
    ]}]}


# -------------------------------------------------------------------------------- assembling

def _yaml(data: Any, header: str) -> str:
    return f"# {header}\n# Generated by `provdc monitor config` from the inventory. Do not edit: regenerate.\n" + \
        dump_yaml(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def generate(inv: Inventory, settings: Settings = Settings()) -> dict[str, str]:
    from provdc.exporters import national  # the province level of a national federation

    config = prometheus_config(settings)
    config["global"]["external_labels"] = national.external_labels(inv, settings.extra.get("site"))
    config["rule_files"].append(national.PROVINCE_RULES)
    files = {
        "prometheus.yml": _yaml(config, f"Prometheus for {inv.province.name}"),
        national.PROVINCE_RULES: _yaml(national.province_rules(inv, settings), "aggregates for the centre (province:...)"),
        "blackbox.yml": _yaml(blackbox_config(), "blackbox_exporter probe modules"),
        "snmp.yml.template": _yaml(snmp_config(inv), "snmp_exporter modules; `provdc monitor up` fills in the communities"),
        "rules/provdc-recording.yml": _yaml(recording_rules(inv, settings), "availability SLIs and link utilisation"),
        "rules/provdc-alerts.yml": _yaml(alert_rules(), "SLA burn, link load against contract, link down, audit"),
        "rules/provdc-operations.yml": _yaml(alerting.operations_rules(inv), "down, due dates, scheduled jobs, maintenance"),
    }
    am = alerting.alertmanager_config(inv)
    if am is not None:
        files["alertmanager.yml"] = _yaml(am, f"Alertmanager for {inv.province.name}: routes and receivers")
    for name, groups in probe_targets(inv).items():
        files[f"targets/{name}.json"] = json.dumps(groups, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return files


def write(inv: Inventory, out: Path, settings: Settings = Settings()) -> list[Path]:
    """Write the generated files under `out` (each atomically); returns their paths."""
    return write_files(generate(inv, settings), out)


def write_files(files: dict[str, str], out: Path) -> list[Path]:
    """Write relative path -> text under `out`, each file atomically; returns their paths."""
    written = []
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


def write_snmp_secrets(inv: Inventory, path: Path) -> None:
    """The runnable snmp.yml, readable by root only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(dump_yaml(render_snmp_secrets(inv), sort_keys=False))

