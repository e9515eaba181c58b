"""Pure view building: inventory + stored audit run + live snapshot -> what a page prints.
No figure is computed here that the results model or the reports already compute: states
are read off probes, scores off the run, availability and p95 off reports.collect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from provdc.checks.results import BAD, AuditRun, Finding
from provdc.console.live import Live
from provdc.inventory import Inventory
from provdc.reports.compute import CONTRACT_LIMIT, VN


def server_states(inv: Inventory, live: Live) -> dict[str, str]:
    out = {}
    for sv in inv.doc.servers:
        v = live.probes.get(sv.id)
        out[sv.id] = "unknown" if v is None else "up" if v >= 1 else "down"
    return out


def system_state(servers: list[str], states: dict[str, str]) -> str:
    """Down if any of its servers is down now, up if all are up, else unknown."""
    mine = [states.get(s, "unknown") for s in servers]
    if "down" in mine:
        return "down"
    return "up" if mine and all(s == "up" for s in mine) else "unknown"


def utilisation_now(inv: Inventory, live: Live) -> dict[tuple[str, str], float]:
    """(link, direction) -> utilisation of contract now, for the inventory's links only."""
    ids = {ln.id for ln in inv.doc.links}
    return {k: v for k, v in live.link_now.items() if k[0] in ids}


def link_state(link_id: str, now: dict[tuple[str, str], float], live: Live) -> str:
    """warn when a direction is above 90 % of contract now or its 7-day p95 is; up when measured."""
    week = next((w for w in live.week if w.id == link_id), None)
    values = [v for (lid, _), v in now.items() if lid == link_id]
    if week is not None:
        values += [d.worst_window_utilisation for d in week.directions if d.worst_window_utilisation is not None]
    if not values:
        return "unknown"
    return "warn" if max(values) > CONTRACT_LIMIT + 1e-12 else "up"


def status_map(inv: Inventory, live: Live) -> dict[str, str]:
    """Every drawable id -> state: servers, systems, links, agencies (for the diagram and lists)."""
    states = server_states(inv, live)
    out = dict(states)
    for s in inv.doc.systems:
        out[s.id] = system_state(list(s.servers), states)
    now = utilisation_now(inv, live)
    for ln in inv.doc.links:
        out[ln.id] = link_state(ln.id, now, live)
    for a in inv.doc.agencies:
        v = live.agencies.get(a.id)
        out[a.id] = "unknown" if v is None else "up" if v >= 1 else "down"
    return out


@dataclass
class Deadline:
    when: date
    what: str          # a texts key
    subject: str
    days_left: int


def deadlines(inv: Inventory, run: AuditRun | None, today: date, limit: int = 10,
              certificates: dict[str, datetime] | None = None) -> list[Deadline]:
    """SOC contracts, waivers, the Decree 331 transition (from the run), TLS certificates (from the
    blackbox probes, Live.certificates), soonest first."""
    out = []
    for name, expiry in (certificates or {}).items():
        when = expiry.astimezone(VN).date()
        out.append(Deadline(when, "certificate_expiry", name, (when - today).days))
    for s in inv.doc.systems:
        d14 = s.d14
        if d14.soc is not None:
            out.append(Deadline(d14.soc.contract_end, "soc_contract", s.id, (d14.soc.contract_end - today).days))
    for w in inv.doc.waivers:
        out.append(Deadline(w.expires, "waiver_expiry", w.check, (w.expires - today).days))
    if run is not None:
        out += [Deadline(t.deadline, "transition", t.system, t.days_left) for t in run.transition]
    return sorted(out, key=lambda d: d.when)[:limit]


def systems_of_host(inv: Inventory) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in inv.doc.systems:
        for sv in s.servers:
            out.setdefault(sv, set()).add(s.id)
    return out


def filter_findings(findings: list[Finding], inv: Inventory, *, layer: str = "", level: str = "", system: str = "",
                    host: str = "", status: str = "") -> list[Finding]:
    """The audit page's filters; empty means any. A host's level is any of its systems' levels."""
    levels = {s.id: str(s.level) for s in inv.doc.systems}
    host_systems = systems_of_host(inv)

    def systems(f: Finding) -> set[str]:
        return {f.system} if f.system else host_systems.get(f.host or "", set())

    def keep(f: Finding) -> bool:
        return ((not layer or f.layer == layer) and (not status or f.status.value == status)
                and (not host or f.host == host) and (not system or system in systems(f))
                and (not level or level in {levels.get(s) for s in systems(f)}))
    return [f for f in findings if keep(f)]


def failed_count(run: AuditRun) -> int:
    return sum(1 for f in run.findings if f.status in BAD)
