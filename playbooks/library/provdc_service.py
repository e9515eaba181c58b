#!/usr/bin/python
"""provdc_service: a daemon runs (and, under systemd, starts at boot), in one module run on
either init system.

Under systemd (PID 1: /run/systemd/system exists) the unit is enabled and started with
systemctl; without it (lab twins, containers) the package's init script starts it when its
`status` says it is not running. A role needed two tasks for this (systemd_service, then
sysvinit), the one not for the host's init system skipped but still evaluated on every host and
run: now it is one task. `systemd_only: true` leaves a host without systemd alone (a daemon that
belongs to the machine, such as auditd on a lab twin, whose hosts share one kernel).
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: provdc_service
short_description: Ensure a daemon is running (and enabled under systemd) on systemd or init-script hosts
options:
  name: {description: The unit and init script name, type: str, required: true}
  started: {description: Whether it must be running, type: bool, default: true}
  enabled: {description: Whether it starts at boot (systemd), type: bool, default: true}
"""


def plan(systemd: bool, enabled: bool | None, active: bool, want_enabled: bool, want_started: bool) -> list[str]:
    """The actions (enable, start) a host needs. Pure: main() asks the host."""
    actions = []
    if systemd and want_enabled and not enabled:
        actions.append("enable")
    if want_started and not active:
        actions.append("start")
    return actions


def main() -> None:
    module = AnsibleModule(argument_spec={"name": {"type": "str", "required": True},
                                          "started": {"type": "bool", "default": True},
                                          "enabled": {"type": "bool", "default": True}},
                           supports_check_mode=True)
    name, p = module.params["name"], module.params
    systemd = os.path.isdir("/run/systemd/system")
    if systemd:
        systemctl = module.get_bin_path("systemctl", required=True)
        enabled = module.run_command([systemctl, "is-enabled", name])[0] == 0  # as systemd_service reads it
        active = module.run_command([systemctl, "is-active", name])[0] == 0
        commands = {"enable": [systemctl, "enable", name], "start": [systemctl, "start", name]}
    else:
        script = f"/etc/init.d/{name}"
        if not os.path.exists(script):
            module.fail_json(msg=f"{name}: no systemd on this host and no init script {script}")
        enabled = None
        active = module.run_command([script, "status"])[0] == 0
        commands = {"start": [script, "start"]}
    actions = plan(systemd, enabled, active, p["enabled"], p["started"])
    if not module.check_mode:
        for action in actions:
            rc, out, err = module.run_command(commands[action])
            if rc != 0:
                module.fail_json(msg=f"{name}: {' '.join(commands[action])} failed: {(err or out).strip() or f'exit {rc}'}")
    module.exit_json(changed=bool(actions), init="systemd" if systemd else "other", actions=actions)


if __name__ == "__main__":
    main()
