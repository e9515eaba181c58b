"""Offline: what provdc_service does on a systemd host and on a host without systemd."""

from __future__ import annotations

import importlib.util

from provdc.playbooks import PLAYBOOKS_DIR

_spec = importlib.util.spec_from_file_location("provdc_service", PLAYBOOKS_DIR / "library" / "provdc_service.py")
provdc_service = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(provdc_service)
plan = provdc_service.plan


def test_a_running_enabled_daemon_needs_nothing():
    assert plan(systemd=True, enabled=True, active=True, want_enabled=True, want_started=True) == []
    assert plan(systemd=False, enabled=None, active=True, want_enabled=True, want_started=True) == []


def test_systemd_enables_and_starts_what_is_missing():
    assert plan(systemd=True, enabled=False, active=False, want_enabled=True, want_started=True) == ["enable", "start"]
    assert plan(systemd=True, enabled=False, active=True, want_enabled=True, want_started=True) == ["enable"]
    assert plan(systemd=True, enabled=True, active=False, want_enabled=True, want_started=True) == ["start"]


def test_without_systemd_only_the_init_script_starts_it():
    # no boot-time enabling without an init system of the host's own (a lab twin)
    assert plan(systemd=False, enabled=None, active=False, want_enabled=True, want_started=True) == ["start"]
