"""Offline: which strategy a run chooses (Mitogen when installed and compatible, else plain
Ansible), and the Ansible settings each choice means."""

from __future__ import annotations

import pytest

from provdc.playbooks.runner import Strategy, choose_strategy, detect_strategy, strategy_environment


@pytest.mark.parametrize(("mitogen", "core", "expected"), [
    ((0, 3, 54), "2.19.14", "mitogen_linear"),
    ((0, 3, 54), "2.21.0", "mitogen_linear"),
    ((0, 3, 54), "2.22.1", "linear"),   # newer than this release supports
    ((0, 3, 25), "2.19.3", "mitogen_linear"),
    ((0, 3, 25), "2.20.0", "linear"),
    ((0, 3, 24), "2.19.3", "linear"),   # before 2.19 support
    ((0, 3, 54), "2.9.27", "linear"),   # older than Mitogen's oldest
    (None, "2.19.14", "linear"),        # not installed
])
def test_mitogen_is_chosen_only_where_it_supports_ansible_core(mitogen, core, expected):
    name, reason = choose_strategy(mitogen, core)
    assert name == expected
    assert core in reason or "not installed" in reason


def test_no_accelerate_wins_and_says_so():
    assert choose_strategy((0, 3, 54), "2.19.14", accelerate=False) == ("linear", "plain Ansible (--no-accelerate)")


def test_the_reason_names_what_was_missing():
    assert choose_strategy(None, "2.19.14")[1] == "plain Ansible (Mitogen is not installed)"
    assert "Mitogen 0.3.54 does not support ansible-core 2.22.0" in choose_strategy((0, 3, 54), "2.22.0")[1]


def test_the_installed_pair_is_detected_with_the_plugin_directory():
    # this project pins ansible-core 2.19 and installs Mitogen 0.3.54 or newer
    accelerated = detect_strategy()
    assert accelerated.accelerated and (accelerated.plugins_dir / "mitogen_linear.py").is_file()
    plain = detect_strategy(accelerate=False)
    assert not plain.accelerated and plain.plugins_dir is None


def test_each_strategy_sets_the_ansible_strategy_explicitly(tmp_path):
    assert strategy_environment(Strategy("linear", "plain")) == {"ANSIBLE_STRATEGY": "linear"}
    env = strategy_environment(Strategy("mitogen_linear", "fast", tmp_path))
    assert env == {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(tmp_path)}


def test_a_busy_controller_gets_a_connect_timeout_the_users_own_wins(tmp_path, monkeypatch):
    from provdc.playbooks.runner import CONNECT_TIMEOUT, _environment

    monkeypatch.delenv("ANSIBLE_TIMEOUT", raising=False)
    assert _environment(tmp_path)["ANSIBLE_TIMEOUT"] == str(CONNECT_TIMEOUT) and CONNECT_TIMEOUT > 10   # Ansible's own 10 s
    monkeypatch.setenv("ANSIBLE_TIMEOUT", "75")
    assert _environment(tmp_path)["ANSIBLE_TIMEOUT"] == "75"
