"""The lab twin as data: which namespaces, bridges, veths, addresses, routes and shaping the
inventory implies. A pure function of the inventory, so it is tested offline, and `down` can
recompute every name it must remove even after a crashed `up`.

Topology:
* every zone is a bridge in the root namespace; every server and device with a zone address
  is a namespace with a veth on its zone's bridge;
* every site has one router namespace holding all its zone gateways: the site's core device
  (central firewall / core router / core switch) when the inventory has one, else a synthetic
  `<prefix>-gw-<site>`;
* every link is a veth pair between its two ends (a device, a site router, an agency site or
  an upstream provider), shaped with tbf to its contracted rate in each direction;
* this machine joins the management zone (the controller address) and reaches every other lab
  network through the site router; an `unreachable` route for the supernet catches the rest.
No namespace has a default route: each routes only the lab supernet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from provdc.errors import ProvdcError
from provdc.inventory import Inventory, model

CORE_ROLES = ("central_fw", "core_router", "core_switch")
MAX_IFNAME = 15  # Linux IFNAMSIZ - 1


class LabError(ProvdcError):
    """The inventory cannot be built as a lab, or the machine is not fit for it."""


@dataclass(frozen=True)
class Iface:
    """An interface inside a namespace. `bridge` set: a veth whose root end joins that bridge."""

    name: str
    address: ipaddress.IPv4Interface
    bridge: str | None = None
    root_end: str | None = None          # name of the veth end left in the root namespace
    rate_bps: int | None = None          # egress shaping (tbf)
    aliases: tuple[ipaddress.IPv4Interface, ...] = ()  # further addresses on the same interface


@dataclass(frozen=True)
class Route:
    dest: ipaddress.IPv4Network
    via: ipaddress.IPv4Address


@dataclass
class Netns:
    name: str
    kind: str                            # server | device | router | agency | provider | site
    ident: str                           # inventory id (agency id, provider name, site id, ...)
    ifaces: list[Iface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    forwarding: bool = False

    def address_in(self, net: ipaddress.IPv4Network) -> ipaddress.IPv4Address | None:
        return next((i.address.ip for i in self.ifaces if i.address.ip in net), None)

    @property
    def addresses(self) -> list[ipaddress.IPv4Interface]:
        return [a for i in self.ifaces for a in (i.address, *i.aliases)]


@dataclass(frozen=True)
class LinkPlan:
    """A link's two ends: the namespaces, interface names and egress rates."""

    link: str
    a_ns: str
    a_if: str
    b_ns: str
    b_if: str
    a_to_b_bps: int
    b_to_a_bps: int
    a_addr: ipaddress.IPv4Interface
    b_addr: ipaddress.IPv4Interface


@dataclass
class LabPlan:
    prefix: str
    supernet: ipaddress.IPv4Network
    bridges: dict[str, str]              # bridge name -> zone id
    namespaces: dict[str, Netns]         # namespace name -> Netns
    links: dict[str, LinkPlan]           # link id -> plan
    controller: ipaddress.IPv4Interface  # this machine, on the management bridge
    controller_bridge: str
    root_routes: list[Route]
    servers: dict[str, str]              # server id -> namespace
    devices: dict[str, str]              # device id -> namespace

    @property
    def root_veths(self) -> list[str]:
        return [i.root_end for ns in self.namespaces.values() for i in ns.ifaces if i.root_end]

    def ns_of_server(self, server_id: str) -> Netns:
        return self.namespaces[self.servers[server_id]]

    def host_namespace(self, host_id: str) -> str:
        """The namespace of a server, or of a device the lab runs an sshd for."""
        return self.servers.get(host_id) or self.devices[host_id]


def _check_name(name: str, what: str) -> str:
    if len(name) > MAX_IFNAME:
        raise LabError(f"{what}: interface name '{name}' is longer than {MAX_IFNAME} characters")
    return name


