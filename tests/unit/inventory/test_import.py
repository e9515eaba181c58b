"""`provdc inventory import` and `template`: round trips on every example province, Vietnamese
and English headers, every cell that cannot be imported listed with sheet, row and column,
Ansible inventories read by the real ansible-inventory."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from provdc.cli import main
from provdc.inventory import load_inventory
from provdc.inventory.importing import read_sources, render_draft, write_draft
from provdc.inventory.model import Defaults
from tests.conftest import EXAMPLES

EXAMPLE_NAMES = ["lab", "thua-thien-hue", "soc-trang", "phu-tho"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner(mix_stderr=False).invoke(main, list(args)) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames \
        else CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, (result.stdout or "") + (getattr(result, "stderr", "") or "")


def resolved(path: Path):
    """The model with `defaults:` left out: an export has them resolved into every object."""
    return load_inventory(path).doc.model_copy(update={"defaults": Defaults()})


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_export_then_import_gives_the_same_model(tmp_path, name, fmt):
    exported = tmp_path / f"{name}.{fmt}"
    code, _ = run("inventory", "export", str(EXAMPLES / name), "--format", fmt, "-o", str(exported))
    assert code == 0
    code, text = run("inventory", "import", fmt, str(exported), "--out", str(tmp_path / "draft"))
    assert code == 0, text
    draft, original = resolved(tmp_path / "draft"), resolved(EXAMPLES / name)
    if fmt == "xlsx":
        # a workbook holds the inventory's objects; the service's alerting and schedule settings
        # (nested receivers, routes) and the documents' paperwork (signers) stay in YAML
        keep = {"alerting": None, "schedule": original.schedule.__class__(), "paperwork": None}
        draft, original = draft.model_copy(update=keep), original.model_copy(update=keep)
    assert draft == original


def test_the_draft_says_where_each_object_came_from(tmp_path):
    exported = tmp_path / "lab.xlsx"
    run("inventory", "export", str(EXAMPLES / "lab"), "--format", "xlsx", "-o", str(exported))
    run("inventory", "import", "xlsx", str(exported), "--out", str(tmp_path / "draft"))
    servers = (tmp_path / "draft" / "servers.yaml").read_text()
    assert "  # from lab.xlsx:servers row 2\n  - id: portal-web1\n" in servers


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_filled_in_template_imports_in_either_language(tmp_path, lang):
    book = tmp_path / "t.xlsx"
    code, _ = run("inventory", "template", "--format", "xlsx", "--lang", lang, "-o", str(book))
    assert code == 0
    wb = openpyxl.load_workbook(book)
    names = {"vi": ("tinh", "may_chu", "he_thong"), "en": ("province", "servers", "systems")}[lang]
    province, servers, systems = (wb[n] for n in names)
    assert [c.value for c in servers[1]][:3] == ({"vi": ["mã", "tên máy", "địa chỉ"], "en": ["id", "hostname", "address"]}[lang])
    for row in province.iter_rows(min_row=2):
        row[1].value = {"id": "thu", "name": "Tỉnh Thử"}.get(row[0].value if lang == "en" else {"mã": "id", "tên": "name"}.get(row[0].value))
    servers.append(["web1", "web1", "10.0.0.10", "z", "web"])
    systems.append(["portal", "Cổng", "portal", 3, None, None, "web1"])
    wb.save(book)
    draft = read_sources("xlsx", [book])
    assert not draft.rejected, draft.rejected
    [(server, where)] = draft.lists["servers"]
    assert server == {"id": "web1", "hostname": "web1", "address": "10.0.0.10", "zone": "z", "role": "web"}
    assert where == f"t.xlsx:{names[1]} row 2"
    assert draft.lists["systems"][0][0]["level"] == 3 and draft.lists["systems"][0][0]["servers"] == ["web1"]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def test_cells_that_cannot_be_imported_are_listed_with_sheet_row_and_column(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write_csv(src / "servers.csv", [["id", "hostname", "address", "zone", "role", "ssh.port", "colour"],
                                     ["web1", "web1", "10.0.0.10", "z", "web", "twenty-two", "blue"],
                                     ["", "nameless", "10.0.0.11", "z", "web", "", ""]])
    _write_csv(src / "dich_vu.csv", [["máy chủ", "tên", "cổng"], ["web9", "https", "443"], ["web1", "https", "443"]])
    _write_csv(src / "systems.csv", [["id", "name", "level", "servers"], ["portal", "Cổng", "three", "web1"]])
    draft = read_sources("csv", sorted(src.iterdir()))
    got = sorted(str(r) for r in draft.rejected)
    assert got == sorted([
        "servers.csv, row 1, column G: unknown column 'colour': its cells are not imported",
        "servers.csv, row 2, column F (ssh.port): not a whole number: 'twenty-two'",
        "servers.csv, row 3, column id: no id: row not imported",
        "dich_vu.csv, row 2, column server: unknown server 'web9': service not imported",
        "systems.csv, row 2, column C (level): not a whole number: 'three'",
    ])
    assert draft.lists["servers"][0][0]["services"] == [{"name": "https", "port": 443}]
    write_draft(tmp_path / "draft", render_draft(draft, "test"))
    assert "servers.csv, row 2, column F (ssh.port)" in (tmp_path / "draft" / "IMPORT-REJECTED.txt").read_text()


def test_the_import_exits_1_and_reports_every_defect_of_the_draft(tmp_path):
    src = tmp_path / "servers.csv"
    _write_csv(src, [["id", "hostname", "address", "zone", "role"], ["web1", "web1", "10.0.0.300", "z", "web"]])
    code, text = run("inventory", "import", "csv", str(src), "--out", str(tmp_path / "draft"))
    assert code == 1
    assert "draft/servers.yaml:7:14: servers[web1].address:" in text and "province: required field is missing" in text


def test_a_draft_never_overwrites_a_directory(tmp_path):
    (tmp_path / "draft").mkdir()
    (tmp_path / "draft" / "keep.yaml").write_text("x: 1\n")
    exported = tmp_path / "lab.json"
    run("inventory", "export", str(EXAMPLES / "lab"), "--format", "json", "-o", str(exported))
    code, text = run("inventory", "import", "json", str(exported), "--out", str(tmp_path / "draft"))
    assert code == 1 and "not empty" in text
    assert sorted(p.name for p in (tmp_path / "draft").iterdir()) == ["keep.yaml"]


def test_ambiguous_strings_are_quoted_in_the_draft(tmp_path):
    from provdc.inventory.importing import _dump
    import yaml_rs

    for text in ["022", "0o22", "on", "2026-01-01", "null", "1e3", "web1"]:
        assert yaml_rs.loads(_dump({"v": text}), parse_datetime=False)["v"] == text


ANSIBLE_INI = """\
[web]
portal1 ansible_host=10.20.10.11 ansible_user=admin ansible_port=2222 ansible_ssh_private_key_file=/etc/provdc/id

