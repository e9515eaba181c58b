"""The document model: one content, three renderings (Word, PDF, HTML).

A document is what an officer signs and sends: the national heading and the issuing unit, a
number and a dated place line, a title, sections of paragraphs, tables and figures, the
recipients and the signature block. The builders in `paperwork.py` fill it from the results
model, the inventory and the catalogue; this module only lays it out:

* .docx with python-docx on the shipped template (`templates/document.docx`: A4, Times New
  Roman 13, the margins of Decree 30/2020) or on the province's own (`paperwork.template`);
* PDF by LibreOffice from that very .docx (what is printed is what is signed);
* HTML through jinja2, every string escaped, figures as embedded PNG.

A document also carries `figures`: every number it prints, by name, as printed, so a test can
compare each one with the results model's.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path


from provdc.errors import InventoryError, ProvdcError
from provdc.proc import run_command
from provdc.yamlread import load_yaml

CATALOGS = Path(__file__).with_name("catalogs")
TEMPLATES = Path(__file__).with_name("templates")
SHIPPED_TEMPLATE = TEMPLATES / "document.docx"
FORMATS = ("docx", "pdf", "html")


@cache
def texts(lang: str) -> dict[str, str]:
    """The documents' own message catalogue (paperwork-<lang>.yaml)."""
    if lang not in ("vi", "en"):
        raise ValueError(f"unsupported language {lang!r}; choose vi or en")
    return load_yaml((CATALOGS / f"paperwork-{lang}.yaml").read_text(encoding="utf-8"))


def tr(lang: str, key: str, **values: object) -> str:
    text = texts(lang)[key]
    return text.format(**values) if values else text


# ----------------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class Para:
    text: str
    kind: str = "text"          # text | note | flag (what the inventory does not know yet) | bullet


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    name: str = ""              # a stable handle for tests and the console
    widths: tuple[float, ...] = ()   # relative column widths (equal when empty)


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str


Block = Para | Table | Figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 1


@dataclass(frozen=True)
class Signature:
    role: str                   # the localised role: Người lập, Người kiểm tra, Người phê duyệt
    title: str
    name: str


@dataclass(frozen=True)
class Heading:
    authority: str              # cơ quan chủ quản (may be empty)
    unit: str                   # issuing unit
    number: str                 # Số: ...
    place_date: str             # Thí Nghiệm, ngày 02 tháng 12 năm 2026
    motto: tuple[str, str]      # Quốc hiệu, tiêu ngữ


@dataclass
class Document:
    kind: str                   # dossier | yearly | bandwidth | monthly
    lang: str
    stem: str                   # file name without extension
    heading: Heading
    title: str
    subtitle: str
    sections: list[Section]
    recipients: list[str]
    signatures: list[Signature]
    template: Path
    figures: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Table) and b.name == name:
                    return b
        raise KeyError(name)

    def flags(self) -> list[str]:
        return [b.text for s in self.sections for b in s.blocks if isinstance(b, Para) and b.kind == "flag"]


# --------------------------------------------------------------------- heading from the inventory

DOC_CODES = {"dossier": "HSĐX", "yearly": "BC", "monthly": "BC", "bandwidth": "ĐK"}


def document_number(pattern: str, kind: str, year: int) -> str:
    """The number line: the sequence is left blank for the registry clerk (văn thư) to fill
    when the document is issued; provdc never invents one."""
    return pattern.format(seq="……", kind=DOC_CODES[kind], year=year)


def place_date(place: str, day: date, lang: str) -> str:
    if lang == "vi":
        return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    return f"{place}, {day.day} {day:%B} {day.year}"


def template_path(inv) -> Path:
    """The province's Word template, or the shipped one; a template named in the inventory
    that is not there is an inventory problem with its file and line."""
    pw = inv.doc.paperwork
    if pw is None or pw.template is None:
        return SHIPPED_TEMPLATE
    path = Path(pw.template) if Path(pw.template).is_absolute() else inv.base / pw.template
    if not path.is_file():
        from provdc.inventory.load import locate_in

        raise InventoryError([locate_in(inv, ("paperwork", "template"), f"no such file: {path}")])
    return path


def heading(inv, kind: str, lang: str, today: date) -> tuple[Heading, list[str], list[Signature], list[Para]]:
    """Heading, recipients, signatures and the flags of what the inventory lacks for them."""
    return heading_of(inv.doc.paperwork, inv.province.name, kind, lang, today)