def plan_lab(inv: Inventory) -> LabPlan:
    """The lab twin of `inv`. Raises LabError listing every reason it cannot be built."""
    lab = inv.doc.lab
    if lab is None:
        raise LabError("this inventory has no `lab:` section (supernet, prefix): it is not a lab inventory")
    p = lab.prefix
    problems: list[str] = []
    zones = list(inv.doc.zones)
    bridges = {f"{p}z{i}": z.id for i, z in enumerate(zones)}
    bridge_of = {z.id: f"{p}z{i}" for i, z in enumerate(zones)}
    gateways = {z.id: _gateway(z) for z in zones}
    namespaces: dict[str, Netns] = {}
    veth_no = iter(range(10_000))

    def add_ns(ns: Netns) -> Netns:
        return namespaces.setdefault(ns.name, ns)

    # site routers: the site's core device, else a synthetic gateway namespace
    routers: dict[str, Netns] = {}
    for site in inv.doc.sites:
        core = next((d for d in inv.doc.devices if d.site == site.id and d.role in CORE_ROLES), None)
        name = f"{p}-{core.id}" if core else f"{p}-gw-{site.id}"
        routers[site.id] = add_ns(Netns(name, "router" if core is None else "device", core.id if core else site.id, forwarding=True))
    for z in zones:
        r = routers[z.site]
        r.ifaces.append(Iface(_check_name(f"z{zones.index(z)}", z.id), ipaddress.IPv4Interface(f"{gateways[z.id]}/{z.cidr.prefixlen}"),
                              bridge=bridge_of[z.id], root_end=f"{p}r{next(veth_no)}"))

    servers: dict[str, str] = {}
    for s in inv.doc.servers:
        ns = add_ns(Netns(f"{p}-{s.id}", "server", s.id))
        z = inv.zones[s.zone]
        ns.ifaces.append(Iface("eth0", ipaddress.IPv4Interface(f"{s.address}/{z.cidr.prefixlen}"),
                               bridge=bridge_of[z.id], root_end=f"{p}h{next(veth_no)}"))
        ns.routes.append(Route(lab.supernet, gateways[z.id]))
        servers[s.id] = ns.name

    devices: dict[str, str] = {}
    for d in inv.doc.devices:
        if d.ssh is not None and d.zone is None:
            problems.append(f"device '{d.id}': a device reached over SSH needs a zone (its management network) in the lab")
        ns = add_ns(Netns(f"{p}-{d.id}", "device", d.id, forwarding=True))
        devices[d.id] = ns.name
        if d.zone and d.address is not None:
            z = inv.zones[d.zone]
            on_bridge = next((k for k, i in enumerate(ns.ifaces) if i.bridge == bridge_of[z.id]), None)
            if on_bridge is not None:  # a site router already on this zone: one interface, two addresses
                i = ns.ifaces[on_bridge]
                ns.ifaces[on_bridge] = Iface(i.name, i.address, i.bridge, i.root_end, i.rate_bps,
                                             (*i.aliases, ipaddress.IPv4Interface(f"{d.address}/{z.cidr.prefixlen}")))
                continue
            ns.ifaces.append(Iface("eth0", ipaddress.IPv4Interface(f"{d.address}/{z.cidr.prefixlen}"),
                                   bridge=bridge_of[z.id], root_end=f"{p}h{next(veth_no)}"))
            if ns is not routers.get(d.site):
                ns.routes.append(Route(lab.supernet, gateways[z.id]))

    links: dict[str, LinkPlan] = {}
    for n, link in enumerate(inv.doc.links):
        if link.a.address is None or link.b.address is None:
            problems.append(f"link '{link.id}': both ends need an address to be built in the lab")
            continue
        a_ns = _endpoint_ns(inv, p, link.a, routers, namespaces, n)
        b_ns = _endpoint_ns(inv, p, link.b, routers, namespaces, n)
        a_if = _check_name(link.a.interface or f"l{n}a", f"link {link.id}")
        b_if = _check_name(link.b.interface or ("eth0" if b_ns.kind in ("agency", "provider") else f"l{n}b"), f"link {link.id}")
        a_ns.ifaces.append(Iface(a_if, link.a.address, rate_bps=link.capacity.a_to_b))
        b_ns.ifaces.append(Iface(b_if, link.b.address, rate_bps=link.capacity.b_to_a))
        links[link.id] = LinkPlan(link.id, a_ns.name, a_if, b_ns.name, b_if, link.capacity.a_to_b,
                                  link.capacity.b_to_a, link.a.address, link.b.address)
    if problems:
        raise LabError("the lab cannot be built:\n  " + "\n  ".join(problems))

    _route_links(inv, lab.supernet, routers, namespaces, links)
    controller, controller_bridge = _controller(inv, lab, bridge_of, namespaces)
    mgmt_zone = bridges[controller_bridge]
    root_routes = [Route(z.cidr, gateways[mgmt_zone]) for z in zones if z.id != mgmt_zone]
    root_routes += [Route(lp.a_addr.network, gateways[mgmt_zone]) for lp in links.values()]
    return LabPlan(p, lab.supernet, bridges, namespaces, links, controller, controller_bridge,
                   _dedupe(root_routes), servers, devices)


