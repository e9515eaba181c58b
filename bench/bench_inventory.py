"""Inventory benchmark: load + validate a national-scale inventory, next to the floor.

The floor is merely parsing the same YAML files with PyYAML's C loader (yaml.CSafeLoader),
which provdc's loader is built on. Each measurement runs in a fresh process so its peak RSS
(ru_maxrss) is its own. Targets: load + validate under 2 s and under 300 MB.

Second part, one defect: the national inventory as ONE file of about 50 MB (every province's
objects, ids prefixed), validated as it is, and again with one port out of range in the middle
of it. Locating that one defect must cost at most 2x the valid path's time and memory.

    python bench/bench_inventory.py [--provinces 63] [--repeat 3] [--big-mb 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from national import generate, province  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, dirs = sys.argv[1], [Path(p) for p in sys.argv[2:]]
start = time.perf_counter()
if mode == "floor":
    import yaml
    n = 0
    for d in dirs:
        for f in sorted(d.glob("*.yaml")) if d.is_dir() else [d]:
            yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader); n += 1
else:
    from provdc.errors import InventoryError
    from provdc.inventory import load_inventory
    objects = 0
    for d in dirs:
        try:
            inv = load_inventory(d)
            objects += len(inv.doc.servers) + len(inv.doc.agencies) + len(inv.doc.links)
        except InventoryError as exc:
            assert mode == "defect" and len(exc.problems) == 1, exc.problems[:5]
            print(str(exc.problems[0]), file=sys.stderr)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


_ID_KEYS = {"id", "zone", "site", "parent", "unit", "wan", "device", "owner", "agency", "target"}


def _relabel(node, prefix: str, octets: tuple[str, str]):
    """One province's objects with every id prefixed and its 10.<p>. addresses moved to
    <a>.<b>., so hundreds of provinces fit in one inventory without clashes."""
    if isinstance(node, dict):
        return {k: (prefix + v if k in _ID_KEYS and isinstance(v, str) else
                    [prefix + x for x in v] if k == "servers" and v and isinstance(v[0], str) else
                    _relabel(v, prefix, octets)) for k, v in node.items()}
    if isinstance(node, list):
        return [_relabel(x, prefix, octets) for x in node]
    if isinstance(node, str) and node.startswith(octets[0]):
        return octets[1] + node[len(octets[0]):]
    return node


def generate_one_file(path: Path, megabytes: float) -> Path:
    """A single-file inventory of about `megabytes` MB: province 1's header, then the list
    sections of as many relabelled provinces as it takes, written section by section."""
    import yaml
    dump = lambda data: yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)  # noqa: E731
    sections: dict[str, list[str]] = {"sites": [], "zones": [], "servers": [], "devices": [], "systems": [], "agencies": [], "links": []}
    header = province(1)["province.yaml"]
    units, size, k = [], 0, 0
    while size < megabytes * 1e6:
        p = k % 250 + 1
        src = f"10.{p}."
        files = _relabel(province(p), f"p{k}-", (src, f"{10 + k // 250}.{p}."))
        units += files["province.yaml"]["province"]["units"]
        for name, data in files.items():
            for section, items in data.items():
                if section in sections:
                    text = dump(items)
                    sections[section].append(text)
                    size += len(text)
        k += 1
    head = {"version": 1, "province": {**header["province"], "units": units}, "defaults": header["defaults"]}
    with path.open("w", encoding="utf-8") as out:
        out.write(dump(head))
        for section, chunks in sections.items():
            out.write(f"{section}:\n")
            for chunk in chunks:
                out.write(chunk)
    return path


def with_one_defect(valid: Path, out: Path) -> Path:
    """The same file with one port out of range: the middle server's."""
    import re
    text = valid.read_text(encoding="utf-8")
    ports = [m.start() for m in re.finditer(r"port: 443\n", text)]
    at = ports[len(ports) // 2]
    out.write_text(text[:at] + "port: 70000" + text[at + len("port: 443"):], encoding="utf-8")
    return out


def measure(mode: str, dirs: list[Path], repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, mode, *map(str, dirs)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return {"seconds": statistics.median(r["seconds"] for r in runs), "max_rss_mb": max(r["max_rss_mb"] for r in runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-mb", type=float, default=50, help="size of the one-file inventory (0: skip that part)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = generate(Path(tmp), args.provinces)
        size_mb = sum(f.stat().st_size for d in dirs for f in d.glob("*.yaml")) / 1e6
        floor = measure("floor", dirs, args.repeat)
        ours = measure("provdc", dirs, args.repeat)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores")
    print(f"inventory: {args.provinces} provinces, {size_mb:.1f} MB of YAML (median of {args.repeat} runs, fresh process each)")
    print(f"{'':32}{'seconds':>10}{'peak RSS MB':>14}")
    print(f"{'PyYAML CSafeLoader parse (floor)':32}{floor['seconds']:>10.2f}{floor['max_rss_mb']:>14.0f}")
    print(f"{'provdc load + validate':32}{ours['seconds']:>10.2f}{ours['max_rss_mb']:>14.0f}")
    print(f"ratio provdc / floor: time {ours['seconds'] / floor['seconds']:.2f}x, memory {ours['max_rss_mb'] / floor['max_rss_mb']:.2f}x")
    verdict = "meets" if ours["seconds"] < 2 and ours["max_rss_mb"] < 300 else "MISSES"
    print(f"target (< 2 s, < 300 MB): {verdict}")
    if args.big_mb:
        one_defect(args.big_mb, args.repeat)


def one_defect(megabytes: float, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        valid = generate_one_file(Path(tmp) / "national.yaml", megabytes)
        broken = with_one_defect(valid, Path(tmp) / "national-one-defect.yaml")
        size_mb = valid.stat().st_size / 1e6
        floor = measure("floor", [valid], repeat)
        ok = measure("provdc", [valid], repeat)
        bad = measure("defect", [broken], repeat)
    print(f"one file, {size_mb:.1f} MB of YAML (median of {repeat} runs, fresh process each)")
    print(f"{'':32}{'seconds':>10}{'peak RSS MB':>14}")
    print(f"{'PyYAML CSafeLoader parse (floor)':32}{floor['seconds']:>10.2f}{floor['max_rss_mb']:>14.0f}")
    print(f"{'provdc validate, valid':32}{ok['seconds']:>10.2f}{ok['max_rss_mb']:>14.0f}")
    print(f"{'provdc validate, one defect':32}{bad['seconds']:>10.2f}{bad['max_rss_mb']:>14.0f}")
    t, m = bad["seconds"] / ok["seconds"], bad["max_rss_mb"] / ok["max_rss_mb"]
    print(f"ratio one defect / valid: time {t:.2f}x, memory {m:.2f}x; target (<= 2x both): {'meets' if t <= 2 and m <= 2 else 'MISSES'}")


if __name__ == "__main__":
    main()
