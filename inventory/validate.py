"""Rules that span objects: unique ids, references, addresses inside their zones, no overlapping
zones, no cycles in the agency hierarchy. Runs only on a document that passed the schema, and
records every defect by the path of the offending field (the loader locates it)."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable
from typing import Any

from provdc.inventory import model
from provdc.inventory.load import Defect

EXPOSURES = {e.value for e in model.Exposure}
_SINGULAR = {"agencies": "agency", "maintenance": "maintenance window", "units": "unit", "sites": "site",
             "zones": "zone", "servers": "server", "devices": "device", "systems": "system", "links": "link"}


class _Judge:
    """Collects problems, locating each by its path in the raw (positioned) document."""

    def __init__(self, doc: model.Document) -> None:
        self.doc, self.defects = doc, []
        self.ids: dict[str, set[str]] = {}
        # Ids declared twice: references to them cannot be judged (which one is meant?), so rules
        # that look inside the referenced object skip them; the duplicate itself is reported.
        self.ambiguous: set[str] = set()

    def index(self, items: Iterable[Any]) -> dict[str, Any]:
        return {item.id: item for item in items if item.id not in self.ambiguous}

    def fail(self, loc: tuple[Any, ...], message: str, first: tuple[Any, ...] | None = None, *,
             reference: bool = False) -> None:
        self.defects.append(Defect(loc, message, first=first, reference=reference))

    def unique(self, section: str, items: Iterable[Any], loc_prefix: tuple[Any, ...] = ()) -> set[str]:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                self.ambiguous.add(item.id)
                self.fail(loc_prefix + (section, i, "id"), f"duplicate id '{item.id}'",
                          first=loc_prefix + (section, seen[item.id], "id"))
            else:
                seen[item.id] = i
        return set(seen)

    def ref(self, loc: tuple[Any, ...], value: str | None, kind: str) -> None:
        if value is not None and value not in self.ids[kind]:
            self.fail(loc, f"unknown {_SINGULAR.get(kind, kind)} '{value}'", reference=True)


def check_document(doc: model.Document, declared: dict[str, set[str]] | None = None) -> list[Defect]:
    """Every cross-object defect of `doc` (already schema-valid). `declared` adds ids of
    objects set aside for schema errors: they exist, so references to them are not dangling."""
    j = _Judge(doc)
    _collect_ids(j)
    for section, ids in (declared or {}).items():
        j.ids.setdefault(section, set()).update(ids)
        j.ambiguous.update(ids)  # declared but not valid: nothing inside them can be judged
    _check_units(j)
    _check_zones(j)
    _check_hosts(j)
    _check_systems(j)
    _check_agencies(j)
    _check_links(j)
    _check_maintenance_and_waivers(j)
    _check_evidence(j)
    _check_alerting(j)
    _check_lab(j)
    return j.defects


def _collect_ids(j: _Judge) -> None:
    d = j.doc
    j.ids["units"] = j.unique("units", d.province.units, ("province",))
    for section in model.LIST_SECTIONS:
        if section != "waivers":
            j.ids[section] = j.unique(section, getattr(d, section))
    host_ids = {}
    for section in ("servers", "devices"):  # one namespace: both become Ansible hosts / lab nodes
        for i, item in enumerate(getattr(d, section)):
            if item.id in host_ids and host_ids[item.id][0] != section:
                j.fail((section, i, "id"), f"id '{item.id}' is also used by a {host_ids[item.id][0][:-1]}")
            host_ids.setdefault(item.id, (section, i))


def _check_units(j: _Judge) -> None:
    units = j.index(j.doc.province.units)
    for i, u in enumerate(j.doc.province.units):
        loc = ("province", "units", i, "parent")
        if u.parent is None or u.parent in j.ambiguous:
            continue
        parent = units.get(u.parent)
        if parent is None:
            j.fail(loc, f"unknown unit '{u.parent}'", reference=True)
        elif u.kind == model.UnitKind.district:
            j.fail(loc, "a district has no parent unit (the province is its parent)")
        elif parent.kind != model.UnitKind.district:
            j.fail(loc, f"parent '{u.parent}' is a {parent.kind.value}, not a district")


def _check_zones(j: _Judge) -> None:
    d = j.doc
    for i, site in enumerate(d.sites):
        if site.kind == model.SiteKind.data_center and site.tier is None:
            j.fail(("sites", i, "tier"), "a data center must state its TCVN 9250 / TIA-942 tier (1-4)")
    for i, z in enumerate(d.zones):
        j.ref(("zones", i, "site"), z.site, "sites")
        if z.gateway is not None and not _usable(z.gateway, z.cidr):
            j.fail(("zones", i, "gateway"), f"{z.gateway} is not a usable address of {z.cidr}")
    for i, others in _overlapping_zones(d.zones).items():
        listed = ", ".join(f"'{d.zones[k].id}' ({d.zones[k].cidr})" for k in others)
        j.fail(("zones", i, "cidr"), f"{d.zones[i].cidr} overlaps zone{'s' if len(others) > 1 else ''} {listed}")


def _overlapping_zones(zones: list[model.Zone]) -> dict[int, list[int]]:
    """Overlapping pairs, each blamed on the zone declared later (that is the one just added).

    A sweep over zones sorted by start address keeps the zones still open: O(n log n + pairs).
    """
    ordered = sorted(range(len(zones)), key=lambda i: int(zones[i].cidr.network_address))
    open_zones: list[int] = []
    blamed: dict[int, list[int]] = {}
    for i in ordered:
        start = int(zones[i].cidr.network_address)
        open_zones = [k for k in open_zones if int(zones[k].cidr.broadcast_address) >= start]
        for k in open_zones:
            later, earlier = max(i, k), min(i, k)
            blamed.setdefault(later, []).append(earlier)
        open_zones.append(i)
    return {i: sorted(v) for i, v in sorted(blamed.items())}


def _usable(addr: ipaddress.IPv4Address, net: ipaddress.IPv4Network) -> bool:
    if addr not in net:
        return False
    return net.prefixlen >= 31 or addr not in (net.network_address, net.broadcast_address)


def _check_hosts(j: _Judge) -> None:
    d = j.doc
    zones = j.index(d.zones)
    used: dict[ipaddress.IPv4Address, str] = {}
    for z in d.zones:
        if z.gateway is not None:
            used[z.gateway] = f"gateway of zone '{z.id}'"
    for section in ("servers", "devices"):
        for i, h in enumerate(getattr(d, section)):
            if section == "devices":
                j.ref((section, i, "site"), h.site, "sites")
                if h.ssh is not None and h.config_backup is not None:
                    j.fail((section, i, "config_backup"), "a device reached over `ssh` is audited live; "
                           "`config_backup` is for appliances without `ssh`")
            j.ref((section, i, "zone"), h.zone, "zones")
            zone = zones.get(h.zone) if h.zone else None
            if h.address is None:
                if section == "devices" and h.ssh is not None:
                    j.fail((section, i, "ssh"), "a device provisioned over SSH needs a management `address`")
                continue
            if zone is not None and not _usable(h.address, zone.cidr):
                j.fail((section, i, "address"), f"{h.address} is outside zone '{zone.id}' ({zone.cidr})")
            if h.address in used:
                j.fail((section, i, "address"), f"{h.address} is already used by {used[h.address]}")
            else:
                used[h.address] = f"{section[:-1]} '{h.id}'"
            if section == "devices" and zone is not None and h.site != zone.site:
                j.fail((section, i, "zone"), f"zone '{zone.id}' belongs to site '{zone.site}', not '{h.site}'")
    for i, s in enumerate(d.servers):
        j.ref(("servers", i, "owner"), s.owner, "agencies")
        ports: dict[tuple[int, str], int] = {}
        for k, svc in enumerate(s.services):
            if (svc.port, svc.proto) in ports:
                j.fail(("servers", i, "services", k, "port"), f"{svc.port}/{svc.proto} is declared twice")
            ports[(svc.port, svc.proto)] = k
            for m, src in enumerate(svc.from_):
                if src not in EXPOSURES and src not in j.ids["zones"]:
                    j.fail(("servers", i, "services", k, "from", m),
                           f"'{src}' is neither a zone nor one of {', '.join(sorted(EXPOSURES))}", reference=True)


def _check_systems(j: _Judge) -> None:
    for i, s in enumerate(j.doc.systems):
        j.ref(("systems", i, "owner"), s.owner, "agencies")
        for k, sid in enumerate(s.servers):
            j.ref(("systems", i, "servers", k), sid, "servers")
        if s.backup is not None and s.backup.target is not None:
            j.ref(("systems", i, "backup", "target"), s.backup.target, "servers")
            if s.backup.target in s.servers:
                j.fail(("systems", i, "backup", "target"), "backups must be stored off the system's own servers")


def _check_agencies(j: _Judge) -> None:
    d = j.doc
    units = j.index(d.province.units)
    wanted_unit = {model.AgencyTier.district: {model.UnitKind.district},
                   model.AgencyTier.commune: {model.UnitKind.commune, model.UnitKind.ward, model.UnitKind.town}}
    links = j.index(d.links)
    for i, a in enumerate(d.agencies):
        j.ref(("agencies", i, "parent"), a.parent, "agencies")
        j.ref(("agencies", i, "wan"), a.wan, "links")
        if a.unit is not None and a.unit not in j.ambiguous:
            unit = units.get(a.unit)
            if unit is None:
                j.fail(("agencies", i, "unit"), f"unknown unit '{a.unit}'", reference=True)
            elif a.tier in wanted_unit and unit.kind not in wanted_unit[a.tier]:
                j.fail(("agencies", i, "unit"), f"a {a.tier.value}-tier agency cannot serve a {unit.kind.value}")
        link = links.get(a.wan) if a.wan else None
        if link is not None and a.id not in (link.a.agency, link.b.agency):
            j.fail(("agencies", i, "wan"), f"link '{link.id}' does not end at agency '{a.id}'")
    _check_agency_cycles(j)


def _check_agency_cycles(j: _Judge) -> None:
    agencies = j.doc.agencies
    parent = {a.id: a.parent for a in agencies}
    index = {a.id: i for i, a in enumerate(agencies)}
    reported: set[str] = set()
    for a in agencies:
        path, node = [], a.id
        while node is not None and node in parent and node not in path:
            path.append(node)
            node = parent[node]
        if node is not None and node in path:
            cycle = path[path.index(node):]
            if not reported.intersection(cycle):
                reported.update(cycle)
                start = min(cycle, key=lambda x: index[x])
                j.fail(("agencies", index[start], "parent"),
                       "cycle in the agency hierarchy: " + " -> ".join(_rotate(cycle, start) + [start]))


def _rotate(cycle: list[str], start: str) -> list[str]:
    k = cycle.index(start)
    return cycle[k:] + cycle[:k]


def _check_links(j: _Judge) -> None:
    d = j.doc
    devices = j.index(d.devices)
    for i, link in enumerate(d.links):
        for end in ("a", "b"):
            ep: model.Endpoint = getattr(link, end)
            loc = ("links", i, end)
            given = [k for k in ("site", "agency", "provider") if getattr(ep, k)]
            if len(given) != 1:
                j.fail(loc, "an endpoint names exactly one of site, agency or provider")
            j.ref(loc + ("site",), ep.site, "sites")
            j.ref(loc + ("agency",), ep.agency, "agencies")
            j.ref(loc + ("device",), ep.device, "devices")
        if link.a.address and link.b.address and link.a.address.network != link.b.address.network:
            j.fail(("links", i, "b", "address"), f"{link.b.address} is not in the subnet of end a ({link.a.address.network})")
        if link.a.address and link.b.address and link.a.address.ip == link.b.address.ip:
            j.fail(("links", i, "b", "address"), "both ends have the same address")
        m = link.measured_by
        if m is not None and m.device not in j.ambiguous:
            dev = devices.get(m.device)
            if dev is None:
                j.fail(("links", i, "measured_by", "device"), f"unknown device '{m.device}'", reference=True)
            elif dev.snmp is None:
                j.fail(("links", i, "measured_by", "device"), f"device '{m.device}' has no snmp settings")
            elif m.device not in (link.a.device, link.b.device):
                j.fail(("links", i, "measured_by", "device"), f"device '{m.device}' is not an endpoint of the link")
    _check_snmp_measurable(j)


def _check_snmp_measurable(j: _Judge) -> None:
    """A link nobody can measure must never disappear from monitoring in silence."""
    measured: dict[str, list[str]] = {}
    for link in j.doc.links:
        if link.measured_by is not None:
            measured.setdefault(link.measured_by.device, []).append(link.id)
    for k, dev in enumerate(j.doc.devices):
        gap = _snmp_gap(dev.snmp) if dev.snmp is not None and dev.id in measured else None
        if gap:
            j.fail(("devices", k, "snmp"), f"cannot measure {', '.join(measured[dev.id])}: {gap}")


def _check_maintenance_and_waivers(j: _Judge) -> None:
    d = j.doc
    for i, mw in enumerate(d.maintenance):
        if (mw.start.tzinfo is None) != (mw.end.tzinfo is None):
            # a naive and an aware time cannot be compared: which one is meant is the defect
            j.fail(("maintenance", i, "end" if mw.end.tzinfo is None else "start"),
                   "start and end must both have a time zone (e.g. +07:00), or neither")
        elif mw.end <= mw.start:
            j.fail(("maintenance", i, "end"), "ends before it starts")
        for kind in ("systems", "servers", "links"):
            for k, ref in enumerate(getattr(mw.targets, kind)):
                j.ref(("maintenance", i, "targets", kind, k), ref, kind)
    known_checks = _known_checks() if d.waivers else None
    for i, w in enumerate(d.waivers):
        if known_checks is not None and w.check not in known_checks:
            close = difflib.get_close_matches(w.check, sorted(known_checks), n=1)
            j.fail(("waivers", i, "check"), f"unknown check '{w.check}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        scope = w.scope
        j.ref(("waivers", i, "scope", "system"), scope.system, "systems")
        j.ref(("waivers", i, "scope", "agency"), scope.agency, "agencies")
        if scope.host is not None and scope.host not in j.ids["servers"] | j.ids["devices"]:
            j.fail(("waivers", i, "scope", "host"), f"unknown host '{scope.host}'", reference=True)


def _known_checks() -> set[str]:
    """The ids of provdc's checks, which a waiver must name: the requirement catalogue lists
    every check (a test proves it), so the inventory needs no other part to know them."""
    from provdc.inventory.catalogue import load_catalogue

    return load_catalogue().check_ids()


def _check_evidence(j: _Judge) -> None:
    """Evidence names requirements of the catalogue and systems of the inventory."""
    from provdc.inventory.catalogue import load_catalogue

    catalogue = load_catalogue()
    j.unique("evidence", j.doc.evidence)
    for i, ev in enumerate(j.doc.evidence):
        for k, rid in enumerate(ev.requirements):
            if rid not in catalogue.requirements:
                j.fail(("evidence", i, "requirements", k), f"unknown requirement '{rid}'")
        for k, sid in enumerate(ev.systems):
            j.ref(("evidence", i, "systems", k), sid, "systems")
        if ev.valid_until is not None and ev.valid_until < ev.date:
            j.fail(("evidence", i, "valid_until"), "before the document's date")


def _snmp_gap(snmp: model.SNMP) -> str | None:
    """Why snmp_exporter could not read this agent, or None."""
    if snmp.version == "2c":
        return None if snmp.community else "SNMPv2c needs a `community` reference"
    missing = [k for k in ("username", "auth_password", "priv_password") if getattr(snmp, k) is None]
    return f"SNMPv3 (authPriv) needs {', '.join(missing)}" if missing else None


def _check_alerting(j: _Judge) -> None:
    d = j.doc
    schedule = d.schedule
    if d.alerting is None:
        for job in ("audit", "report"):
            if getattr(schedule, job).receivers:
                j.fail(("schedule", job, "receivers"), "receivers are declared in the `alerting` section, which is missing")
        return
    a = d.alerting
    ids = j.unique("receivers", a.receivers, ("alerting",))
    receivers = j.index(a.receivers)
    for i, r in enumerate(a.receivers):
        if not r.email and r.webhook is None:
            j.fail(("alerting", "receivers", i), "a receiver needs `email` addresses, a `webhook`, or both")
        if r.email and a.smtp is None:
            j.fail(("alerting", "receivers", i, "email"), "e-mail receivers need `alerting.smtp` (the relay)")
    if a.smtp is not None and bool(a.smtp.username) != bool(a.smtp.password):
        j.fail(("alerting", "smtp", "password" if a.smtp.username else "username"),
               "`username` and `password` go together")
    if a.default_receiver not in ids:
        j.fail(("alerting", "default_receiver"), f"unknown receiver '{a.default_receiver}'")
    for i, route in enumerate(a.routes):
        if route.receiver not in ids:
            j.fail(("alerting", "routes", i, "receiver"), f"unknown receiver '{route.receiver}'")
        j.ref(("alerting", "routes", i, "agency"), route.agency, "agencies")
        if route.agency is None and route.severity is None:
            j.fail(("alerting", "routes", i), "a route names an `agency`, a `severity`, or both (else use default_receiver)")
    for job in ("audit", "report"):
        for k, rid in enumerate(getattr(schedule, job).receivers):
            loc = ("schedule", job, "receivers", k)
            if rid not in ids:
                j.fail(loc, f"unknown receiver '{rid}'")
            elif rid in receivers and not receivers[rid].email:
                j.fail(loc, f"receiver '{rid}' has no e-mail address (results are sent by e-mail)")


def _check_lab(j: _Judge) -> None:
    lab = j.doc.lab
    if lab is None:
        return
    for i, z in enumerate(j.doc.zones):
        if not z.cidr.subnet_of(lab.supernet):
            j.fail(("zones", i, "cidr"), f"{z.cidr} is outside the lab supernet {lab.supernet}")
    for i, link in enumerate(j.doc.links):
        for end in ("a", "b"):
            addr = getattr(link, end).address
            if addr is not None and addr.ip not in lab.supernet:
                j.fail(("links", i, end, "address"), f"{addr} is outside the lab supernet {lab.supernet}")
