"""The inventory's topology as a Graphviz drawing, the one module that builds it: sites
(clusters) holding their zones (clusters, with kind and CIDR) holding servers, devices in their
zone or site, agencies, providers, and the links between them labelled with their contracted
capacity. Two views of the same graph: the whole inventory (the console's /topology, coloured
by live status, each node linking to its page; `provdc inventory diagram`), and one system's
physical view for its level dossier (`system=`: its servers, the zones and sites they are in,
the devices its traffic crosses, and those devices' links).

Pure apart from `render` (which runs Graphviz' `dot`): `source(inv, status, href, system)`
builds the DOT text; `status` maps a node id to up / down / warn / unknown and colours it (None:
a plain drawing for documents); `href` maps (kind, id) to the address a node links to (the
console's page), or None for no link. Every inventory string goes through `graphviz.escape`: a
name is never an HTML-like label, and `dot` escapes it in the SVG it writes.
"""

from __future__ import annotations

from collections.abc import Callable

import graphviz

from provdc.errors import ProvdcError
from provdc.inventory import Inventory

FORMATS = ("svg", "png", "dot")
SYSTEM_FILL = "#cfe3f7"      # a plain drawing: the dossier's system's servers
DEVICE_FILL = "#f3e3c3"
FILL = {"up": "#d8f0df", "down": "#f6d2d0", "warn": "#fbe7c6", "unknown": "#eeeeee"}
LINE = {"up": "#2e9d5b", "down": "#d64541", "warn": "#d98e04", "unknown": "#888888"}
Href = Callable[[str, str], str | None]


class DiagramError(ProvdcError):
    """Graphviz could not draw the diagram (dot missing or failing)."""


def _no_links(kind: str, ident: str) -> str | None:
    return None


def _node(g: graphviz.Digraph, node_id: str, label: str, shape: str, state: str | None, url: str | None, tooltip: str,
          plain_fill: str = "white") -> None:
    """state None: a plain node (documents); else filled and outlined by its state."""
    attrs = {"shape": shape, "style": "filled", "tooltip": graphviz.escape(tooltip), "id": node_id}
    if state is None:
        attrs["fillcolor"] = plain_fill
    else:
        attrs.update(fillcolor=FILL.get(state, FILL["unknown"]), color=LINE.get(state, LINE["unknown"]),
                     **{"class": f"state-{state}"})
    if url:
        attrs["URL"] = url
        attrs["target"] = "_top"
    g.node(node_id, graphviz.escape(label), **attrs)


def _endpoint(inv: Inventory, ep) -> str | None:
    """The node an end of a link is drawn at: its device, else its agency, site or provider."""
    if ep.device:
        return f"device__{ep.device}"
    if ep.agency:
        return f"agency__{ep.agency}"
    if ep.site:
        return f"site__{ep.site}"
    if ep.provider:
        return _provider_id(ep.provider)
    return None


def _provider_id(name: str) -> str:
    """A provider has no id of its own; its node name must not hold ':' (DOT's port syntax)."""
    return "provider__" + name.encode().hex()