def _gateway(z: model.Zone) -> ipaddress.IPv4Address:
    return z.gateway if z.gateway is not None else next(z.cidr.hosts())


def _endpoint_ns(inv: Inventory, p: str, ep: model.Endpoint, routers: dict[str, Netns],
                 namespaces: dict[str, Netns], n: int) -> Netns:
    if ep.device:
        return namespaces[f"{p}-{ep.device}"]
    if ep.site:
        if ep.site not in routers:  # a site with no zones: a bare router at the far end
            routers[ep.site] = namespaces.setdefault(f"{p}-site-{ep.site}", Netns(f"{p}-site-{ep.site}", "site", ep.site, forwarding=True))
        return routers[ep.site]
    if ep.agency:
        name = f"{p}-ag-{ep.agency}"
        return namespaces.setdefault(name, Netns(name, "agency", ep.agency))
    name = f"{p}-isp{n}"
    return namespaces.setdefault(name, Netns(name, "provider", ep.provider or "provider"))


def _route_links(inv: Inventory, supernet: ipaddress.IPv4Network, routers: dict[str, Netns],
                 namespaces: dict[str, Netns], links: dict[str, LinkPlan]) -> None:
    """Routes so every lab network reaches every other, by three rules per link a -> b:
    * the far end b reaches the rest of the lab through a (its own zones stay connected);
    * if a is a site router, it reaches b's zones through b;
    * if a is a device on a zone, its site router reaches the link subnet and b's zones through
      the device's zone address, and the device reaches b's zones through b.
    """
    router_of_site = {site: r for site, r in routers.items()}
    for lp in links.values():
        a, b = namespaces[lp.a_ns], namespaces[lp.b_ns]
        behind_b = [z.cidr for z in inv.doc.zones if router_of_site.get(z.site) is b]
        b.routes.append(Route(supernet, lp.a_addr.ip))
        if a in routers.values():
            a.routes += [Route(cidr, lp.b_addr.ip) for cidr in behind_b]
            continue
        zone_if = next((i for i in a.ifaces if i.bridge), None)
        if zone_if is None:
            continue  # a device with no zone: only its own link peers reach it
        site = next(z.site for z in inv.doc.zones if zone_if.address.ip in z.cidr)
        router = routers[site]
        router.routes += [Route(net, zone_if.address.ip) for net in [lp.a_addr.network, *behind_b]]
        a.routes += [Route(cidr, lp.b_addr.ip) for cidr in behind_b]
    for ns in namespaces.values():
        ns.routes = _dedupe(ns.routes)


def _controller(inv: Inventory, lab: model.Lab, bridge_of: dict[str, str],
                namespaces: dict[str, Netns]) -> tuple[ipaddress.IPv4Interface, str]:
    mgmt = next((z for z in inv.doc.zones if z.kind == model.ZoneKind.management), None) or inv.doc.zones[0]
    address = lab.controller or list(mgmt.cidr.hosts())[-1]
    used = {a.ip for ns in namespaces.values() for a in ns.addresses}
    if address in used or address not in mgmt.cidr:
        raise LabError(f"controller address {address} must be a free address of zone '{mgmt.id}' ({mgmt.cidr}); set lab.controller")
    return ipaddress.IPv4Interface(f"{address}/{mgmt.cidr.prefixlen}"), bridge_of[mgmt.id]


def _dedupe(routes: list[Route]) -> list[Route]:
    seen: dict[ipaddress.IPv4Network, Route] = {}
    for r in routes:
        seen.setdefault(r.dest, r)
    return list(seen.values())
