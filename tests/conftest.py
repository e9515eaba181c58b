"""Shared fixtures: paths of the embedded example provinces."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Where the environment says PYTHONDONTWRITEBYTECODE=1 (this machine's does), every run compiled
# every test module again through pytest's assertion rewriting (6 s of the unit tier's 13 s
# collection) and every `provdc` subprocess its own modules. Bytecode goes to __pycache__,
# which git ignores; the product's own runs are left to the user's environment.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "inventory" / "examples"
LAB_INVENTORY = EXAMPLES / "lab"


@pytest.fixture(scope="session")
def lab_inventory():
    from provdc.inventory import load_inventory

    return load_inventory(LAB_INVENTORY)

INTEGRATION_TIERS = (ROOT / "tests" / "integration", ROOT / "tests" / "browser")


def pytest_collection_modifyitems(config, items):
    """Tiers by place: everything under tests/integration and tests/browser is the `lab` tier
    (real daemons, root, seconds to minutes), so `-m "not lab"` is the offline unit tier. Tests
    of the lab twin carry `twin`: they take the machine-wide lab lock (integration conftest)."""
    for item in items:
        if any(tier in item.path.parents for tier in INTEGRATION_TIERS):
            item.add_marker(pytest.mark.lab)
