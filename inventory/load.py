"""Load an inventory: read files, merge them, resolve defaults once, validate everything.

Every defect is collected and reported at once, each as `file:line:column: field: message`.
Nothing is returned unless the whole inventory is valid, so no caller ever sees half of it.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from provdc.errors import InventoryError
from provdc.inventory import model
from provdc.inventory.source import BROKEN, Pos, Problem, SrcDict, SrcList, load_yaml, position_of

YAML_SUFFIXES = (".yaml", ".yml")
# Lists under these keys in `defaults:` are added to the object's own list instead of being
# replaced by it: every server gets the default services (ssh, node_exporter) plus its own.
ADDITIVE_KEYS = frozenset({"services", "tags"})
_DEFAULTS_FOR = {"servers": "server", "systems": "system", "links": "link", "agencies": "agency", "devices": "device"}


def inventory_files(path: Path) -> list[Path]:
    """The YAML files making up the inventory at `path` (a file, or a directory read recursively)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    raise InventoryError([Problem(None, "", f"{path}: no such file or directory")])


def _display(file: Path, base: Path) -> str:
    try:
        return str(file.relative_to(base.parent if base.is_file() else base.parent))
    except ValueError:
        return str(file)


def merge_documents(docs: list[tuple[str, Any]], problems: list[Problem]) -> SrcDict:
    """Concatenate list sections of several files; single sections may appear in one file only."""
    merged = SrcDict()
    for display, data in docs:
        if data is None:  # an empty file
            continue
        if not isinstance(data, SrcDict):
            continue  # reported by parse_document
        if merged.pos is None:
            merged.pos = data.pos
        for key, value in data.items():
            if key in model.LIST_SECTIONS and isinstance(value, SrcList):
                target = merged.setdefault(key, _empty_list(value.pos))
                if key not in merged.key_pos:
                    merged.key_pos[key], merged.value_pos[key] = data.key_pos[key], data.value_pos[key]
                target.extend(value)
                target.item_pos.extend(value.item_pos)
            elif key in merged:
                problems.append(Problem(data.key_pos[key], str(key),
                                        f"section already defined at {merged.key_pos[key]}"))
            else:
                merged[key] = value
                merged.key_pos[key], merged.value_pos[key] = data.key_pos[key], data.value_pos[key]
    return merged


def _empty_list(pos: Pos | None) -> SrcList:
    out = SrcList()
    out.pos = pos
    return out


def _overlay(base: SrcDict, over: SrcDict) -> SrcDict:
    """`over` on top of `base`; nested mappings are merged one level deep. Positions follow values."""
    out = SrcDict()
    out.pos = over.pos
    for src in (base, over):
        for key, value in src.items():
            if src is over and isinstance(value, SrcDict) and isinstance(out.get(key), SrcDict):
                value = _overlay(out[key], value)
            elif src is over and key in ADDITIVE_KEYS and isinstance(value, SrcList) and isinstance(out.get(key), SrcList):
                value = _concat(out[key], value)
            out[key] = value
            out.key_pos[key], out.value_pos[key] = src.key_pos.get(key), src.value_pos.get(key)
    return out


def _concat(first: SrcList, second: SrcList) -> SrcList:
    out = SrcList(first + second)
    out.pos, out.item_pos = second.pos, first.item_pos + second.item_pos
    return out


def apply_defaults(doc: SrcDict) -> SrcDict:
    """Resolve `defaults:` into each object once, so the rest of provdc never looks them up."""
    defaults = doc.get("defaults")
    if not isinstance(defaults, SrcDict):
        return doc
    for section, kind in _DEFAULTS_FOR.items():
        base, items = defaults.get(kind), doc.get(section)
        if not isinstance(base, SrcDict) or not isinstance(items, SrcList):
            continue
        for i, item in enumerate(items):
            if isinstance(item, SrcDict):
                items[i] = _overlay(base, item)
    return doc


# ----------------------------------------------------------------------- pydantic -> problems

def _message(err: dict[str, Any], model_at: type[BaseModel] | None) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        known = list(model_at.model_fields) if model_at else []
        aliases = [f.alias for f in model_at.model_fields.values() if f.alias] if model_at else []
        close = difflib.get_close_matches(name, known + aliases, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of `loc`, for 'did you mean' hints."""
    current: Any = model.Document
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _unwrap(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    if getattr(annotation, "__metadata__", None) is not None:
        return _unwrap(annotation.__origin__)
    return annotation


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
        elif isinstance(node, dict) and part in node or not isinstance(part, str) or "[" not in part:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
        # pydantic adds type tags such as 'function-after[...]' to some locations: not fields
    return out


def problems_from_validation(exc: ValidationError, raw: SrcDict) -> list[Problem]:
    found = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        pos = position_of(raw, loc, key=err["type"] == "extra_forbidden")
        found.append(Problem(pos, field_path(raw, loc), _message(err, _model_at(loc))))
    return found


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


def parse_document(path: Path) -> tuple[model.Document | None, SrcDict, list[Problem]]:
    """Read, merge, resolve and schema-validate; cross-object rules are not applied here."""
    problems: list[Problem] = []
    files = inventory_files(path)
    if not files:
        return None, SrcDict(), [Problem(None, "", f"{path}: no .yaml or .yml files found")]
    docs = [(d, load_yaml(f, d, problems)) for f in files for d in [_display(f, path)]]
    for display, data in docs:
        if data is not None and data is not BROKEN and not isinstance(data, SrcDict):
            problems.append(Problem(getattr(data, "pos", None) or Pos(display, 1, 1), "",
                                    "an inventory file must be a mapping of sections"))
    if problems and not all("duplicate key" in p.message for p in problems):
        # A file that could not be parsed hides its objects: judging references against the
        # rest would only add noise, so report the syntax errors (and duplicates) alone.
        return None, SrcDict(), problems
    raw = apply_defaults(merge_documents(docs, problems))
    try:
        return model.Document.model_validate(raw), raw, problems
    except ValidationError as exc:
        return None, raw, problems + problems_from_validation(exc, raw)
