"""Exports of the one model to the formats other tools read.

All exports are pure functions of the Inventory: the same inventory gives byte-identical output
(sorted, no timestamps), so exports can be committed, diffed and tested. Secrets stay references:
a `file:` key becomes its path, an `env:` reference becomes a lookup done by the consumer.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from provdc.inventory import model
from provdc.inventory.catalogue import bar_for
from provdc.inventory.connection import Connection
from provdc.inventory.index import Inventory
from provdc.secrets import SecretRef
from provdc.yamlread import dump_yaml

ANY_IPV4 = "0.0.0.0/0"


def group_name(prefix: str, ident: str | int) -> str:
    """Ansible and pyinfra group names must be identifiers: dashes become underscores."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', str(ident))}"


# ----------------------------------------------------------------------- service source CIDRs

def wan_networks(inv: Inventory) -> list[str]:
    """Networks agencies reach the data center from: the far-end subnets of WAN links."""
    nets = {str(link.b.address.network) for link in inv.doc.links
            if link.kind == model.LinkKind.wan and link.b.address is not None}
    return sorted(nets, key=_net_sort)


def _net_sort(net: str) -> tuple[int, int]:
    n = ipaddress.IPv4Network(net)
    return int(n.network_address), n.prefixlen


def source_cidrs(inv: Inventory, sources: list[str]) -> list[str]:
    """Resolve a service's `from:` list (exposures and zone ids) to the CIDRs it admits."""
    out: set[str] = set()
    for src in sources:
        if src == model.Exposure.internet.value:
            out.add(ANY_IPV4)
        elif src == model.Exposure.wan.value:
            out.update(wan_networks(inv))
        elif src == model.Exposure.internal.value:
            out.update(str(z.cidr) for z in inv.doc.zones)
        elif src == model.Exposure.localhost.value:
            out.add("127.0.0.0/8")
        else:
            out.add(str(inv.zones[src].cidr))
    if ANY_IPV4 in out:
        return [ANY_IPV4]
    return sorted(out, key=_net_sort)


# --------------------------------------------------------------------------------- Ansible

def policy_of(systems: list[model.System]) -> dict[str, int | float]:
    """The numbers a host is held to (its bar: the strictest among its systems' frameworks and
    levels), which the roles write and the audit checks: one source for both."""
    return {name: int(v) if float(v).is_integer() else v for name, (v, _) in sorted(bar_for(systems).values.items())}


def server_hostvars(inv: Inventory, server: model.Server) -> dict[str, Any]:
    """Everything playbooks know about one server, derived from the model only."""
    zone = inv.zones[server.zone]
    systems = inv.systems_by_server[server.id]
    level = inv.server_level(server.id)
    services = [{"name": s.name, "port": s.port, "proto": s.proto, "kind": s.kind, "tls": s.tls,
                 "sources": source_cidrs(inv, s.from_)} for s in server.services]
    return {
        **Connection.of(inv, server).ansible_vars(),
        "provdc_id": server.id,
        "provdc_hostname": server.hostname,
        "provdc_role": server.role,
        "provdc_zone": zone.id,
        "provdc_zone_kind": zone.kind.value,
        "provdc_site": zone.site,
        "provdc_os": server.os,
        "provdc_owner": server.owner,
        "provdc_level": level,
        "provdc_policy": policy_of(systems),
        "provdc_systems": [s.id for s in systems],
        "provdc_services": services,
        "provdc_ntp": list(inv.province.ntp),
    }


def monitoring_cidrs(inv: Inventory) -> list[str]:
    """Where the monitoring server polls from: the management and device-management zones."""
    kinds = (model.ZoneKind.management, model.ZoneKind.device_management)
    return sorted((str(z.cidr) for z in inv.doc.zones if z.kind in kinds), key=_net_sort)


