"""Import end to end: the lab example typed into the Vietnamese XLSX template, and the lab's
servers taken from an Ansible inventory, each give a draft that validates, plans exactly the
twin the lab example builds, and audits against that running twin like the example does.

(One lab per machine: the twin is the session's `lab`, built from the example; the draft's
lab plan is asserted identical to it, so the draft builds this very twin.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from provdc.checks.engine import Options, run_audit
from provdc.cli import main
from provdc.inventory import load_inventory, tabular
from provdc.inventory.model import Defaults
from provdc.lab.plan import plan_lab
from tests.conftest import LAB_INVENTORY

pytestmark = pytest.mark.twin


def cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def fill_template(book: Path, inv) -> None:
    """What a province's staff would do: type every object into the template's rows, under
    the Vietnamese headers the template has."""
    wb = openpyxl.load_workbook(book)
    rows = tabular.rows_of(inv.doc)
    for sheet in tabular.SHEETS:
        ws = wb[sheet.vi]
        cols = tabular.columns(sheet)
        if sheet.key_value:
            values = (rows.get(sheet.name) or [{}])[0]
            for r, c in zip(ws.iter_rows(min_row=2), cols):
                assert r[0].value == tabular.header(c, "vi")
                r[1].value = values.get(c.key)
            continue
        assert [c.value for c in ws[1]] == [tabular.header(c, "vi") for c in cols]
        for row in rows.get(sheet.name, []):
            ws.append([row.get(c.key) for c in cols])
    wb.save(book)


def lab_with_ansible_servers(servers: Path, draft: Path) -> Path:
    """The lab example with its servers replaced by those imported from Ansible. The imported
    servers carry their resolved services, so the example's default services are left out."""
    shutil.copytree(LAB_INVENTORY, draft)
    (draft / "servers.yaml").unlink()
    shutil.copy(servers, draft / "servers.yaml")
    province = draft / "province.yaml"
    text = province.read_text(encoding="utf-8")
    start = text.index("    services:                 # added to every server's own services\n")
    end = text.index("  system:\n", start)
    province.write_text(text[:start] + text[end:], encoding="utf-8")
    return draft


def host_statuses(inv) -> dict[tuple[str, str], str]:
    run = run_audit(inv, Options(layers={"host"}))
    assert not run.partial
    return {(f.check, f.host): f.status.value for f in run.findings}


@pytest.fixture(scope="module")
def example_statuses(lab):
    return host_statuses(lab.inventory)


def twin_shape(plan) -> dict:
    """A lab plan without the host-side veth names, which number hosts in inventory order."""
    return {"namespaces": {name: (ns.kind, ns.ident, [(i.name, i.address, i.bridge, i.rate_bps, i.aliases) for i in ns.ifaces])
                           for name, ns in plan.namespaces.items()},
            "bridges": plan.bridges, "links": plan.links, "supernet": plan.supernet, "controller": plan.controller}


def assert_builds_and_audits_like_the_example(draft: Path, lab, example_statuses, same_model: bool) -> None:
    imported = load_inventory(draft)  # validates
    if same_model:
        # a workbook holds the objects; alerting, schedule and paperwork settings stay in YAML
        keep = {"defaults": Defaults(), "alerting": None, "schedule": lab.inventory.doc.schedule.__class__(),
                "paperwork": None}
        assert imported.doc.model_copy(update=keep) == lab.inventory.doc.model_copy(update=keep)
    if same_model:
        assert plan_lab(imported) == plan_lab(lab.inventory)
    else:  # hosts come back in Ansible's (sorted) order: only the numbering of host-side veths differs
        assert twin_shape(plan_lab(imported)) == twin_shape(plan_lab(lab.inventory))
    statuses = host_statuses(imported)
    assert "ERROR" not in statuses.values()
    assert statuses == example_statuses


def test_the_lab_typed_into_the_xlsx_template_validates_builds_and_audits(tmp_path, lab, example_statuses):
    book = tmp_path / "kiem-ke.xlsx"
    cli("inventory", "template", "--format", "xlsx", "--lang", "vi", "-o", str(book))
    fill_template(book, load_inventory(LAB_INVENTORY))
    cli("inventory", "import", "xlsx", str(book), "--out", str(tmp_path / "draft"))
    assert_builds_and_audits_like_the_example(tmp_path / "draft", lab, example_statuses, same_model=True)


def test_the_lab_servers_from_an_ansible_inventory_validate_build_and_audit(tmp_path, lab, example_statuses):
    hosts = tmp_path / "hosts.yml"
    cli("inventory", "export", str(LAB_INVENTORY), "--format", "ansible", "-o", str(hosts))
    result = CliRunner().invoke(main, ["inventory", "import", "ansible", str(hosts), "--out", str(tmp_path / "ansible")])
    assert (tmp_path / "ansible" / "servers.yaml").is_file(), result.output  # servers alone are not an inventory
    draft = lab_with_ansible_servers(tmp_path / "ansible" / "servers.yaml", tmp_path / "draft")
    # The Ansible inventory keeps no `from:` zones (only CIDRs): the host layer does not use them.
    assert_builds_and_audits_like_the_example(draft, lab, example_statuses, same_model=False)
