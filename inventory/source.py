"""Read YAML while remembering where every key and item came from.

Errors must name file, line and column, so the loader keeps positions next to the data: each
mapping is a `SrcDict` and each sequence a `SrcList`, plain dict/list subclasses carrying the
position of every key and value. Parsing stays in libyaml's C parser (the floor we are measured
against); only construction is ours. Duplicate keys, which PyYAML silently overwrites, are
reported instead.

One meaning for every scalar: plain scalars are resolved by YAML 1.2 core schema rules
(`resolve_plain`), which is what yaml_rs, the reader, does (it runs with parse_datetime=False:
otherwise it turns even a *quoted* '2026-01-01' into a date). PyYAML's own YAML 1.1 rules
(`port: 022` is 18, `on` is true, `12:30` is 750, timestamps) are switched off, so both
readers agree on what an inventory says. Dates stay text until the schema reads them, so an
impossible date (2026-02-30, hour 25) is a clear schema error, never a crash.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is the fast path; the pure-Python parser gives the same result, slower
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Pos:
    """A position in a source file, 1-based like editors show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect of the inventory: where, which field, and what is wrong."""

    pos: Pos | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.pos) if self.pos else "<inventory>"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SrcDict(dict):
    """A mapping that knows where it starts and where each of its keys and values stand."""

    __slots__ = ("pos", "key_pos", "value_pos")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.pos: Pos | None = None
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}


class SrcList(list):
    """A sequence that knows where it starts and where each item stands."""

    __slots__ = ("pos", "item_pos")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pos: Pos | None = None
        self.item_pos: list[Pos] = []


def _pos(file: str, mark: Any) -> Pos:
    return Pos(file, mark.line + 1, mark.column + 1)


# ------------------------------------------------------------------ one meaning for scalars

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9_]*[0-9][0-9_]*\Z")
_INT_BASE = re.compile(r"([-+]?)0([xXoObB])([0-9a-fA-F_]+)\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9_]*\.[0-9_]*[0-9]?[0-9_]*|[0-9_]+)(?:[eE][-+]?[0-9_]*[0-9][0-9_]*)?\Z")
_SPECIAL_FLOAT = {".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, ".nan": math.nan, ".NaN": math.nan,
                  ".NAN": math.nan, ".Nan": math.nan}
_BASES = {"x": (16, frozenset("0123456789abcdefABCDEF_")), "o": (8, frozenset("01234567_")), "b": (2, frozenset("01_"))}


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under YAML 1.2 core schema, as yaml_rs reads it.

    `022` is 22 and `0o22` is 18; `on`/`yes`/`no`, `12:30` and `2026-01-01` are strings (the
    schema reads dates). Tested against yaml_rs on generated scalars (tests/unit/inventory).
    """
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    first = text[0]
    if first.isdigit() or first in "+-._":
        return _number(text)
    return text


def _number(text: str) -> Any:
    if _INT.match(text):
        return int(text.replace("_", ""))
    m = _INT_BASE.match(text)
    if m:
        base, digits = _BASES[m.group(2).lower()]
        if set(m.group(3)) <= digits and m.group(3).strip("_"):
            value = int(m.group(3).replace("_", ""), base)
            return -value if m.group(1) == "-" else value
    bare = text.lstrip("+-")
    if bare in _SPECIAL_FLOAT:
        return -_SPECIAL_FLOAT[bare] if text[0] == "-" else _SPECIAL_FLOAT[bare]
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


# ------------------------------------------------------------------ decoding and YAML errors

