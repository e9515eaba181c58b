"""Per-province runs from the centre: a real OpenSSH server on loopback is the province's
runner; `ansible-runner transmit | ssh worker | process` audits the province there and ships
the results back; a national run keeps each province's results when another's runner fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provdc.checks.results import load_run
from provdc.lab import federation as F
from provdc.proc import spawn_detached, stop
from tests.conftest import LAB_INVENTORY

BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def runner_sshd(tmp_path_factory):
    """sshd on 127.0.0.1 (a free port), key-only root login, its own host key."""
    d = tmp_path_factory.mktemp("runner")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = F.free_port()
    (d / "sshd_config").write_text(f"ListenAddress 127.0.0.1:{port}\nHostKey {d / 'host_key'}\n"
                                   f"AuthorizedKeysFile {d / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
                                   "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                                   f"PidFile {d / 'sshd.pid'}\n")
    host_key = " ".join((d / "host_key.pub").read_text().split()[:2])
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    pid = spawn_detached(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")], d / "sshd.log")
    try:
        for _ in range(50):
            if subprocess.run(["ssh", "-p", str(port), "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={d / 'known_hosts'}",
                               "-i", str(d / "client_key"), "root@127.0.0.1", "true"], capture_output=True).returncode == 0:
                break
        else:
            pytest.fail(f"sshd did not accept the key: {(d / 'sshd.log').read_text()[-400:]}")
        yield d, port
    finally:
        stop([pid])


def test_national_audit_ships_results_back_and_keeps_them_when_another_province_fails(runner_sshd, tmp_path):
    keys, port = runner_sshd
    provinces = []
    for k in (1, 2, 3):
        inv = F.make_province(LAB_INVENTORY, tmp_path / f"inv-{k}", f"tinh-{k}", f"Tỉnh {k}")
        runner = {"host": "127.0.0.1", "port": port if k != 2 else F.free_port(),   # tinh-2: nobody listens
                  "key": f"file:{keys / 'client_key'}", "known_hosts": str(keys / "known_hosts"), "bin_dir": BIN}
        provinces.append({"inventory": str(inv), "prometheus": "http://127.0.0.1:9", "runner": runner})
    nat = tmp_path / "national.yaml"
    nat.write_text(yaml.safe_dump({"version": 1, "provinces": provinces}))
    results = tmp_path / "results"
    r = subprocess.run([sys.executable, "-m", "provdc.cli", "national", "audit", str(nat), "--results-dir", str(results),
                        "--concurrency", "2", "--layer", "governance"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr          # one province's runner is unreachable
    assert "Traceback" not in r.stdout + r.stderr
    for k in (1, 3):
        files = sorted((results / f"tinh-{k}").glob("audit-*.json"))
        assert len(files) == 1, (k, r.stdout)
        run = load_run(files[0])
        assert run.province == f"tinh-{k}" and run.findings and {f.layer for f in run.findings} == {"governance"}
    assert list((results / "tinh-2").glob("*")) == []
    assert "tinh-2" in r.stdout and "error" in r.stdout and "Connection refused" in r.stdout.replace("\n", " ").replace("│", "")


def _runner_entry(keys: Path, port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "key": f"file:{keys / 'client_key'}", "known_hosts": str(keys / "known_hosts"),
            "bin_dir": BIN}


@pytest.mark.twin
def test_national_provision_runs_on_the_runner_against_the_lab_and_ships_the_artifacts_back(runner_sshd, lab, tmp_path):
    keys, port = runner_sshd
    nat = tmp_path / "national.yaml"
    nat.write_text(yaml.safe_dump({"version": 1, "provinces": [
        {"inventory": str(LAB_INVENTORY), "prometheus": "http://127.0.0.1:9", "runner": _runner_entry(keys, port)}]}))
    results = tmp_path / "results"
    r = subprocess.run([sys.executable, "-m", "provdc.cli", "national", "provision", str(nat), "--results-dir", str(results),
                        "--check", "--tags", "sshd"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    status = sorted((results / "lab").rglob("artifacts/*/status"))
    assert status and status[-1].read_text().strip() == "successful", list((results / "lab").rglob("*"))[:20]
    assert list(status[-1].parent.glob("job_events/*.json")), "the provisioning run's events came back"


INNER_RUN = """
import sys, tempfile, ansible_runner
inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}"
r = ansible_runner.run(private_data_dir=tempfile.mkdtemp(), module="ping", host_pattern="localhost", inventory=inventory, quiet=True)
print("inner", r.status, r.stdout.read()[-300:].replace(chr(10), " "))
sys.exit(0 if r.status == "successful" else 1)
"""


def test_a_runner_job_that_starts_ansible_runner_itself_succeeds(runner_sshd, tmp_path):
    """What `national provision` relies on, without a lab: provdc provision on the runner starts
    its own ansible-runner run inside the worker's job. The worker's Ansible settings (its
    callback plugin) must not leak into it (they did: awx_display has no CallbackModule)."""
    from provdc.playbooks import remote

    keys, port = runner_sshd
    script = tmp_path / "inner.py"
    script.write_text(INNER_RUN)
    host = remote.RunnerHost("127.0.0.1", port, "root", f"file:{keys / 'client_key'}", keys / "known_hosts", BIN)
    (tmp_path / "inv").mkdir()
    outcome = remote.remote_provdc("p", tmp_path / "inv", host, tmp_path / "results", tmp_path,
                                   ([sys.executable, str(script)], (0,), "none"))
    # the inner run succeeded (the job is successful); it shipped nothing, which is reported as such
    assert outcome.status == "error" and outcome.error == "the runner finished but shipped no results", outcome
    assert outcome.rc == 0
