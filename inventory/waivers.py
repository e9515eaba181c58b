"""Waivers from a file of their own (`provdc audit --waivers FILE`), located like the inventory."""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from provdc.errors import InventoryError
from provdc.inventory.load import field_path
from provdc.inventory.model import Waiver
from provdc.inventory.source import BROKEN, Problem, load_yaml, position_of


def load_waivers(path: Path | None) -> list[Waiver]:
    """Waivers from a YAML file (a list, or a mapping with `waivers:`), every error located;
    a waiver naming a check the catalogue does not know is an error, not a silent no-op."""
    if path is None:
        return []
    from provdc.inventory.catalogue import load_catalogue

    problems: list = []
    data = load_yaml(path, path.name, problems)
    if problems or data is BROKEN:
        raise InventoryError(problems)
    items = (data.get("waivers", []) if isinstance(data, dict) else data) or []
    try:
        waivers = TypeAdapter(list[Waiver]).validate_python(items)
    except ValidationError as exc:
        raise InventoryError([Problem(position_of(items, tuple(e["loc"])), field_path(items, tuple(e["loc"])),
                                      e["msg"]) for e in exc.errors()]) from None
    known = load_catalogue().check_ids()
    unknown = [Problem(position_of(items, (i, "check")), field_path(items, (i, "check")), f"unknown check '{w.check}'")
               for i, w in enumerate(waivers) if w.check not in known]
    if unknown:
        raise InventoryError(unknown)
    return waivers
