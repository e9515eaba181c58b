"""The inventory's topology as a Graphviz drawing: sites (clusters) holding their zones
(clusters) holding servers, devices in their zone or site, agencies, and the links between
them (WAN to agencies, Internet uplinks to providers).

Pure apart from `render` (which runs Graphviz' `dot`): `source(inv, status, href)` builds the
DOT text; `status` maps a node id to up / down / warn / unknown and colours it; `href` maps
(kind, id) to the address a node links to (the console's page), or None for no link.
Every inventory string goes through `graphviz.escape`: a name is never an HTML-like label,
and `dot` escapes it in the SVG it writes.
"""

from __future__ import annotations

from collections.abc import Callable

import graphviz

from provdc.errors import ProvdcError
from provdc.inventory import Inventory

FORMATS = ("svg", "png", "dot")
FILL = {"up": "#d8f0df", "down": "#f6d2d0", "warn": "#fbe7c6", "unknown": "#eeeeee"}
LINE = {"up": "#2e9d5b", "down": "#d64541", "warn": "#d98e04", "unknown": "#888888"}
Href = Callable[[str, str], str | None]


class DiagramError(ProvdcError):
    """Graphviz could not draw the diagram (dot missing or failing)."""


def _no_links(kind: str, ident: str) -> str | None:
    return None


def _node(g: graphviz.Digraph, node_id: str, label: str, shape: str, state: str, url: str | None, tooltip: str) -> None:
    attrs = {"shape": shape, "style": "filled", "fillcolor": FILL.get(state, FILL["unknown"]),
             "color": LINE.get(state, LINE["unknown"]), "tooltip": graphviz.escape(tooltip), "class": f"state-{state}",
             "id": node_id}
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


def source(inv: Inventory, status: dict[str, str] | None = None, href: Href = _no_links) -> str:
    """DOT text for the inventory; `status` keys are server, device, link, agency and system ids."""
    status = status or {}
    doc = inv.doc
    g = graphviz.Digraph("topology", graph_attr={"rankdir": "LR", "fontname": "DejaVu Sans", "fontsize": "11",
                                                  "bgcolor": "transparent"},
                         node_attr={"fontname": "DejaVu Sans", "fontsize": "10"}, edge_attr={"fontname": "DejaVu Sans",
                                                                                            "fontsize": "9", "dir": "none"})
    sites_with_nodes = set()
    for site in doc.sites:
        with g.subgraph(name=f"cluster_site_{site.id}") as sg:
            sg.attr(label=graphviz.escape(site.name), style="rounded", color="#666666")
            for zone in [z for z in doc.zones if z.site == site.id]:
                with sg.subgraph(name=f"cluster_zone_{zone.id}") as zg:
                    zg.attr(label=graphviz.escape(f"{zone.name or zone.id} ({zone.kind.value}, {zone.cidr})"),
                            style="dashed", color="#999999")
                    for sv in [s for s in doc.servers if s.zone == zone.id]:
                        _node(zg, f"server__{sv.id}", f"{sv.hostname}\n{sv.address}", "box", status.get(sv.id, "unknown"),
                              href("server", sv.id), f"{sv.id} · {sv.role}")
                    for dv in [d for d in doc.devices if d.site == site.id and d.zone == zone.id]:
                        _node(zg, f"device__{dv.id}", f"{dv.id}\n{dv.kind.value}", "component", status.get(dv.id, "unknown"),
                              href("device", dv.id), dv.role or dv.kind.value)
            for dv in [d for d in doc.devices if d.site == site.id and d.zone is None]:
                _node(sg, f"device__{dv.id}", f"{dv.id}\n{dv.kind.value}", "component", status.get(dv.id, "unknown"),
                      href("device", dv.id), dv.role or dv.kind.value)
            sites_with_nodes.add(site.id)
    for agency in doc.agencies:
        if any(agency.id in (ln.a.agency, ln.b.agency) for ln in doc.links) or agency.wan:
            _node(g, f"agency__{agency.id}", agency.name, "house", status.get(agency.id, "unknown"),
                  href("agency", agency.id), f"{agency.id} · {agency.tier.value}")
    providers = sorted({ep.provider for ln in doc.links for ep in (ln.a, ln.b) if ep.provider and not ep.device
                        and not ep.agency and not ep.site})
    for p in providers:
        _node(g, _provider_id(p), p, "ellipse", "unknown", None, p)
    for ln in doc.links:
        a, b = _endpoint(inv, ln.a), _endpoint(inv, ln.b)
        if a is None or b is None:
            continue
        for end in (a, b):     # an end at a site with no device of its own: a point for the site
            if end.startswith("site__"):
                _node(g, end, end.removeprefix("site__"), "point", "unknown", None, end)
        state = status.get(ln.id, "unknown")
        attrs = {"color": LINE.get(state, LINE["unknown"]), "penwidth": "2.5" if state in ("down", "warn") else "1.2",
                 "tooltip": graphviz.escape(f"{ln.id} · {ln.kind.value}"), "id": f"link-{ln.id}"}
        url = href("link", ln.id)
        if url:
            attrs["URL"] = url
            attrs["target"] = "_top"
        g.edge(a, b, label=graphviz.escape(ln.id), **attrs)
    return g.source


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
