"""Offline: every check's provisioning tag is a real role, remediation plans, canary choice."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from provdc.checks.engine import DEFAULT
from provdc.checks.results import AuditRun, Finding, Status
from provdc.errors import ProvdcError
from provdc.playbooks import PLAYBOOKS_DIR
from provdc.playbooks.remediate import plan_remediation
from provdc.playbooks.runner import pick_canary


def role_tasks(play: dict) -> list[dict]:
    """A play's roles as `{role:, tags:}`: listed under `roles`, or imported by the file its gate
    includes (the servers' baseline, tasks/baseline.yml)."""
    roles = list(play.get("roles", []))
    for task in play.get("tasks", []):
        if task.get("ansible.builtin.include_tasks") == "tasks/baseline.yml":
            included = yaml.safe_load((PLAYBOOKS_DIR / "tasks/baseline.yml").read_text())
            roles += [{"role": t["ansible.builtin.import_role"]["name"], "tags": t["tags"]} for t in included]
    return roles


def site_tags() -> set[str]:
    plays = yaml.safe_load((PLAYBOOKS_DIR / "site.yml").read_text())
    return {tag for play in plays for role in role_tasks(play) for tag in role["tags"]}


def test_site_yml_plays_target_the_generated_groups():
    # the baseline runs on servers only, snmpd on the provisioned link endpoints only; each
    # group asks its hosts what they have on the run's strategy, installs what is missing always
    # on Ansible's linear strategy (Mitogen cannot respawn apt), then applies its roles on the
    # run's strategy
    plays = yaml.safe_load((PLAYBOOKS_DIR / "site.yml").read_text())
    assert [(p["hosts"], p.get("strategy")) for p in plays] == [
        ("servers", None), ("servers", "linear"), ("servers", None),
        ("snmp_agents", None), ("snmp_agents", "linear"), ("snmp_agents", None)]
    roles = [sorted(t for r in role_tasks(p) for t in r["tags"]) for p in plays]
    assert roles[5] == ["snmpd"] and "snmpd" not in roles[2]
    for asks, packages, play in ((plays[0], plays[1], plays[2]), (plays[3], plays[4], plays[5])):
        # the prelude runs whenever one of the group's roles does, and only then
        [prelude] = asks["tasks"]
        assert prelude["ansible.builtin.import_tasks"] == "tasks/prelude.yml"
        assert sorted(prelude["tags"]) == sorted(t for r in role_tasks(play) for t in r["tags"])
        assert "pre_tasks" not in play and "pre_tasks" not in packages  # facts carry over from the first play
        assert all(p["vars_files"][0] == "vars/host.yml" for p in (asks, packages, play))
    # the servers' package tasks are included once, only when one of their packages is missing;
    # the routers' one task is its role's own; each package task is under its role's tag
    [include] = plays[1]["tasks"]
    assert include["ansible.builtin.include_tasks"] == "tasks/packages.yml"
    included = yaml.safe_load((PLAYBOOKS_DIR / "tasks/packages.yml").read_text())
    assert sorted(include["tags"]) == sorted(t["tags"][0] for t in included)
    for task in included + plays[4]["tasks"]:
        role = task["ansible.builtin.import_role"]
        assert task["tags"] == [role["name"]] and role["tasks_from"] == "packages"


def test_the_servers_roles_run_only_behind_the_gate_that_checks_every_roles_files():
    # one check of every role's files, then the roles (each under its tag) only where something
    # differs; the check and the gate carry every role tag, so `--tags sshd` reaches sshd
    plays = yaml.safe_load((PLAYBOOKS_DIR / "site.yml").read_text())
    check, gate = plays[2]["tasks"]
    tags = sorted(t for r in role_tasks(plays[2]) for t in r["tags"])
    assert "roles" not in plays[2] and sorted(check["tags"]) == sorted(gate["tags"]) == tags
    assert check["check_mode"] is True and check["changed_when"] is False
    assert check["provdc_files"]["files"] == "{{ provdc_baseline_files }}"
    for term in ("provdc_files_drift.changed_paths", "provdc_daemons_due", "provdc_ageing_due", "difference(provdc_installed)"):
        assert term in gate["when"]
    # every role's own task applies its list of vars/baseline.yml, and the check's list has them all
    spec = yaml.safe_load((PLAYBOOKS_DIR / "vars/baseline.yml").read_text())
    for role in (r["role"] for r in role_tasks(plays[2])):
        tasks = yaml.safe_load((PLAYBOOKS_DIR / "roles" / role / "tasks/main.yml").read_text())
        files = [t["provdc_files"]["files"] for t in tasks if "provdc_files" in t]
        assert files == [f"{{{{ provdc_files_{role} }}}}"], role
        assert f"provdc_files_{role}" in spec["provdc_baseline_files"] and spec[f"provdc_files_{role}"], role


def test_the_daemons_the_prelude_asks_about_are_the_ones_the_roles_start():
    import re

    started = set()
    for f in (PLAYBOOKS_DIR / "roles").glob("*/tasks/main.yml"):
        for task in yaml.safe_load(f.read_text()):
            module = task.get("provdc_service") or task.get("ansible.builtin.systemd_service")
            if module and f.parent.parent.name != "snmpd":
                started.add(module["name"])
    declared = (PLAYBOOKS_DIR / "vars/host.yml").read_text().split("provdc_baseline_daemons:")[1].split("\n#")[0]
    assert set(re.findall(r"'name': '([^']+)'", declared)) == started


def test_the_packages_the_prelude_asks_about_are_the_ones_the_roles_install():
    names = {t["ansible.builtin.apt"]["name"] for f in (PLAYBOOKS_DIR / "roles").glob("*/tasks/packages.yml")
             for t in yaml.safe_load(f.read_text())}
    prelude = yaml.safe_load((PLAYBOOKS_DIR / "tasks/prelude.yml").read_text())[0]["ansible.builtin.shell"]
    assert all(f" {name}" in prelude for name in names)
    baseline = (PLAYBOOKS_DIR / "vars/host.yml").read_text().split("provdc_baseline_packages:")[1]
    assert {n for n in names if f"'{n}'" in baseline} == names - {"snmpd"}


def test_package_installation_happens_only_in_the_linear_plays():
    for tasks in (PLAYBOOKS_DIR / "roles").glob("*/tasks/*.yml"):
        uses_apt = any("ansible.builtin.apt" in task for task in yaml.safe_load(tasks.read_text()) or [])
        assert uses_apt == (tasks.name == "packages.yml"), tasks


def test_every_check_tag_names_a_role_of_site_yml():
    tags = site_tags()
    assert all((PLAYBOOKS_DIR / "roles" / t / "tasks/main.yml").exists() for t in tags)
    unknown = {c.id: t for c in DEFAULT for t in c.tags if t not in tags}
    assert unknown == {}


def test_roles_cover_the_host_baseline():
    assert {"sshd", "firewall", "time", "logging", "auditd", "password_policy", "updates"} <= site_tags()


def _finding(check: str, status: Status, host: str | None) -> Finding:
    c = DEFAULT[check]
    return Finding(check=check, layer=c.layer, severity=c.severity, status=status, host=host)


def _run(*findings: Finding) -> AuditRun:
    return AuditRun(province="lab", started=datetime.now(timezone.utc), finished=datetime.now(timezone.utc),
                    findings=list(findings))


def test_plan_runs_only_the_fixing_roles_on_the_failed_hosts():
    run = _run(_finding("ssh_password_auth_disabled", Status.FAIL, "app1"),
               _finding("time_synchronised", Status.FAIL, "db1"),
               _finding("kernel_ip_forward_off", Status.PASS, "db1"),          # passed: nothing to do
               _finding("ssh_port_not_default", Status.FAIL, "db1"),           # no role fixes it
               _finding("auditd_running", Status.ERROR, "db2"))                # unknown state: not "fixed" blindly
    plan = plan_remediation(run, DEFAULT)
    assert plan.tags == ["sshd", "time"] and plan.hosts == ["app1", "db1"] and plan.limit == "app1,db1"
    assert plan.manual == ["ssh_port_not_default"]


def test_plan_with_nothing_failed_is_empty():
    plan = plan_remediation(_run(_finding("ssh_password_auth_disabled", Status.PASS, "app1")), DEFAULT)
    assert (plan.tags, plan.limit, plan.manual) == ([], None, [])


def test_canary_is_the_first_selected_server(lab_inventory):
    first = lab_inventory.doc.servers[0].id
    assert pick_canary(lab_inventory, None) == first
    assert pick_canary(lab_inventory, f"all,!{first}") == lab_inventory.doc.servers[1].id
    assert pick_canary(lab_inventory, "db*") == "db1"
    assert pick_canary(lab_inventory, "role_database") == "db1"
    with pytest.raises(ProvdcError, match="no server matches"):
        pick_canary(lab_inventory, "nothing-here")


def test_a_limit_selects_servers_and_provisioned_devices_by_id_and_group(lab_inventory):
    from provdc.playbooks.runner import select_hosts

    assert select_hosts(lab_inventory, "snmp_agents") == ["wan-rtr", "inet-rtr"]
    assert select_hosts(lab_inventory, "servers,!db*") == [s for s in lab_inventory.servers if not s.startswith("db")]
    assert select_hosts(lab_inventory, "*-rtr,db1") == ["db1", "wan-rtr", "inet-rtr"]
    assert select_hosts(lab_inventory, "core-fw") == []  # an appliance: not provisioned by provdc


def test_a_limit_that_selects_nothing_is_an_error_not_an_empty_success(lab_inventory, tmp_path):
    from provdc.playbooks.runner import provision

    with pytest.raises(ProvdcError, match="selects no server or provisioned device"):
        provision(lab_inventory, limit="nothing-here", runs_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was started or written
