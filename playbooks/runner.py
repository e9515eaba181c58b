"""`provdc provision`: the inventory becomes an Ansible inventory and site.yml runs through
ansible-runner, with live per-host progress, a summary and the run's artifacts kept.

Exit codes: 0 every host converged, 4 some host failed or was unreachable, 1 a tool error.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from provdc.errors import ProvdcError
from provdc.inventory import Inventory
from provdc.inventory.exports import to_ansible_dict
from provdc.playbooks import PLAYBOOKS_DIR
from provdc.secrets import redact

PLAYBOOKS = PLAYBOOKS_DIR


@dataclass
class HostSummary:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Strategy:
    """How a run executes its roles: Mitogen's strategy (one Python interpreter per host, kept
    for the whole run) or Ansible's own linear strategy (one AnsiballZ upload and Python start
    per module run). `reason` says why, for the run's first line."""
    name: str                        # "mitogen_linear" or "linear"
    reason: str
    plugins_dir: Path | None = None  # Mitogen's strategy plugins, when it is the choice

    @property
    def accelerated(self) -> bool:
        return self.name == "mitogen_linear"


# The newest ansible-core (major, minor) each Mitogen release supports, from its changelog:
# 0.3.25 added 2.19, 0.3.54 covers 2.19 to 2.21. A pairing outside this table runs plain Ansible.
MITOGEN_SUPPORTS: tuple[tuple[tuple[int, int, int], tuple[int, int]], ...] = (
    ((0, 3, 25), (2, 19)),
    ((0, 3, 54), (2, 21)),
)
MITOGEN_OLDEST_ANSIBLE = (2, 10)
# seconds an SSH connection (Mitogen's: and its interpreter's start) may take before Ansible calls
# the host unreachable. Ansible's 10 s failed 7 of 10 lab hosts with "Connection timed out" on a
# controller at load 15 (two cores, the test tiers side by side). The price: a host whose packets
# are dropped (powered off, its link down) is called unreachable after 30 s, not 10.
# ANSIBLE_TIMEOUT in the environment wins.
CONNECT_TIMEOUT = 30
DEPRECATION_NOTE = ("ansible-core 2.19 warns that strategy plugins outside ansible.builtin are deprecated; "
                    "plain Ansible (--no-accelerate) is the tested fallback")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def choose_strategy(mitogen: tuple[int, ...] | None, ansible_core: str, accelerate: bool = True) -> tuple[str, str]:
    """(strategy, reason) for a Mitogen version (None: not importable) and an ansible-core
    version. Pure: the I/O is in detect_strategy."""
    if not accelerate:
        return "linear", "plain Ansible (--no-accelerate)"
    if mitogen is None:
        return "linear", "plain Ansible (Mitogen is not installed)"
    core = _version_tuple(ansible_core)[:2]
    mitogen_text = ".".join(map(str, mitogen))
    newest = max((ansible for release, ansible in MITOGEN_SUPPORTS if tuple(mitogen) >= release), default=None)
    if newest is None or not MITOGEN_OLDEST_ANSIBLE <= core <= newest:
        return "linear", f"plain Ansible (Mitogen {mitogen_text} does not support ansible-core {ansible_core})"
    return "mitogen_linear", f"Mitogen {mitogen_text} on ansible-core {ansible_core} (mitogen_linear strategy)"


def detect_strategy(accelerate: bool = True) -> Strategy:
    """Mitogen's strategy when it is importable and supports the installed ansible-core, else
    Ansible's linear strategy. Checked once at the start of a run."""
    from importlib.metadata import version

    ansible_core = version("ansible-core")
    try:
        import ansible_mitogen
        import mitogen
    except ImportError:
        mitogen_version = None
    else:
        mitogen_version = tuple(mitogen.__version__)
    name, reason = choose_strategy(mitogen_version if accelerate else None, ansible_core, accelerate)
    if name == "linear":
        return Strategy(name, reason)
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    if not (plugins / f"{name}.py").is_file():
        return Strategy("linear", f"plain Ansible (Mitogen's {name} plugin is missing from {plugins})")
    return Strategy(name, reason, plugins)


