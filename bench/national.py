"""Generate a synthetic national-scale inventory: 63 provinces, each a directory inventory.

Totals: about 11,000 agencies, 6,000 servers and 12,000 links (numbers from the benchmark
brief). Addresses are 10.<province>.x.x; nothing is ever contacted, this is data only.

    python bench/national.py OUT_DIR [--provinces 63]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

AGENCIES, SERVERS, LINKS = 175, 95, 190   # per province: x63 = 11,025 / 5,985 / 11,970
ZONES = [("edge", "edge", 0), ("dmz", "dmz", 10), ("srv", "servers", 20), ("db", "database", 30),
         ("mgmt", "management", 40), ("devmgmt", "device_management", 50)]


def province(p: int) -> dict[str, dict]:
    o = f"10.{p}"
    units = [{"id": f"huyen-{d}", "name": f"Huyện {d}", "kind": "district"} for d in range(10)]
    units += [{"id": f"xa-{c}", "name": f"Xã {c}", "kind": "commune", "parent": f"huyen-{c % 10}"} for c in range(140)]
    zones = [{"id": f"dc-{z}", "site": "dc", "kind": k, "cidr": f"{o}.{n}.0/24", "gateway": f"{o}.{n}.1"} for z, k, n in ZONES]
    kinds = ["dmz", "srv", "srv", "db", "mgmt"]
    servers = []
    for i in range(SERVERS):
        z = kinds[i % len(kinds)]
        n = dict((zz, nn) for zz, _, nn in ZONES)[z]
        servers.append({"id": f"srv-{i}", "hostname": f"srv-{i}", "address": f"{o}.{n}.{10 + i}",
                        "zone": f"dc-{z}", "role": z, "services": [{"name": "https", "port": 443, "kind": "https", "tls": True, "from": ["wan"]}]})
    agencies, links = [{"id": "ubnd-tinh", "name": "UBND tỉnh", "tier": "province", "lan": True}], []
    for a in range(1, AGENCIES):
        tier = "province" if a < 35 else "district" if a < 60 else "commune"
        agency = {"id": f"ag-{a}", "name": f"Cơ quan {a}", "tier": tier, "parent": "ubnd-tinh", "lan": a % 7 != 0}
        if tier == "district":
            agency["unit"] = f"huyen-{a % 10}"
        if tier == "commune":
            agency["unit"] = f"xa-{a % 140}"
        agencies.append(agency)
    for li in range(LINKS):
        base = li * 4
        third, fourth = 100 + base // 256, base % 256
        link = {"id": f"wan-{li}", "kind": "wan", "capacity": "10Mbps",
                "a": {"site": "dc", "device": "wan-rtr", "interface": f"wan{li}", "address": f"{o}.{third}.{fourth + 1}/30"},
                "b": {"provider": "TSLCD", "address": f"{o}.{third}.{fourth + 2}/30"},
                "measured_by": {"device": "wan-rtr", "interface": f"wan{li}"}}
        if li < AGENCIES:
            link["b"] = {"agency": agencies[li]["id"], "address": link["b"]["address"]}
            agencies[li]["wan"] = link["id"]
        links.append(link)
    systems = [{"id": f"sys-{s}", "name": f"Hệ thống {s}", "level": 2 + s % 2, "servers": [f"srv-{j}" for j in range(s * 4, s * 4 + 4)],
                "sla_target": 99.5} for s in range(20)]
    return {
        "province.yaml": {"version": 1, "province": {"id": f"tinh-{p}", "name": f"Tỉnh {p}", "units": units},
                          "defaults": {"server": {"ssh": {"user": "root", "key": "file:keys/id"}}},
                          "sites": [{"id": "dc", "name": "TTDL", "kind": "data_center", "tier": 3}], "zones": zones,
                          "devices": [{"id": "wan-rtr", "kind": "router", "site": "dc", "zone": "dc-edge", "address": f"{o}.0.2",
                                       "snmp": {"community": "env:SNMP_COMMUNITY"}}]},
        "servers.yaml": {"servers": servers}, "systems.yaml": {"systems": systems},
        "agencies.yaml": {"agencies": agencies}, "links.yaml": {"links": links},
    }


def generate(out: Path, provinces: int = 63) -> list[Path]:
    dirs = []
    for p in range(1, provinces + 1):
        d = out / f"tinh-{p:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for name, data in province(p).items():
            (d / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        dirs.append(d)
    return dirs


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--provinces", type=int, default=63)
    args = ap.parse_args()
    print(f"generated {len(generate(args.out, args.provinces))} provinces under {args.out}")
