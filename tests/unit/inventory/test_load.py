"""Loading: every example is valid, directories merge, defaults resolve once, all errors at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provdc.errors import InventoryError
from provdc.inventory import load_inventory
from tests.conftest import EXAMPLES

HERE = Path(__file__).parent
MINIMAL = HERE / "valid" / "minimal.yaml"


@pytest.mark.parametrize("name", ["lab", "thua-thien-hue", "soc-trang", "phu-tho"])
def test_examples_are_valid(name):
    inv = load_inventory(EXAMPLES / name)
    assert inv.doc.servers and inv.doc.agencies and inv.doc.links


def test_three_tier_and_two_tier_both_load():
    assert load_inventory(EXAMPLES / "thua-thien-hue").has_districts
    assert not load_inventory(EXAMPLES / "lab").has_districts


def test_defaults_are_resolved_into_every_server(lab_inventory):
    db1 = lab_inventory.servers["db1"]
    # defaults add ssh and node-exporter before the server's own services
    assert [s.name for s in db1.services] == ["ssh", "node-exporter", "postgresql"]
    assert db1.ssh.key == "file:/run/provdc/lab-pd/id_lab"
    assert db1.owner == "so-khcn"


def test_object_values_win_over_defaults(tmp_path):
    text = MINIMAL.read_text().replace("sites:\n", "defaults:\n  server:\n    role: generic\n    os: rocky9\nsites:\n", 1)
    (tmp_path / "inv.yaml").write_text(text)
    inv = load_inventory(tmp_path / "inv.yaml")
    assert inv.servers["web1"].role == "web" and inv.servers["web1"].os == "rocky9"


def test_all_problems_are_reported_at_once(tmp_path):
    text = (MINIMAL.read_text()
            .replace("    level: 3\n", "    level: 9\n")
            .replace("    zone: db\n", "    zone: nowhere\n")
            .replace("      key: file:keys/id\n", "      key: s3cr3t-value\n"))
    (tmp_path / "inv.yaml").write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "inv.yaml")
    fields = [p.field for p in caught.value.problems]
    # schema errors do not hide the dangling reference of an object whose shape is valid
    assert fields == ["servers[web1].ssh.key", "servers[db1].zone", "systems[portal].level"]
    assert "s3cr3t-value" not in "\n".join(map(str, caught.value.problems))


def test_schema_and_reference_errors_of_a_valid_shape_are_reported_together(tmp_path):
    text = (MINIMAL.read_text()
            .replace("    zone: db\n", "    zone: nowhere\n")
            .replace("    parent: ubnd\n    unit: xa-b\n", "    parent: nobody\n    unit: xa-b\n"))
    (tmp_path / "inv.yaml").write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "inv.yaml")
    assert [p.field for p in caught.value.problems] == ["servers[db1].zone", "agencies[ubnd-xa-b].parent"]


def _split_minimal(target: Path) -> None:
    """minimal.yaml cut into one file per section, as a real inventory directory would be."""
    target.mkdir()
    lines = MINIMAL.read_text().splitlines(keepends=True)[1:]
    chunks, current = {}, None
    for line in lines:
        if line[0].isalpha():
            current = line.split(":")[0]
        chunks.setdefault(current, []).append(line)
    for name, chunk in chunks.items():
        (target / f"{name}.yaml").write_text("".join(chunk))


def test_directory_inventory_merges_sections(tmp_path):
    _split_minimal(tmp_path / "inv")
    inv = load_inventory(tmp_path / "inv")
    assert set(inv.servers) == {"web1", "db1"} and len(inv.files) == 11


def test_list_sections_concatenate_across_files(tmp_path):
    _split_minimal(tmp_path / "inv")
    (tmp_path / "inv" / "more-agencies.yaml").write_text(
        "agencies:\n  - {id: so-b, name: Sở B, tier: province, parent: ubnd}\n")
    assert "so-b" in load_inventory(tmp_path / "inv").agencies


def test_single_section_twice_names_both_files(tmp_path):
    _split_minimal(tmp_path / "inv")
    shutil.copy(tmp_path / "inv" / "province.yaml", tmp_path / "inv" / "province-copy.yaml")
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "inv")
    [problem] = caught.value.problems
    assert problem.pos.file == "inv/province.yaml" and problem.field == "province"
    assert "already defined at inv/province-copy.yaml:1:1" in problem.message


def test_syntax_error_in_one_file_is_reported_with_its_file(tmp_path):
    _split_minimal(tmp_path / "inv")
    (tmp_path / "inv" / "links.yaml").write_text("links:\n  - id: [unclosed\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "inv")
    [problem] = caught.value.problems
    assert problem.pos.file == "inv/links.yaml" and "YAML syntax error" in problem.message


def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path)
    assert "no .yaml or .yml files" in str(caught.value.problems[0])


def test_yaml_merge_keys_are_honoured(tmp_path):
    text = MINIMAL.read_text().replace(
        "  - id: db1\n    hostname: db1\n",
        "  - &db {id: db1, hostname: db1, zone: db, role: database, address: 10.20.30.11}\n  - <<: *db\n    id: db2\n    hostname: db2\n    address: 10.20.30.12\n  - id: db3\n    hostname: db3\n", 1)
    text = text.replace("    address: 10.20.30.11\n    zone: db\n    role: database\n", "    address: 10.20.30.13\n    zone: db\n    role: database\n", 1)
    (tmp_path / "inv.yaml").write_text(text)
    inv = load_inventory(tmp_path / "inv.yaml")
    assert inv.servers["db2"].zone == "db" and str(inv.servers["db2"].address) == "10.20.30.12"


def test_rates_accept_common_spellings(tmp_path):
    from provdc.inventory.model import parse_rate

    assert parse_rate("100Mbps") == 100_000_000
    assert parse_rate("2 Mbit/s") == 2_000_000
    assert parse_rate("1G") == 1_000_000_000
    assert parse_rate("512k") == 512_000
    assert parse_rate(64000) == 64000
    with pytest.raises(ValueError):
        parse_rate("fast")


@pytest.mark.parametrize("name", ["lab", "thua-thien-hue", "soc-trang", "phu-tho"])
def test_both_parsers_give_the_same_model(name, monkeypatch):
    """yaml_rs (the reader) and source.py's loader (the fallback, and audit's waiver files)
    read every example the same way: one meaning for the YAML."""
    from provdc.inventory import load as load_module

    fast = load_inventory(EXAMPLES / name).doc
    monkeypatch.setattr(load_module, "yaml_rs", None)
    assert load_inventory(EXAMPLES / name).doc == fast


def test_without_the_fast_parser_everything_still_works(monkeypatch):
    from provdc.inventory import load as load_module

    monkeypatch.setattr(load_module, "yaml_rs", None)
    assert load_inventory(EXAMPLES / "lab").server_level("db1") == 3
    with pytest.raises(InventoryError) as caught:
        load_inventory(HERE / "broken" / "agency-cycle.yaml")
    assert caught.value.problems[0].pos.line == 76