def heading_of(pw, province_name: str, kind: str, lang: str, today: date) -> tuple[Heading, list[str], list[Signature], list[Para]]:
    motto = (tr(lang, "motto_state"), tr(lang, "motto_words"))
    flags = []
    if pw is None:
        flags.append(Para(tr(lang, "flag_paperwork"), "flag"))
        head = Heading("", province_name.upper(), document_number("{seq}/{kind}", kind, today.year),
                       place_date(province_name, today, lang), motto)
        return head, [], [Signature(tr(lang, "role_approved"), "", "")], flags
    head = Heading(pw.authority or "", pw.unit, document_number(pw.number, kind, today.year),
                   place_date(pw.place, today, lang), motto)
    signatures = [Signature(tr(lang, f"role_{s.role}"), s.title, s.name or "") for s in pw.signers]
    if not any(s.role == "approved" for s in pw.signers):
        flags.append(Para(tr(lang, "flag_approver"), "flag"))
        signatures.append(Signature(tr(lang, "role_approved"), "", ""))
    if not pw.recipients:
        flags.append(Para(tr(lang, "flag_recipients"), "flag"))
    return head, list(pw.recipients), signatures, flags


# ------------------------------------------------------------------------------------- to Word

def to_docx(doc: Document) -> bytes:
    from docx import Document as Docx

    d = Docx(str(doc.template))
    _clear_body(d)
    _docx_heading(d, doc)
    title = d.add_paragraph(doc.title, style="Title")
    _center(title)
    if doc.subtitle:
        sub = d.add_paragraph()
        sub.add_run(doc.subtitle).italic = True
        _center(sub)
    for section in doc.sections:
        d.add_heading(section.title, level=min(max(section.level, 1), 3))
        for block in section.blocks:
            _docx_block(d, block)
    _docx_signatures(d, doc)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _clear_body(d) -> None:
    """A province's template may hold sample text: keep its styles, header and footer only."""
    body = d.element.body
    for child in list(body):
        if not child.tag.endswith("}sectPr"):
            body.remove(child)


def _center(paragraph) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _cell_lines(cell, lines: list[tuple[str, bool, bool]]) -> None:
    """Lines of (text, bold, italic), centred, in one table cell."""
    cell.text = ""
    first = True
    for text, bold, italic in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        _center(p)


def _docx_heading(d, doc: Document) -> None:
    h = doc.heading
    table = d.add_table(rows=2, cols=2)
    left = [(h.authority, False, False)] if h.authority else []
    _cell_lines(table.cell(0, 0), left + [(h.unit, True, False), ("———", False, False)])
    _cell_lines(table.cell(0, 1), [(h.motto[0], True, False), (h.motto[1], True, False), ("———————", False, False)])
    _cell_lines(table.cell(1, 0), [(h.number, False, False)])
    _cell_lines(table.cell(1, 1), [(h.place_date, False, True)])
    from docx.shared import Mm, Pt

    for row in table.rows:      # the national heading on one line: a wider right column, 12 pt
        for column, width in zip(table.columns, (Mm(68), Mm(100))):
            column.width = width
        for cell, width in zip(row.cells, (Mm(68), Mm(100))):
            cell.width = width
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(12)


def _docx_block(d, block: Block) -> None:
    from docx.shared import Mm, Pt

    if isinstance(block, Para):
        if block.kind == "bullet":
            try:
                d.add_paragraph(block.text, style="List Bullet")
            except KeyError:        # a province's template without the style
                d.add_paragraph(f"• {block.text}")
            return
        p = d.add_paragraph()
        run = p.add_run(block.text)
        if block.kind == "flag":
            run.bold = True
        if block.kind in ("note", "flag"):
            run.italic = True
        return
    if isinstance(block, Figure):
        d.add_picture(io.BytesIO(block.png), width=Mm(160))
        cap = d.add_paragraph()
        cap.add_run(block.caption).italic = True
        _center(cap)
        return
    table = d.add_table(rows=0, cols=len(block.columns))
    table.style = "Table Grid"
    if block.widths:
        # LibreOffice reads the grid, Word the cells: the grid is set here and each row added
        # after it copies the grid's widths into its cells
        total = sum(block.widths)
        table.autofit = False
        for column, w in zip(table.columns, block.widths):
            column.width = Mm(165 * w / total)
    size = Pt(11 if len(block.columns) <= 5 else 10)   # tables of many columns: a smaller size keeps them legible
    _docx_row(table, block.columns, size, bold=True)
    _docx_rows(table, block.rows, size)
    d.add_paragraph()


