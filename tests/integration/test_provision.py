"""Provisioning on the mini lab's real hosts: converge, idempotence, check mode changes nothing,
Mitogen and plain Ansible make the same changes, an unreachable host does not stop the others,
remediation from an audit, no secret in artifacts.

One mini lab serves the whole module. A test that needs hosts as the lab builds them asks for
`fresh_mini` (the lab is rebuilt: about a second); one that needs them provisioned asks for
`provisioned_mini` (converged again first, which also undoes whatever the previous test planted
in a role's files). A test that starts a process or stops a host undoes that itself."""

from __future__ import annotations

import functools
import hashlib
import subprocess
import sys

import pytest

from provdc.checks.engine import DEFAULT, Options, run_audit
from provdc.checks.results import Status
from provdc.lab import faults, twin
from provdc.playbooks import runner
from provdc.playbooks.runner import Strategy, detect_strategy
from tests.integration.conftest import MINI_INVENTORY, require_root

pytestmark = [pytest.mark.twin, pytest.mark.own_lab]   # its own lab: run beside the session's (tests/run_tiers.py)

MANAGED = ["/etc/ssh/sshd_config.d/50-provdc-hardening.conf", "/etc/sysctl.d/60-provdc.conf", "/etc/security/pwquality.conf",
           "/etc/security/faillock.conf", "/etc/login.defs", "/etc/profile.d/provdc-tmout.sh", "/etc/systemd/journald.conf.d/provdc.conf",
           "/etc/chrony/chrony.conf", "/etc/default/chrony", "/etc/audit/rules.d/50-provdc.rules", "/etc/audit/auditd.conf",
           "/etc/apt/apt.conf.d/20auto-upgrades", "/etc/default/prometheus-node-exporter", "/etc/nftables.conf"]
PLAIN = Strategy("linear", "plain Ansible (test)")
# a run on the mini lab takes well under a minute: one that hangs fails its test instead of
# holding the machine's lab lock (an ansible-core worker once hung here on a skipped handler)
provision = functools.partial(runner.provision, timeout=300)


