"""Integration fixtures: the `lab` example's twin, built once per session and torn down after.

Every integration test runs against real hosts (network namespaces with sshd and services); no
test here ever addresses anything but loopback or the lab's own supernets.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import LAB_INVENTORY, ROOT

MINI_INVENTORY = ROOT / "tests" / "integration" / "lab_mini" / "inventory.yaml"


def require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("integration tests need root (network namespaces); CI runs as root")
        pytest.skip("integration tests need root (network namespaces)")


@pytest.fixture(scope="session")
def lab():
    """The running twin of inventory/examples/lab."""
    require_root()
    from provdc.lab import twin

    twin.down(LAB_INVENTORY)  # a previous run killed mid-way must not block this one
    running = twin.up(LAB_INVENTORY)
    yield running
    twin.down(LAB_INVENTORY)


@pytest.fixture
def mini_lab_path():
    """The tiny second lab's inventory; the test builds it, this fixture guarantees teardown."""
    require_root()
    from provdc.lab import twin

    twin.down(MINI_INVENTORY)
    yield MINI_INVENTORY
    twin.down(MINI_INVENTORY)
