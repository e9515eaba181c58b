"""One connection model for every managed host: the audit's ssh, the lab's ssh, provisioning's
and the exported Ansible inventory's settings all come from it and agree."""

from __future__ import annotations

import yaml

from provdc.checks.engine import ssh_argv
from provdc.inventory import exports
from provdc.inventory.connection import Connection
from provdc.playbooks.runner import ansible_inventory


def test_the_audit_connection_checks_host_keys_and_never_prompts(lab_inventory):
    argv = ssh_argv(lab_inventory, lab_inventory.servers["db1"], timeout=20)
    assert argv[:1] == ["ssh"] and argv[-3:] == ["root@10.99.30.11", "sh", "-s"]
    joined = " ".join(argv)
    for option in ("BatchMode=yes", "ConnectTimeout=10", "IdentitiesOnly=yes", "StrictHostKeyChecking=yes",
                   "UserKnownHostsFile=/run/provdc/lab-pd/known_hosts", "-i /run/provdc/lab-pd/id_lab"):
        assert option in joined


def test_the_exported_ansible_inventory_carries_the_host_key_settings_provisioning_uses(lab_inventory):
    exported = yaml.safe_load(exports.to_ansible(lab_inventory))["all"]["hosts"]
    provisioned = ansible_inventory(lab_inventory)["all"]["hosts"]
    for host in ("db1", "wan-rtr"):
        assert "StrictHostKeyChecking=yes" in exported[host]["ansible_ssh_common_args"]
        assert exported[host]["ansible_ssh_common_args"] == provisioned[host]["ansible_ssh_common_args"]


def test_an_env_key_is_looked_up_at_use_and_never_written(lab_inventory, monkeypatch):
    server = lab_inventory.servers["db1"]
    server = server.model_copy(update={"ssh": server.ssh.model_copy(update={"key": "env:PROVDC_TEST_KEY"})})
    conn = Connection.of(lab_inventory, server)
    assert conn.ansible_vars()["ansible_ssh_private_key_file"] == "{{ lookup('env', 'PROVDC_TEST_KEY') }}"
    monkeypatch.setenv("PROVDC_TEST_KEY", "/keys/db1")
    assert "-i /keys/db1" in " ".join(conn.ssh_argv("true"))


def test_discovery_learns_unknown_host_keys_into_its_own_file_and_audits_never_do(tmp_path):
    from provdc.secrets import SecretRef

    learnt = Connection("10.99.30.11", "root", "10.99.30.11", 22, SecretRef("file", "/k"), tmp_path,
                        str(tmp_path / "known_hosts"), first_use=True)
    joined = " ".join(learnt.ssh_argv("true"))
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in joined and "StrictHostKeyChecking=accept-new" in joined
    strict = Connection("10.99.30.11", "root", "10.99.30.11", 22, None, tmp_path, str(tmp_path / "known_hosts"))
    assert "StrictHostKeyChecking=yes" in " ".join(strict.ssh_argv("true"))


def test_the_national_runner_is_reached_through_the_same_connection_model(tmp_path):
    from provdc.playbooks.remote import RunnerHost

    runner = RunnerHost("127.0.0.1", 2222, "provdc", "file:keys/runner", tmp_path / "known_hosts")
    argv = runner.ssh_argv(tmp_path)
    assert argv[0] == "ssh" and argv[-1] == "provdc@127.0.0.1"     # the worker command is appended after
    joined = " ".join(argv)
    for option in ("BatchMode=yes", "IdentitiesOnly=yes", "StrictHostKeyChecking=yes", "ServerAliveInterval=10",
                   f"UserKnownHostsFile={tmp_path / 'known_hosts'}", f"-i {tmp_path / 'keys/runner'}", "-p 2222"):
        assert option in joined