def fingerprint(lab) -> dict[tuple[str, str], str]:
    out = {}
    for host in lab.inventory.servers:
        for path in MANAGED:
            p = lab.host_path(host, path)
            out[(host, path)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "absent"
    return out


class MiniLab:
    """The module's mini lab, rebuilt on demand."""

    def __init__(self) -> None:
        self.running = None

    def rebuild(self):
        twin.down(MINI_INVENTORY)
        self.running = twin.up(MINI_INVENTORY)
        return self.running


@pytest.fixture(scope="module")
def mini_module():
    require_root()
    lab = MiniLab()
    lab.rebuild()
    yield lab
    twin.down(MINI_INVENTORY)


@pytest.fixture
def fresh_mini(mini_module):
    """The mini lab as `lab up` builds it (nothing provisioned)."""
    return mini_module.rebuild()


@pytest.fixture
def provisioned_mini(mini_module, tmp_path_factory):
    """The mini lab converged: provisioned again before the test (idempotent when the previous
    test left it converged; otherwise this puts back what that test planted)."""
    running = mini_module.running
    result = provision(running.inventory, runs_dir=tmp_path_factory.mktemp("converge"))
    assert result.exit_code == 0, result.hosts
    return running


def test_check_mode_changes_nothing_then_converge_then_idempotent(fresh_mini, tmp_path):
    mini = fresh_mini
    before = fingerprint(mini)
    dry = provision(mini.inventory, check=True, runs_dir=tmp_path)
    assert dry.exit_code == 0 and all(h.changed > 0 for host, h in dry.hosts.items() if host != "rtr")  # it would change things
    assert fingerprint(mini) == before                                            # and changed nothing
    first = provision(mini.inventory, runs_dir=tmp_path)
    assert first.exit_code == 0 and set(first.hosts) == {"app1", "db1", "rtr"}
    assert all(h.changed > 0 and h.failed == 0 for host, h in first.hosts.items() if host != "rtr")
    # the router's snmpd was seeded by the lab from the role's own template: nothing to change
    assert first.hosts["rtr"].changed == 0 and first.hosts["rtr"].failed == 0
    assert fingerprint(mini) != before
    second = provision(mini.inventory, runs_dir=tmp_path)
    assert second.exit_code == 0 and sum(h.changed for h in second.hosts.values()) == 0
    # the provisioned lab passes every host check a role claims to fix (the check names its role's
    # tag): PASS, waived with a reason, or not applicable; none FAIL, and no check at all ERRORs.
    # The router runs the host layer too, but the baseline roles do not run on devices: its
    # failures are the operators' to fix by hand (--remediate lists them as manual)
    run = run_audit(mini.inventory, Options(layers={"host"}))
    bad = [(f.check, f.host, f.status.value, f.found) for f in run.findings
           if f.status is Status.ERROR or (f.status is Status.FAIL and DEFAULT[f.check].tags and f.host not in mini.inventory.devices)]
    assert bad == []
    passed = {(f.check, f.host) for f in run.findings if f.status is Status.PASS}
    for check in ("ssh_password_auth_disabled", "time_synchronised", "security_updates_automatic", "log_retention_for_level"):
        assert (check, "app1") in passed and (check, "db1") in passed, check
    # chronyd runs on both hosts, never allowed to set the machine's shared clock
    for host in ("app1", "db1"):
        daemons = mini.in_host(host, "sh", "-c", "cat /run/chrony/chronyd.pid | xargs -I{} cat /proc/{}/cmdline | tr '\\0' ' '")
        assert daemons.stdout.startswith("/usr/sbin/chronyd") and " -x" in daemons.stdout, daemons
    assert "server 10.98.1.12 iburst" in mini.host_path("app1", "/etc/chrony/chrony.conf").read_text()
    assert "allow 10.98.1.0/24" in mini.host_path("db1", "/etc/chrony/chrony.conf").read_text()  # db1 serves time
    # the whole audit, all layers: nothing is ERROR, and what still FAILs is only what no role
    # can fix (application settings, evidence), each named in --remediate's manual list
    full = run_audit(mini.inventory, Options())
    assert not [f for f in full.findings if f.status is Status.ERROR]
    still = {f.check for f in full.findings if f.status is Status.FAIL and f.host not in mini.inventory.devices}
    assert all(not DEFAULT[c].tags for c in still), sorted(c for c in still if DEFAULT[c].tags)
    assert mini.ssh("app1", "hostname").stdout.strip() == "app1"  # nobody was locked out
    # the host firewall: default deny, declared services still answer, an undeclared one does not
    assert "policy drop" in mini.ssh("app1", "nft list ruleset").stdout
    assert twin.tcp_open("10.98.1.11", 8443)
    started = mini.in_host("app1", "sh", "-c", "setsid python3 -m http.server 3306 --bind 10.98.1.11 >/dev/null 2>&1 & sleep 1; "
                                               "ss -Htln | grep -q :3306")
    try:
        assert started.returncode == 0
        assert not twin.tcp_open("10.98.1.11", 3306, timeout=2)  # listening, but the firewall drops it
    finally:
        mini.in_host("app1", "pkill", "-f", "http.server 3306")
    # the management zone (this machine) reaches every declared service, for monitoring
    assert twin.tcp_open("10.98.1.12", 5432)


def test_mitogen_and_plain_ansible_make_the_same_changes(mini_module, tmp_path):
    # the same fresh hosts provisioned once on each strategy: the same tasks change the same
    # files to the same content, and each strategy finds the other's work converged
    assert detect_strategy().accelerated  # this project installs Mitogen: both paths run here
    runs = {}
    for strategy in (PLAIN, detect_strategy()):
        lab = mini_module.rebuild()
        changed: set[tuple[str, str]] = set()

        def record(host: str, task: str, state: str) -> None:
            if state == "changed":
                changed.add((host, task))

        result = provision(lab.inventory, runs_dir=tmp_path, strategy=strategy, on_event=record)
        assert result.exit_code == 0 and result.strategy == strategy
        runs[strategy.name] = (changed, {h: s.changed for h, s in result.hosts.items()}, fingerprint(lab))
        other = PLAIN if strategy.accelerated else detect_strategy()
        again = provision(lab.inventory, runs_dir=tmp_path, strategy=other)
        assert again.exit_code == 0 and sum(h.changed for h in again.hosts.values()) == 0, (strategy, again.hosts)
    assert runs["linear"][0] and runs["linear"] == runs["mitogen_linear"]


@pytest.fixture
def short_connect_timeout(monkeypatch):
    """A stopped host's packets are dropped: it costs the whole connect timeout, the product's 30 s
    default made for busy controllers; 15 s still leaves the live hosts 5 s over Ansible's own."""
    monkeypatch.setenv("ANSIBLE_TIMEOUT", "15")


def test_an_unreachable_host_does_not_stop_the_others(provisioned_mini, tmp_path, short_connect_timeout):
    mini = provisioned_mini
    mini.in_host("app1", "rm", "/etc/profile.d/provdc-tmout.sh")  # something for app1 to converge
    faults.stop_host(mini, "db1")
    try:
        result = provision(mini.inventory, runs_dir=tmp_path)
    finally:
        faults.start_host(mini, "db1")
    assert result.exit_code == 4
    assert result.hosts["db1"].unreachable == 1
    assert result.hosts["app1"].failed == 0 and result.hosts["app1"].changed > 0


def test_a_canary_that_fails_leaves_the_other_servers_untouched(fresh_mini, tmp_path, short_connect_timeout):
    mini = fresh_mini
    before = fingerprint(mini)
    faults.stop_host(mini, "app1")  # the canary: the first server of the inventory
    try:
        result = provision(mini.inventory, canary=True, runs_dir=tmp_path)
    finally:
        faults.start_host(mini, "app1")
    assert result.canary == "app1" and result.canary_failed and result.exit_code == 4
    assert "db1" not in result.hosts
    assert {k: v for k, v in fingerprint(mini).items() if k[0] == "db1"} == {k: v for k, v in before.items() if k[0] == "db1"}


def test_a_canary_that_converges_lets_the_others_follow(provisioned_mini, tmp_path):
    mini = provisioned_mini
    for host in ("app1", "db1"):  # the one thing the run below has to change on each server
        mini.in_host(host, "rm", "/etc/profile.d/provdc-tmout.sh")
    result = provision(mini.inventory, canary=True, tags=["shell"], runs_dir=tmp_path)
    assert result.canary == "app1" and not result.canary_failed and result.exit_code == 0
    assert set(result.hosts) == {"app1", "db1"} and all(h.changed == 1 for h in result.hosts.values())


def test_a_converged_host_skips_the_roles_and_each_kind_of_drift_brings_them_back(provisioned_mini, tmp_path):
    """The servers' roles run only where the gate sees something differ (site.yml): a converged
    host is three module runs, and each kind of drift the gate watches is fixed by a plain run,
    on that host only: a daemon stopped, an account file's mode, a password outliving the policy."""
    mini = provisioned_mini
    converged = provision(mini.inventory, runs_dir=tmp_path / "converged")
    assert converged.exit_code == 0 and all(h.changed == 0 for h in converged.hosts.values())
    assert converged.hosts["app1"].ok <= 3, converged.hosts["app1"]       # prelude, files check (no role task)
    mini.in_host("app1", "/etc/init.d/chrony", "stop")
    mini.in_host("db1", "chmod", "0644", "/etc/shadow")
    added = mini.in_host("db1", "sh", "-c", "useradd agetest && echo 'agetest:Zq8#xw!Lm2pV-long' | chpasswd && chage -M 99999 agetest")
    assert added.returncode == 0, added
    try:
        fixed = provision(mini.inventory, runs_dir=tmp_path / "fixed")
        assert fixed.exit_code == 0 and fixed.hosts["app1"].changed >= 1 and fixed.hosts["db1"].changed >= 2, fixed.hosts
        assert mini.in_host("app1", "/etc/init.d/chrony", "status").returncode == 0
        assert oct(mini.host_path("db1", "/etc/shadow").stat().st_mode & 0o777) == "0o640"
        ageing = mini.in_host("db1", "chage", "-l", "agetest").stdout
        maximum = next(line for line in ageing.splitlines() if line.startswith("Maximum number of days"))
        assert 0 < int(maximum.rsplit(":", 1)[1]) <= 90, ageing          # the level's policy, not 99999
        again = provision(mini.inventory, runs_dir=tmp_path / "again")
        assert again.exit_code == 0 and sum(h.changed for h in again.hosts.values()) == 0
    finally:
        mini.in_host("db1", "userdel", "agetest")


def test_remediation_applies_the_fixes_an_audit_asked_for(fresh_mini, tmp_path):
    mini = fresh_mini
    results = tmp_path / "audit.json"
    results.write_text(run_audit(mini.inventory, Options(layers={"host"})).to_json())
    cli = [sys.executable, "-m", "provdc.cli", "provision", str(mini.inventory.files[0]), "--remediate", str(results),
           "--runs-dir", str(tmp_path / "runs"), "--no-accelerate"]
    r = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "remediating with tags:" in r.stderr and "sshd" in r.stderr
    assert "strategy: plain Ansible (--no-accelerate)" in r.stderr
    after = run_audit(mini.inventory, Options(layers={"host"}))
    assert {f.status for f in after.findings if f.check == "ssh_password_auth_disabled"} == {Status.PASS}


def test_remediation_fixes_exactly_the_planted_misconfiguration(provisioned_mini, tmp_path):
    mini = provisioned_mini
    dropin = "/etc/ssh/sshd_config.d/50-provdc-hardening.conf"
    mini.in_host("db1", "sh", "-c", f"sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' {dropin}")
    mini.in_host("db1", "sh", "-c", "echo 'readonly TMOUT=5000' > /etc/profile.d/provdc-tmout.sh")  # a second, other fault
    results = tmp_path / "audit.json"
    results.write_text(run_audit(mini.inventory, Options(layers={"host"})).to_json())
    untouched = fingerprint(mini)
    # only the sshd fix is asked for: remove the shell failure from the audit handed over
    import json
    data = json.loads(results.read_text())
    data["findings"] = [f for f in data["findings"] if f["check"] != "shell_idle_timeout"]
    results.write_text(json.dumps(data))
    cli = [sys.executable, "-m", "provdc.cli", "provision", str(mini.inventory.files[0]), "--remediate", str(results),
           "--runs-dir", str(tmp_path / "runs")]
    r = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "remediating with tags: sshd on db1" in r.stderr
    changed = {k for k, v in fingerprint(mini).items() if untouched[k] != v}
    assert changed == {("db1", dropin)}            # the sshd drop-in of db1, nothing else
    verdicts = {(f.check, f.host): f.status for f in run_audit(mini.inventory, Options(layers={"host"})).findings}
    assert verdicts[("ssh_password_auth_disabled", "db1")] is Status.PASS
    assert verdicts[("shell_idle_timeout", "db1")] is Status.FAIL  # not asked for, not touched
    # nothing in the artifacts or the output holds a secret value
    community = (mini.paths.root / "snmp-community").read_text().strip()
    key = mini.key.read_text()
    blob = r.stdout + r.stderr + "".join(p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert community not in blob and key.split("\n")[1] not in blob


SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


def _snmp(oid: str, community: str, walk: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["snmpwalk" if walk else "snmpget", "-v2c", "-c", community, "-t", "1", "-r", "1", "-Oqv",
                           "10.98.2.2", oid], capture_output=True, text=True, timeout=15)


def test_snmpd_on_the_link_endpoint_serves_the_referenced_community_to_monitoring_only(provisioned_mini, tmp_path):
    mini = provisioned_mini
    community = (mini.paths.root / "snmp-community").read_text().strip()
    assert _snmp(SYS_NAME, community).stdout.strip() == '"rtr"'  # the lab's seed, as the role writes it
    # plant Debian's stock agent: loopback only, 'public' for the system group
    mini.host_path("rtr", "/etc/snmp/snmpd.conf").write_text(
        "agentaddress 127.0.0.1\nview systemonly included .1.3.6.1.2.1.1\nrocommunity public default -V systemonly\n")
    # (the daemon must not inherit our pipes, or the call waits for it to exit)
    mini.in_host("rtr", "sh", "-c", "/etc/init.d/snmpd restart >/dev/null 2>&1 </dev/null")
    assert _snmp(SYS_NAME, community).returncode != 0  # monitoring can no longer read the link counters
    cli = [sys.executable, "-m", "provdc.cli", "provision", str(mini.inventory.files[0]), "--tags", "snmpd", "--diff",
           "--runs-dir", str(tmp_path / "runs")]
    r = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "strategy: Mitogen" in r.stderr  # chosen by default, and said so
    assert "│ rtr " in r.stdout and "│ app1 " not in r.stdout  # only the link endpoint ran a task
    names = _snmp(IF_NAME, community, walk=True)
    assert names.returncode == 0 and '"wan1"' in names.stdout.split(), names  # the link's interface, from this machine
    assert _snmp(SYS_NAME, "public").returncode != 0                             # the stock community is gone
    conf = mini.host_path("rtr", "/etc/snmp/snmpd.conf")
    assert oct(conf.stat().st_mode & 0o777) == "0o600"
    assert f"rocommunity {community} 10.98.2.0/24 -V provdc" in conf.read_text()  # the management zone only
    again = provision(mini.inventory, tags=["snmpd"], runs_dir=tmp_path)
    assert again.exit_code == 0 and again.hosts["rtr"].changed == 0
    # the community was looked up on this machine at template time: never in the output, the
    # run's variables, events or diffs
    blob = r.stdout + r.stderr + "".join(p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert community not in blob and "/run/provdc/lab-pt/snmp-community" in blob


def test_the_password_policy_role_makes_failed_logins_lock_the_account(fresh_mini, tmp_path):
    mini = fresh_mini
    """faillock.conf alone locks nothing: after the role, a real sequence of wrong passwords
    through the PAM stack (pamtester, sshd's service) locks the account, the right password is
    then refused too, and the controller's key login still works."""
    assert provision(mini.inventory, tags=["password_policy"], limit="db1", runs_dir=tmp_path).exit_code == 0
    good = "Corr3ct-Horse-Battery-Staple!"
    assert mini.in_host("db1", "sh", "-c", f"useradd -m -s /bin/bash locktest && echo 'locktest:{good}' | chpasswd").returncode == 0
    try:
        def attempt(password: str) -> int:
            return mini.in_host("db1", "sh", "-c", f"echo '{password}' | pamtester sshd locktest authenticate").returncode

        assert attempt(good) == 0                                   # the stack lets a right password in
        assert mini.in_host("db1", "faillock", "--user", "locktest", "--reset").returncode == 0
        for _ in range(12):                                         # more than any framework's deny
            assert attempt("wrong-password") != 0
        assert attempt(good) != 0                                   # locked: the right password is refused
        tally = mini.in_host("db1", "faillock", "--user", "locktest")
        records = [line for line in tally.stdout.splitlines() if line.strip()[:2] == "20"]  # one dated line per failure
        assert tally.returncode == 0 and len(records) >= 3, tally.stdout
        assert mini.ssh("db1", "true").returncode == 0              # the controller's key login is untouched
        run = run_audit(mini.inventory, Options(layers={"host"}, hosts={"db1"}))
        assert next(f for f in run.findings if f.check == "login_lockout").status is Status.PASS
    finally:
        mini.in_host("db1", "sh", "-c", "userdel -r locktest 2>/dev/null; faillock --user locktest --reset; true")
