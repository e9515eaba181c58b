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
UNIT_TIER = "not lab"
UNIT_WORKERS = 4              # at most: each worker collects the whole tier again (about 4 s of CPU)


def runs_the_unit_tier_alone(config) -> bool:
    return " ".join((config.option.markexpr or "").split()) == UNIT_TIER


@pytest.hookimpl(tryfirst=True)   # before xdist's own, which turns a worker count into workers
def pytest_cmdline_main(config):
    """`pytest -m "not lab"`, the offline unit tier, runs in one worker process per core (up to
    UNIT_WORKERS) when pytest-xdist is installed: its tests share nothing (each its own temporary
    directory, loopback ports the kernel picks, order-independent as pytest-randomly proves) and
    the tier is CPU work that one process would run on half of a 2-core machine. `-n 0` keeps it
    in one process; a run of the lab tier, or of the whole suite, is never distributed (one lab
    per machine, its fixtures shared per module and session)."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.option.numprocesses is not None or config.option.collectonly or config.getoption("usepdb", False):
        return
    if runs_the_unit_tier_alone(config) and (os.cpu_count() or 1) > 1:
        config.option.numprocesses = min(UNIT_WORKERS, os.cpu_count())


def pytest_collection_modifyitems(config, items):
    """Tiers by place: everything under tests/integration and tests/browser is the `lab` tier
    (real daemons, root, seconds to minutes), so `-m "not lab"` is the offline unit tier. Tests
    of the lab twin carry `twin`: they take the machine-wide lab lock (integration conftest)."""
    for item in items:
        if any(tier in item.path.parents for tier in INTEGRATION_TIERS):
            item.add_marker(pytest.mark.lab)
