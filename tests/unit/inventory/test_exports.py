"""Exports are read back by their real consumers: ansible-inventory, pyinfra's inventory
loader and Prometheus' own file_sd discovery (promtool)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provdc.inventory import exports, load_inventory
from tests.conftest import EXAMPLES

BIN = Path(sys.executable).parent


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ansible_inventory_parses_the_export(lab_inventory, tmp_path):
    path = _write(tmp_path, "hosts.yml", exports.to_ansible(lab_inventory))
    result = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
                            capture_output=True, text=True, check=True, env={"PATH": str(BIN) + ":/usr/bin:/bin",
                                                                             "ANSIBLE_HOME": str(tmp_path)})
    listed = json.loads(result.stdout)
    assert "[WARNING]" not in result.stderr, result.stderr
    assert sorted(listed["role_web"]["hosts"]) == ["portal-web1", "portal-web2"]
    assert sorted(listed["level_2"]["hosts"]) == ["docs-app1", "mail1"]
    assert sorted(listed["system_portal"]["hosts"]) == ["db1", "portal-web1", "portal-web2"]
    assert sorted(listed["zone_dc_db"]["hosts"]) == ["db1", "db2"]
    assert "agency_so_khcn" in listed and "site_dc" in listed
    db1 = listed["_meta"]["hostvars"]["db1"]
    assert db1["ansible_host"] == "10.99.30.11" and db1["provdc_level"] == 3


def test_ansible_export_holds_only_what_the_model_says(lab_inventory):
    hosts = exports.to_ansible_dict(lab_inventory)["all"]["hosts"]
    # the servers, and the two Linux edge routers whose snmpd provdc provisions (not the core
    # firewall appliance, which has no `ssh`)
    assert sorted(hosts) == sorted([*lab_inventory.servers, "wan-rtr", "inet-rtr"])
    assert hosts["wan-rtr"]["provdc_snmp"]["interfaces"] == ["wan1", "wan2", "wan3"]  # wan4 is not measured
    assert hosts["wan-rtr"]["provdc_snmp"]["sources"] == ["10.99.40.0/24", "10.99.50.0/24"]
    pg = next(s for s in hosts["db1"]["provdc_services"] if s["name"] == "postgresql")
    # from: [dc-srv, dc-dmz] resolves to exactly those two zones' CIDRs
    assert pg["sources"] == ["10.99.10.0/24", "10.99.20.0/24"]
    https = next(s for s in hosts["docs-app1"]["provdc_services"] if s["name"] == "https")
    assert https["sources"] == ["10.99.100.0/30", "10.99.100.4/30", "10.99.100.8/30", "10.99.100.12/30"]
    web = next(s for s in hosts["portal-web1"]["provdc_services"] if s["name"] == "https")
    assert web["sources"] == ["0.0.0.0/0"]


def test_env_secret_reference_is_never_resolved_into_the_export(tmp_path, monkeypatch):
    text = (Path(__file__).parent / "valid" / "minimal.yaml").read_text().replace("key: file:keys/id", "key: env:DEPLOY_KEY_PATH")
    inv = load_inventory(_write(tmp_path, "inv.yaml", text))
    monkeypatch.setenv("DEPLOY_KEY_PATH", "/very/secret/location")
    for fmt in ("ansible", "pyinfra", "json"):
        assert "/very/secret/location" not in exports.EXPORTERS[fmt](inv)
    assert exports.to_ansible_dict(inv)["all"]["hosts"]["web1"]["ansible_ssh_private_key_file"] == \
        "{{ lookup('env', 'DEPLOY_KEY_PATH') }}"


# pyinfra's CLI package monkey-patches the whole process with gevent on import (pyinfra_cli/__init__.py),
# after which pexpect (ansible-runner) hangs forever in fork: so pyinfra loads the export in its own process
PYINFRA_LOADER = """
import json, sys
from pyinfra.api import State
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory
with ctx_state.use(State(check_for_changes=False)):  # what the pyinfra CLI sets up first
    inv = make_inventory(sys.argv[1], cwd=sys.argv[2])
db1 = inv.get_host("db1").data
print(json.dumps({"names": sorted(h.name for h in inv),
                  "db1": [db1.ssh_hostname, db1.ssh_key, db1.ssh_strict_host_key_checking],
                  "role_database": sorted(h.name for h in inv.get_group("role_database"))}))
"""


def test_pyinfra_loads_the_export(lab_inventory, tmp_path):
    path = _write(tmp_path, "inventory.py", exports.to_pyinfra(lab_inventory))
    done = subprocess.run([sys.executable, "-c", PYINFRA_LOADER, str(path), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["names"] == sorted(lab_inventory.servers)
    assert loaded["db1"] == ["10.99.30.11", "/run/provdc/lab-pd/id_lab", "yes"]
    assert loaded["role_database"] == ["db1", "db2"]


def test_importing_provdc_never_monkey_patches_the_process():
    """gevent's patching would make every later ansible-runner call hang (see PYINFRA_LOADER)."""
    probe = "import socket, sys, provdc.cli; print('pyinfra_cli' in sys.modules, socket.socket.__module__)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "socket"], done.stderr


LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@pytest.mark.parametrize("kind", exports.SD_KINDS)
def test_file_sd_shape(lab_inventory, kind):
    groups = exports.file_sd(lab_inventory, kind)
    assert groups, kind
    for group in groups:
        assert set(group) == {"targets", "labels"}
        assert all(isinstance(t, str) and t for t in group["targets"])
        assert all(LABEL_NAME.match(k) and isinstance(v, str) and v for k, v in group["labels"].items())


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_prometheus_discovers_the_file_sd_targets(lab_inventory, tmp_path):
    sd = _write(tmp_path, "services.json", exports.to_file_sd(lab_inventory, "services"))
    config = _write(tmp_path, "prometheus.yml", yaml.safe_dump(
        {"scrape_configs": [{"job_name": "svc", "file_sd_configs": [{"files": [str(sd)]}]}]}))
    # promtool waits out its whole timeout; file discovery reads the file at once (0.2 s sufficed)
    result = subprocess.run(["promtool", "check", "service-discovery", "--timeout=1s", str(config), "svc"],
                            capture_output=True, text=True, timeout=30, check=True)
    targets = json.loads(result.stdout)
    expected = sum(len(s.services) for s in lab_inventory.doc.servers)
    assert len(targets) == expected
    pg = [t["labels"] for t in targets if t["labels"]["__address__"] == "10.99.30.11:5432"]
    assert pg and pg[0]["service"] == "postgresql" and pg[0]["systems"] == ",portal,mcdt,"


def test_exports_are_deterministic(lab_inventory):
    again = load_inventory(EXAMPLES / "lab")
    for fmt in ("ansible", "pyinfra", "json"):
        assert exports.EXPORTERS[fmt](lab_inventory) == exports.EXPORTERS[fmt](again)


def test_stats_of_thua_thien_hue_match_public_figures():
    from provdc.inventory.stats import compute_stats

    s = compute_stats(load_inventory(EXAMPLES / "thua-thien-hue"))
    assert str(s.agencies_on_wan["province"]) == "34/34"
    assert str(s.agencies_on_wan["district"]) == "56/56"
    assert str(s.agencies_on_wan["commune"]) == "27/27"
    assert s.bandwidth_per_link_kind["internet_domestic"].a_to_b_bps == 100_000_000
    assert s.bandwidth_per_link_kind["internet_international"].a_to_b_bps == 2_000_000


def test_stats_of_soc_trang_and_lab():
    from provdc.inventory.stats import compute_stats

    st = compute_stats(load_inventory(EXAMPLES / "soc-trang"))
    assert st.video_points == 129 and sum(st.servers_per_zone.values()) == 24
    lab = compute_stats(load_inventory(EXAMPLES / "lab"))
    assert str(lab.agencies_with_lan["all"]) == "5/6" and lab.agencies_with_lan["all"].percent == 83.3
    assert str(lab.agencies_on_wan["commune"]) == "2/3"


def _with_linux_router(tmp_path: Path, community: str = "env:SNMP_COMMUNITY") -> Path:
    text = (Path(__file__).parent / "valid" / "minimal.yaml").read_text()
    text = text.replace("    address: 10.20.40.2\n    snmp:\n      community: env:SNMP_COMMUNITY\n",
                        "    address: 10.20.40.2\n    os: debian12\n    ssh: {user: admin, key: file:keys/id}\n"
                        f"    snmp:\n      community: {community}\n")
    assert "os: debian12\n    ssh: {user: admin" in text
    return _write(tmp_path, "inv.yaml", text)


def test_a_linux_link_endpoint_is_an_snmp_agent_host(tmp_path, monkeypatch):
    monkeypatch.setenv("SNMP_COMMUNITY", "s3cret-community")
    inv = load_inventory(_with_linux_router(tmp_path))
    path = _write(tmp_path, "hosts.yml", exports.to_ansible(inv))
    assert "s3cret-community" not in path.read_text()  # the reference, never its value
    listed = json.loads(subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"], capture_output=True,
                                       text=True, check=True, env={"PATH": str(BIN) + ":/usr/bin:/bin",
                                                                   "ANSIBLE_HOME": str(tmp_path)}).stdout)
    assert listed["snmp_agents"]["hosts"] == ["rtr1"]
    assert sorted(listed["servers"]["hosts"]) == ["db1", "web1"]  # the baseline play's hosts: no device
    rtr = listed["_meta"]["hostvars"]["rtr1"]
    assert rtr["ansible_host"] == "10.20.40.2" and rtr["ansible_user"] == "admin"
    assert rtr["ansible_ssh_private_key_file"] == str(tmp_path / "keys" / "id")
    snmp = rtr["provdc_snmp"]
    assert snmp["community_env"] == "SNMP_COMMUNITY" and snmp["community_file"] is None
    assert snmp["interfaces"] == ["wan1"]
    assert snmp["sources"] == ["10.20.40.0/24"]  # the management zone, where monitoring polls from


def test_a_file_community_is_passed_as_its_absolute_path(tmp_path):
    inv = load_inventory(_with_linux_router(tmp_path, "file:secrets/snmp"))
    snmp = exports.to_ansible_dict(inv)["all"]["hosts"]["rtr1"]["provdc_snmp"]
    assert snmp["community_file"] == str(tmp_path / "secrets" / "snmp") and snmp["community_env"] is None
    assert snmp["community_ref"] == "file:secrets/snmp"


def test_a_device_without_ssh_is_listed_for_hand_configuration(tmp_path):
    inv = load_inventory(Path(__file__).parent / "valid" / "minimal.yaml")
    assert inv.snmp_agents == [] and [d.id for d in inv.unmanaged_snmp_agents] == ["rtr1"]
    data = exports.to_ansible_dict(inv)["all"]
    assert "rtr1" not in data["hosts"] and "snmp_agents" not in data["children"]
