"""`provdc inventory import`: a draft inventory from what a province already keeps.

Sources: CSV files and XLSX workbooks (one file or sheet per kind of object, see tabular.py),
an Ansible inventory (anything `ansible-inventory --list` reads, or its JSON output), and
provdc's own JSON export. Every object keeps its provenance (file, sheet, row) and the draft
directory says it in a comment above each object. Cells and rows that cannot be imported are
listed with sheet, row and column; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from provdc.errors import ProvdcError
from provdc.inventory import model, tabular
from provdc.inventory.source import resolve_plain
from provdc.inventory.tabular import Rejected
from provdc.yamlread import SafeDumper

FORMATS = ("csv", "xlsx", "ansible", "json")


class ImportError_(ProvdcError):
    """A source cannot be read at all (missing tool, unreadable file)."""


@dataclass
class Draft:
    """What an import produced: sections of (object, provenance) and what was left out."""

    singles: dict[str, tuple[Any, str]] = field(default_factory=dict)       # province, lab, version
    lists: dict[str, list[tuple[dict, str]]] = field(default_factory=dict)  # servers, ...
    rejected: list[Rejected] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, section: str, item: dict, where: str) -> None:
        self.lists.setdefault(section, []).append((item, where))


# ------------------------------------------------------------------------------- tables

@dataclass
class Table:
    name: str                  # the sheet (or CSV file stem)
    label: str                 # how provenance names it: file, or file:sheet
    rows: list[list[Any]]      # the first non-empty row is the header


def read_csv(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportError_(f"{path}: cannot read as UTF-8 CSV ({exc})") from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return Table(path.stem, path.name, [row for row in csv.reader(io.StringIO(text), dialect)])


def read_xlsx(path: Path) -> list[Table]:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise ImportError_(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        return [Table(ws.title, f"{path.name}:{ws.title}", [list(r) for r in ws.iter_rows(values_only=True)])
                for ws in wb.worksheets]
    finally:
        wb.close()


IGNORED_SHEETS = frozenset({"help", "hướng dẫn", "huong_dan", "readme"})


def tables_to_draft(tables: list[Table], draft: Draft) -> None:
    children: list[tuple[tabular.Sheet, dict, str, int, str]] = []
    for t in tables:
        sheet = tabular.SHEET_BY_NAME.get(t.name.strip().lower())
        if sheet is None:
            if t.name.strip().lower() not in IGNORED_SHEETS:
                draft.rejected.append(Rejected(t.label, 1, "", "unknown sheet: expected one of "
                                               + ", ".join(s.name for s in tabular.SHEETS)))
            continue
        for obj, row, where in _objects(t, sheet, draft):
            if sheet.key_value:
                if obj:  # an empty `lab` sheet: the province has no lab twin
                    draft.singles[sheet.name] = (obj, where)
            elif sheet.parent or sheet.name == "units":
                children.append((sheet, obj, where, row, t.label))
            elif "id" in sheet.cls.model_fields and "id" not in obj:
                draft.rejected.append(Rejected(t.label, row, "id", "no id: row not imported"))
            else:
                draft.add(sheet.name, obj, where)
    _attach_children(children, draft)


def _objects(t: Table, sheet: tabular.Sheet, draft: Draft):
    """(object, row number, provenance) for each non-empty row of a table."""
    rows = [(n, r) for n, r in enumerate(t.rows, start=1) if r and not all(tabular.is_blank(c) for c in r)]
    if not rows:
        return
    by_header = tabular.header_map(sheet)
    head_n, head = rows[0]
    if sheet.key_value:
        yield _key_value(t, sheet, rows[1:], by_header, draft), rows[0][0], f"{t.label}"
        return
    cols: list[tabular.Column | None] = []
    for i, h in enumerate(head):
        col = by_header.get(tabular._norm(h)) if not tabular.is_blank(h) else None
        if col is None and not tabular.is_blank(h):
            draft.rejected.append(Rejected(t.label, head_n, tabular.letter(i), f"unknown column {str(h)!r}: its cells are not imported"))
        cols.append(col)
    for n, r in rows[1:]:
        obj: dict = {}
        for i, cell in enumerate(r):
            col = cols[i] if i < len(cols) else None
            if tabular.is_blank(cell):
                continue
            if col is None:
                if i >= len(cols):
                    draft.rejected.append(Rejected(t.label, n, tabular.letter(i), "a value under no header"))
                continue
            try:
                tabular.set_path(obj, col.key, tabular.convert(cell, col.kind))
            except ValueError as exc:
                draft.rejected.append(Rejected(t.label, n, f"{tabular.letter(i)} ({col.key})", str(exc)))
        if obj:
            yield obj, n, f"{t.label} row {n}"


def _key_value(t: Table, sheet: tabular.Sheet, rows, by_header, draft: Draft) -> dict:
    obj: dict = {}
    for n, r in rows:
        name, value = (list(r) + [None, None])[:2]
        col = by_header.get(tabular._norm(name)) if not tabular.is_blank(name) else None
        if col is None:
            draft.rejected.append(Rejected(t.label, n, "A", f"unknown field {name!r}"))
            continue
        if tabular.is_blank(value):
            continue
        try:
            tabular.set_path(obj, col.key, tabular.convert(value, col.kind))
        except ValueError as exc:
            draft.rejected.append(Rejected(t.label, n, f"B ({col.key})", str(exc)))
    return obj


def _attach_children(children, draft: Draft) -> None:
    servers = {item.get("id"): item for item, _ in draft.lists.get("servers", [])}
    for sheet, obj, where, row, label in children:
        if sheet.name == "units":
            if "province" not in draft.singles:
                draft.rejected.append(Rejected(label, row, "", "a unit, but no province sheet"))
                continue
            draft.singles["province"][0].setdefault("units", []).append(obj)
            continue
        owner = obj.pop(sheet.parent, None)
        if owner not in servers:
            draft.rejected.append(Rejected(label, row, sheet.parent, f"unknown server {owner!r}: service not imported"))
            continue
        servers[owner].setdefault("services", []).append(obj)


# ------------------------------------------------------------------------ provdc's JSON export

def json_to_draft(path: Path, draft: Draft) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ImportError_(f"{path}: not a provdc JSON export ({exc})") from None
    if not isinstance(data, dict) or "province" not in data:
        raise ImportError_(f"{path}: not a provdc JSON export (no `province`)")
    # The export has defaults already resolved into every object: importing `defaults` again
    # would add the default services twice.
    for key, value in data.items():
        if key in model.LIST_SECTIONS:
            for i, item in enumerate(value or []):
                draft.add(key, item, f"{path.name} {key}[{i}]")
        elif key != "defaults" and value is not None:
            draft.singles[key] = (value, f"{path.name} {key}")


# ------------------------------------------------------------------------------- Ansible

def ansible_list(source: Path) -> dict:
    """The `ansible-inventory --list` JSON of `source` (INI, YAML, a directory, or that JSON)."""
    try:
        text = source.read_text(encoding="utf-8-sig") if source.is_file() else ""
        data = json.loads(text) if text.lstrip().startswith("{") else None
        if isinstance(data, dict) and "_meta" in data:
            return data
    except (OSError, ValueError):
        pass
    tool = shutil.which("ansible-inventory") or str(Path(os.sys.executable).parent / "ansible-inventory")
    run = subprocess.run([tool, "-i", str(source), "--list"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "1"})
    if run.returncode != 0:
        raise ImportError_(f"{source}: ansible-inventory could not read it: "
                           + (run.stderr.strip().splitlines() or ["no output"])[-1])
    return json.loads(run.stdout)


_SAFE_ID = re.compile(r"[^a-z0-9-]+")


def ansible_to_draft(source: Path, draft: Draft) -> None:
    listing = ansible_list(source)
    hostvars = listing.get("_meta", {}).get("hostvars", {})
    groups_of: dict[str, list[str]] = {}
    for group, body in listing.items():
        if group.startswith("_") or not isinstance(body, dict):
            continue
        for host in body.get("hosts", []):
            groups_of.setdefault(host, []).append(group)
    for host in sorted(set(hostvars) | set(groups_of)):
        v = hostvars.get(host, {})
        where = f"{source.name} host {host}"
        address = v.get("ansible_host", host)
        try:
            ipaddress.IPv4Address(str(address))
        except ValueError:
            draft.rejected.append(Rejected(source.name, 0, f"{host}.ansible_host",
                                           f"{address!r} is not an IPv4 address: host not imported"))
            continue
        section, obj = _ansible_host(host, v, groups_of.get(host, []))
        draft.add(section, obj, where)


def _ansible_host(host: str, v: dict, groups: list[str]) -> tuple[str, dict]:
    ssh: dict[str, Any] = {}
    if "ansible_user" in v:
        ssh["user"] = v["ansible_user"]
    if "ansible_port" in v:
        ssh["port"] = int(v["ansible_port"])
    if v.get("ansible_ssh_private_key_file"):
        ssh["key"] = f"file:{v['ansible_ssh_private_key_file']}"
    ident = v.get("provdc_id") or _SAFE_ID.sub("-", host.lower()).strip("-")[:63]
    if "snmp_agents" in groups or "provdc_kind" in v:  # provdc's own export: a Linux device
        obj = {"id": ident, "kind": v.get("provdc_kind", "router"), "site": v.get("provdc_site"),
               "zone": v.get("provdc_zone"), "address": str(v.get("ansible_host", host)), "os": v.get("provdc_os")}
        if v.get("provdc_device_role"):
            obj["role"] = v["provdc_device_role"]
        if ssh:
            obj["ssh"] = ssh
        snmp = v.get("provdc_snmp") or {}
        if snmp:
            obj["snmp"] = {"version": snmp.get("version", "2c"), "port": snmp.get("port", 161)}
            if snmp.get("community_ref"):
                obj["snmp"]["community"] = snmp["community_ref"]
        return "devices", {k: val for k, val in obj.items() if val is not None}
    role = v.get("provdc_role") or next((g.removeprefix("role_") for g in groups if g.startswith("role_")), None) \
        or next((g for g in groups if g not in ("all", "ungrouped", "servers")), "server")
    obj = {"id": ident, "hostname": v.get("provdc_hostname", host), "address": str(v.get("ansible_host", host)),
           "zone": v.get("provdc_zone"), "role": _SAFE_ID.sub("-", str(role).lower()).strip("-") or "server",
           "os": v.get("provdc_os"), "owner": v.get("provdc_owner")}
    if ssh:
        obj["ssh"] = ssh
    services = [_ansible_service(s) for s in v.get("provdc_services", []) if isinstance(s, dict)]
    if services:
        obj["services"] = services
    return "servers", {k: val for k, val in obj.items() if val is not None}


def _ansible_service(s: dict) -> dict:
    """provdc's export lists a service's sources as CIDRs; only 'anywhere' maps back to an
    exposure (internet). Others are left to the default (internal) for review."""
    out = {k: s[k] for k in ("name", "port", "proto", "kind", "tls") if k in s}
    if "0.0.0.0/0" in (s.get("sources") or []):
        out["from"] = ["internet"]
    return out


# ------------------------------------------------------------------------------- reading

def read_sources(fmt: str, sources: list[Path]) -> Draft:
    draft = Draft(sources=[str(s) for s in sources])
    if fmt == "csv":
        tables_to_draft([read_csv(p) for src in sources for p in _files(src, ".csv")], draft)
    elif fmt == "xlsx":
        tables_to_draft([t for src in sources for t in read_xlsx(src)], draft)
    elif fmt == "json":
        for src in sources:
            json_to_draft(src, draft)
    elif fmt == "ansible":
        for src in sources:
            ansible_to_draft(src, draft)
    else:
        raise ImportError_(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    return draft


def _files(src: Path, suffix: str) -> list[Path]:
    if src.is_dir():
        return sorted(p for p in src.iterdir() if p.suffix.lower() == suffix)
    return [src]


# -------------------------------------------------------------------------- writing a draft

class _DraftDumper(SafeDumper):
    """Quotes every string whose YAML 1.2 reading would not be that string (`022`, `0o22`,
    `2026-01-01`, `null`), so the draft means exactly what was imported."""


def _represent_str(dumper: SafeDumper, value: str) -> yaml.ScalarNode:
    plain_meaning = resolve_plain(value) if value else None
    style = "'" if value and plain_meaning != value or type(plain_meaning) is not str else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_DraftDumper.add_representer(str, _represent_str)

SECTION_FILES = {"province": "province.yaml", "sites": "sites.yaml", "zones": "network.yaml", "devices": "network.yaml",
                 "links": "network.yaml", "servers": "servers.yaml", "systems": "systems.yaml",
                 "agencies": "agencies.yaml", "maintenance": "operations.yaml", "waivers": "operations.yaml"}


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_DraftDumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)


def render_draft(draft: Draft, command: str) -> dict[str, str]:
    """File name -> text of the draft directory. Each object is preceded by where it came from."""
    files: dict[str, list[str]] = {}
    head = (f"# Draft inventory written by `{command}`.\n"
            f"# Review every value, then run: provdc inventory validate DIR\n")
    prov = files.setdefault("province.yaml", [head, _dump({"version": 1})])
    # every single section (province, alerting, schedule, lab): a section added to the model later is kept too
    for key in (k for k in model.MAP_SECTIONS if k not in ("version", "defaults")):
        if key in draft.singles:
            value, where = draft.singles[key]
            prov.append(f"# from {where}\n" + _dump({key: value}))
    for section in model.LIST_SECTIONS:
        items = draft.lists.get(section)
        if not items:
            continue
        name = SECTION_FILES.get(section, f"{section}.yaml")
        out = files.setdefault(name, [head])
        out.append(f"{section}:\n")
        for item, where in items:
            body = _dump([item])
            out.append(f"  # from {where}\n" + "".join("  " + line + "\n" for line in body.rstrip("\n").split("\n")))
    if draft.rejected:
        files["IMPORT-REJECTED.txt"] = ["Not imported (sheet, row, column: why):\n"] + [f"{r}\n" for r in draft.rejected]
    return {name: "".join(parts) for name, parts in files.items()}


def write_draft(out: Path, texts: dict[str, str]) -> None:
    """Write the draft directory all at once: into a fresh temporary directory, then renamed,
    so a failed import never leaves half a draft. Refuses to overwrite a non-empty directory."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ImportError_(f"{out} exists and is not empty: choose a new --out directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ----------------------------------------------------------------------- workbook writing

