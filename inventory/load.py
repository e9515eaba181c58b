"""Read an inventory: files, merge, defaults; then map schema errors to defects.

Values come from one parser, yaml_rs (Rust, about 6x faster than PyYAML's C loader), with
YAML 1.2 core semantics. Positions come from `scan.py`, one pass over libyaml's event stream of
only the files that hold a defect. So a valid inventory never pays for positions, an invalid
one pays about one extra parse of the files concerned, and what is validated is always what is
located. Without yaml_rs (it is a dependency) `source.py`'s loader, with the same scalar
rules, gives the values.

Nothing stops at the first problem: a file that cannot be read or parsed is reported and the
rest is still validated (references into the broken file are not judged: they would be noise);
objects that fail the schema are set aside and the cross-object rules run on the others.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from provdc.errors import InventoryError
from provdc.inventory import model
from provdc.inventory.scan import alias_problem, scan
from provdc.inventory.source import BROKEN, Pos, Problem, decode, load_yaml_text

try:
    import yaml_rs
except ImportError:  # pragma: no cover - a dependency; without it source.py's loader reads
    yaml_rs = None

YAML_SUFFIXES = (".yaml", ".yml")
# Lists under these keys in `defaults:` are added to the object's own list instead of being
# replaced by it: every server gets the default services (ssh, node_exporter) plus its own.
ADDITIVE_KEYS = frozenset({"services", "tags"})
_DEFAULTS_FOR = {"servers": "server", "systems": "system", "links": "link", "agencies": "agency", "devices": "device"}
MAX_FILE_BYTES = 512 * 1024 * 1024   # a bigger file is refused before it is read


@dataclass(frozen=True, slots=True)
class Defect:
    """A defect known by its path in the merged document; `locate` gives it a position."""

    loc: tuple[Any, ...]
    message: str
    at_key: bool = False                    # point at the key (unknown keys) rather than the value
    first: tuple[Any, ...] | None = None    # for duplicates: where the first occurrence is
    reference: bool = False                 # a reference to another object (not judged if a file is broken)


@dataclass(frozen=True, slots=True)
class FileDefect:
    """A defect known by its path inside one file (index into Source.files)."""

    file: int
    loc: tuple[Any, ...]
    field: str
    message: str                            # may contain {first}: the position of `first`
    at_key: bool = False
    first: tuple[int, tuple[Any, ...]] | None = None


@dataclass
class InventoryFile:
    path: Path
    name: str                               # as messages show it
    text: str | None = None                 # None: unreadable or undecodable
    data: Any = None
    broken: bool = False                    # could not be read or parsed: its objects are unknown


@dataclass
class Source:
    """The merged, defaults-resolved raw document, where each object came from, and the
    problems met while reading."""

    raw: dict
    files: list[InventoryFile]
    problems: list[Problem] = field(default_factory=list)
    file_defects: list[FileDefect] = field(default_factory=list)
    origins: dict[str, list[tuple[int, int]]] = field(default_factory=dict)   # section -> (file, index)
    section_file: dict[str, int] = field(default_factory=dict)                # single sections

    @property
    def broken(self) -> bool:
        return any(f.broken for f in self.files)


# ------------------------------------------------------------------------------ finding files

def inventory_files(path: Path) -> list[Path]:
    """The YAML files making up the inventory at `path`; raises if any entry cannot be read."""
    files, problems = find_files(path)
    if problems:
        raise InventoryError(problems)
    return files


def find_files(path: Path) -> tuple[list[Path], list[Problem]]:
    """The YAML files at `path` (a file, or a directory walked recursively, following links),
    and every entry that could not be looked at: a dangling link, a link loop, a directory that
    cannot be listed, a YAML file that is not a regular file. None is skipped silently."""
    if path.is_file():
        return [path], []
    if not path.is_dir():
        return [], [Problem(Pos(str(path), 1, 1) if path.is_symlink() else None, "",
                            f"{path}: " + _why_missing(path))]
    files: list[Path] = []
    problems: list[Problem] = []
    _walk(path, path, files, problems, set())
    if not files and not problems:
        problems.append(Problem(None, "", f"{path}: no .yaml or .yml files found"))
    return sorted(files), problems


def _why_missing(path: Path) -> str:
    if path.is_symlink():
        try:
            path.stat()
        except OSError as exc:
            return "symbolic link loop" if exc.errno == 40 else "dangling symbolic link"
    return "no such file or directory"


def _walk(directory: Path, base: Path, files: list[Path], problems: list[Problem], visited: set) -> None:
    try:
        st = directory.stat()
        if (st.st_dev, st.st_ino) in visited:
            problems.append(Problem(Pos(display_name(directory, base), 1, 1), "",
                                    "symbolic link loop: this directory is already part of the inventory"))
            return
        visited.add((st.st_dev, st.st_ino))
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        problems.append(Problem(Pos(display_name(directory, base), 1, 1), "", f"cannot list directory: {exc.strerror}"))
        return
    for entry in entries:
        p = Path(entry.path)
        try:
            mode = os.stat(p).st_mode
        except OSError as exc:
            if p.suffix in YAML_SUFFIXES or entry.is_symlink():
                what = "symbolic link loop" if exc.errno == 40 else "dangling symbolic link" if entry.is_symlink() else exc.strerror
                problems.append(Problem(Pos(display_name(p, base), 1, 1), "", f"cannot read: {what}"))
            continue
        if stat.S_ISDIR(mode):
            if not entry.name.startswith("."):
                _walk(p, base, files, problems, visited)
        elif p.suffix in YAML_SUFFIXES:
            if stat.S_ISREG(mode):
                files.append(p)
            else:
                problems.append(Problem(Pos(display_name(p, base), 1, 1), "", "cannot read: not a regular file"))


def display_name(file: Path, base: Path) -> str:
    """How a file is named in messages: relative to the inventory's parent directory."""
    try:
        return str(file.relative_to(base.parent))
    except ValueError:
        return str(file)


