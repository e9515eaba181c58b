"""Evidence records and approved waivers from the console: appended to `console-evidence.yaml`
or `console-waivers.yaml` inside the inventory directory (a directory inventory reads every YAML
file and concatenates lists, so the next audit sees them).

Validated twice before it counts: the record against the inventory's own model (Evidence,
Waiver; for evidence also the catalogue's requirement ids), then the whole inventory with the
new file in place (references, known checks); if either fails the file is put back as it was.
Each accepted version is kept in STATE/console/<kind>-versions/NNNN.yaml, so every change can be
traced and undone.
"""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from provdc.errors import InventoryError
from provdc.inventory import load_inventory
from provdc.inventory.model import Evidence, Waiver
from provdc.yamlread import dump_yaml, load_yaml

FILES = {"evidence": "console-evidence.yaml", "waivers": "console-waivers.yaml"}
FILE_NAME = FILES["evidence"]
HEADER = ("# {what} recorded in the provdc console (who and when: STATE/console/audit.log).\n"
          "# Edit with care: every saved version is kept in STATE/console/{kind}-versions/.\n")
_lock = threading.Lock()


class EvidenceError(ValueError):
    """The record was refused; the message lists every problem."""


def _records(path: Path, kind: str) -> list[dict]:
    if not path.exists():
        return []
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    return list(data.get(kind, []))


def _model_problems(model, record: dict) -> list[str]:
    try:
        model.model_validate(record)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return []


def _waiver_problems(record: dict, inv) -> list[str]:
    problems = _model_problems(Waiver, record)
    expires = record.get("expires")
    if isinstance(expires, date) and expires <= date.today():
        problems.append("expires: must be after today")
    return problems


def _problems_of(record: dict, inv) -> list[str]:
    from provdc.inventory.catalogue import load_catalogue

    problems = _model_problems(Evidence, record)
    known = set(load_catalogue().requirements)
    problems += [f"requirements: {r} is not in the catalogue" for r in record.get("requirements", []) if r not in known]
    systems = {s.id for s in inv.doc.systems}
    problems += [f"systems: {s} is not a system of the inventory" for s in record.get("systems", []) if s not in systems]
    if record.get("id") in {e.id for e in inv.doc.evidence}:
        problems.append(f"id: {record.get('id')} is already recorded")
    return problems


def record(inventory_dir: Path, state: Path, entry: dict, inv, kind: str = "evidence") -> int:
    """Add one evidence record or waiver; returns the version number. EvidenceError on any problem."""
    if not inventory_dir.is_dir():
        raise EvidenceError("the inventory is a single file: the console can record only into a directory inventory")
    problems = _problems_of(entry, inv) if kind == "evidence" else _waiver_problems(entry, inv)
    if problems:
        raise EvidenceError("; ".join(problems))
    path = inventory_dir / FILES[kind]
    with _lock:
        before = path.read_bytes() if path.exists() else None
        records = _records(path, kind) + [entry]
        header = HEADER.format(what="Evidence" if kind == "evidence" else "Waivers", kind=kind)
        text = header + dump_yaml({kind: records}, allow_unicode=True, sort_keys=False, default_flow_style=False)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:      # e.g. the systemd unit's ProtectSystem=strict without ReadWritePaths
            raise EvidenceError(f"{path}: cannot write ({exc.strerror}); the service needs write access to it") from None
        try:
            load_inventory(inventory_dir)
        except InventoryError as exc:
            if before is None:
                path.unlink()
            else:
                path.write_bytes(before)
            raise EvidenceError("; ".join(str(p) for p in exc.problems) or str(exc)) from None
        versions = state / "console" / f"{kind}-versions"
        versions.mkdir(parents=True, exist_ok=True)
        number = len(list(versions.glob("*.yaml"))) + 1
        shutil.copyfile(path, versions / f"{number:04d}.yaml")
        return number


def entry_from_form(form: dict[str, str], system: str) -> dict:
    """The record a form describes; dates stay text until the model validates them."""
    entry = {"id": form.get("id", "").strip(), "requirements": [r.strip() for r in form.get("requirement", "").split(",")
                                                               if r.strip()],
             "systems": [system], "document": form.get("document", "").strip(), "date": form.get("date", "").strip(),
             "issuer": form.get("issuer", "").strip(), "approver": form.get("approver", "").strip()}
    try:
        entry["date"] = date.fromisoformat(entry["date"])
    except ValueError:
        pass      # the model reports it with the field name
    return entry


def waiver_from_form(form: dict[str, str], system: str, approver: str) -> dict:
    """The waiver a form describes, scoped to the system or one of its hosts; the approver is the
    security officer who submits it (the session's user, never a form field)."""
    host = form.get("host", "").strip()
    entry = {"check": form.get("check", "").strip(), "scope": {"host": host} if host else {"system": system},
             "justification": form.get("justification", "").strip(), "approver": approver,
             "expires": form.get("expires", "").strip()}
    try:
        entry["expires"] = date.fromisoformat(entry["expires"])
    except ValueError:
        pass
    return entry
