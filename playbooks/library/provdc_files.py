#!/usr/bin/python
"""provdc_files: every file a role owns, checked (and fixed) in one module run.

Ansible's copy and template cost two module runs per file (a stat, then a file or copy run),
lineinfile and file one per loop item, and on a plain-Ansible target every run pays about
0.3 CPU-s of imports. A role's unchanged state now costs one run, whatever its file count.

Each item of `files` is one path and one of:
  content   the whole file (a template rendered on the controller with lookup('template'));
  lines     [{regexp, line, insertafter, insertbefore, firstmatch}] edits in order, as
            lineinfile makes them: the last line matching regexp (the first with firstmatch)
            becomes line, else line is inserted after insertafter's match, before insertbefore's
            (or BOF), or appended;
  state: directory
  (none)    attributes only (owner, group, mode) of an existing file.
Optional per item: owner, group, mode, validate (a command with %s, run on the new content
before anything is written), backup (keep the previous content; reported in `backups`),
check_in_place (a command run once the new content is in place, for programs that read the file
only where it belongs, such as `sshd -t` and its drop-ins: when it fails, the previous content is
put back, or the new file removed, and the module fails), apply (a command run once the new
content is in place, such as `sysctl -p FILE`: when it fails the module fails). Neither runs in
check mode or when the file's content did not change.
Every file is validated before any is written: a rejected one leaves all of them as they were.
A task that needed a gate per file (a validation task, a restore block, an "apply now" task,
each evaluated on every run even when skipped) is now part of the one module run.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: provdc_files
short_description: Ensure a role's files (content, line edits, directories, attributes) in one run
options:
  files:
    description: The files; see the module's docstring for the keys of each item.
    type: list
    elements: dict
    required: true
"""


def _edit_one(lines: list[str], edit: dict) -> None:
    """One edit, in place, as lineinfile (state present, regexp, no backrefs) makes it: the last
    line matching regexp (the first with firstmatch) becomes line; with no match, a line equal to
    line stays; else line goes after the last (first) line matching insertafter, before the one
    matching insertbefore, at the beginning for BOF, or at the end."""
    pattern = re.compile(edit["regexp"])
    line, first = edit["line"], bool(edit.get("firstmatch"))
    after, before = edit.get("insertafter"), edit.get("insertbefore")
    if after is None and before is None:
        after = "EOF"
    anchor_text = after if after not in (None, "BOF", "EOF") else before if before not in (None, "BOF") else None
    anchor = re.compile(anchor_text) if anchor_text is not None else None
    found = -1
    for i, current in enumerate(lines):
        if pattern.search(current):
            found = i
            if first:
                break
    if found == -1:
        at = -1
        for i, current in enumerate(lines):
            if line == current.rstrip("\r\n"):
                found = i
            elif anchor is not None and anchor.search(current):
                at = i + 1 if after else i
                if first:
                    break
    if found != -1:
        lines[found] = line + "\n"
        return
    if before == "BOF" or after == "BOF":
        lines.insert(0, line + "\n")
        return
    if after == "EOF" or at == -1:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        lines.append(line + "\n")
        return
    if after:
        if at == len(lines):
            if lines[at - 1].rstrip("\r\n") != line:
                lines.append(line + "\n")
        elif lines[at].rstrip("\r\n") != line:
            lines.insert(at, line + "\n")
        return
    lines.insert(at, line + "\n")


def edited(text: str, edits: list[dict]) -> str:
    """`text` with each edit applied in order, as lineinfile applies it (see _edit_one)."""
    lines = text.splitlines(keepends=True)
    for edit in edits:
        _edit_one(lines, edit)
    return "".join(lines)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _wanted_content(item: dict) -> tuple[str | None, str | None]:
    """(current, wanted) content of a file item; wanted None when the item sets attributes only."""
    current = _read(item["path"]) if item.get("state") != "directory" else None
    if item.get("content") is not None:
        return current, item["content"]
    if item.get("lines"):
        return current, edited(current or "", item["lines"])
    return current, None


