"""Fixtures of the console's unit tests: a site per test, its console served on loopback by one
uvicorn of the session."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.console_site import Kit, SharedServer, Site, copy_site, make_site


@pytest.fixture(scope="session")
def _site_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("console-site")
    make_site(root)
    return root


@pytest.fixture()
def site(tmp_path, _site_template) -> Site:
    return copy_site(_site_template, tmp_path / "site")


@pytest.fixture(scope="session")
def _console_server(tmp_path_factory) -> SharedServer:
    shared = SharedServer(tmp_path_factory.mktemp("console-tls"))
    yield shared
    shared.stop()


@pytest.fixture()
def running(site, _console_server):
    with _console_server.serving(site.config) as r:
        yield r


@pytest.fixture()
def kit() -> type[Kit]:
    return Kit


@pytest.fixture()
def running_with_prometheus(site, _console_server):
    """The console told of a Prometheus (on a loopback port nothing listens on: tests stub the queries)."""
    with _console_server.serving(replace(site.config, prometheus="http://127.0.0.1:9")) as r:
        yield r
