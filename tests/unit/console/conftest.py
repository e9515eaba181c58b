"""Fixtures of the console's unit tests: a site per test, the console served on loopback."""

from __future__ import annotations

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
