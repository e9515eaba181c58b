"""National federation footprint: 34 provincial Prometheus instances holding only aggregate
series and one national instance federating them, all on loopback.

Measures, over a steady window after warm-up: the national instance's resident memory and CPU
(share of one core), the federation scrape time per province (`scrape_duration_seconds` of the
federate_* jobs) and the provincial instances' memory and CPU. Run it under the lab lock:

    flock /run/provdc-lab.lock .venv/bin/python bench/bench_national.py [--provinces 34] [--seconds 120]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from provdc.exporters import promapi
from provdc.lab import federation as F

TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK          # utime + stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--systems", type=int, default=20)
    ap.add_argument("--links", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=120, help="measured window after a 30 s warm-up")
    ap.add_argument("--interval", default="15s", help="provincial scrape and national federation interval")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-national-") as work:
        fed = F.Federation(Path(work))
        try:
            t = time.perf_counter()
            for k in range(1, args.provinces + 1):
                fed.add_aggregate_province(f"tinh-{k:02d}", args.systems, args.links, interval=args.interval)
            nation = fed.start_national({"scrape_interval": args.interval, "evaluation_interval": args.interval})
            started = time.perf_counter() - t
            time.sleep(30)
            pids = {name: inst.pids["prometheus"] for name, inst in fed.provinces.items()}
            before = {n: cpu_seconds(p) for n, p in pids.items()}
            nat_before, t0 = cpu_seconds(nation.pids["prometheus"]), time.monotonic()
            time.sleep(args.seconds)
            wall = time.monotonic() - t0
            nat_cpu = (cpu_seconds(nation.pids["prometheus"]) - nat_before) / wall
            prov_cpu = [(cpu_seconds(p) - before[n]) / wall for n, p in pids.items()]
            prov_rss = [rss_mb(p) for p in pids.values()]
            scrape = [float(r["value"][1]) for r in promapi.query(nation.url, 'scrape_duration_seconds{job=~"federate_.+"}')]
            samples = [float(r["value"][1]) for r in promapi.query(nation.url, 'scrape_samples_scraped{job=~"federate_.+"}')]
            series = promapi.query(nation.url, 'count({__name__=~".+"})')
            reporting = promapi.query(nation.url, "count(count by (province) (province:reporting:up))")
            print(f"provinces {args.provinces} ({len(reporting) and reporting[0]['value'][1]} reporting), "
                  f"{int(statistics.mean(samples))} aggregate series each, interval {args.interval}; started in {started:.1f} s")
            print(f"national: RSS {rss_mb(nation.pids['prometheus']):.0f} MB, CPU {nat_cpu * 100:.1f} % of one core, "
                  f"series held {series[0]['value'][1] if series else '?'}")
            print(f"federation scrape per province: median {statistics.median(scrape) * 1000:.1f} ms, "
                  f"max {max(scrape) * 1000:.1f} ms; all {args.provinces}: sum {sum(scrape) * 1000:.0f} ms")
            print(f"provincial (each): RSS median {statistics.median(prov_rss):.0f} MB (max {max(prov_rss):.0f}), "
                  f"CPU median {statistics.median(prov_cpu) * 100:.1f} % of one core; "
                  f"all {args.provinces}: RSS {sum(prov_rss):.0f} MB, CPU {sum(prov_cpu) * 100:.0f} %")
            print(f"ratio national/provincial: RSS {rss_mb(nation.pids['prometheus']) / statistics.median(prov_rss):.2f}, "
                  f"CPU {nat_cpu / max(statistics.median(prov_cpu), 1e-9):.2f}")
        finally:
            left = fed.stop()
            if left:
                print(f"processes would not stop: {left}")


if __name__ == "__main__":
    main()
