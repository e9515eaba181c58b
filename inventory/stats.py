"""The figures a province reports about its network, computed from the inventory alone.

E.g. "34/34 đơn vị cấp tỉnh kết nối mạng TSLCD", the share of agencies with a LAN, servers per
zone and level, and contracted bandwidth per link kind and agency tier.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from provdc.inventory import model
from provdc.inventory.index import Inventory

TIERS = [t.value for t in model.AgencyTier]


@dataclass(frozen=True)
class Ratio:
    count: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.count / self.total, 1) if self.total else None

    def __str__(self) -> str:
        return f"{self.count}/{self.total}"


@dataclass(frozen=True)
class Bandwidth:
    links: int = 0
    a_to_b_bps: int = 0
    b_to_a_bps: int = 0


@dataclass
class Stats:
    province: str
    name: str
    administration: str
    agencies_per_tier: dict[str, int] = field(default_factory=dict)
    agencies_with_lan: dict[str, Ratio] = field(default_factory=dict)
    agencies_on_wan: dict[str, Ratio] = field(default_factory=dict)
    video_points: int = 0
    servers_per_zone: dict[str, int] = field(default_factory=dict)
    servers_per_level: dict[str, int] = field(default_factory=dict)
    systems_per_level: dict[str, int] = field(default_factory=dict)
    bandwidth_per_link_kind: dict[str, Bandwidth] = field(default_factory=dict)
    wan_bandwidth_per_tier: dict[str, Bandwidth] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("agencies_with_lan", "agencies_on_wan"):
            out[key] = {t: {"count": r.count, "total": r.total, "percent": r.percent}
                        for t, r in getattr(self, key).items()}
        return out


def _ratio(agencies: list[model.Agency], pred) -> Ratio:
    return Ratio(sum(1 for a in agencies if pred(a)), len(agencies))


def _add(bw: Bandwidth, link: model.Link) -> Bandwidth:
    return Bandwidth(bw.links + 1, bw.a_to_b_bps + link.capacity.a_to_b, bw.b_to_a_bps + link.capacity.b_to_a)


def compute_stats(inv: Inventory) -> Stats:
    by_tier = {t: [a for a in inv.doc.agencies if a.tier.value == t] for t in TIERS}
    by_tier["all"] = list(inv.doc.agencies)
    stats = Stats(
        province=inv.province.id,
        name=inv.province.name,
        administration="three-tier (with districts)" if inv.has_districts else "two-tier (province, commune)",
        agencies_per_tier={t: len(v) for t, v in by_tier.items()},
        agencies_with_lan={t: _ratio(v, lambda a: a.lan) for t, v in by_tier.items()},
        agencies_on_wan={t: _ratio(v, lambda a: a.wan is not None) for t, v in by_tier.items()},
        video_points=sum(a.video_points for a in inv.doc.agencies),
        servers_per_zone=dict(sorted(Counter(s.zone for s in inv.doc.servers).items())),
        servers_per_level=dict(sorted(Counter(str(inv.server_level(s.id) or "none") for s in inv.doc.servers).items())),
        systems_per_level=dict(sorted(Counter(str(s.level) for s in inv.doc.systems).items())),
    )
    for link in inv.doc.links:
        kind = link.kind.value
        stats.bandwidth_per_link_kind[kind] = _add(stats.bandwidth_per_link_kind.get(kind, Bandwidth()), link)
    for a in inv.doc.agencies:
        if a.wan is not None:
            tier = a.tier.value
            stats.wan_bandwidth_per_tier[tier] = _add(stats.wan_bandwidth_per_tier.get(tier, Bandwidth()), inv.links[a.wan])
    return stats


def human_rate(bps: int) -> str:
    """Bits per second in the unit a contract would use (2 Mbps, 1.5 Gbps)."""
    for factor, unit in ((10**9, "Gbps"), (10**6, "Mbps"), (10**3, "kbps")):
        if bps >= factor:
            value = bps / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{bps} bps"
