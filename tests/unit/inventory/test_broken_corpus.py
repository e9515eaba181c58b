"""Each file of broken/ has exactly one defect, marked on its line by `# <- expect: FIELD | TEXT`.

The validator must report exactly one problem, on that line, for that field, containing TEXT.
(`make_broken.py` derives the corpus from valid/minimal.yaml.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provdc.errors import InventoryError
from provdc.inventory import load_inventory

HERE = Path(__file__).parent
CASES = sorted((HERE / "broken").glob("*.yaml"))
EXPECT = re.compile(r"#\s*<- expect:\s*(?P<field>[^|]*?)\s*\|\s*(?P<text>.+?)\s*$")


def expectation(path: Path) -> tuple[int, str, str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = EXPECT.search(line)
        if m:
            return number, m.group("field"), m.group("text")
    raise AssertionError(f"{path.name} has no '# <- expect:' marker")


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_broken_inventory_reports_exact_line_and_field(path: Path):
    line, field, text = expectation(path)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    problems = caught.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert problem.pos is not None and problem.pos.file.endswith(path.name)
    assert problem.pos.line == line, str(problem)
    assert problem.field == field, str(problem)
    assert text in problem.message, str(problem)


def test_minimal_is_valid():
    inv = load_inventory(HERE / "valid" / "minimal.yaml")
    assert set(inv.servers) == {"web1", "db1"}
    assert inv.server_level("db1") == 3
