"""A system's physical view for its level dossier, drawn from the inventory with Graphviz (Debian's `graphviz`, through
the `graphviz` Python package). Pure description first (`topology`, a graphviz.Graph that
any caller can render: the dossier as PNG, the web console as SVG), rendering second.

Physical view: sites hold zones (with their CIDR), zones hold servers and devices; links join a
site's device to an agency or a provider, labelled with their contracted capacity. A system's
servers are filled; servers outside the system are drawn only when `system` is None.
"""

from __future__ import annotations

import graphviz

from provdc.errors import ProvdcError

SYSTEM_FILL = "#cfe3f7"
DEVICE_FILL = "#f3e3c3"


def _rate(bps: int) -> str:
    for factor, unit in ((1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps")):
        if bps >= factor:
            return f"{bps / factor:g} {unit}"
    return f"{bps} bps"


def _capacity(link) -> str:
    c = link.capacity
    return _rate(c.a_to_b) if c.a_to_b == c.b_to_a else f"{_rate(c.a_to_b)} / {_rate(c.b_to_a)}"


def topology(inv, system: str | None = None) -> graphviz.Graph:
    """The diagram of the whole inventory, or of one system: its servers, the zones and sites
    they are in, the devices of those zones and sites, and those sites' links."""
    doc = inv.doc
    mine = None
    if system is not None:
        sys_obj = next((s for s in doc.systems if s.id == system), None)
        if sys_obj is None:
            raise ProvdcError(f"no system {system!r} in the inventory")
        mine = set(sys_obj.servers)
    servers = [s for s in doc.servers if mine is None or s.id in mine]
    zones = {z.id: z for z in doc.zones}
    used_zones = {s.zone for s in servers}
    used_sites = {zones[z].site for z in used_zones if z in zones}
    # the devices a system's traffic crosses: those of its zones, and the site's routers and firewalls
    devices = [d for d in doc.devices if mine is None or d.site in used_sites and (d.zone is None or d.zone in used_zones
                                                                                   or d.kind.value in ("router", "firewall"))]
    used_zones |= {d.zone for d in devices if d.zone}
    g = graphviz.Graph("topology", graph_attr={"rankdir": "LR", "fontname": "DejaVu Sans", "fontsize": "11",
                                               "splines": "true", "nodesep": "0.25", "ranksep": "0.6"},
                       node_attr={"fontname": "DejaVu Sans", "fontsize": "10", "shape": "box", "style": "rounded"},
                       edge_attr={"fontname": "DejaVu Sans", "fontsize": "9"})
    for site in doc.sites:
        if mine is not None and site.id not in used_sites:
            continue
        with g.subgraph(name=f"cluster_site_{site.id}") as sg:
            sg.attr(label=f"{site.name}" + (f" (tier {site.tier})" if site.tier else ""), style="bold")
            for zone in doc.zones:
                if zone.site != site.id or (mine is not None and zone.id not in used_zones):
                    continue
                with sg.subgraph(name=f"cluster_zone_{zone.id}") as zg:
                    zg.attr(label=f"{zone.name or zone.id} · {zone.kind.value} · {zone.cidr}", style="dashed")
                    for s in servers:
                        if s.zone == zone.id:
                            fill = SYSTEM_FILL if mine is not None else "white"
                            zg.node(f"srv_{s.id}", f"{s.id}\n{s.address}\n{s.role}", style="rounded,filled", fillcolor=fill)
                    for d in devices:
                        if d.zone == zone.id:
                            zg.node(f"dev_{d.id}", f"{d.id}\n{d.kind.value}", shape="box3d", style="filled", fillcolor=DEVICE_FILL)
            for d in devices:
                if d.site == site.id and d.zone is None:
                    sg.node(f"dev_{d.id}", f"{d.id}\n{d.kind.value}", shape="box3d", style="filled", fillcolor=DEVICE_FILL)
    shown = {f"dev_{d.id}" for d in devices}
    agencies = {a.id: a for a in doc.agencies}
    for link in doc.links:
        end_a = f"dev_{link.a.device}" if link.a.device else None
        if end_a is None or end_a not in shown:
            continue
        if link.b.agency:
            other = f"ag_{link.b.agency}"
            g.node(other, agencies[link.b.agency].name if link.b.agency in agencies else link.b.agency, shape="ellipse")
        else:
            other = f"up_{link.id}"
            g.node(other, link.b.provider or link.provider or link.id, shape="ellipse", style="dashed")
        g.edge(end_a, other, label=f"{link.id}\n{_capacity(link)}")
    return g


def render_png(graph: graphviz.Graph) -> bytes:
    try:
        return graph.pipe(format="png", engine="dot")
    except graphviz.ExecutableNotFound:
        raise ProvdcError("the topology diagram needs Graphviz (Debian package graphviz): apt-get install graphviz") from None
    except graphviz.CalledProcessError as exc:
        raise ProvdcError(f"Graphviz could not draw the topology: {exc.stderr.decode(errors='replace')[:200]}") from None


def render_svg(graph: graphviz.Graph) -> str:
    """SVG for the web console (Graphviz escapes every label it writes)."""
    try:
        return graph.pipe(format="svg", engine="dot").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise ProvdcError("the topology diagram needs Graphviz (Debian package graphviz): apt-get install graphviz") from None