def device_hostvars(inv: Inventory, device: model.Device) -> dict[str, Any]:
    """What the snmpd role knows about a Linux device: how to reach it, and its agent. The
    community stays a reference (a file path or an environment variable's name) that the role
    looks up on the controller, so no value ever enters the inventory or the run's artifacts."""
    assert device.ssh is not None and device.snmp is not None and device.address is not None
    snmp = device.snmp
    measured = sorted(link.measured_by.interface for link in inv.doc.links
                      if link.measured_by and link.measured_by.device == device.id)
    return {
        **Connection.of(inv, device).ansible_vars(),
        "provdc_id": device.id,
        "provdc_kind": device.kind.value,
        "provdc_device_role": device.role,
        "provdc_site": device.site,
        "provdc_zone": device.zone,
        "provdc_os": device.os,
        "provdc_snmp": {
            "version": snmp.version,
            "port": snmp.port,
            "sources": monitoring_cidrs(inv),
            "interfaces": measured,
            **_ref_vars(inv, "community", snmp.community),
            # SNMPv3 (authPriv): net-snmp spells the protocols SHA-256, AES
            "username": snmp.username,
            "auth_protocol": netsnmp_protocol(snmp.auth_protocol),
            "priv_protocol": snmp.priv_protocol,
            **_ref_vars(inv, "auth", snmp.auth_password),
            **_ref_vars(inv, "priv", snmp.priv_password),
        },
    }


def netsnmp_protocol(name: str) -> str:
    """snmp_exporter's SHA256 is net-snmp's SHA-256 (SHA and AES are spelt alike)."""
    return name.replace("SHA2", "SHA-2").replace("SHA5", "SHA-5")


def _ref_vars(inv: Inventory, name: str, text: str | None) -> dict[str, str | None]:
    """A secret reference as the role looks it up: the file's path or the variable's name."""
    ref = SecretRef.parse(text) if text else None
    return {f"{name}_ref": str(ref) if ref else None,
            f"{name}_file": str(ref.path(inv.base)) if ref and ref.scheme == "file" else None,
            f"{name}_env": ref.target if ref and ref.scheme == "env" else None}


def ansible_groups(inv: Inventory) -> dict[str, list[str]]:
    """Groups by role, zone, site, owner agency, security level and system."""
    groups: dict[str, set[str]] = {}
    for s in inv.doc.servers:
        keys = [group_name("role", s.role), group_name("zone", s.zone),
                group_name("site", inv.zones[s.zone].site)]
        if s.owner:
            keys.append(group_name("agency", s.owner))
        level = inv.server_level(s.id)
        if level is not None:
            keys.append(group_name("level", level))
        keys += [group_name("system", sys.id) for sys in inv.systems_by_server[s.id]]
        for key in keys:
            groups.setdefault(key, set()).add(s.id)
    return {k: sorted(v) for k, v in sorted(groups.items())}


def to_ansible_dict(inv: Inventory) -> dict[str, Any]:
    """The Ansible inventory as a dict (what ansible_runner.run(inventory=...) accepts)."""
    management = [str(z.cidr) for z in inv.doc.zones if z.kind == model.ZoneKind.management]
    return {"all": {
        "vars": {"provdc_province": inv.province.id, "ansible_python_interpreter": "/usr/bin/python3",
                 "provdc_management_cidrs": management},
        "hosts": {**{s.id: server_hostvars(inv, s) for s in inv.doc.servers},
                  **{d.id: device_hostvars(inv, d) for d in inv.snmp_agents}},
        "children": {name: {"hosts": {h: None for h in hosts}} for name, hosts in _ansible_children(inv).items()},
    }}


def _ansible_children(inv: Inventory) -> dict[str, list[str]]:
    """The server groups, plus `servers` (the baseline play) and `snmp_agents` (the snmpd play)."""
    children = {"servers": [s.id for s in inv.doc.servers], **ansible_groups(inv)}
    if inv.snmp_agents:
        children["snmp_agents"] = [d.id for d in inv.snmp_agents]
    return children


def to_ansible(inv: Inventory) -> str:
    header = f"# Ansible inventory generated by provdc from province '{inv.province.id}'. Do not edit: regenerate.\n"
    return header + dump_yaml(to_ansible_dict(inv), sort_keys=True, allow_unicode=True, default_flow_style=False)


