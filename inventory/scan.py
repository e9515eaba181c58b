"""Positions without building a second tree: one pass over PyYAML's event stream.

Values always come from the fast reader (yaml_rs). When a defect must be located, the file it
came from is scanned once here: libyaml's C parser emits events with their marks, and only the
positions of the wanted paths (and their prefixes, the fallback when a field is missing) are
kept. Memory stays flat and time stays close to parsing, however big the file. The same pass
reports duplicate keys (libyaml keeps them; yaml_rs refuses the whole file) and syntax errors
at their real position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from provdc.inventory.source import Pos, Problem, _pos, resolve_plain, yaml_error_problem

try:
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader  # type: ignore[misc]

_NODE_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_NODE_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_COMPLEX_KEY = object()  # a key that is itself a mapping or a sequence: never on a wanted path


@dataclass
class Scan:
    """What one pass over a file found."""

    value_pos: dict[tuple, Pos] = field(default_factory=dict)
    key_pos: dict[tuple, Pos] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def position(self, loc: tuple, *, key: bool = False) -> Pos | None:
        """Position of the key or value at `loc`; for a path that leaves the file, the
        deepest place reached (where the missing field belongs)."""
        if key and loc in self.key_pos:
            return self.key_pos[loc]
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.value_pos:
                return self.value_pos[loc[:n]]
        return None


@lru_cache(maxsize=4096)
def _plain_key(text: str) -> Any:
    return resolve_plain(text) if text else None


def _key_of(event: yaml.ScalarEvent) -> Any:
    # Keys are nearly always plain identifiers: resolve only what could be a number/bool/null.
    if not event.style and event.implicit[0]:
        return _plain_key(event.value)
    return event.value


def scan(text: str, display: str, wanted: Iterable[tuple] = (), *, duplicates: bool = False) -> Scan:
    """Scan `text` once, recording positions of `wanted` paths and (optionally) duplicate keys."""
    result = Scan()
    wanted = list(wanted)
    prefixes = {loc[:n] for loc in wanted for n in range(len(loc) + 1)}
    # Once every wanted path is found the rest of the file cannot matter (unless duplicates are
    # looked for): a defect halfway down a 50 MB file costs half a scan.
    remaining = None if duplicates else set(wanted)
    # One frame per open collection: [path, is_mapping, expecting_key, current_key, index, keys_seen, recorded]
    stack: list[list] = []
    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, _NODE_END):
                stack.pop()
                continue
            if not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, *_NODE_START)):
                continue
            path = _place(event, stack, result, prefixes, display, duplicates)
            if path is not None and path in prefixes:
                result.value_pos[path] = _pos(display, event.start_mark)
                if remaining is not None:
                    remaining.discard(path)
                    if not remaining:
                        break
            if isinstance(event, _NODE_START):
                stack.append([path, isinstance(event, yaml.MappingStartEvent), True, None, 0,
                              {} if duplicates else None])
    except yaml.YAMLError as exc:
        result.problems.append(yaml_error_problem(exc, display, text))
    return result


def _place(event: Any, stack: list[list], result: Scan, prefixes: set, display: str, duplicates: bool) -> tuple | None:
    """The document path of the node `event` starts (None for keys and untracked subtrees)."""
    if not stack:
        return ()
    frame = stack[-1]
    parent = frame[0]
    if frame[1]:  # in a mapping
        if frame[2]:  # this node is a key
            frame[2] = False
            key = _key_of(event) if isinstance(event, yaml.ScalarEvent) else _COMPLEX_KEY
            frame[3] = key
            if parent is not None and key is not _COMPLEX_KEY:
                if (parent + (key,)) in prefixes:
                    result.key_pos[parent + (key,)] = _pos(display, event.start_mark)
                if frame[5] is not None and key != "<<":
                    _note_key(frame[5], key, event, result, display)
            return None
        frame[2] = True
        key = frame[3]
        return None if parent is None or key is _COMPLEX_KEY else parent + (key,)
    index = frame[4]
    frame[4] += 1
    return None if parent is None else parent + (index,)


def _note_key(seen: dict, key: Any, event: Any, result: Scan, display: str) -> None:
    try:
        first = seen.get(key)
    except TypeError:
        return
    if first is None:
        seen[key] = event.start_mark.line + 1
    else:
        result.problems.append(Problem(_pos(display, event.start_mark), str(key), f"duplicate key (first at line {first})"))


# ------------------------------------------------------------------------- alias expansion

_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]")
EXPANSION_ALLOWANCE = 16 * 1024 * 1024   # characters aliases may add beyond the file's own size


def alias_problem(text: str, display: str, allowance: int = EXPANSION_ALLOWANCE) -> Problem | None:
    """A billion-laughs guard: the size the document would have once every alias is expanded
    (strings counted by length, so a few aliases of one huge string count too) may exceed the
    file's own size by `allowance` characters at most. Readers that copy aliased values
    (yaml_rs does, so does every dict a model validator builds) stay bounded that way.

    Only files with an anchor pay for this: composing keeps one node per anchor, so it is cheap
    in memory whatever the expansion would be."""
    if not _ANCHOR.search(text):
        return None
    limit = len(text) + allowance
    try:
        root = yaml.compose(text, Loader=_Parser)
    except yaml.YAMLError:
        return None  # the syntax error is reported by the scan
    if root is None:
        return None
    sizes: dict[int, int] = {}
    seen_once: set[int] = set()
    # Iterative walk: a node's expanded size, counted each time it is reached (an alias reaches
    # its anchor's node again); `sizes` memoises so the walk itself stays linear.
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, done = todo.pop()
        ident = id(node)
        if done:
            if isinstance(node, yaml.ScalarNode):
                sizes[ident] = len(node.value) + 1
            elif isinstance(node, yaml.SequenceNode):
                sizes[ident] = 1 + sum(sizes.get(id(c), 0) for c in node.value)
            else:
                sizes[ident] = 1 + sum(sizes.get(id(k), 0) + sizes.get(id(v), 0) for k, v in node.value)
            if sizes[ident] > limit:
                break
            continue
        if ident in sizes or ident in seen_once:
            continue
        seen_once.add(ident)
        todo.append((node, True))
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [x for pair in node.value for x in pair] if isinstance(node, yaml.MappingNode) else [])
        todo.extend((c, False) for c in children if id(c) not in sizes)
    total = sizes.get(id(root), 0) if sizes else 0
    worst = max(sizes.values(), default=0)
    if max(total, worst) <= limit:
        return None
    return Problem(_first_alias(text, display), "",
                   f"aliases expand this file to more than {limit:,} characters (alias bomb?): "
                   "write the values out, or use `defaults:`")


def _first_alias(text: str, display: str) -> Pos:
    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, yaml.AliasEvent):
                return _pos(display, event.start_mark)
    except yaml.YAMLError:
        pass
    return Pos(display, 1, 1)
