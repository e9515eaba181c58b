"""Input that never breaks provdc: the classes broken/ cannot hold (bytes, several files,
file-system entries, sizes), the one meaning of YAML scalars, and a fuzz test over the examples.

Every case asserts file, line and field of the problem, and that nothing else escapes but an
InventoryError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provdc.errors import InventoryError
from provdc.inventory import load_inventory
from provdc.inventory.source import Problem, resolve_plain
from tests.conftest import EXAMPLES

HERE = Path(__file__).parent
MINIMAL = HERE / "valid" / "minimal.yaml"
MINIMAL_TEXT = MINIMAL.read_text(encoding="utf-8")


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    return caught.value.problems


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def split_minimal(target: Path) -> Path:
    """minimal.yaml as one file per section (the way a province keeps its inventory)."""
    target.mkdir()
    chunks: dict[str, list[str]] = {}
    current = None
    for line in MINIMAL_TEXT.splitlines(keepends=True)[1:]:
        if line[0].isalpha():
            current = line.split(":")[0]
        chunks.setdefault(current, []).append(line)
    for name, chunk in chunks.items():
        (target / f"{name}.yaml").write_text("".join(chunk), encoding="utf-8")
    return target


# ------------------------------------------------------------------------------------ bytes

def test_a_byte_order_mark_is_accepted(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + MINIMAL.read_bytes())
    assert set(load_inventory(f).servers) == {"web1", "db1"}


def test_a_byte_order_mark_does_not_move_positions_or_rename_the_file(tmp_path):
    f = tmp_path / "inv.yaml"
    text = MINIMAL_TEXT.replace("    level: 3\n", "    level: 9\n")
    f.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [p] = problems_of(f)
    assert (p.pos.file, p.pos.line, p.field) == ("inv.yaml", line_of(text, "level: 9"), "systems[portal].level")


@pytest.mark.parametrize("bad, what", [(b"\x00", "U+0000"), (b"\xe9", "byte 0xe9")])
def test_a_nul_or_latin1_byte_is_reported_where_it_stands(tmp_path, bad, what):
    text = MINIMAL_TEXT.encode()
    at = text.index(b"upgrade") + 2
    f = tmp_path / "inv.yaml"
    f.write_bytes(text[:at] + bad + text[at:])
    [p] = problems_of(f)
    line = text[:at].count(b"\n") + 1
    column = len(text[:at].split(b"\n")[-1].decode()) + 1
    assert (p.pos.file, p.pos.line, p.pos.column) == ("inv.yaml", line, column) and what in p.message


def test_an_empty_one_file_inventory_names_its_file(tmp_path):
    f = tmp_path / "empty.yaml"
    f.write_text("")
    [p] = problems_of(f)
    assert p.pos.file == "empty.yaml" and p.field == "province"


# --------------------------------------------------------------- every defect, in every file

def test_a_schema_error_does_not_hide_a_dangling_reference_in_another_file(tmp_path):
    inv = split_minimal(tmp_path / "inv")
    (inv / "systems.yaml").write_text((inv / "systems.yaml").read_text().replace("level: 3", "level: 7"))
    (inv / "agencies.yaml").write_text((inv / "agencies.yaml").read_text().replace("parent: ubnd\n    unit", "parent: nobody\n    unit"))
    found = {(p.pos.file, p.field) for p in problems_of(inv)}
    assert found == {("inv/systems.yaml", "systems[portal].level"), ("inv/agencies.yaml", "agencies[ubnd-xa-b].parent")}


def test_a_syntax_error_does_not_hide_schema_errors_elsewhere(tmp_path):
    inv = split_minimal(tmp_path / "inv")
    (inv / "links.yaml").write_text("links:\n  - id: [unclosed\n")
    (inv / "systems.yaml").write_text((inv / "systems.yaml").read_text().replace("level: 3", "level: 7"))
    problems = problems_of(inv)
    assert [(p.pos.file, p.pos.line) for p in problems] == [("inv/links.yaml", 2), ("inv/systems.yaml", 4)]
    assert "YAML syntax error" in problems[0].message and problems[1].field == "systems[portal].level"


def test_a_duplicate_key_does_not_hide_a_schema_error(tmp_path):
    text = (MINIMAL_TEXT.replace("    address: 10.20.10.11\n", "    address: 10.20.10.11\n    address: 10.20.10.12\n")
            .replace("    level: 3\n", "    level: 0\n"))
    (tmp_path / "inv.yaml").write_text(text)
    problems = problems_of(tmp_path / "inv.yaml")
    assert [(p.pos.line, p.field) for p in problems] == [(line_of(text, "address: 10.20.10.12"), "address"),
                                                          (line_of(text, "level: 0"), "systems[portal].level")]


def test_defects_in_three_files_are_all_reported(tmp_path):
    inv = split_minimal(tmp_path / "inv")
    (inv / "zones.yaml").write_text((inv / "zones.yaml").read_text() + "  - id: dmz\n    site: dc\n    kind: dmz\n    cidr: 10.99.0.0/24\n")
    (inv / "servers.yaml").write_text((inv / "servers.yaml").read_text().replace("port: 443", "port: 99999"))
    (inv / "waivers.yaml").write_text((inv / "waivers.yaml").read_text().replace("host: web1", "host: web7"))
    files = sorted({p.pos.file for p in problems_of(inv)})
    assert files == ["inv/servers.yaml", "inv/waivers.yaml", "inv/zones.yaml"]


# -------------------------------------------------------------------- file-system entries

def test_dangling_link_and_link_loop_are_reported_not_skipped(tmp_path):
    inv = split_minimal(tmp_path / "inv")
    (inv / "dangling.yaml").symlink_to("nowhere.yaml")
    (inv / "loop-a.yaml").symlink_to("loop-b.yaml")
    (inv / "loop-b.yaml").symlink_to("loop-a.yaml")
    (inv / "again").symlink_to(".")
    got = {(p.pos.file, p.message) for p in problems_of(inv)}
    assert got == {("inv/dangling.yaml", "cannot read: dangling symbolic link"),
                   ("inv/loop-a.yaml", "cannot read: symbolic link loop"),
                   ("inv/loop-b.yaml", "cannot read: symbolic link loop"),
                   ("inv/again", "symbolic link loop: this directory is already part of the inventory")}


@pytest.mark.skipif(not shutil.which("capsh"), reason="capsh drops root's permission override")
def test_an_unreadable_subdirectory_is_reported_not_skipped(tmp_path):
    inv = split_minimal(tmp_path / "inv")
    (inv / "more").mkdir()
    (inv / "more" / "agencies.yaml").write_text("agencies: []\n")
    os.chmod(inv / "more", 0)
    try:
        # as root every directory is readable: drop the override, as an operator account would
        run = subprocess.run(["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--",
                              "-c", f"{sys.executable} -m provdc.cli inventory validate {inv}"],
                             capture_output=True, text=True)
    finally:
        os.chmod(inv / "more", 0o755)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{inv.name}/more:1:1: cannot list directory: Permission denied" in run.stderr


# ------------------------------------------------------------------------------------- sizes

ALIAS_BOMB = "huge: &big '{}'\nmany: [{}]\n"


def test_aliases_of_a_large_string_stop_with_a_clear_error_in_bounded_memory(tmp_path):
    """5,000 aliases of a 1 MB string would be 5 GB once expanded (yaml_rs copies them). Run
    in a child limited to 1.5 GB of address space: a MemoryError or a Rust abort would show."""
    f = tmp_path / "bomb.yaml"
    f.write_text(MINIMAL_TEXT + ALIAS_BOMB.format("x" * 1_000_000, ", ".join(["*big"] * 5000)))
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
        from provdc.cli import main
        sys.argv = ["provdc", "inventory", "validate", {str(f)!r}]
        main()
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr[-2000:]
    line = MINIMAL_TEXT.count("\n") + 2
    assert f"bomb.yaml:{line}:8: aliases expand this file to more than" in run.stderr


def test_a_few_aliases_are_fine(tmp_path):
    text = MINIMAL_TEXT.replace("    services:\n      - name: pg\n", "    services:\n      - name: pg\n", 1)
    text = text.replace("  - id: web1\n    hostname: web1\n", "  - &web {id: web0, hostname: web0, zone: dmz, role: web, address: 10.20.10.10}\n  - id: web1\n    hostname: web1\n")
    (tmp_path / "inv.yaml").write_text(text)
    assert "web0" in load_inventory(tmp_path / "inv.yaml").servers


# ---------------------------------------------------------------- one meaning for each scalar

@pytest.mark.parametrize("text, value", [("022", 22), ("0o22", 18), ("0x1f", 31), ("on", "on"), ("yes", "yes"),
                                         ("off", "off"), ("12:30", "12:30"), ("1e3", 1000.0), ("~", None),
                                         ("2026-02-30", "2026-02-30"), ("2026-01-01", "2026-01-01"),
                                         ("2026-01-01T25:00:00", "2026-01-01T25:00:00")])
def test_yaml_1_2_core_meaning(text, value):
    assert yaml_rs.loads(f"a: {text}", parse_datetime=False)["a"] == value
    assert resolve_plain(text) == value


SCALAR = st.text(alphabet="0123456789+-._eExXoObB:TtZz ~nulrsyfalNUTRE", min_size=1, max_size=14)


@settings(max_examples=600, deadline=None)
@given(SCALAR)
def test_both_parsers_agree_on_every_plain_scalar(text):
    text = text.strip()
    if not text or text[0] in "-?:" or ": " in text or " #" in text or text.endswith(":"):
        return  # not a plain scalar in this position: YAML syntax, not a value
    try:
        expected = yaml_rs.loads(f"a: {text}", parse_datetime=False)["a"]
    except Exception:  # noqa: BLE001 - not a plain scalar for yaml_rs either
        return
    got = resolve_plain(text)
    assert type(got) is type(expected) and (got == expected or got != got and expected != expected), (text, got, expected)


def test_the_located_and_the_validated_value_are_the_same(tmp_path):
    """`port: 022` is 22 when validated and 22 when exported; the located loader agrees."""
    from provdc.inventory import exports

    text = MINIMAL_TEXT.replace("        port: 5432\n", "        port: 022\n")
    (tmp_path / "inv.yaml").write_text(text)
    inv = load_inventory(tmp_path / "inv.yaml")
    assert inv.servers["db1"].services[0].port == 22
    assert '"port": 22' in exports.EXPORTERS["json"](inv)


# ------------------------------------------------------------------------------------ fuzzing

_EXAMPLE_FILES = sorted((EXAMPLES / "lab").glob("*.yaml"))
_TOKENS = ["", "'", '"', "[", "]", "{", "}", ":", "- ", "&a ", "*a", "<<: *a", "\t", "\x00", "\ufeff", "#", "!!int ",
           "2026-02-30", ".inf", "-1", "022", "on", "null", "file:  ", "10.0.0.300", "\xe9", "3", '"3"', "\n"]


@st.composite
def mutation(draw):
    file = draw(st.sampled_from(_EXAMPLE_FILES))
    text = file.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(text) - 1)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "dup-line", "cut"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(_TOKENS)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "replace":
            end = text.find("\n", at)
            text = text[:at] + draw(st.sampled_from(_TOKENS)) + (text[end:] if end >= 0 else "")
        elif kind == "dup-line":
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at) + 1 or len(text)
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:at]
    return file.name, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation())
def test_fuzzed_examples_validate_or_fail_cleanly(tmp_path_factory, case):
    name, text = case
    inv = tmp_path_factory.mktemp("fuzz") / "lab"
    shutil.copytree(EXAMPLES / "lab", inv)
    (inv / name).write_bytes(text.encode("utf-8", errors="surrogateescape").replace("\xe9".encode(), b"\xe9"))
    try:
        load_inventory(inv)
    except InventoryError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.pos is not None and p.pos.file.startswith("lab/") and p.pos.line >= 1 and p.pos.column >= 1, str(p)
            assert p.message and "Traceback" not in p.message
