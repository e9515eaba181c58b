"""reports/topology.py: the inventory's diagram, coloured by a status map, every name inert."""

from __future__ import annotations

import html
import re

from provdc.reports import topology


def test_nodes_are_coloured_by_status_link_to_pages_and_names_are_escaped(site, kit):
    from provdc.inventory import load_inventory

    inv = load_inventory(site.inventory)
    svg = topology.svg_inline(inv, {"portal-web1": "down", "wan-xa-dong-son": "warn"},
                              lambda kind, ident: f"/{kind}s/{ident}")
    assert svg.startswith("<svg")
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;document.title" in svg
    svg = html.unescape(svg)          # dot writes '-' as &#45;
    node = re.search(r'<g id="server__portal-web1" class="node state-down">.*?</a>', svg, re.S).group(0)
    assert topology.FILL["down"] in node and 'href="/servers/portal-web1"' in node
    edge = re.search(r'<g id="link-wan-xa-dong-son".*?</a>', svg, re.S).group(0)
    assert topology.LINE["warn"] in edge
    for ln in inv.doc.links:
        assert f'id="link-{ln.id}"' in svg
    for sv in inv.doc.servers:
        assert f'id="server__{sv.id}"' in svg


def test_png_and_dot_formats_and_a_bad_format_is_a_clear_error(site):
    from provdc.inventory import load_inventory
    import pytest

    inv = load_inventory(site.inventory)
    assert topology.render(topology.source(inv), "png").startswith(b"\x89PNG")
    assert topology.render(topology.source(inv), "dot").startswith(b"digraph")
    with pytest.raises(topology.DiagramError, match="--format"):
        topology.render("digraph {}", "gif")


def test_the_console_and_the_dossier_draw_one_graph_the_system_view_a_subset(site):
    from provdc.inventory import load_inventory

    inv = load_inventory(site.inventory)
    node = re.compile(r'^\s*"?([a-z]+__[^"\s\[]+)"? \[', re.M)
    whole = set(node.findall(topology.source(inv, {"portal-web1": "up"})))
    portal = set(node.findall(topology.source(inv, system="portal")))
    assert portal and portal < whole
    assert {"server__portal-web1", "server__db1"} <= portal and "server__mail1" not in portal
    svg = topology.render(topology.source(inv, system=inv.doc.systems[0].id), "svg").decode()
    assert "<script" not in svg and "<img" not in svg