# What YAML 1.2 allows in a stream (c-printable): everything else is reported where it stands.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(data: bytes, display: str) -> str | Problem:
    """UTF-8 text of a file (a leading byte-order mark is dropped), or the problem with it,
    placed at the offending byte or character."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode("utf-8-sig", errors="replace")
        line, column = line_column(good, len(good))
        return Problem(Pos(display, line, column), "",
                       f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded (save the file as UTF-8)")
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = line_column(text, bad.start())
        return Problem(Pos(display, line, column), "",
                       f"character U+{ord(bad.group()):04X} is not allowed in YAML (control characters and NUL are not text)")
    return text


def yaml_error_problem(exc: yaml.YAMLError, display: str, text: str = "") -> Problem:
    """A PyYAML error as a located problem. An unclosed quote or bracket is reported where it
    opens (the context), not at the end of the file where the parser noticed."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at_end = bool(exc.problem) and ("end of stream" in exc.problem or "<stream end>" in exc.problem
                                        or (exc.problem_mark is not None and exc.problem_mark.index >= len(text.rstrip())))
        if at_end and exc.context_mark is not None:
            mark = exc.context_mark
        pos = _pos(display, mark) if mark else Pos(display, 1, 1)
        what = "; ".join(x for x in (exc.context, exc.problem) if x)
        if at_end and exc.context and "quoted scalar" in exc.context:
            what = "this quote is never closed"
        elif at_end and exc.context and exc.context_mark is not None:
            what = f"{exc.context}, never closed"
        return Problem(pos, "", f"YAML syntax error: {what}")
    return Problem(Pos(display, 1, 1), "", f"YAML error: {exc}")


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that builds SrcDict/SrcList and records duplicate keys."""

    def __init__(self, stream: Any, file: str, problems: list[Problem]) -> None:
        super().__init__(stream)
        self.file = file
        self.problems = problems

    def construct_src_map(self, node: yaml.MappingNode) -> Any:
        data = SrcDict()
        data.pos = _pos(self.file, node.start_mark)
        yield data
        explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)  # resolves YAML merge keys (<<) like SafeLoader does
        merged = len(node.value) - explicit  # flatten_mapping puts merged pairs first
        from_merge: set[Any] = set()  # keys a merge supplied: explicit keys may override them
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                self.problems.append(Problem(_pos(self.file, key_node.start_mark), "", "a mapping key must be a plain value"))
                continue
            if key in data and key not in from_merge:
                self.problems.append(Problem(_pos(self.file, key_node.start_mark), str(key),
                                             f"duplicate key (first at line {data.key_pos[key].line})"))
                continue
            if index < merged:
                from_merge.add(key)
            else:
                from_merge.discard(key)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_pos[key] = _pos(self.file, key_node.start_mark)
            data.value_pos[key] = _pos(self.file, value_node.start_mark)

    def construct_src_seq(self, node: yaml.SequenceNode) -> Any:
        data = SrcList()
        data.pos = _pos(self.file, node.start_mark)
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_pos.append(_pos(self.file, child.start_mark))


    def construct_core_scalar(self, node: yaml.ScalarNode) -> Any:
        return resolve_plain(node.value) if not node.style else node.value


# Every untagged scalar resolves to str; the constructor then applies YAML 1.2 core rules to the
# plain ones. Explicit tags (!!int "3") keep PyYAML's constructors.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_core_scalar)
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_src_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_src_seq)


BROKEN = object()  # load_yaml's result for a file that could not be parsed at all


def load_yaml(path: Path, display: str, problems: list[Problem]) -> Any:
    """Parse one YAML file; syntax errors and duplicate keys go to `problems`, never raise.

    Returns BROKEN when the file could not be read or parsed.
    """
    try:
        text = decode(path.read_bytes(), display)
    except OSError as exc:
        problems.append(Problem(Pos(display, 1, 1), "", f"cannot read: {exc.strerror}"))
        return BROKEN
    if isinstance(text, Problem):
        problems.append(text)
        return BROKEN
    return load_yaml_text(text, display, problems)


def load_yaml_text(text: str, display: str, problems: list[Problem]) -> Any:
    """`load_yaml` on text already decoded."""
    loader = _Loader(text, display, problems)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        problems.append(yaml_error_problem(exc, display, text))
        return BROKEN
    finally:
        loader.dispose()


def position_of(root: Any, loc: tuple[Any, ...], *, key: bool = False) -> Pos | None:
    """The position of the value (or, with key=True, of the key) at `loc` inside `root`.

    Walks as deep as the data goes; when the path leaves the data (a missing field) the
    position of the deepest container reached is returned, which is where the field belongs.
    """
    node, best = root, getattr(root, "pos", None)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, SrcDict) and part in node:
            best = (node.key_pos if (key and last) else node.value_pos).get(part, best)
            node = node[part]
        elif isinstance(node, SrcList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_pos[part]
            node = node[part]
        else:
            break
        if getattr(node, "pos", None) is not None and not (key and last):
            best = node.pos if not isinstance(node, (SrcDict, SrcList)) else best
    return best