@dataclass
class ProvisionResult:
    status: str
    rc: int
    run_dir: Path
    hosts: dict[str, HostSummary] = field(default_factory=dict)
    strategy: Strategy | None = None
    canary: str | None = None        # the host that went first, with --canary
    canary_failed: bool = False      # it did not converge or took new logins away: the rest waited

    @property
    def exit_code(self) -> int:
        converged = self.status == "successful" and not any(h.failed or h.unreachable for h in self.hosts.values())
        return 0 if converged and not self.canary_failed else 4


def _control_dir(run_dir: Path) -> Path:
    import hashlib

    path = Path("/run/provdc/cp") / hashlib.sha256(str(run_dir).encode()).hexdigest()[:10]
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def ansible_inventory(inv: Inventory) -> dict:
    """The generated inventory, connection settings (strict host keys) included: the same the
    exported inventory carries (inventory.connection)."""
    return to_ansible_dict(inv)


def host_count(inv: Inventory) -> int:
    """Servers plus the Linux devices whose snmpd provdc provisions."""
    return len(inv.servers) + len(inv.snmp_agents)


def provision(inv: Inventory, *, check: bool = False, diff: bool = False, limit: str | None = None,
              tags: list[str] | None = None, forks: int | None = None, canary: bool = False,
              runs_dir: Path = Path("/var/lib/provdc/runs"), strategy: Strategy | None = None,
              timeout: int | None = None,
              on_event: Callable[[str, str, str], None] = lambda host, task, state: None) -> ProvisionResult:
    """Run site.yml on the inventory's servers, on `strategy` (default: detect_strategy()).
    With `canary`, one host goes first and the rest only follow when it converged and still
    accepts a brand-new SSH login. `timeout` (seconds, default none) ends a playbook run that
    takes longer as an error."""
    if not select_hosts(inv, limit):
        # Ansible would only warn and call a run on no host a success
        raise ProvdcError(f"--limit {limit!r} selects no server or provisioned device of {inv.province.id}")
    run_dir = runs_dir / f"{inv.province.id}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}"
    (run_dir / "private").mkdir(parents=True, exist_ok=True, mode=0o700)  # runner needs it to exist
    strategy = strategy or detect_strategy()
    env = _environment(run_dir)
    options = {"check": check, "diff": diff, "tags": tags, "forks": forks, "timeout": timeout, "on_event": on_event}
    if not canary:
        return _with_strategy(_run_playbook(inv, run_dir, env | strategy_environment(strategy), limit=limit, **options),
                              strategy)
    host = pick_canary(inv, limit)
    first = _run_playbook(inv, run_dir, env | strategy_environment(strategy), limit=host, **options)
    first.canary = host
    if first.exit_code != 0 or not _fresh_login(inv, run_dir, env, host):
        first.canary_failed = True
        return _with_strategy(first, strategy)
    rest = _run_playbook(inv, run_dir, env | strategy_environment(strategy), limit=f"{limit or 'all'},!{host}", **options)
    rest.hosts = {**first.hosts, **rest.hosts}
    rest.canary = host
    return _with_strategy(rest, strategy)


def _with_strategy(result: ProvisionResult, strategy: Strategy) -> ProvisionResult:
    result.strategy = strategy
    return result


def strategy_environment(strategy: Strategy) -> dict[str, str]:
    """Ansible settings that select the strategy. Plays marked `strategy: linear` (package
    installation) keep Ansible's own strategy either way."""
    if not strategy.accelerated:
        return {"ANSIBLE_STRATEGY": "linear"}
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategy.plugins_dir), "ANSIBLE_STRATEGY": strategy.name}


