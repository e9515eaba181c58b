"""Read an inventory: files, merge, defaults; then map schema errors to defects.

Two ways to read the same files:
- fast (the daily case): yaml_rs, a Rust YAML parser about 6x faster than PyYAML's C loader,
  gives plain dicts and lists with no positions;
- located: PyYAML with `source.py`'s loader, slower, keeping file:line:column of every key.
A defect is first recorded by its path in the document (`Defect`); only when there is one are
the files read again the located way, to turn paths into positions. Valid inventories never pay
for positions, and invalid ones get every defect located.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from provdc.errors import InventoryError
from provdc.inventory import model
from provdc.inventory.source import BROKEN, Pos, Problem, SrcDict, SrcList, load_yaml, position_of

try:
    import yaml_rs
except ImportError:  # pragma: no cover - a dependency; without it every read is a located one
    yaml_rs = None

YAML_SUFFIXES = (".yaml", ".yml")
# Lists under these keys in `defaults:` are added to the object's own list instead of being
# replaced by it: every server gets the default services (ssh, node_exporter) plus its own.
ADDITIVE_KEYS = frozenset({"services", "tags"})
_DEFAULTS_FOR = {"servers": "server", "systems": "system", "links": "link", "agencies": "agency", "devices": "device"}


@dataclass(frozen=True, slots=True)
class Defect:
    """A defect known by its path in the merged document; `locate` gives it a position."""

    loc: tuple[Any, ...]
    message: str
    at_key: bool = False                    # point at the key (unknown keys) rather than the value
    first: tuple[Any, ...] | None = None    # for duplicates: where the first occurrence is


@dataclass
class Source:
    """The merged, defaults-resolved raw document and the problems met while reading it."""

    raw: dict
    problems: list[Problem]
    located: bool


def inventory_files(path: Path) -> list[Path]:
    """The YAML files making up the inventory at `path` (a file, or a directory read recursively)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
        if files:
            return files
        raise InventoryError([Problem(None, "", f"{path}: no .yaml or .yml files found")])
    raise InventoryError([Problem(None, "", f"{path}: no such file or directory")])


def display_name(file: Path, base: Path) -> str:
    """How a file is named in messages: relative to the inventory's parent directory."""
    try:
        return str(file.relative_to(base.parent))
    except ValueError:
        return str(file)


# ------------------------------------------------------------------------------------ reading

def read_source(path: Path, files: list[Path], *, located: bool) -> Source | None:
    """Parse, merge and resolve defaults. The fast way returns None if it cannot judge a file
    (a parse error, or yaml_rs missing): the located way then reports it with its position."""
    names = [display_name(f, path) for f in files]
    problems: list[Problem] = []
    if located:
        docs = [(n, load_yaml(f, n, problems)) for f, n in zip(files, names)]
        if any(data is BROKEN for _, data in docs):
            # A file that could not be parsed hides its objects: judging references against the
            # rest would only add noise, so report the syntax errors (and duplicates) alone.
            return Source({}, problems, True)
    else:
        docs = _fast_docs(files, names)
        if docs is None:
            return None
    for name, data in docs:
        if data is not None and not isinstance(data, dict):
            problems.append(Problem(getattr(data, "pos", None) or Pos(name, 1, 1), "",
                                    "an inventory file must be a mapping of sections"))
    if problems and not all("duplicate key" in p.message for p in problems):
        return Source({}, problems, located) if located else None
    raw = merge_documents(docs, problems)
    if problems and not located:
        return None  # positions are needed to report them: let the located read do it
    return Source(apply_defaults(raw), problems, located)


def _fast_docs(files: list[Path], names: list[str]) -> list[tuple[str, Any]] | None:
    if yaml_rs is None:
        return None
    docs = []
    for f, name in zip(files, names):
        try:
            text = f.read_text(encoding="utf-8")
            data = yaml_rs.loads(text)
        except Exception:  # noqa: BLE001 - any failure here is re-judged by the located reader
            return None
        docs.append((name, _resolve_merge_keys(data) if "<<" in text else data))
    return docs


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
# These work on plain dicts/lists (fast read) and on SrcDict/SrcList (located read) alike,
# carrying positions along when there are any.