# ------------------------------------------------------------------------------------ reading

def read_file(path: Path, name: str, problems: list[Problem]) -> InventoryFile:
    """Read and parse one file; every problem goes to `problems`, nothing raises."""
    f = InventoryFile(path, name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem(Pos(name, 1, 1), "", f"file too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})"))
            f.broken = True
            return f
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(Pos(name, 1, 1), "", f"cannot read: {exc.strerror}"))
        f.broken = True
        return f
    text = decode(data, name)
    if isinstance(text, Problem):
        problems.append(text)
        f.broken = True
        return f
    f.text = text
    bomb = alias_problem(text, name)
    if bomb is not None:
        problems.append(bomb)
        f.broken = True
        return f
    f.data = _parse(text, name, problems)
    f.broken = f.data is BROKEN
    if f.broken:
        f.data = None
    elif f.data is not None and "<<" in text:
        f.data = _resolve_merge_keys(f.data)
    return f


_YAML_RS_POS = re.compile(r"line (\d+), column (\d+)")


def _parse(text: str, name: str, problems: list[Problem]) -> Any:
    if yaml_rs is None:
        return load_yaml_text(text, name, problems)
    try:
        return yaml_rs.loads(text, parse_datetime=False)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - yaml_rs raises YAMLDecodeError, or a PanicException
        rs_error = exc
    # yaml_rs refused the file: the event scan says where and why, and finds every duplicate key.
    diagnosis = scan(text, name, duplicates=True)
    problems.extend(diagnosis.problems)
    if diagnosis.problems and all("duplicate key" in p.message for p in diagnosis.problems):
        try:  # the duplicates are reported; read the rest so its defects are reported too
            return yaml_rs.loads(text, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.FirstWins)
        except BaseException:  # noqa: BLE001
            return BROKEN
    if not diagnosis.problems:
        m = _YAML_RS_POS.search(str(rs_error))
        pos = Pos(name, int(m.group(1)), int(m.group(2))) if m else Pos(name, 1, 1)
        problems.append(Problem(pos, "", f"YAML error: {(str(rs_error).splitlines() or [type(rs_error).__name__])[-1].strip()}"))
    return BROKEN


def read_source(path: Path, files: list[Path]) -> Source:
    """Read every file, merge them and resolve defaults; problems are collected, never raised."""
    problems: list[Problem] = []
    docs = [read_file(f, display_name(f, path), problems) for f in files]
    source = Source({}, docs, problems)
    for i, f in enumerate(docs):
        if f.data is not None and not isinstance(f.data, dict):
            source.file_defects.append(FileDefect(i, (), "", "an inventory file must be a mapping of sections"))
            f.broken = True  # whatever it was meant to declare is unknown
    merge_documents(source)
    apply_defaults(source.raw)
    return source


