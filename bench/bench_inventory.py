"""Inventory benchmark: load + validate a national-scale inventory, next to the floor.

The floor is merely parsing the same YAML files with PyYAML's C loader (yaml.CSafeLoader),
which provdc's loader is built on. Each measurement runs in a fresh process so its peak RSS
(ru_maxrss) is its own. Targets: load + validate under 2 s and under 300 MB.

    python bench/bench_inventory.py [--provinces 63] [--repeat 3]
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
from national import generate  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, dirs = sys.argv[1], [Path(p) for p in sys.argv[2:]]
start = time.perf_counter()
if mode == "floor":
    import yaml
    n = 0
    for d in dirs:
        for f in sorted(d.glob("*.yaml")):
            yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader); n += 1
else:
    from provdc.inventory import load_inventory
    objects = 0
    for d in dirs:
        inv = load_inventory(d)
        objects += len(inv.doc.servers) + len(inv.doc.agencies) + len(inv.doc.links)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


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


if __name__ == "__main__":
    main()
