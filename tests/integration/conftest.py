"""Integration fixtures: the `lab` example's twin, built once per session and torn down after.

Every integration test runs against real hosts (network namespaces with sshd and services); no
test here ever addresses anything but loopback or the lab's own supernets.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from provdc.exporters import promapi, stack
from provdc.exporters.monitoring import Settings

from tests.conftest import LAB_INVENTORY, ROOT
from tests.lab_lock import LAB_LOCK_HELD, hold_lab_lock

MINI_INVENTORY = ROOT / "tests" / "integration" / "lab_mini" / "inventory.yaml"


def require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("integration tests need root (network namespaces); CI runs as root")
        pytest.skip("integration tests need root (network namespaces)")




_lab_lock = None


@pytest.hookimpl(tryfirst=True)   # before any fixture of the test builds a lab
def pytest_runtest_setup(item):
    """Only one lab may run on a machine at a time (its namespaces and the ARP table are
    machine-wide): the first test of the twin in this process takes the lock and keeps it until
    the process ends; a second integration run, demo or benchmark that takes it waits. Loopback
    tests (national federation, paperwork, browser) need no lab and take no lock."""
    global _lab_lock
    if _lab_lock is not None or os.geteuid() != 0 or not item.get_closest_marker("twin"):
        return
    if os.environ.get(LAB_LOCK_HELD) == "1":   # tests/run_tiers.py holds it for all its runs
        return
    _lab_lock = hold_lab_lock()          # held for the life of the process


def pytest_collection_modifyitems(config, items):
    """A test that builds the mini lab is an own-lab test wherever it is (tests/run_tiers.py
    runs those in their own process, beside the session lab's; two of them must never build the
    mini lab at once)."""
    for item in items:
        if "mini_lab_path" in getattr(item, "fixturenames", ()) or "mini_module" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.own_lab)


@pytest.hookimpl(trylast=True)   # after the runner tears the session fixtures (the lab) down
def pytest_sessionfinish(session):
    global _lab_lock
    if _lab_lock is not None:
        _lab_lock.close()      # releases the lock after the session's lab fixtures are torn down
        _lab_lock = None


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


@contextmanager
def planted(lab, files: dict[str, list[str]] | None = None, sysctls: dict[str, list[str]] | None = None) -> Iterator[None]:
    """Whatever the block plants in these files (per host) or network settings (per host), the
    session's lab gets back as it was: a file or directory that did not exist is removed, one
    that did gets its content, mode and owner back. Tests of the shared lab never leave a
    planted state for the next one, in whatever order they run."""
    saved_files = {(host, path): _saved(lab.host_path(host, path)) for host, paths in (files or {}).items() for path in paths}
    saved_sysctls = {(host, key): lab.in_host(host, "sysctl", "-n", key).stdout.strip()
                     for host, keys in (sysctls or {}).items() for key in keys}
    try:
        yield
    finally:
        for (host, path), state in reversed(saved_files.items()):
            _restore(lab.host_path(host, path), state)
        for (host, key), value in saved_sysctls.items():
            lab.in_host(host, "sysctl", "-q", "-w", f"{key}={value}")


def _saved(path):
    if not os.path.lexists(path):
        return None
    st = os.lstat(path)
    return (path.read_bytes() if path.is_file() else None, st.st_mode & 0o7777, st.st_uid, st.st_gid)


def _restore(path, state) -> None:
    if state is None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        return
    content, mode, uid, gid = state
    if content is not None:
        path.write_bytes(content)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


INTERVAL = 2.0
SETTINGS = Settings(scrape_interval="2s", sli_window="4s", rate_window="8s", prometheus_port=29090,
                    blackbox_port=29115, snmp_port=29116, exporter_port=29300, alertmanager_port=29093)


@pytest.fixture(scope="session")
def monitoring(lab, tmp_path_factory):
    """The real monitoring stack scraping the lab twin every 2 s (own ports and run dir)."""
    run_dir = tmp_path_factory.mktemp("monitor")
    running = stack.up(LAB_INVENTORY, run_dir, SETTINGS)
    _wait(lambda: _value(running, 'count(probe_success{job=~"blackbox_.*"})') >= 30, 30, "first scrape round")
    yield running
    stack.down(LAB_INVENTORY, run_dir)


def _value(st, expr: str) -> float:
    result = promapi.query(st.prometheus_url, expr)
    return float(result[0]["value"][1]) if result else float("nan")


def _wait(condition, timeout: float, what: str, step: float = 0.5) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if condition():
                return time.monotonic() - start
        except promapi.PrometheusError:
            pass
        time.sleep(step)
    raise AssertionError(f"{what}: not reached within {timeout} s")


