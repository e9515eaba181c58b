"""A Word table's body rows are copies of one row's XML (python-docx's object model costs 3 ms a
row): each cell reads as python-docx would have written it, text, size and spaces, and a text
python-docx writes with elements of its own (tab, line break) still comes out whole."""

from __future__ import annotations

from docx import Document as Docx
from docx.shared import Pt

from provdc.reports import documents

ROWS = [("portal", "Cổng dịch vụ công", " 99,95 % ", "", "3"),
        ("qlvb", "tab\there", "two\nlines", "Đạt", "2"),
        ("short", "row")]


def _table(fill):
    d = Docx()
    table = d.add_table(rows=0, cols=5)
    fill(table)
    return table


def _cells(table):
    return [[(c.text, [(r.font.size, r.bold) for p in c.paragraphs for r in p.runs if r.text]) for c in row.cells]
            for row in table.rows]


def test_copied_rows_read_as_python_docx_writes_them():
    size = Pt(10)
    slow = _table(lambda t: [documents._docx_row(t, row, size) for row in ROWS])
    fast = _table(lambda t: documents._docx_rows(t, ROWS, size))
    assert _cells(fast) == _cells(slow)
    assert [c.text for c in fast.rows[0].cells] == list(ROWS[0])
    assert fast.rows[1].cells[2].text == "two\nlines" and fast.rows[1].cells[1].text == "tab\there"
    assert fast.rows[2].cells[1].text == "row" and fast.rows[2].cells[2].text == ""     # a short row, the rest empty
    assert fast.rows[0].cells[0].paragraphs[0].runs[0].font.size == size


def test_a_kept_space_is_marked_and_a_trimmed_text_is_not():
    table = _table(lambda t: documents._docx_rows(t, [(" a ", "b", "", "c ", "d")], Pt(11)))
    space = "{http://www.w3.org/XML/1998/namespace}space"
    marks = [t.get(space) for t in table._tbl.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")]
    assert marks == ["preserve", None, None, "preserve", None]
