"""Design checks from the inventory itself (TT 12/2022 annexes §II.1): required zones, device
and uplink redundancy, disaster-recovery distance. Gated by the highest level in the inventory."""

from __future__ import annotations

import math

from provdc.checks.registry import Verdict, check
from provdc.inventory import model

REQUIRED_ZONES = {
    1: {"edge", "dmz"},
    2: {"edge", "dmz", "servers"},
    3: {"edge", "dmz", "servers", "database", "management"},
    4: {"edge", "dmz", "servers", "database", "management", "device_management"},
    5: {"edge", "dmz", "servers", "database", "management", "device_management"},
}


def _max_level(inv) -> int:
    return max((s.level for s in inv.doc.systems), default=1)


@check(layer="network", level=1, severity="high", title="the data center has the zones its highest level requires",
       rationale="L1: edge and DMZ; L2: + internal servers; L3: + database and management; L4-5: + device management.",
       remediation="Declare (and build) the missing zones; move servers into them.",
       facts=("inv",), scope="inventory")
def required_zones_for_level(inv) -> Verdict:
    level = _max_level(inv)
    have = {z.kind.value for z in inv.doc.zones}
    missing = sorted(REQUIRED_ZONES[level] - have)
    return Verdict.failed(", ".join(sorted(REQUIRED_ZONES[level])), "missing " + ", ".join(missing)) if missing else \
        Verdict.passed(f"level {level}: all required zones present")


@check(layer="network", level=3, severity="high", title="core switch and central firewall are redundant",
       rationale="Level 3+: load balancing and hot standby for the core switch and central firewall (TT 12 §II.1.b).",
       remediation="Add the standby device to the inventory (same role and ha_group) and cable it.",
       facts=("inv",), scope="inventory")
def core_device_redundancy(inv) -> Verdict:
    lonely = []
    for role in ("core_switch", "central_fw"):
        members = [d for d in inv.doc.devices if d.role == role]
        if len(members) < 2:
            lonely.append(f"{role}: {len(members)}")
    return Verdict.failed("2 or more of each", "; ".join(lonely)) if lonely else Verdict.passed("core switch and firewall paired")


@check(layer="network", level=3, severity="medium", title="Internet service has redundant uplinks on different paths",
       rationale="Level 3+: redundant Internet connection for service servers (TT 12 §II.1.b.xv).",
       remediation="Contract a second Internet uplink on another physical path and declare it with its path_id.",
       facts=("inv",), scope="inventory")
def internet_uplink_redundancy(inv) -> Verdict:
    uplinks = [link for link in inv.doc.links if link.kind in (model.LinkKind.internet_domestic, model.LinkKind.internet_international)]
    paths = {link.path_id or link.id for link in uplinks}
    found = f"{len(uplinks)} uplinks on {len(paths)} paths"
    return Verdict.passed(found) if len(uplinks) >= 2 and len(paths) >= 2 else Verdict.failed("2 uplinks on 2 paths", found)


@check(layer="network", level=5, severity="high", title="the backup site is at least 30 km away",
       rationale="Level 5: a geo-redundant site at least 30 km from the primary (TT 12 Annex V §II.1.b.xviii).",
       remediation="Choose a backup site at least 30 km away and record both sites' coordinates.",
       facts=("inv",), scope="inventory")
def dr_site_distance(inv) -> Verdict:
    dc = [s for s in inv.doc.sites if s.kind == model.SiteKind.data_center and s.location]
    dr = [s for s in inv.doc.sites if s.kind == model.SiteKind.backup and s.location]
    if not dc or not dr:
        return Verdict.failed("a data center and a backup site with coordinates", "missing")
    km = haversine_km(dc[0].location, dr[0].location)
    return Verdict.passed(f"{km:.1f} km") if km >= 30 else Verdict.failed(">= 30 km", f"{km:.1f} km")


def haversine_km(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@check(layer="network", level=3, severity="medium", title="redundant WAN and Internet links run on different physical paths",
       rationale="Redundant links sharing one duct fail together (TT 06/2026; TT 12 §II.1.b.xv): each kind of link "
                 "from a site needs two physical paths.",
       remediation="Declare path_id for every link and contract the second link of each kind on another physical path.",
       facts=("inv",), scope="inventory")
def links_on_separate_paths(inv) -> Verdict:
    by_site: dict[tuple[str, str], set[str]] = {}
    for link in inv.doc.links:
        if link.kind not in (model.LinkKind.internet_domestic, model.LinkKind.internet_international) or not link.a.site:
            continue
        by_site.setdefault((link.a.site, "internet"), set()).add(link.path_id or link.id)
    single = sorted(f"{site} {kind}: {', '.join(sorted(paths))}" for (site, kind), paths in by_site.items() if len(paths) < 2)
    found = "; ".join(f"{site} {kind}: {len(paths)} paths" for (site, kind), paths in sorted(by_site.items()))
    if not by_site:
        return Verdict.failed("declared uplinks with their path_id", "no uplink declared")
    return Verdict.failed("2 physical paths per site and kind", "; ".join(single)) if single else Verdict.passed(found)
