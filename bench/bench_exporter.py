"""Exporter benchmark: scrape time and memory of `provdc exporter serve`, side by side with
node_exporter's textfile collector serving the very same samples; then a load test.

Cases: the lab example, and a national-scale single inventory (6,000 servers, 11,000 agencies,
12,000 links) with an audit run of 60,000 findings. Both servers run as separate processes on
loopback; scrape time is the median HTTP GET of /metrics, memory the server's RSS after scraping.
Load test: 50 concurrent scrapers for 30 s against the lab exporter (error count, p50, p99).
Targets: under 50 ms per province-sized scrape, under 2 s for the national one.

    python bench/bench_exporter.py [--scrapes 20] [--load-seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import yaml

from provdc.checks.results import AuditRun, Finding, Status
from provdc.proc import spawn_detached, stop

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [("ssh_password_auth_disabled", "host", "high"), ("ssh_root_login_restricted", "host", "high"),
          ("firewall_default_deny", "host", "high"), ("time_synchronised", "host", "medium"),
          ("auditd_running", "host", "medium"), ("log_retention_for_level", "host", "medium"),
          ("open_ports_match_declared", "network", "high"), ("tls_protocols_modern", "application", "high"),
          ("backup_fresh", "data", "high"), ("db_no_trust_auth", "data", "critical")]


def national_inventory(out: Path) -> Path:
    servers = [{"id": f"s{i}", "hostname": f"s{i}", "address": f"10.1.{(i // 250) + 64 * (i % 4)}.{10 + i % 240}",
                "zone": ["dmz", "srv", "db", "mgmt"][i % 4], "role": "app"} for i in range(6000)]
    # make addresses unique: zone i%4 owns /18 number i%4, third octet from i//250 within it
    for i, s in enumerate(servers):
        z = i % 4
        k = i // 4
        s["address"] = f"10.1.{64 * z + k // 200}.{10 + k % 200}"
    agencies = [{"id": f"a{i}", "name": f"Cơ quan {i}", "tier": ["province", "district", "commune"][i % 3], "lan": True,
                 **({"wan": f"l{i}"} if i < 11000 else {})} for i in range(11000)]
    links = [{"id": f"l{i}", "kind": "wan", "capacity": "10Mbps",
              "a": {"site": "dc", "device": "rtr", "interface": f"w{i}", "address": f"10.2.{(4 * i) // 256}.{(4 * i) % 256 + 1}/30"},
              "b": ({"agency": f"a{i}"} if i < 11000 else {"provider": "TSLCD"}) | {"address": f"10.2.{(4 * i) // 256}.{(4 * i) % 256 + 2}/30"},
              "measured_by": {"device": "rtr", "interface": f"w{i}"}} for i in range(12000)]
    systems = [{"id": f"sys{i}", "name": f"Hệ thống {i}", "level": 2 + i % 2, "servers": [f"s{j}" for j in range(i * 10, i * 10 + 10)]}
               for i in range(600)]
    doc = {"version": 1, "province": {"id": "national", "name": "Quốc gia"},
           "defaults": {"server": {"ssh": {"key": "file:keys/id"}}},
           "sites": [{"id": "dc", "name": "DC", "kind": "data_center", "tier": 3}],
           "zones": [{"id": z, "site": "dc", "kind": k, "cidr": f"10.1.{64 * n}.0/18"}
                     for n, (z, k) in enumerate([("dmz", "dmz"), ("srv", "servers"), ("db", "database"), ("mgmt", "management")])],
           "devices": [{"id": "rtr", "kind": "router", "site": "dc", "zone": "mgmt", "address": "10.1.255.2",
                        "snmp": {"community": "env:SNMP_COMMUNITY"}}],
           "servers": servers, "systems": systems, "agencies": agencies, "links": links}
    path = out / "national.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def audit_results(out: Path, hosts: list[str]) -> Path:
    d = out / "results"
    d.mkdir(exist_ok=True)
    statuses = [Status.PASS, Status.PASS, Status.PASS, Status.FAIL, Status.ERROR]
    findings = [Finding(check=c, layer=layer, severity=sev, status=statuses[(i + j) % 5], host=h)
                for i, h in enumerate(hosts) for j, (c, layer, sev) in enumerate(CHECKS)]
    now = datetime.now(timezone.utc)
    (d / "audit-20261122T000000Z.json").write_text(AuditRun(province="bench", started=now, finished=now, findings=findings).to_json())
    return d


def fetch(url: str) -> tuple[float, bytes]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - loopback only
        body = r.read()
    return time.perf_counter() - t, body


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def compare(name: str, inventory: Path, results: Path, tmp: Path, port: int, scrapes: int) -> tuple[float, str]:
    ours = spawn_detached([sys.executable, "-m", "provdc.cli", "exporter", "serve", str(inventory), "--listen",
                           f"127.0.0.1:{port}", "--audit-results", str(results)], tmp / f"exporter-{port}.log")
    try:
        wait_up(f"http://127.0.0.1:{port}/metrics")
        times, body = [], b""
        for _ in range(scrapes):
            took, body = fetch(f"http://127.0.0.1:{port}/metrics")
            times.append(took)
        ours_s, ours_rss = statistics.median(times), rss_mb(ours)
    finally:
        stop([ours])
    textdir = tmp / f"textfile-{port}"
    textdir.mkdir()
    # the same samples, minus the families node_exporter would reject as duplicates of its own
    (textdir / "provdc.prom").write_bytes(body)
    peer = spawn_detached(["/usr/bin/prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                           f"--collector.textfile.directory={textdir}", f"--web.listen-address=127.0.0.1:{port + 1}"],
                          tmp / f"node-{port}.log")
    try:
        wait_up(f"http://127.0.0.1:{port + 1}/metrics")
        times = [fetch(f"http://127.0.0.1:{port + 1}/metrics")[0] for _ in range(scrapes)]
        peer_s, peer_rss = statistics.median(times), rss_mb(peer)
    finally:
        stop([peer])
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    row = (f"{name:34}{samples:>9}{ours_s * 1000:>10.1f}{peer_s * 1000:>12.1f}{ours_s / peer_s:>8.2f}"
           f"{ours_rss:>9.0f}{peer_rss:>10.0f}")
    return ours_s, row


def load_test(inventory: Path, results: Path, tmp: Path, seconds: float, clients: int = 50) -> str:
    port = 39400
    pid = spawn_detached([sys.executable, "-m", "provdc.cli", "exporter", "serve", str(inventory), "--listen",
                          f"127.0.0.1:{port}", "--audit-results", str(results)], tmp / "load.log")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def scraper() -> None:
        while time.monotonic() < deadline:  # bounded in time: stops by itself
            try:
                took, _ = fetch(f"http://127.0.0.1:{port}/metrics")
                with lock:
                    latencies.append(took)
            except OSError:
                with lock:
                    errors[0] += 1

    try:
        wait_up(f"http://127.0.0.1:{port}/metrics")
        threads = [threading.Thread(target=scraper) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop([pid])
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return (f"load test: {clients} concurrent scrapers for {seconds:.0f} s on loopback: {len(latencies)} scrapes "
            f"({len(latencies) / seconds:.0f}/s), {errors[0]} errors, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scrapes", type=int, default=20)
    ap.add_argument("--load-seconds", type=float, default=30)
    args = ap.parse_args()
    from provdc.inventory import load_inventory

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        lab = ROOT / "inventory/examples/lab"
        (tmp / "lab").mkdir()
        lab_results = audit_results(tmp / "lab", list(load_inventory(lab).servers))
        national = national_inventory(tmp)
        (tmp / "nat").mkdir()
        nat_results = audit_results(tmp / "nat", [f"s{i}" for i in range(6000)])
        print(f"{'':34}{'samples':>9}{'provdc ms':>10}{'textfile ms':>12}{'ratio':>8}{'RSS MB':>9}{'peer MB':>10}")
        lab_s, row = compare("lab example + audit (100 findings)", lab, lab_results, tmp, 39300, args.scrapes)
        print(row)
        nat_s, row = compare("national + audit (60,000 findings)", national, nat_results, tmp, 39310, max(3, args.scrapes // 4))
        print(row)
        print(f"targets: province scrape < 50 ms: {'meets' if lab_s < 0.05 else 'MISSES'} ({lab_s * 1000:.1f} ms); "
              f"national < 2 s: {'meets' if nat_s < 2 else 'MISSES'} ({nat_s:.2f} s)")
        print(load_test(lab, lab_results, tmp, args.load_seconds))


if __name__ == "__main__":
    main()
