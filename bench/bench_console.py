"""Console benchmark: server time per page, and 20 concurrent users for 30 s, on loopback.

Cases: the lab example and a synthetic province of 300 probe targets and 200 links
(bench_report's synthetic inventory: 100 servers with two services each, 200 WAN links),
each with two stored audit runs (the governance layer, made offline) in a temporary state
directory. The console runs under uvicorn over TLS on a free loopback port, as deployed;
no Prometheus is given, so the figures are the console's own work (inventory, runs, diagram,
templates), not Prometheus' query time (bench_report measures that). The peer column is
/health on the same server: TLS, HTTP and the framework alone. Targets: lab pages under
200 ms, the 300-target province under 1 s.

    python bench/bench_console.py [--repeat 7] [--users 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.console_site import PASSWORD, Running, login, make_site  # noqa: E402

PAGES = ["/", "/topology", "/systems", "/systems/{system}", "/links", "/links/{link}", "/agencies", "/audits", "/reports"]


def synthetic_site(root: Path):
    """The 300-target province with the console's state (runs, accounts) beside it."""
    from bench_report import synthetic_inventory

    from provdc.checks.engine import Options, run_audit
    from provdc.console.app import Config
    from provdc.console.auth import Accounts
    from provdc.inventory import load_inventory

    (root / "synthetic").mkdir(parents=True)
    inv_path = synthetic_inventory(root / "synthetic")
    state = root / "state-synthetic"
    (state / "audits").mkdir(parents=True)
    inv = load_inventory(inv_path)
    for i, today in enumerate((date(2026, 11, 1), date(2026, 12, 1))):
        run = run_audit(inv, Options(layers={"governance"}, today=today))
        (state / "audits" / f"audit-2026{11 + i}01T020000Z.json").write_text(run.to_json(), encoding="utf-8")
    Accounts(state).add_user("admin1", "admin", PASSWORD)
    return inv, Config(inv_path, state, read_only=True)


def pages_of(inv) -> list[str]:
    return [p.format(system=inv.doc.systems[0].id, link=inv.doc.links[0].id) for p in PAGES]


def time_pages(console: Running, pages: list[str], repeat: int) -> dict[str, tuple[float, float, int]]:
    """page -> (median ms, max ms, bytes) over `repeat` requests after one warm-up."""
    out = {}
    with console.client() as c:
        login(c, "admin1")
        for page in ["/health", *pages]:
            c.get(page)
            times, size = [], 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = c.get(page)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (page, r.status_code)
                size = len(r.content)
            out[page] = (statistics.median(times), max(times), size)
    return out


def load(console: Running, pages: list[str], users: int, seconds: float) -> dict:
    """`users` threads, each its own session, requesting the pages in turn for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    ready = threading.Barrier(users)

    def user(n: int) -> None:
        with console.client() as c:
            login(c, "admin1")
            ready.wait()
            i = n
            while time.monotonic() < stop_at:
                page = pages[i % len(pages)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = c.get(page)
                    ok = r.status_code == 200
                    detail = f"{page}: HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{page}: {type(exc).__name__}"
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    if not ok:
                        errors.append(detail)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {"requests": len(latencies), "errors": len(errors), "first_errors": errors[:3], "rps": len(latencies) / wall,
            "p50": q[49], "p99": q[98], "max": max(latencies, default=0)}


def report(name: str, figures: dict[str, tuple[float, float, int]], target_ms: float) -> None:
    peer = figures["/health"][0]
    print(f"\n{name}  (peer /health median {peer:.1f} ms; target < {target_ms:.0f} ms)")
    print("| page | median ms | max ms | KiB | vs /health |")
    print("|---|---:|---:|---:|---:|")
    for page, (med, worst, size) in figures.items():
        if page != "/health":
            print(f"| `{page}` | {med:.1f} | {worst:.1f} | {size / 1024:.0f} | {med / peer:.1f}x |")
    slowest = max(v[0] for p, v in figures.items() if p != "/health")
    print(f"slowest page median {slowest:.1f} ms: target {'met' if slowest < target_ms else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-console-"))
    try:
        from provdc.inventory import load_inventory

        lab = make_site(root / "lab")
        lab_inv = load_inventory(lab.inventory)
        console = Running(lab.config)
        try:
            report("lab example", time_pages(console, pages_of(lab_inv), args.repeat), 200)
            print(f"\n{args.users} concurrent users for {args.seconds:.0f} s on the lab example:")
            r = load(console, pages_of(lab_inv), args.users, args.seconds)
            print(f"requests {r['requests']}, errors {r['errors']} {r['first_errors']}, {r['rps']:.1f} req/s, "
                  f"p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms")
        finally:
            console.stop()
        inv, config = synthetic_site(root)
        print(f"\nsynthetic province: {len(inv.doc.servers)} servers, {len(inv.doc.links)} links, "
              f"{len(inv.doc.agencies)} agencies, {len(inv.doc.systems)} systems")
        console = Running(config)
        try:
            report("synthetic 300-target province", time_pages(console, pages_of(inv), args.repeat), 1000)
        finally:
            console.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
