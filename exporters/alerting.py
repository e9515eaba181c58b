"""Alerting generated from the inventory: Alertmanager's configuration and the operations alerts.

Pure functions (tested offline, and by `amtool check-config` / `promtool check rules`):

  alertmanager.yml              routes per owner agency and severity, the inventory's receivers
                                (e-mail over SMTP with TLS, webhooks), inhibitions
  rules/provdc-operations.yml   host and service down, certificate expiring, SOC contract and
                                independent assessment due, scheduled job failed or late,
                                `provdc serve` children restarting, maintenance windows

Every alert about something an agency owns carries `agency`, what routes match: a target's
down alert comes once per system the target serves, with that `system` and its owner agency
(each owner is told about its own system; a target of no system: its server's `owner`).
Secrets stay references in what `monitor config` writes: Alertmanager's `*_file` settings name
`secrets/<name>` beside alertmanager.yml, copies of the resolved values (mode 0600) written
only when the stack starts.

Maintenance windows mute by inhibition: while provdc's exporter says a window is active, the
`ProvdcMaintenanceWindow` alert fires (never notified) for each server, system and link it
covers, and inhibits that object's down, SLA and link alerts. The windows live in the
inventory, so a reload is all it takes to announce one; nothing is left behind in
Alertmanager's silence store when a window is withdrawn.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provdc.inventory import Inventory, model
from provdc.secrets import SecretRef
from provdc.yamlread import dump_yaml

NULL_RECEIVER = "provdc-null"   # receives what must never be sent (the maintenance marker)
SECRETS_DIR = "secrets"
SERVICE_JOBS = "blackbox_(tcp|tls|ssh|http|https)"


@dataclass(frozen=True)
class AlertSettings:
    """Grouping and timing of notifications; tests shorten them."""

    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    down_for: str = "2m"          # how long a host or service stays down before it pages
    job_grace_seconds: int = 900  # a scheduled run not started this long after its time is late
    due_days: int = 30            # SOC contract, assessment and certificate warnings


# ------------------------------------------------------------------------------- secrets

def _secret_file(ref: str, inv: Inventory, secrets_dir: str = SECRETS_DIR) -> str:
    """What Alertmanager's `*_file` setting names for a secret reference: always a copy that
    provdc writes at start. Alertmanager 0.25 sends a file's bytes verbatim, trailing newline
    included (`echo secret > file` then fails AUTH); provdc's references are stripped values."""
    parsed = SecretRef.parse(ref)
    if parsed.scheme == "file":
        return f"{secrets_dir}/file-{hashlib.sha256(str(parsed.path(inv.base)).encode()).hexdigest()[:16]}"
    return f"{secrets_dir}/env-{parsed.target}"


def secret_refs(inv: Inventory) -> list[str]:
    """Every secret reference the Alertmanager configuration uses."""
    a = inv.doc.alerting
    if a is None:
        return []
    refs = [a.smtp.password] if a.smtp and a.smtp.password else []
    refs += [r.webhook.token for r in a.receivers if r.webhook and r.webhook.token]
    return sorted(set(refs))


def write_runtime(inv: Inventory, config_dir: Path, settings: AlertSettings = AlertSettings()) -> list[Path]:
    """At start-up: alertmanager.yml naming its secrets by absolute path, and the `env:`
    references resolved into `config_dir/secrets/` (0700 directory, 0600 files); `file:`
    references are read by Alertmanager where they are."""
    am = alertmanager_config(inv, settings, str(config_dir.resolve() / SECRETS_DIR))
    if am is None:
        return []
    _write_yaml(config_dir / "alertmanager.yml", am)
    # the timings of `settings` (shortened for drills and tests) reach the rules too
    _write_yaml(config_dir / "rules" / "provdc-operations.yml", operations_rules(inv, settings))
    return write_secrets(inv, config_dir)