def _put(target: dict, key: Any, value: Any, source: dict) -> None:
    target[key] = value
    if isinstance(target, SrcDict) and isinstance(source, SrcDict):
        target.key_pos[key], target.value_pos[key] = source.key_pos.get(key), source.value_pos.get(key)


def merge_documents(docs: list[tuple[str, Any]], problems: list[Problem]) -> dict:
    """Concatenate list sections of several files; single sections may appear in one file only."""
    located = any(isinstance(data, SrcDict) for _, data in docs)
    merged: dict = SrcDict() if located else {}
    origin: dict[Any, str] = {}
    for name, data in docs:
        if not isinstance(data, dict):
            continue  # an empty file, or reported by read_source
        if located and merged.pos is None:
            merged.pos = data.pos
        for key, value in data.items():
            if key in model.LIST_SECTIONS and isinstance(value, list):
                if key not in merged:
                    _put(merged, key, _new_list(value), data)
                _extend(merged[key], value)
            elif key in merged:
                where = merged.key_pos[key] if located else origin[key]
                pos = data.key_pos[key] if located else Pos(name, 1, 1)
                problems.append(Problem(pos, str(key), f"section already defined at {where}"))
            else:
                _put(merged, key, value, data)
                origin[key] = name
    return merged


def _new_list(like: list) -> list:
    if isinstance(like, SrcList):
        out = SrcList()
        out.pos = like.pos
        return out
    return []


def _extend(target: list, items: list) -> None:
    target.extend(items)
    if isinstance(target, SrcList) and isinstance(items, SrcList):
        target.item_pos.extend(items.item_pos)


def _overlay(base: dict, over: dict) -> dict:
    """`over` on top of `base`; nested mappings merge one level deep, ADDITIVE_KEYS concatenate."""
    out: dict = SrcDict() if isinstance(over, SrcDict) else {}
    if isinstance(out, SrcDict):
        out.pos = over.pos
    for key, value in base.items():
        _put(out, key, value, base)
    for key, value in over.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            value = _overlay(current, value)
        elif key in ADDITIVE_KEYS and isinstance(value, list) and isinstance(current, list):
            joined = _new_list(value)
            _extend(joined, current)
            _extend(joined, value)
            value = joined
        _put(out, key, value, over)
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


# ------------------------------------------------------------------ schema errors -> defects

def schema_defects(exc: ValidationError) -> list[Defect]:
    out = []
    for err in exc.errors(include_url=False):
        # pydantic adds type tags such as 'function-after[...]' to some locations: not fields
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        out.append(Defect(loc, _message(err, loc), at_key=err["type"] == "extra_forbidden"))
    return out


def _message(err: dict[str, Any], loc: tuple[Any, ...]) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        owner = _model_at(loc)
        known = [name for f_name, f in (owner.model_fields.items() if owner else ())
                 for name in (f_name, f.alias) if name]
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        return "unknown key" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of `loc`, for 'did you mean' hints."""
    current: Any = model.Document
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if _is_model(current) else None
        if field is None:
            return None
        current = _unwrap(field.annotation)
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

def field_path(root: Any, loc: tuple[Any, ...]) -> str:
    """Human field path: list items are named by their id where they have one."""
    out, node = "", root
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident}]" if isinstance(ident, str) and ident else f"[{part}]"
            node = item
        elif node is not None and not isinstance(node, (dict, list)):
            break  # below a scalar: a shorthand the model expanded (capacity: 10Mbps), not a user field
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def locate(defect: Defect, raw: dict) -> Problem:
    message = defect.message
    if defect.first is not None:
        first = position_of(raw, defect.first)
        message += f" (first at line {first.line})" if first else ""
    return Problem(position_of(raw, defect.loc, key=defect.at_key), field_path(raw, defect.loc), message)


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


_YAML_RS_POS = re.compile(r"line (\d+), column (\d+)")


def fast_parse_problem(path: Path, files: list[Path]) -> list[Problem]:
    """What yaml_rs objected to, for the rare file PyYAML accepts but yaml_rs does not."""
    for f in files:
        try:
            yaml_rs.loads(f.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001
            m = _YAML_RS_POS.search(str(exc))
            pos = Pos(display_name(f, path), int(m.group(1)), int(m.group(2))) if m else Pos(display_name(f, path), 1, 1)
            return [Problem(pos, "", f"YAML error: {str(exc).splitlines()[0]}")]
    return []