def _staged(module: AnsibleModule, item: dict, content: str) -> str:
    """The new content in a temporary file next to its destination, validated if asked."""
    directory = os.path.dirname(item["path"]) or "/"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".provdc-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    if item.get("mode"):
        os.chmod(tmp, int(str(item["mode"]), 8))
    if item.get("validate"):
        rc, out, err = module.run_command(item["validate"] % tmp)
        if rc != 0:
            os.unlink(tmp)
            reason = (err or out).strip() or f"exit {rc}"
            raise ValueError(f"{item['path']}: validation ({item['validate']}) failed: {reason}")
    return tmp


def _put_back(module: AnsibleModule, item: dict, previous: str | None) -> None:
    """The file as it was before this run: its previous content (same mode), or no file."""
    if previous is None:
        os.unlink(item["path"])
        return
    directory = os.path.dirname(item["path"]) or "/"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".provdc-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(previous)
    module.atomic_move(tmp, item["path"])


def _attributes(item: dict) -> dict:
    return {"path": item["path"], "owner": item.get("owner"), "group": item.get("group"), "mode": item.get("mode"),
            "secontext": [None, None, None], "attributes": None}


def main() -> None:
    module = AnsibleModule(argument_spec={"files": {"type": "list", "elements": "dict", "required": True}},
                           supports_check_mode=True)
    plans, diffs = [], []
    for item in module.params["files"]:
        if item.get("state") == "directory":
            plans.append((item, None, not os.path.isdir(item["path"])))
            continue
        current, wanted = _wanted_content(item)
        if wanted is None and current is None:
            module.fail_json(msg=f"{item['path']}: does not exist (an attributes-only item needs an existing file)")
        differs = wanted is not None and wanted != current
        plans.append((item, wanted if differs else None, differs))
        if differs:
            diffs.append({"before_header": item["path"], "after_header": item["path"],
                          "before": current or "", "after": wanted})
    changed_paths = [item["path"] for item, _, differs in plans if differs]
    staged: dict[str, str] = {}
    backups: dict[str, str] = {}
    if not module.check_mode:
        for item, _, differs in plans:  # directories first: the files may go into them
            if item.get("state") == "directory" and differs:
                os.makedirs(item["path"], exist_ok=True)
        try:  # validate every new file before writing any
            for item, content, _ in plans:
                if content is not None:
                    staged[item["path"]] = _staged(module, item, content)
        except ValueError as exc:
            for tmp in staged.values():
                os.unlink(tmp)
            module.fail_json(msg=str(exc))
        for item, _, _ in plans:
            path = item["path"]
            if path in staged:
                previous = _read(path)
                if item.get("backup") and previous is not None:
                    backups[path] = module.backup_local(path)
                module.atomic_move(staged[path], path)
                if item.get("check_in_place"):
                    rc, out, err = module.run_command(item["check_in_place"])
                    if rc != 0:
                        _put_back(module, item, previous)
                        module.fail_json(msg=f"{path}: {item['check_in_place']} rejected the new content "
                                             f"(the previous content is back): {(err or out).strip() or f'exit {rc}'}")
                if item.get("apply"):
                    rc, out, err = module.run_command(item["apply"])
                    if rc != 0:
                        module.fail_json(msg=f"{path}: {item['apply']} failed: {(err or out).strip() or f'exit {rc}'}")
    for item, _, _ in plans:  # owner, group, mode (check mode: only reported)
        if not os.path.lexists(item["path"]):
            continue  # check mode: a file or directory still to be made
        if module.set_fs_attributes_if_different(_attributes(item), False):
            if item["path"] not in changed_paths:
                changed_paths.append(item["path"])
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, backups=backups,
                     diff=diffs)


if __name__ == "__main__":
    main()