def _rate(bps: int) -> str:
    for factor, unit in ((1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps")):
        if bps >= factor:
            return f"{bps / factor:g} {unit}"
    return f"{bps} bps"


def capacity(link) -> str:
    c = link.capacity
    return _rate(c.a_to_b) if c.a_to_b == c.b_to_a else f"{_rate(c.a_to_b)} / {_rate(c.b_to_a)}"


def _scope(inv: Inventory, system: str | None):
    """What is drawn: (servers, devices, zone ids, site ids); everything when `system` is None."""
    doc = inv.doc
    if system is None:
        return list(doc.servers), list(doc.devices), {z.id for z in doc.zones}, {s.id for s in doc.sites}
    sys_obj = next((s for s in doc.systems if s.id == system), None)
    if sys_obj is None:
        raise DiagramError(f"no system {system!r} in the inventory")
    mine = set(sys_obj.servers)
    servers = [s for s in doc.servers if s.id in mine]
    zones = {z.id: z for z in doc.zones}
    used_zones = {s.zone for s in servers}
    used_sites = {zones[z].site for z in used_zones if z in zones}
    # the devices a system's traffic crosses: those of its zones, and the site's routers and firewalls
    devices = [d for d in doc.devices if d.site in used_sites and (d.zone is None or d.zone in used_zones
                                                                   or d.kind.value in ("router", "firewall"))]
    used_zones |= {d.zone for d in devices if d.zone}
    return servers, devices, used_zones, used_sites


def graph(inv: Inventory, status: dict[str, str] | None = None, href: Href = _no_links,
          system: str | None = None) -> graphviz.Digraph:
    """The graph of the inventory (or of one system's physical view); `status` keys are server,
    device, link, agency and system ids; None draws it plain, the system's servers highlighted."""
    doc = inv.doc
    st = (lambda ident: status.get(ident, "unknown")) if status is not None else (lambda ident: None)
    servers, devices, used_zones, used_sites = _scope(inv, system)
    server_fill = SYSTEM_FILL if system is not None else "white"
    g = graphviz.Digraph("topology", graph_attr={"rankdir": "LR", "fontname": "DejaVu Sans", "fontsize": "11",
                                                  "bgcolor": "transparent", "nodesep": "0.25", "ranksep": "0.6"},
                         node_attr={"fontname": "DejaVu Sans", "fontsize": "10"}, edge_attr={"fontname": "DejaVu Sans",
                                                                                            "fontsize": "9", "dir": "none"})
    for site in doc.sites:
        if site.id not in used_sites:
            continue
        with g.subgraph(name=f"cluster_site_{site.id}") as sg:
            sg.attr(label=graphviz.escape(site.name + (f" (tier {site.tier})" if site.tier else "")), style="rounded",
                    color="#666666")
            for zone in [z for z in doc.zones if z.site == site.id and z.id in used_zones]:
                with sg.subgraph(name=f"cluster_zone_{zone.id}") as zg:
                    zg.attr(label=graphviz.escape(f"{zone.name or zone.id} · {zone.kind.value} · {zone.cidr}"),
                            style="dashed", color="#999999")
                    for sv in [s for s in servers if s.zone == zone.id]:
                        _node(zg, f"server__{sv.id}", f"{sv.hostname}\n{sv.address}\n{sv.role}", "box", st(sv.id),
                              href("server", sv.id), f"{sv.id} · {sv.role}", server_fill)
                    for dv in [d for d in devices if d.site == site.id and d.zone == zone.id]:
                        _node(zg, f"device__{dv.id}", f"{dv.id}\n{dv.kind.value}", "component", st(dv.id),
                              href("device", dv.id), dv.role or dv.kind.value, DEVICE_FILL)
            for dv in [d for d in devices if d.site == site.id and d.zone is None]:
                _node(sg, f"device__{dv.id}", f"{dv.id}\n{dv.kind.value}", "component", st(dv.id),
                      href("device", dv.id), dv.role or dv.kind.value, DEVICE_FILL)
    shown = {f"device__{d.id}" for d in devices}
    links = [ln for ln in doc.links if system is None or {_endpoint(inv, ln.a), _endpoint(inv, ln.b)} & shown]
    agencies = {a.id: a for a in doc.agencies}
    drawn_agencies = {ep.agency for ln in links for ep in (ln.a, ln.b) if ep.agency and not ep.device}
    if system is None:
        drawn_agencies |= {a.id for a in doc.agencies if a.wan}
    for agency in doc.agencies:
        if agency.id in drawn_agencies:
            _node(g, f"agency__{agency.id}", agency.name, "house", st(agency.id), href("agency", agency.id),
                  f"{agency.id} · {agency.tier.value}")
    for ident in sorted(drawn_agencies - set(agencies)):
        _node(g, f"agency__{ident}", ident, "house", st(ident), None, ident)
    providers = sorted({ep.provider for ln in links for ep in (ln.a, ln.b) if ep.provider and not ep.device
                        and not ep.agency and not ep.site})
    for p in providers:
        _node(g, _provider_id(p), p, "ellipse", None if status is None else "unknown", None, p)
    for ln in links:
        a, b = _endpoint(inv, ln.a), _endpoint(inv, ln.b)
        if a is None or b is None:
            continue
        for end in (a, b):     # an end at a site with no device of its own: a point for the site
            if end.startswith("site__"):
                _node(g, end, end.removeprefix("site__"), "point", None if status is None else "unknown", None, end)
        state = st(ln.id)
        attrs = {"tooltip": graphviz.escape(f"{ln.id} · {ln.kind.value}"), "id": f"link-{ln.id}"}
        if state is not None:
            attrs.update(color=LINE.get(state, LINE["unknown"]), penwidth="2.5" if state in ("down", "warn") else "1.2")
        url = href("link", ln.id)
        if url:
            attrs["URL"] = url
            attrs["target"] = "_top"
        g.edge(a, b, label=graphviz.escape(f"{ln.id}\n{capacity(ln)}"), **attrs)
    return g


def source(inv: Inventory, status: dict[str, str] | None = None, href: Href = _no_links, system: str | None = None) -> str:
    """DOT text of `graph`."""
    return graph(inv, status, href, system).source


def render(dot_source: str, fmt: str = "svg") -> bytes:
    """Run `dot` on the source: SVG or PNG bytes (DOT returns the source itself)."""
    if fmt not in FORMATS:
        raise DiagramError(f"--format: one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "dot":
        return dot_source.encode()
    try:
        return graphviz.Source(dot_source).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise DiagramError("Graphviz' dot is not installed (Debian package graphviz)") from None
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"dot failed: {(exc.stderr or b'').decode(errors='replace').strip()[:300]}") from None


def svg_inline(inv: Inventory, status: dict[str, str] | None = None, href: Href = _no_links) -> str:
    """The SVG without its XML prologue and doctype, to place inside an HTML page."""
    svg = render(source(inv, status, href), "svg").decode("utf-8")
    return svg[svg.index("<svg"):]