def _write_yaml(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dump_yaml(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)


def write_secrets(inv: Inventory, config_dir: Path) -> list[Path]:
    """Resolve every reference into `config_dir/secrets/` (0700 directory, 0600 files)."""
    written = []
    for ref in secret_refs(inv):
        path = config_dir / _secret_file(ref, inv)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(SecretRef.parse(ref).resolve(inv.base))
        written.append(path)
    return written


# ------------------------------------------------------------------------ alertmanager.yml

SUBJECT = ('[{{ .Status | toUpper }}] {{ if .CommonAnnotations.summary }}{{ .CommonAnnotations.summary }}'
           '{{ else }}{{ .GroupLabels.alertname }} ({{ .Alerts | len }}){{ end }}')
TEXT = """{{ range .Alerts }}{{ .Status | toUpper }}: {{ .Annotations.summary }}
{{ with .Annotations.summary_vi }}{{ . }}
{{ end }}{{ range .Labels.SortedPairs }}  {{ .Name }} = {{ .Value }}
{{ end }}  since {{ .StartsAt }}
{{ end }}"""


def _email_config(r: model.Receiver, smtp: model.SMTP, inv: Inventory, secrets_dir: str) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "to": ", ".join(r.email), "from": smtp.from_, "smarthost": smtp.smarthost,
        # never in clear: STARTTLS is required on any port but 465 (TLS from the first byte)
        "require_tls": True, "send_resolved": True,
        "headers": {"Subject": SUBJECT}, "text": TEXT,
        "tls_config": {"server_name": smtp.host, **({"ca_file": _path(smtp.ca, inv)} if smtp.ca else {})},
    }
    if smtp.hello:
        cfg["hello"] = smtp.hello
    if smtp.username:
        cfg["auth_username"] = smtp.username
        cfg["auth_password_file"] = _secret_file(smtp.password, inv, secrets_dir)
    return cfg


def _path(path: str, inv: Inventory) -> str:
    p = Path(path)
    return str(p if p.is_absolute() else (inv.base / p).resolve())


def _receiver(r: model.Receiver, a: model.Alerting, inv: Inventory, secrets_dir: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.id}
    if r.email:
        out["email_configs"] = [_email_config(r, a.smtp, inv, secrets_dir)]
    if r.webhook:
        hook: dict[str, Any] = {"url": r.webhook.url, "send_resolved": True}
        if r.webhook.token:
            hook["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": _secret_file(r.webhook.token, inv, secrets_dir)}}
        out["webhook_configs"] = [hook]
    return out


def _route(route: model.AlertRoute) -> dict[str, Any]:
    matchers = []
    if route.agency:
        matchers.append(f'agency="{route.agency}"')
    if route.severity:
        matchers.append(f'severity="{route.severity.value}"')
    return {"receiver": route.receiver, "matchers": matchers}


def inhibit_rules() -> list[dict[str, Any]]:
    """Host down silences its services; a maintenance window silences what it covers."""
    maintenance = 'alertname="ProvdcMaintenanceWindow"'
    return [
        {"source_matchers": ['alertname="ProvdcHostDown"'],
         "target_matchers": ['alertname=~"ProvdcServiceDown|ProvdcCertificateExpiring"'], "equal": ["server"]},
        {"source_matchers": [maintenance, 'scope="server"'],
         "target_matchers": ['alertname=~"ProvdcHostDown|ProvdcServiceDown"'], "equal": ["server"]},
        {"source_matchers": [maintenance, 'scope="system"'],
         "target_matchers": ['alertname=~"ProvdcSLABurn.*"'], "equal": ["system"]},
        {"source_matchers": [maintenance, 'scope="link"'],
         "target_matchers": ['alertname=~"ProvdcLink.*"'], "equal": ["link"]},
    ]


def alertmanager_config(inv: Inventory, settings: AlertSettings = AlertSettings(),
                        secrets_dir: str = SECRETS_DIR) -> dict[str, Any] | None:
    """The whole Alertmanager configuration, or None when the inventory declares no alerting.
    `secrets_dir` is where `env:` secrets are written (relative: beside alertmanager.yml)."""
    a = inv.doc.alerting
    if a is None:
        return None
    routes = [{"receiver": NULL_RECEIVER, "matchers": ['alertname="ProvdcMaintenanceWindow"']}]
    routes += [_route(r) for r in a.routes]
    return {
        "route": {"receiver": a.default_receiver, "group_by": ["alertname", "agency", "system", "server", "link"],
                  "group_wait": settings.group_wait, "group_interval": settings.group_interval,
                  "repeat_interval": settings.repeat_interval, "routes": routes},
        "inhibit_rules": inhibit_rules(),
        "receivers": [{"name": NULL_RECEIVER}] + [_receiver(r, a, inv, secrets_dir) for r in a.receivers],
    }