def select_hosts(inv: Inventory, limit: str | None) -> list[str]:
    """The hosts (servers, then provisioned devices, in inventory order) that an Ansible limit
    selects: ids or group names, with shell wildcards, comma-separated; `!pattern` excludes."""
    groups = to_ansible_dict(inv)["all"]["children"]
    patterns = [p.strip() for p in (limit or "all").split(",") if p.strip()]

    def matches(host_id: str, pattern: str) -> bool:
        names = [host_id, "all", *(g for g, members in groups.items() if host_id in members["hosts"])]
        return any(fnmatch.fnmatchcase(name, pattern) for name in names)

    hosts = [*inv.servers, *(d.id for d in inv.snmp_agents)]
    return [h for h in hosts if any(matches(h, p) for p in patterns if not p.startswith("!"))
            and not any(matches(h, p[1:]) for p in patterns if p.startswith("!"))]


def pick_canary(inv: Inventory, limit: str | None) -> str:
    """The first server (inventory order) that the limit selects."""
    server = next((h for h in select_hosts(inv, limit) if h in inv.servers), None)
    if server is None:
        raise ProvdcError(f"--canary: no server matches --limit {limit!r}")
    return server


def _environment(run_dir: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        # ansible-runner runs `ansible-playbook` from PATH: the interpreter's own bin comes first
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_TIMEOUT": os.environ.get("ANSIBLE_TIMEOUT", str(CONNECT_TIMEOUT)),
        # setting ssh_args replaces Ansible's defaults, so ControlMaster/ControlPersist are repeated
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s",
        # control sockets live in a short directory: a socket path over 108 bytes makes every host
        # look unreachable (deep run directories, such as test temp paths, exceed it)
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(_control_dir(run_dir)),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_HOME": str(run_dir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_ROLES_PATH": str(PLAYBOOKS / "roles"),
        "ANSIBLE_NOCOLOR": "True",
    }


def _run_playbook(inv: Inventory, run_dir: Path, env: dict[str, str], *, check: bool, diff: bool, limit: str | None,
                  tags: list[str] | None, forks: int | None, timeout: int | None,
                  on_event: Callable[[str, str, str], None]) -> ProvisionResult:
    import ansible_runner

    cmdline = " ".join(x for x in ("--check" if check else "", "--diff" if diff else "") if x)

    def handler(event: dict) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        state = {"runner_on_ok": "changed" if data.get("res", {}).get("changed") else "ok", "runner_on_failed": "failed",
                 "runner_on_unreachable": "unreachable", "runner_on_skipped": "skipped"}.get(kind)
        if state and data.get("host"):
            on_event(data["host"], data.get("task", ""), state)
        return True

    r = ansible_runner.run(private_data_dir=str(run_dir / "private"), project_dir=str(PLAYBOOKS), playbook="site.yml",
                           inventory=ansible_inventory(inv), limit=limit, tags=",".join(tags) if tags else None,
                           forks=forks or max(1, host_count(inv)), envvars=env, cmdline=cmdline or None,
                           event_handler=handler, quiet=True, rotate_artifacts=20, timeout=timeout)
    if r.status not in ("successful", "failed") or r.stats is None:
        stdout = redact((r.stdout.read() if hasattr(r.stdout, "read") else "")[-800:])
        raise ProvdcError(f"ansible-runner ended '{r.status}' (rc {r.rc}): {stdout}")
    hosts: dict[str, HostSummary] = {}
    for key, attr in (("ok", "ok"), ("changed", "changed"), ("failures", "failed"), ("dark", "unreachable"), ("skipped", "skipped")):
        for host, count in (r.stats.get(key) or {}).items():
            setattr(hosts.setdefault(host, HostSummary()), attr, count)
    return ProvisionResult(r.status, r.rc, run_dir, hosts)


def _fresh_login(inv: Inventory, run_dir: Path, env: dict[str, str], host: str) -> bool:
    """A new SSH connection (no shared master) still logs in: the canary's sshd and firewall
    let administrators back in, not only the session that changed them. Always plain Ansible's
    ssh connection (`env` selects no strategy): that is the login an administrator makes."""
    import ansible_runner

    fresh = {**env, "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ControlPath=none"}
    r = ansible_runner.run(private_data_dir=str(run_dir / "private"), inventory=ansible_inventory(inv), host_pattern=host,
                           module="ansible.builtin.ping", envvars=fresh, quiet=True, rotate_artifacts=20)
    return r.status == "successful" and not (r.stats or {}).get("dark")
