"""Shared fixtures: paths of the embedded example provinces."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "inventory" / "examples"
LAB_INVENTORY = EXAMPLES / "lab"


@pytest.fixture(scope="session")
def lab_inventory():
    from provdc.inventory import load_inventory

    return load_inventory(LAB_INVENTORY)