[db]
pg1 ansible_host=10.20.30.11

[db:vars]
ansible_user=root

[weird]
byname ansible_host=db.example.internal
"""


@pytest.mark.skipif(not shutil.which("ansible-inventory") and not (Path(__import__("sys").executable).parent / "ansible-inventory").exists(),
                    reason="ansible-inventory (ansible-core) is a dependency")
def test_an_ansible_ini_inventory_becomes_servers(tmp_path):
    src = tmp_path / "hosts.ini"
    src.write_text(ANSIBLE_INI)
    draft = read_sources("ansible", [src])
    servers = {s["id"]: s for s, _ in draft.lists["servers"]}
    assert servers["portal1"] == {"id": "portal1", "hostname": "portal1", "address": "10.20.10.11", "role": "web",
                                  "ssh": {"user": "admin", "port": 2222, "key": "file:/etc/provdc/id"}}
    assert servers["pg1"]["role"] == "db" and servers["pg1"]["ssh"] == {"user": "root"}
    [rejected] = draft.rejected
    assert str(rejected) == "hosts.ini, row 0, column byname.ansible_host: 'db.example.internal' is not an IPv4 address: host not imported"


def test_provdcs_own_ansible_export_gives_back_its_servers(tmp_path):
    exported = tmp_path / "lab-ansible.yml"
    run("inventory", "export", str(EXAMPLES / "lab"), "--format", "ansible", "-o", str(exported))
    draft = read_sources("ansible", [exported])
    lab = load_inventory(EXAMPLES / "lab")
    servers = {s["id"]: s for s, _ in draft.lists["servers"]}
    assert set(servers) == set(lab.servers)
    for sid, s in lab.servers.items():
        got = servers[sid]
        assert (got["address"], got["zone"], got["role"], got["owner"] if "owner" in got else None) == \
            (str(s.address), s.zone, s.role, s.owner)
        assert [(x["name"], x["port"]) for x in got["services"]] == [(x.name, x.port) for x in s.services]
    assert {d["id"] for d, _ in draft.lists["devices"]} == {d.id for d in lab.snmp_agents}


def test_the_lab_with_its_servers_from_ansible_validates(tmp_path):
    from tests.integration.test_inventory_import import lab_with_ansible_servers

    exported = tmp_path / "hosts.yml"
    run("inventory", "export", str(EXAMPLES / "lab"), "--format", "ansible", "-o", str(exported))
    run("inventory", "import", "ansible", str(exported), "--out", str(tmp_path / "ansible"))
    inv = load_inventory(lab_with_ansible_servers(tmp_path / "ansible" / "servers.yaml", tmp_path / "draft"))
    lab = load_inventory(EXAMPLES / "lab")
    assert {s: (v.address, v.zone, v.role, v.ssh) for s, v in inv.servers.items()} == \
        {s: (v.address, v.zone, v.role, v.ssh) for s, v in lab.servers.items()}
