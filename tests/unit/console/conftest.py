"""Fixtures of the console's unit tests: a site per test, the console served on loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.console_site import Kit, Running, Site, copy_site, make_site


@pytest.fixture(scope="session")
def _site_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("console-site")
    make_site(root)
    return root


@pytest.fixture()
def site(tmp_path, _site_template) -> Site:
    return copy_site(_site_template, tmp_path / "site")


@pytest.fixture()
def running(site):
    r = Running(site.config)
    yield r
    r.stop()


@pytest.fixture()
def kit() -> type[Kit]:
    return Kit


@pytest.fixture()
def running_with_prometheus(site):
    """The console told of a Prometheus (on a loopback port nothing listens on: tests stub the queries)."""
    r = Running(replace(site.config, prometheus="http://127.0.0.1:9"))
    yield r
    r.stop()
