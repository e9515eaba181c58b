"""The main job end to end, the suite's one run of the whole demo: `provdc demo` on a copy of
the lab example moved to its own prefix and supernet (so it runs beside the session's lab).
Asserts on what it produced: every stage, the audit runs before and after provisioning, and
reports whose figures show the planned fault; and that it tore everything down."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LAB_INVENTORY
from tests.integration.conftest import require_root

# its own lab (a twin test: it takes the machine's lab lock when run alone); its monitoring stage
# measures coverage in real time, so tests/run_tiers.py runs it in a tier of its own at normal
# priority, not with the session lab's tests (their 9 minutes) nor at low priority with the mini lab's
pytestmark = [pytest.mark.twin, pytest.mark.demo]


def relocated_lab(target: Path) -> Path:
    """The lab example with prefix 'pe', supernet 10.96.0.0/16 and its own key paths."""
    target.mkdir()
    for f in LAB_INVENTORY.glob("*.yaml"):
        text = f.read_text(encoding="utf-8").replace("10.99.", "10.96.").replace("lab-pd", "lab-pe")
        text = text.replace("prefix: pd", "prefix: pe")
        (target / f.name).write_text(text, encoding="utf-8")
    shutil.copytree(LAB_INVENTORY / "evidence", target / "evidence")   # attachments of the evidence records
    (target / "configs").mkdir()                                        # core-fw's configuration backup
    for f in (LAB_INVENTORY / "configs").glob("*.cfg"):
        (target / "configs" / f.name).write_text(f.read_text(encoding="utf-8").replace("10.99.", "10.96."), encoding="utf-8")
    return target


@pytest.fixture
def e2e_inventory(tmp_path):
    require_root()
    from provdc.lab import twin

    path = relocated_lab(tmp_path / "province")
    twin.down(path)
    yield path
    twin.down(path)


def test_demo_end_to_end(e2e_inventory, tmp_path):
    from provdc.lab import twin

    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "provdc.cli", "demo", "--inventory", str(e2e_inventory), "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for stage in ("inventory: load and validate", "lab: up", "lab: every declared service listens", "audit: four layers", "provision:",
                  "audit: again, after provisioning", "monitor: up",
                  "lab: planned load and fault", "monitor: the fault is in Prometheus", "reports: monthly compliance report",
                  "monitor: down", "lab: down", "demo finished"):
        assert stage in r.stdout
    # two audit runs: provisioning fixed findings and broke none
    before, after = [json.loads(p.read_text()) for p in sorted((out / "audits").glob("audit-*.json"))]
    failing = lambda run: {(f["check"], f["host"] or f["system"]) for f in run["findings"] if f["status"] == "FAIL"}  # noqa: E731
    assert len(failing(after)) < len(failing(before)) and not failing(after) - failing(before)
    fixed = re.search(r"(\d+) fixed, (\d+) new failures", r.stdout)
    assert fixed and int(fixed.group(1)) == len(failing(before) - failing(after)) and fixed.group(2) == "0"
    assert all(f["status"] != "ERROR" for f in after["findings"])
    # the reports: both languages, HTML and PDF; the stopped host's systems show the downtime
    html = (out / next(p.name for p in out.iterdir() if p.name.endswith("-vi.html"))).read_text()
    assert "Báo cáo tuân thủ hằng tháng" in html and "<script>" not in html
    stopped = re.search(r": (\S+) down for 8 s", r.stdout).group(1)
    assert f"{stopped} probes reached 0" in r.stdout  # Prometheus recorded the fault
    from provdc.inventory import load_inventory

    inv = load_inventory(e2e_inventory)
    for system in inv.systems_by_server[stopped]:
        assert system.name in html
    # the report's figures (its JSON: the same data the HTML and PDF print) match the fault ...
    report = json.loads(next(out.glob("report-*.json")).read_text())["provinces"][0]
    systems = {s["id"]: s["result"] for s in report["systems"]}
    hit = {s.id for s in inv.systems_by_server[stopped]}
    for sid, result in systems.items():
        assert result["coverage"] >= 0.95, (sid, result)      # measured, not a gap
        if sid in hit:                                         # about 8 s down in about 40 s
            assert 0 < result["availability"] < 1 and result["downtime_minutes"] > 0, (sid, result)
            assert len(result["incidents"]) == 1, (sid, result)
        else:
            assert result["availability"] == 1.0, (sid, result)
    links = {link["id"]: link for link in report["links"]}
    load = links[re.search(r"; (\S+) saturated at", r.stdout).group(1)]["directions"][0]
    assert 0.8 <= load["peak_bps"] / load["contract_bps"] <= 1.05, load
    assert links["wan-ubnd-tinh"]["directions"][0]["peak_bps"] < 0.05 * 100_000_000
    assert links["wan-phuong-trung-tam"]["measured"] is False  # no counters: listed as unmeasured
    # ... and the audit JSON: the newest run, its failures and its layer scores
    from provdc.checks.results import drift, load_run
    from provdc.exporters.collector import build_registry

    security = report["security"]
    assert security["run"]["finished"] == after["finished"]
    assert sorted((f["check"], f["host"] or f["system"]) for f in security["failed"]) == sorted(failing(after))
    runs = sorted((out / "audits").glob("audit-*.json"))
    newest = load_run(runs[-1])
    assert security["run"]["scores"] == json.loads(newest.to_json())["scores"]     # the run's figures, not recomputed
    # the drift between the demo's two audits: the CLI, the report and the exporter agree
    expected = drift(load_run(runs[-2]), newest).counts()
    cli = subprocess.run([sys.executable, "-m", "provdc.cli", "audit", "diff", str(runs[-2]), str(runs[-1]), "--json"], capture_output=True, text=True)
    assert {k: len(v) for k, v in json.loads(cli.stdout).items()} == expected
    assert security["drift_counts"] == expected
    exported = build_registry(inv, out / "audits")
    assert {k: exported.get_sample_value("provdc_audit_drift_findings", {"kind": k}) for k in expected} == \
        {k: float(v) for k, v in expected.items()}
    # agencies owning only systems (ubnd-tinh owns portal and mcdt, no server) are scored everywhere
    assert "ubnd-tinh" in security["run"]["scores"]["agency"]
    assert exported.get_sample_value("provdc_audit_group_score_ratio", {"kind": "agency", "group": "ubnd-tinh",
                                                                        "waivers": "counted"}) is not None
    # a requirement no check sees is never PASS
    assert all(r["status"] != "PASS" for r in security["run"]["requirements"] if not r["checks"])
    # the load on the saturated link is in the English report
    en = (out / next(p.name for p in out.iterdir() if p.name.endswith("-en.html"))).read_text()
    assert "wan-xa-dong-son" in en
    assert sorted(p.suffix for p in out.iterdir() if p.is_file()) == [".html", ".html", ".json", ".pdf", ".pdf"]
    # and nothing was left behind
    from provdc.lab.plan import plan_lab
    from provdc.lab import net

    assert net.leftovers(plan_lab(inv)) == []
    _ = twin
