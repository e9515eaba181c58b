"""The network rule, enforced: a lab inventory's addresses exist only inside this machine's
lab twin. Before anything sends a packet to them (audit, probes, monitoring), the twin must be
up, with its routes and the `unreachable` route for its supernet in place; otherwise the
packets would follow the machine's default route out to a real network."""

from __future__ import annotations

from provdc.errors import ScopeError
from provdc.inventory import Inventory
from provdc.proc import run_command


def lab_is_routed(inv: Inventory) -> bool:
    lab = inv.doc.lab
    if lab is None:
        return True
    out = run_command(["ip", "-4", "route", "show", "type", "unreachable"]).stdout
    if not any(line.split()[:2] == ["unreachable", str(lab.supernet)] for line in out.splitlines()):
        return False
    # every zone must route into the twin (through its bridge), not by the default route
    for zone in inv.doc.zones:
        probe = str(next(zone.cidr.hosts()))
        route = run_command(["ip", "-4", "route", "get", probe]).stdout
        if f"dev {lab.prefix}z" not in route:
            return False
    return True


def require_lab_routed(inv: Inventory, action: str) -> None:
    """Raise unless sending packets to this inventory's addresses stays on this machine."""
    if not lab_is_routed(inv):
        raise ScopeError(f"refusing to {action}: '{inv.province.id}' is a lab inventory and its twin is not up "
                         f"(its addresses {inv.doc.lab.supernet} would be sent off this machine); run `provdc lab up` first")