def _resolve_merge_keys(node: Any) -> Any:
    """Apply YAML merge keys (`<<: *anchor`) as PyYAML does: the mapping's own keys win, and
    of several merged mappings the first listed wins. yaml_rs leaves `<<` as a plain key."""
    if isinstance(node, list):
        return [_resolve_merge_keys(x) for x in node]
    if not isinstance(node, dict):
        return node
    own = {k: _resolve_merge_keys(v) for k, v in node.items() if k != "<<"}
    if "<<" not in node:
        return own
    sources = node["<<"] if isinstance(node["<<"], list) else [node["<<"]]
    merged: dict = {}
    for src in reversed(sources):
        if isinstance(src, dict):
            merged.update(_resolve_merge_keys(src))
    merged.update(own)
    return merged


# ---------------------------------------------------------------------- merging and defaults

def merge_documents(source: Source) -> None:
    """Concatenate list sections of several files (remembering where each item came from);
    a single section may appear in one file only."""
    merged: dict = {}
    for fi, f in enumerate(source.files):
        if not isinstance(f.data, dict):
            continue  # empty, broken, or not a mapping (reported by read_source)
        for key, value in f.data.items():
            if key in model.LIST_SECTIONS and isinstance(value, list):
                merged.setdefault(key, []).extend(value)
                source.origins.setdefault(key, []).extend((fi, j) for j in range(len(value)))
            elif key in merged:
                first = source.section_file[key]
                source.file_defects.append(FileDefect(fi, (key,), str(key), "section already defined at {first}",
                                                      at_key=True, first=(first, (key,))))
            else:
                merged[key] = value
                source.section_file[key] = fi
    source.raw = merged


def _overlay(base: dict, over: dict) -> dict:
    """`over` on top of `base`; nested mappings merge one level deep, ADDITIVE_KEYS concatenate."""
    out = dict(base)
    for key, value in over.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            value = _overlay(current, value)
        elif key in ADDITIVE_KEYS and isinstance(value, list) and isinstance(current, list):
            value = current + value
        out[key] = value
    return out


def apply_defaults(doc: dict) -> dict:
    """Resolve `defaults:` into each object once, so the rest of provdc never looks them up."""
    defaults = doc.get("defaults")
    if not isinstance(defaults, dict):
        return doc
    for section, kind in _DEFAULTS_FOR.items():
        base, items = defaults.get(kind), doc.get(section)
        if not isinstance(base, dict) or not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                items[i] = _overlay(base, item)
    return doc


# ------------------------------------------------------------------------------- validating

def validate_raw(source: Source) -> tuple[model.Document | None, list[Defect]]:
    """Schema, then cross-object rules, reporting every defect: objects that fail the schema
    are set aside (their ids still count as declared) so the rules still judge the rest."""
    from provdc.inventory.validate import check_document

    doc, defects, kept, declared = _validate_sections(source.raw)
    # a misspelled or malformed section: what it holds is unknown, like a broken file's objects
    whole_sections_unknown = any(len(d.loc) == 1 and d.message != "required field is missing" for d in defects)
    if doc is not None:
        defects += [_renumber(d, kept) for d in check_document(doc, declared)]
    if source.broken or whole_sections_unknown:
        # References to objects nobody can see cannot be judged (nor, for a broken file, the
        # sections it may hold): the file's syntax error, or the section, is reported instead,
        # and every other defect found is reported too.
        defects = [d for d in defects if not d.reference
                   and not (source.broken and len(d.loc) == 1 and d.message == "required field is missing")]
    return doc, defects


_SECTION_ADAPTERS = {name: TypeAdapter(f.annotation) for name, f in model.Document.model_fields.items()}


def _validate_sections(raw: dict) -> tuple[model.Document | None, list[Defect], dict, dict]:
    """Each section of the document validated on its own, so that a defect costs a second
    validation of the objects of its own section only (not of the whole inventory): the
    survivors of a failing section are validated again without the objects that failed."""
    values: dict[str, Any] = {}
    defects: list[Defect] = []
    kept: dict[str, list[int]] = {}
    declared: dict[str, set[str]] = {}
    judgeable = True
    for key in raw:
        if key not in model.Document.model_fields:
            defects.append(Defect((key,), _unknown_key_message((key,)), at_key=True))
    for name, f in model.Document.model_fields.items():
        if name not in raw:
            if f.is_required():
                defects.append(Defect((name,), "required field is missing"))
                judgeable = False
            else:
                values[name] = f.get_default(call_default_factory=True)
            continue
        try:
            values[name] = _SECTION_ADAPTERS[name].validate_python(raw[name])
            continue
        except ValidationError as exc:
            section_defects = schema_defects(exc, raw[name], prefix=(name,))
        defects += section_defects
        survivors = _survivors(name, raw[name], section_defects, kept, declared)
        try:
            values[name] = _SECTION_ADAPTERS[name].validate_python(survivors) if survivors is not None else None
        except ValidationError:
            values[name] = None
        if values[name] is None and (f.is_required() or name == "version"):
            judgeable = False  # no province (or another format version): nothing else can be judged
        elif values[name] is None:
            values[name] = f.get_default(call_default_factory=True)
    return (model.Document.model_construct(**values) if judgeable else None), defects, kept, declared