# ------------------------------------------------------------------------------------- rules

def _agency_from_owner(expr: str) -> str:
    return f'label_replace({expr}, "agency", "$1", "owner", "(.+)")'


def _alert(name: str, expr: str, severity: str, summary: str, summary_vi: str, wait: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if wait:
        rule["for"] = wait
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "summary_vi": summary_vi}
    return rule


def _per_system(inv: Inventory, rule: dict[str, Any]) -> list[dict[str, Any]]:
    """One copy of a target alert per system the target serves, labelled with the system and its
    owner agency (what routes match: each owner is told about its own system), plus one for
    targets of no system, whose agency is the server's owner."""
    expr = rule["expr"]
    out = []
    # annotation templates see the query's labels, not the rule's: the system and its owner
    # are written into each copy's text
    for system in inv.doc.systems:
        agency = system.owner or "{{ $labels.agency }}"
        labels = {**rule["labels"], "system": system.id, **({"agency": system.owner} if system.owner else {})}
        selector = f'systems=~"{_system_regex(system.id)}", '
        out.append({**rule, "expr": expr.replace("{", "{" + selector, 1), "labels": labels,
                    "annotations": _fill(rule["annotations"], f"system {system.id}", f"hệ thống {system.id}", agency)})
    out.append({**rule, "expr": expr.replace("{", '{systems="", ', 1),
                "annotations": _fill(rule["annotations"], "no system", "không thuộc hệ thống nào", "{{ $labels.agency }}")})
    return out


def _fill(annotations: dict[str, str], system: str, system_vi: str, agency: str) -> dict[str, str]:
    return {k: v.replace("@SYSTEM@", system).replace("@SYSTEM_VI@", system_vi).replace("@AGENCY@", agency)
            for k, v in annotations.items()}


def _system_regex(system_id: str) -> str:
    return f".*,{system_id},.*"  # ids are [a-z0-9-]: no regex metacharacters


def _down_alerts(inv: Inventory, s: AlertSettings) -> list[dict[str, Any]]:
    system, system_vi, owner = "@SYSTEM@", "@SYSTEM_VI@", "@AGENCY@"  # filled in per system
    rules = [
        _alert("ProvdcHostDown", _agency_from_owner('probe_success{job="blackbox_icmp", server!=""} == 0'), "page",
               f"Server {{{{ $labels.server }}}} does not answer ({system}; owner {owner})",
               f"Máy chủ {{{{ $labels.server }}}} không phản hồi ({system_vi}; đơn vị chủ quản {owner})", s.down_for),
        _alert("ProvdcServiceDown", _agency_from_owner(f'probe_success{{job=~"{SERVICE_JOBS}"}} == 0'), "page",
               f"Service {{{{ $labels.service }}}} on {{{{ $labels.server }}}} is down ({system}; owner {owner})",
               f"Dịch vụ {{{{ $labels.service }}}} trên {{{{ $labels.server }}}} ngừng hoạt động "
               f"({system_vi}; đơn vị chủ quản {owner})", s.down_for),
        _alert("ProvdcCertificateExpiring",
               _agency_from_owner(f'(probe_ssl_earliest_cert_expiry{{job=~"{SERVICE_JOBS}"}} - time()) / 86400 < {s.due_days}'),
               "ticket", f"The certificate of {{{{ $labels.instance }}}} ({system}) expires in {{{{ $value | humanize }}}} days",
               f"Chứng thư số của {{{{ $labels.instance }}}} ({system_vi}) hết hạn sau {{{{ $value | humanize }}}} ngày", "10m"),
    ]
    return [copy for rule in rules for copy in _per_system(inv, rule)]


