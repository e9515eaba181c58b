"""Read YAML while remembering where every key and item came from.

Errors must name file, line and column, so the loader keeps positions next to the data: each
mapping is a `SrcDict` and each sequence a `SrcList`, plain dict/list subclasses carrying the
position of every key and value. Parsing stays in libyaml's C parser (the floor we are measured
against); only construction is ours. Duplicate keys, which PyYAML silently overwrites, are
reported instead.
"""

from __future__ import annotations

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


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_src_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_src_seq)


BROKEN = object()  # load_yaml's result for a file that could not be parsed at all


def load_yaml(path: Path, display: str, problems: list[Problem]) -> Any:
    """Parse one YAML file; syntax errors and duplicate keys go to `problems`, never raise.

    Returns BROKEN when the file could not be read or parsed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(Pos(display, 1, 1), "", f"not UTF-8 text ({exc.reason})"))
        return BROKEN
    except OSError as exc:
        problems.append(Problem(Pos(display, 1, 1), "", f"cannot read: {exc.strerror}"))
        return BROKEN
    loader = _Loader(text, display, problems)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(display, mark) if mark else Pos(display, 1, 1)
        problems.append(Problem(pos, "", f"YAML syntax error: {exc.problem or exc.context}"))
        return BROKEN
    except yaml.YAMLError as exc:
        problems.append(Problem(Pos(display, 1, 1), "", f"YAML error: {exc}"))
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
