"""How provdc reaches a managed host over SSH: the one place its settings become an OpenSSH
command line (audits, the lab), Ansible host variables (provisioning and the exported
inventory) or pyinfra host data. Host keys are always checked against the inventory's
known_hosts file when it names one, keys are offered only explicitly, and a key given as
`env:NAME` is looked up where it is used, never written out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from provdc.inventory import model
from provdc.inventory.index import Inventory
from provdc.secrets import SecretRef


@dataclass(frozen=True)
class Connection:
    host: str                        # server or device id
    user: str
    address: str
    port: int
    key: SecretRef | None            # a key file (file:) or a variable naming one (env:)
    base: Path                       # the inventory directory, for relative key paths
    known_hosts: str | None
    # discovery meets hosts nobody has recorded yet: their keys are learnt into known_hosts
    # (accept-new) instead of refused; a key that changes later is still refused
    first_use: bool = False

    @classmethod
    def of(cls, inv: Inventory, host: model.Server | model.Device) -> "Connection":
        if host.ssh is None or host.address is None:
            raise ValueError(f"{host.id} is not managed over SSH")
        key = SecretRef.parse(host.ssh.key) if host.ssh.key else None
        return cls(host.id, host.ssh.user, str(host.address), host.ssh.port, key, inv.base, host.ssh.known_hosts)

    def with_files(self, key: Path, known_hosts: Path) -> "Connection":
        """The same host reached with other key and known_hosts files (the lab's own)."""
        return replace(self, key=SecretRef("file", str(key)), known_hosts=str(known_hosts))

    def key_path(self) -> str | None:
        """The private key's path, resolved now (an env: reference names the path)."""
        if self.key is None:
            return None
        return str(self.key.path(self.base)) if self.key.scheme == "file" else self.key.resolve(self.base)

    def ssh_options(self) -> list[str]:
        """Options every connection carries: only the key given, host keys checked."""
        options = ["-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            strict = "accept-new" if self.first_use else "yes"
            options += ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", f"StrictHostKeyChecking={strict}"]
        return options

    def ssh_argv(self, *command: str, connect_timeout: int = 5, keepalive: int | None = None) -> list[str]:
        """An OpenSSH command line that never prompts (BatchMode), gives up connecting after
        `connect_timeout` seconds and, with `keepalive`, notices a dead peer of a long session."""
        key = self.key_path()
        alive = ["-o", f"ServerAliveInterval={keepalive}"] if keepalive else []
        return ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, connect_timeout)}", *alive,
                *self.ssh_options(), *(["-i", key] if key else []), "-p", str(self.port),
                f"{self.user}@{self.address}", *command]

    def ansible_vars(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ansible_host": self.address, "ansible_port": self.port, "ansible_user": self.user}
        if self.key is not None:
            # an env: key's path comes from the environment of the run, never from the inventory file
            out["ansible_ssh_private_key_file"] = (str(self.key.path(self.base)) if self.key.scheme == "file"
                                                   else "{{ lookup('env', '%s') }}" % self.key.target)
        out["ansible_ssh_common_args"] = " ".join(self.ssh_options())
        return out

    def pyinfra_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ssh_hostname": self.address, "ssh_port": self.port, "ssh_user": self.user,
                                "ssh_allow_agent": False, "ssh_look_for_keys": False,
                                # pyinfra otherwise writes to ~/.ssh/known_hosts with accept-new
                                "ssh_strict_host_key_checking": "yes"}
        if self.known_hosts:
            data["ssh_known_hosts_file"] = self.known_hosts
        return data