def _survivors(name: str, value: Any, defects: list[Defect], kept: dict, declared: dict) -> Any:
    """The section without the objects its defects are in; None if the section itself is bad."""
    bad: set[int] = set()
    for d in defects:
        loc = d.loc[1:]
        if name == "province" and len(loc) >= 2 and loc[0] == "units" and isinstance(loc[1], int):
            bad.add(loc[1])
        elif name in model.LIST_SECTIONS and loc and isinstance(loc[0], int):
            bad.add(loc[0])
        else:
            return None
    items = value.get("units", []) if name == "province" else value
    if not isinstance(items, list):
        return None
    key = "units" if name == "province" else name
    kept[key] = [i for i in range(len(items)) if i not in bad]
    declared[key] = {items[i]["id"] for i in bad if isinstance(items[i], dict) and isinstance(items[i].get("id"), str)}
    survivors = [items[i] for i in kept[key]]
    return {**value, "units": survivors} if name == "province" else survivors


def _renumber(d: Defect, kept: dict[str, list[int]]) -> Defect:
    """A cross-object defect's path in the pruned document -> its path in the merged one."""
    def back(loc: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if loc is None:
            return None
        if len(loc) >= 2 and loc[0] in kept and isinstance(loc[1], int):
            return (loc[0], kept[loc[0]][loc[1]], *loc[2:])
        if len(loc) >= 3 and loc[:2] == ("province", "units") and "units" in kept:
            return ("province", "units", kept["units"][loc[2]], *loc[3:])
        return loc
    if not kept:
        return d
    return Defect(back(d.loc), d.message, d.at_key, back(d.first), d.reference)


# ------------------------------------------------------------------ schema errors -> defects

def schema_defects(exc: ValidationError, raw: Any = None, prefix: tuple[Any, ...] = ()) -> list[Defect]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + _data_path(raw, tuple(err["loc"]))
        out.append(Defect(loc, _message(err, loc), at_key=err["type"] == "extra_forbidden"))
    return out


def _data_path(root: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic adds type tags such as 'function-after[...]' to some locations: they are not
    fields. A part is dropped only if it is such a tag *and* not a key of the data, so a user's
    key with brackets (`"web[1]"`) is kept as it is."""
    out, node = [], root
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(part, str) and "[" in part:
            continue
        else:
            out.append(part)
            node = None
    return tuple(out)


def _message(err: dict[str, Any], loc: tuple[Any, ...]) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return "required field is missing"
    if kind in ("int_type", "bool_type", "float_type") and isinstance(err.get("input"), str):
        return f"{msg}, not a quoted string (write it without quotes)"
    return msg.removeprefix("Value error, ")


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    owner = _model_at(loc)
    known = [name for f_name, f in (owner.model_fields.items() if owner else ())
             for name in (f_name, f.alias) if name]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return "unknown key" + (f" (did you mean '{close[0]}'?)" if close else "")


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of `loc`, for 'did you mean' hints."""
    current: Any = model.Document
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field_ = current.model_fields.get(part) if _is_model(current) else None
        if field_ is None:
            return None
        current = _unwrap(field_.annotation)
    return current if _is_model(current) else None


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _unwrap(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _unwrap(arg)
        if _is_model(found):
            return found
    if getattr(annotation, "__metadata__", None) is not None:
        return _unwrap(annotation.__origin__)
    return annotation


# ------------------------------------------------------------------------ defects -> problems

_PLAIN_KEY = re.compile(r"^[\w-]+$")


def field_path(root: Any, loc: tuple[Any, ...]) -> str:
    """Human field path: list items are named by their id where they have one; a key that is
    not a plain word (`web[1]`, `a:b`, `x.y`) is written quoted, `["web[1]"]`, never mangled."""
    out, node = "", root
    for part in loc:
        if isinstance(part, int) and (isinstance(node, list) or node is None):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident}]" if isinstance(ident, str) and ident and _PLAIN_KEY.match(ident) else f"[{part}]"
            node = item
        elif node is not None and not isinstance(node, (dict, list)):
            break  # below a scalar: a shorthand the model expanded (capacity: 10Mbps), not a user field
        else:
            key = str(part)
            if _PLAIN_KEY.match(key):
                out += f".{key}" if out else key
            else:
                out += "[" + json.dumps(key, ensure_ascii=False) + "]"
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _origin(source: Source, loc: tuple[Any, ...]) -> tuple[int, tuple[Any, ...]]:
    """Which file a merged-document path comes from, and its path inside that file. A value
    `defaults:` supplied is located in `defaults:`, where it is written."""
    if not loc:
        return 0, loc
    section = loc[0]
    if section in source.origins and len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(source.origins[section]):
        fi, j = source.origins[section][loc[1]]
        local = (section, j, *loc[2:])
        from_defaults = _from_defaults(source, section, source.files[fi].data[section][j], loc[2:])
        return from_defaults or (fi, local)
    return source.section_file.get(section, 0), loc


def _from_defaults(source: Source, section: str, item: Any, rest: tuple[Any, ...]) -> tuple[int, tuple] | None:
    kind = _DEFAULTS_FOR.get(section)
    defaults = source.raw.get("defaults")
    base = defaults.get(kind) if isinstance(defaults, dict) and kind else None
    if not isinstance(base, dict) or not rest or rest[0] not in base or not isinstance(item, dict):
        return None
    key, where = rest[0], source.section_file["defaults"]
    if key in ADDITIVE_KEYS and isinstance(base[key], list) and len(rest) > 1 and isinstance(rest[1], int):
        n = len(base[key])
        if rest[1] < n:
            return where, ("defaults", kind, *rest)
        return None if key not in item else (-1, (rest[1] - n,))  # shifted: see _local
    own = item.get(key)
    if key not in item:
        return where, ("defaults", kind, *rest)
    if isinstance(own, dict) and isinstance(base[key], dict) and len(rest) > 1 and rest[1] not in own and rest[1] in base[key]:
        return where, ("defaults", kind, *rest)
    return None


def locate_all(source: Source, defects: list[Defect]) -> list[Problem]:
    """Every defect as a located problem; each file concerned is scanned once."""
    wanted: dict[int, list[tuple]] = {}
    placed = []
    for d in defects:
        where = _place(source, d.loc)
        first = _place(source, d.first) if d.first is not None else None
        placed.append((d, where, first))
        for w in (where, first):
            if w is not None:
                wanted.setdefault(w[0], []).append(w[1])
    for fd in source.file_defects:
        wanted.setdefault(fd.file, []).append(fd.loc)
        if fd.first:
            wanted.setdefault(fd.first[0], []).append(fd.first[1])
    scans = {fi: scan(source.files[fi].text or "", source.files[fi].name, locs) for fi, locs in wanted.items()
             if fi < len(source.files)}

    def pos(where: tuple[int, tuple] | None, key: bool = False) -> Pos | None:
        if where is None or where[0] not in scans:
            return Pos(source.files[0].name, 1, 1) if source.files else None
        found = scans[where[0]].position(where[1], key=key)
        return found or Pos(source.files[where[0]].name, 1, 1)

    out = []
    for d, where, first in placed:
        message = d.message
        if first is not None:
            fp = pos(first)
            same_file = where is not None and first[0] == where[0]
            message += f" (first at line {fp.line})" if same_file else f" (first at {fp})"
        out.append(Problem(pos(where, d.at_key), field_path(source.raw, d.loc), message))
    for fd in source.file_defects:
        message = fd.message.format(first=pos(fd.first, fd.at_key)) if fd.first else fd.message
        out.append(Problem(pos((fd.file, fd.loc), fd.at_key), fd.field, message))
    return out


def _place(source: Source, loc: tuple[Any, ...]) -> tuple[int, tuple]:
    fi, local = _origin(source, loc)
    if fi == -1:  # an object's own item of an additive list, after the defaults' items
        ofi, j = source.origins[loc[0]][loc[1]]
        return ofi, (loc[0], j, loc[2], local[0], *loc[4:])
    return fi, local


def dedupe(problems: list[Problem]) -> list[Problem]:
    """One line per defect: a bad default would otherwise be reported once per object."""
    seen, out = set(), []
    for p in problems:
        key = (p.pos, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def sort_key(p: Problem) -> tuple[str, int, int]:
    return (p.pos.file, p.pos.line, p.pos.column) if p.pos else ("", 0, 0)


def locate_in(inv, loc: tuple[Any, ...], message: str) -> Problem:
    """A defect that a later part finds in a loaded inventory (a template file that is not
    there), located like validation's own: file:line:column: field."""
    root = inv.base if len(inv.files) != 1 else inv.files[0]
    source = read_source(root, list(inv.files))
    return locate_all(source, [Defect(loc, message)])[0]