def _docx_row(table, texts, size, bold: bool = False) -> None:
    """One row, each cell one run of its text: a single pass (python-docx's `row.cells` walks the
    row's XML each time it is read, the cost of a long table)."""
    for cell, text in zip(table.add_row().cells, texts):
        run = cell.paragraphs[0].add_run(text)
        run.font.size = size
        if bold:
            run.bold = True


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _docx_rows(table, rows, size) -> None:
    """The body rows as copies of one row's XML, each with its own texts: python-docx builds a
    cell through its object model, 3 ms a row here, so a year's tables of thousands of rows took
    seconds (40 times faster). A text with a tab or a line break (python-docx writes them as
    elements of their own) or a row of another width takes python-docx's own path."""
    import copy

    from docx.oxml.ns import qn

    columns = len(table.columns)
    _docx_row(table, ("x",) * columns, size)          # the template: one run of text in each cell
    template = table._tbl.tr_lst[-1]
    table._tbl.remove(template)
    for texts in rows:
        if len(texts) != columns or any("\t" in t or "\n" in t or "\r" in t for t in texts):
            _docx_row(table, texts, size)
            continue
        tr = copy.deepcopy(template)
        for t_elem, text in zip(tr.iter(qn("w:t")), texts):
            t_elem.text = text
            if text != text.strip():                  # as python-docx does: kept spaces are marked
                t_elem.set(_XML_SPACE, "preserve")
        table._tbl.append(tr)


def _docx_signatures(d, doc: Document) -> None:
    approved = [s for s in doc.signatures if s.role == tr(doc.lang, "role_approved")]
    others = [s for s in doc.signatures if s not in approved]
    table = d.add_table(rows=1, cols=2)
    left = [(tr(doc.lang, "recipients"), True, True)] + [(f"- {r};", False, False) for r in doc.recipients]
    table.cell(0, 0).text = ""
    for i, (text, bold, italic) in enumerate(left):
        p = table.cell(0, 0).paragraphs[0] if i == 0 else table.cell(0, 0).add_paragraph()
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
    _cell_lines(table.cell(0, 1), _signature_lines(approved[0] if approved else None, doc.lang))
    if others:
        d.add_paragraph()
        row = d.add_table(rows=1, cols=len(others))
        for cell, s in zip(row.rows[0].cells, others):
            _cell_lines(cell, _signature_lines(s, doc.lang))


def _signature_lines(s: Signature | None, lang: str) -> list[tuple[str, bool, bool]]:
    if s is None:
        return [(tr(lang, "role_approved").upper(), True, False), ("", False, False), ("", False, False)]
    return [(s.role.upper(), True, False), (s.title, True, False), (tr(lang, "sign_hint"), False, True),
            ("", False, False), ("", False, False), (s.name or "", True, False)]


# ------------------------------------------------------------------------------------- to HTML

def to_html(doc: Document) -> str:
    from provdc.reports.render import environment

    def block(b: Block) -> dict:
        if isinstance(b, Para):
            return {"type": "para", "text": b.text, "kind": b.kind}
        if isinstance(b, Figure):
            return {"type": "figure", "src": "data:image/png;base64," + base64.b64encode(b.png).decode(), "caption": b.caption}
        return {"type": "table", "columns": b.columns, "rows": b.rows, "name": b.name}

    approved = tr(doc.lang, "role_approved")
    return environment().get_template("document.html.j2").render(
        lang=doc.lang, doc=doc, recipients_label=tr(doc.lang, "recipients"), sign_hint=tr(doc.lang, "sign_hint"),
        sections=[{"title": s.title, "level": s.level, "blocks": [block(b) for b in s.blocks]} for s in doc.sections],
        approved=[s for s in doc.signatures if s.role == approved], others=[s for s in doc.signatures if s.role != approved])


# -------------------------------------------------------------------------------------- to PDF

def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise ProvdcError("PDF needs LibreOffice (Debian package libreoffice-writer): apt-get install libreoffice-writer")


def docx_to_pdf(docx_path: Path, out_dir: Path) -> Path:
    """Convert with headless LibreOffice in a profile of its own (a shared profile is locked
    by any other running instance)."""
    with tempfile.TemporaryDirectory() as profile:
        result = run_command([soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                              "--convert-to", "pdf", "--outdir", str(out_dir), str(docx_path)], timeout=180)
    pdf = out_dir / f"{docx_path.stem}.pdf"
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise ProvdcError(f"LibreOffice could not convert {docx_path.name} to PDF: {result.describe()}")
    return pdf


def write(doc: Document, fmt: str, out: Path) -> list[Path]:
    """Write `doc` as `fmt` under `out` (pdf also keeps the .docx it was converted from)."""
    if fmt not in FORMATS:
        raise ProvdcError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        path = out / f"{doc.stem}.html"
        path.write_text(to_html(doc), encoding="utf-8")
        return [path]
    docx_path = out / f"{doc.stem}.docx"
    docx_path.write_bytes(to_docx(doc))
    if fmt == "docx":
        return [docx_path]
    return [docx_path, docx_to_pdf(docx_path, out)]


def safe_stem(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(str(p) for p in parts)).strip("-")