# --------------------------------------------------------------------------------- pyinfra

def pyinfra_host_data(inv: Inventory, server: model.Server) -> dict[str, Any]:
    return {**Connection.of(inv, server).pyinfra_data(), "provdc_zone": server.zone, "provdc_role": server.role,
            "provdc_level": inv.server_level(server.id)}


def to_pyinfra(inv: Inventory) -> str:
    """A pyinfra inventory module: one list per group, host data on the `servers` group."""
    lines = [f"# pyinfra inventory generated by provdc from province '{inv.province.id}'. Do not edit: regenerate.",
             "import os", "", "servers = ["]
    for s in inv.doc.servers:
        data = pyinfra_host_data(inv, s)
        key = _pyinfra_key(inv, s.ssh.key)
        body = ", ".join(f"{k!r}: {v!r}" for k, v in data.items())
        lines.append(f"    ({s.id!r}, {{{body}{', ' + key if key else ''}}}),")
    lines.append("]")
    for name, hosts in ansible_groups(inv).items():
        lines.append(f"{name} = {hosts!r}")
    return "\n".join(lines) + "\n"


def _pyinfra_key(inv: Inventory, ref: str | None) -> str:
    if ref is None:
        return ""
    parsed = SecretRef.parse(ref)
    if parsed.scheme == "file":
        return f"'ssh_key': {str(parsed.path(inv.base))!r}"
    return f"'ssh_key': os.environ.get({parsed.target!r})"


# ----------------------------------------------------------------------- Prometheus file_sd

SD_KINDS = ("hosts", "services", "agencies", "devices")


def _server_labels(inv: Inventory, s: model.Server) -> dict[str, str]:
    level = inv.server_level(s.id)
    labels = {"province": inv.province.id, "site": inv.zones[s.zone].site, "zone": s.zone,
              "server": s.id, "role": s.role, "owner": s.owner or "",
              # comma-wrapped so a relabel or PromQL regex can match one system exactly (,portal,)
              "systems": "," + ",".join(x.id for x in inv.systems_by_server[s.id]) + ",",
              "level": str(level) if level else ""}
    return {k: v for k, v in labels.items() if v}


def file_sd(inv: Inventory, kind: str = "hosts") -> list[dict[str, Any]]:
    """Prometheus file_sd target groups with topology labels (labels belong in SD, not exporters)."""
    if kind == "hosts":
        return [{"targets": [str(s.address)], "labels": _server_labels(inv, s)} for s in inv.doc.servers]
    if kind == "services":
        return [{"targets": [f"{s.address}:{svc.port}"],
                 "labels": {**_server_labels(inv, s), "service": svc.name, "kind": svc.kind,
                            "proto": svc.proto, **({"tls": "true"} if svc.tls else {})}}
                for s in inv.doc.servers for svc in s.services]
    if kind == "agencies":
        return [{"targets": [str(link.b.address.ip if link.b.agency == a.id else link.a.address.ip)],
                 "labels": {"province": inv.province.id, "agency": a.id, "tier": a.tier.value, "link": link.id}}
                for a in inv.doc.agencies if a.wan for link in [inv.links[a.wan]]
                if (link.b.address if link.b.agency == a.id else link.a.address) is not None]
    if kind == "devices":
        return [{"targets": [str(d.address)],
                 "labels": {"province": inv.province.id, "site": d.site, "device": d.id, "kind": d.kind.value}}
                for d in inv.doc.devices if d.address is not None and d.snmp is not None]
    raise ValueError(f"unknown file_sd kind {kind!r}; choose one of {', '.join(SD_KINDS)}")


def to_file_sd(inv: Inventory, kind: str = "hosts") -> str:
    return json.dumps(file_sd(inv, kind), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_json(inv: Inventory) -> str:
    """The resolved model (defaults applied) as JSON."""
    return inv.doc.model_dump_json(indent=2, by_alias=True) + "\n"


EXPORTERS = {"ansible": to_ansible, "pyinfra": to_pyinfra, "json": to_json}