def _governance_alerts(s: AlertSettings) -> list[dict[str, Any]]:
    return [
        _alert("ProvdcSOCContractDue", f"(provdc_soc_contract_end_timestamp_seconds - time()) / 86400 < {s.due_days}",
               "ticket", "The SOC contract of system {{ $labels.system }} (owner {{ $labels.agency }}) ends in "
               "{{ $value | humanize }} days (Directive 14 layer 2)",
               "Hợp đồng giám sát (SOC) của hệ thống {{ $labels.system }} (đơn vị chủ quản {{ $labels.agency }}) "
               "hết hạn sau {{ $value | humanize }} ngày (Chỉ thị 14, lớp 2)"),
        _alert("ProvdcAssessmentDue", f"(provdc_assessment_due_timestamp_seconds - time()) / 86400 < {s.due_days}",
               "ticket", "The independent assessment of system {{ $labels.system }} (owner {{ $labels.agency }}) "
               "is due in {{ $value | humanize }} days (Directive 14 layer 3)",
               "Hệ thống {{ $labels.system }} (đơn vị chủ quản {{ $labels.agency }}) đến hạn kiểm tra, đánh giá "
               "độc lập sau {{ $value | humanize }} ngày (Chỉ thị 14, lớp 3)"),
    ]


def _service_alerts(s: AlertSettings) -> list[dict[str, Any]]:
    return [
        _alert("ProvdcScheduledJobFailed", "provdc_serve_job_last_success == 0", "ticket",
               "The last scheduled {{ $labels.job_name }} run failed (see provdc serve's state directory)",
               "Lần chạy theo lịch gần nhất của {{ $labels.job_name }} bị lỗi"),
        _alert("ProvdcScheduledJobLate",
               f"(time() - provdc_serve_job_due_timestamp_seconds > {s.job_grace_seconds}) or provdc_serve_job_last_late == 1",
               "ticket", "The scheduled {{ $labels.job_name }} run is late",
               "Lần chạy theo lịch của {{ $labels.job_name }} bị trễ"),
        _alert("ProvdcServeChildRestarting", "increase(provdc_serve_child_restarts_total[15m]) > 0", "ticket",
               "provdc serve restarted {{ $labels.child }} in the last 15 minutes",
               "provdc serve đã khởi động lại {{ $labels.child }} trong 15 phút qua"),
        _alert("ProvdcServeDown", 'up{job="provdc_serve"} == 0', "page",
               "provdc serve (scheduler and supervisor) does not answer", "provdc serve không phản hồi", "5m"),
    ]


def _maintenance_alerts() -> list[dict[str, Any]]:
    by_kind = {
        "server": 'label_replace({__name__="provdc_maintenance_active", target_kind="server"} == 1, "server", "$1", "target", "(.*)")',
        "system": 'label_replace({__name__="provdc_maintenance_active", target_kind="system"} == 1, "system", "$1", "target", "(.*)")',
        "link": 'label_replace({__name__="provdc_maintenance_active", target_kind="link"} == 1, "link", "$1", "target", "(.*)")',
    }
    # a system's window covers its servers too
    servers = f"{by_kind['server']} or (provdc_system_server * on(system) group_left(window) {by_kind['system']})"
    rules = []
    for scope, expr in (("server", servers), ("system", by_kind["system"]), ("link", by_kind["link"])):
        rules.append({"alert": "ProvdcMaintenanceWindow", "expr": expr, "labels": {"severity": "none", "scope": scope},
                      "annotations": {"summary": "Maintenance window {{ $labels.window }} is active"}})
    return rules


def operations_rules(inv: Inventory, settings: AlertSettings = AlertSettings()) -> dict[str, Any]:
    return {"groups": [{"name": "provdc-operations", "rules": _down_alerts(inv, settings) + _governance_alerts(settings)
                        + _service_alerts(settings)},
                       {"name": "provdc-maintenance", "rules": _maintenance_alerts()}]}


def prometheus_alerting(host: str, port: int) -> dict[str, Any]:
    """prometheus.yml's `alerting:` block."""
    return {"alertmanagers": [{"static_configs": [{"targets": [f"{host}:{port}"]}]}]}
