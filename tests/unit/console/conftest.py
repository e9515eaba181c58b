"""A console over a copy of the lab inventory (one system renamed with markup, to prove it inert),
a temporary state directory with two offline audit runs (the governance layer needs no lab),
a report archive, and one account per role."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from provdc.console.app import Config, create_app
from provdc.console.auth import Accounts

PASSWORD = "correct horse battery"
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
LAB = Path(__file__).resolve().parents[3] / "inventory" / "examples" / "lab"
ROLES = {"admin1": "admin", "officer": "security_officer", "tech": "it_staff", "guest": "viewer"}


@dataclass
class Site:
    inventory: Path
    state: Path
    config: Config


def make_site(root: Path, lab_inventory: Path = LAB) -> Site:
    from provdc.checks.engine import Options, run_audit
    from provdc.inventory import load_inventory

    inv_dir = root / "inventory"
    shutil.copytree(lab_inventory, inv_dir)
    systems = inv_dir / "systems.yaml"
    doc = yaml.safe_load(systems.read_text(encoding="utf-8"))
    doc["systems"][0]["name"] = HOSTILE
    systems.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    state = root / "state"
    (state / "audits").mkdir(parents=True)
    inv = load_inventory(inv_dir)
    for i, today in enumerate((date(2026, 11, 1), date(2026, 12, 1))):
        run = run_audit(inv, Options(layers={"governance"}, today=today))
        stamp = datetime(2026, 11 + i, 1, 2, 0, tzinfo=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        (state / "audits" / f"audit-{stamp}.json").write_text(run.to_json(), encoding="utf-8")
    report = state / "runs" / "report" / "2026-11-01T07-00"
    report.mkdir(parents=True)
    (report / "report-vi.html").write_text("<html><body>Báo cáo tháng 11</body></html>", encoding="utf-8")
    (report / "report-en.html").write_text("<html><body>November report</body></html>", encoding="utf-8")
    accounts = Accounts(state)
    for name, role in ROLES.items():
        accounts.add_user(name, role, PASSWORD)
    return Site(inv_dir, state, Config(inv_dir, state, prometheus=None, read_only=False))


@pytest.fixture()
def site(tmp_path) -> Site:
    return make_site(tmp_path)


@pytest.fixture()
def app(site):
    return create_app(site.config)