def write_workbook(path: Path, rows: dict[str, list[dict[str, Any]]], lang: str = "en") -> None:
    """An XLSX workbook with one sheet per kind of object (the template when `rows` is empty)."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in tabular.SHEETS:
        ws = wb.create_sheet(sheet.vi if lang == "vi" else sheet.name)
        cols = tabular.columns(sheet)
        if sheet.key_value:
            ws.append(list(tabular.KV_HEADERS[lang]))
            values = (rows.get(sheet.name) or [{}])[0]
            for c in cols:
                ws.append([tabular.header(c, lang), _cell(values.get(c.key))])
        else:
            ws.append([tabular.header(c, lang) for c in cols])
            for r in rows.get(sheet.name, []):
                ws.append([_cell(r.get(c.key)) for c in cols])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    _help_sheet(wb, lang)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, bool)) else str(value)


HELP = {
    "en": ("Help", ["sheet", "column", "required", "type", "meaning"],
           "One row per object. Lists: values separated by commas. Yes/no: true/false (or có/không)."),
    "vi": ("Hướng dẫn", ["trang", "cột", "bắt buộc", "kiểu", "ý nghĩa"],
           "Mỗi dòng một đối tượng. Danh sách: các giá trị cách nhau bằng dấu phẩy. Có/không: có/không (hoặc true/false)."),
}
_KIND_VI = {"str": "chữ", "int": "số nguyên", "float": "số", "bool": "có/không", "date": "ngày (YYYY-MM-DD)",
            "datetime": "thời điểm (YYYY-MM-DDTHH:MM+07:00)", "list": "danh sách"}


def _help_sheet(wb: Any, lang: str) -> None:
    title, head, note = HELP[lang]
    ws = wb.create_sheet(title)
    ws.append([note])
    ws.append(head)
    for sheet in tabular.SHEETS:
        for c in tabular.columns(sheet):
            kind = _KIND_VI.get(c.kind, c.kind) if lang == "vi" else c.kind
            required = ("có" if c.required else "") if lang == "vi" else ("yes" if c.required else "")
            ws.append([sheet.vi if lang == "vi" else sheet.name, tabular.header(c, lang), required, kind, c.help])
