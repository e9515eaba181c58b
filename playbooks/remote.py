"""A province's run executed by a runner near its servers, driven from the centre.

ansible-runner's documented remote execution: `ansible-runner transmit DIR` packs the job
(project, inventory, env) onto stdout, `ssh RUNNER ansible-runner worker` runs it on the
runner host and streams events, status and finally its artifact directory back, and
`ansible-runner process DIR` writes them into the centre's copy of the job directory. What the
job leaves in its artifact directory on the runner (`$AWX_ISOLATED_DATA_DIR`) therefore comes
home: the audit job writes its results file there.

A national run fans out to provinces with at most `concurrency` at once; each province's
outcome (results files, status, error) is kept whatever happens to the others, and a runner
that cannot be reached, times out or crashes is ERROR, never success.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from provdc.secrets import SecretRef
from provdc.yamlread import dump_yaml

RUNNER = str(Path(sys.executable).with_name("ansible-runner"))
IDENT = "provdc"


@dataclass(frozen=True)
class RunnerHost:
    """Where a province's runner is reached: `ssh -p PORT USER@HOST` with strict host keys."""

    host: str
    port: int = 22
    user: str = "root"
    key: str | None = None            # secret reference (file:PATH) of the private key
    known_hosts: Path | None = None
    bin_dir: str = ""                 # directory of ansible-runner and provdc on the runner

    def ssh_argv(self, base: Path) -> list[str]:
        """The runner's SSH command line, built by the one connector model (a long job: keepalive)."""
        from provdc.inventory.connection import Connection

        conn = Connection(self.host, self.user, self.host, self.port, SecretRef.parse(self.key) if self.key else None,
                          base, str(self.known_hosts) if self.known_hosts else None)
        return conn.ssh_argv(keepalive=10)


@dataclass
class ProvinceOutcome:
    province: str
    status: str                       # successful, failed, error (unreachable, timeout, crash)
    rc: int | None
    results: list[Path] = field(default_factory=list)
    error: str = ""


ARTIFACTS = "{{ lookup('env', 'AWX_ISOLATED_DATA_DIR') }}"   # the job's artifact directory on the runner


def provdc_play(argv: list[str], ok_codes: tuple[int, ...]) -> list[dict]:
    """One play on the runner itself running one provdc command on the province's inventory
    (shipped with the job as `province/`); what it writes under the artifact directory comes back."""
    # a clean environment: the outer job's Ansible settings (callback plugins, artifact dir)
    # must not leak into the ansible-runner run that `provdc provision` starts itself
    clean = ["/usr/bin/env", "-i", "PATH={{ lookup('env', 'PATH') }}", "HOME={{ lookup('env', 'HOME') }}",
             "LANG=C.UTF-8", "LC_ALL=C.UTF-8"]
    return [{
        "name": "provdc, near the province's servers",
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [{"name": f"provdc {argv[1]}; outputs into the artifact directory (shipped back to the centre)",
                   "ansible.builtin.command": {"argv": clean + argv}, "register": "provdc", "changed_when": False,
                   # e.g. audit exit 3 = it found FAILs: a result to ship, not a failed job
                   "failed_when": f"provdc.rc not in {list(ok_codes)}"}],
    }]


def provdc_job(inventory: Path, work: Path, play: list[dict]) -> Path:
    """A private data directory: the play, the province's inventory, localhost as the host."""
    pdd = work / "job"
    project = pdd / "project"
    shutil.copytree(inventory if inventory.is_dir() else inventory.parent, project / "province")
    (project / "job.yml").write_text(dump_yaml(play, sort_keys=False))
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter={{ ansible_playbook_python }}\n")
    return pdd


def audit_argv(provdc_bin: str, layers: list[str]) -> tuple[list[str], tuple[int, ...], str]:
    """provdc audit of the shipped inventory; exit 0 or 3 (findings) both ship a results file."""
    return ([provdc_bin, "audit", "{{ playbook_dir }}/province", "--results-dir", f"{ARTIFACTS}/audits",
             *[f"--layer={x}" for x in layers]], (0, 3), "audits")


def provision_argv(provdc_bin: str, flags: list[str]) -> tuple[list[str], tuple[int, ...], str]:
    """provdc provision of the shipped inventory; its ansible-runner artifacts come back."""
    return [provdc_bin, "provision", "{{ playbook_dir }}/province", "--runs-dir", f"{ARTIFACTS}/runs", *flags], (0,), "runs"


def run_remote(pdd: Path, playbook: str, runner: RunnerHost, base: Path, timeout: float = 900) -> tuple[str, int | None, str]:
    """transmit | ssh worker | process; returns (status, rc, error)."""
    remote_runner = f"{runner.bin_dir}/ansible-runner" if runner.bin_dir else "ansible-runner"
    path = f"PATH={shlex.quote(runner.bin_dir)}:$PATH " if runner.bin_dir else ""
    worker = f"{path}{shlex.quote(remote_runner)} worker --private-data-dir=$(mktemp -d) --delete"
    with tempfile.TemporaryFile() as ssh_err:
        transmit = subprocess.Popen([RUNNER, "transmit", str(pdd), "-p", playbook, "-i", IDENT], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        ssh = subprocess.Popen([*runner.ssh_argv(base), worker], stdin=transmit.stdout, stdout=subprocess.PIPE, stderr=ssh_err)
        transmit.stdout.close()
        process = subprocess.Popen([RUNNER, "process", str(pdd), "-i", IDENT], stdin=ssh.stdout,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ssh.stdout.close()
        try:
            _, process_err = process.communicate(timeout=timeout)
            ssh.wait(timeout=10)
            transmit.wait(timeout=10)
        except subprocess.TimeoutExpired:
            for p in (process, ssh, transmit):
                p.kill()
            return "error", None, f"timed out after {timeout:.0f} s"
        ssh_err.seek(0)
        ssh_text = ssh_err.read().decode(errors="replace").strip()
    status_file = pdd / "artifacts" / IDENT / "status"
    rc_file = pdd / "artifacts" / IDENT / "rc"
    if ssh.returncode == 255 or not status_file.exists():
        why = ssh_text or process_err.decode(errors="replace").strip() or f"ssh exit {ssh.returncode}"
        return "error", None, f"runner {runner.user}@{runner.host}:{runner.port}: {why.splitlines()[-1][:600]}"
    rc = int(rc_file.read_text().strip()) if rc_file.exists() else None
    return status_file.read_text().strip(), rc, ""


def remote_provdc(province: str, inventory: Path, runner: RunnerHost, results_dir: Path, base: Path,
                  command: tuple[list[str], tuple[int, ...], str], timeout: float = 900) -> ProvinceOutcome:
    """Run one provdc command for one province on its runner; what it wrote under the shipped
    subdirectory lands in results_dir/<province>/."""
    argv, ok_codes, shipped_dir = command
    with tempfile.TemporaryDirectory(prefix=f"provdc-{province}-") as tmp:
        pdd = provdc_job(inventory, Path(tmp), provdc_play(argv, ok_codes))
        try:
            status, rc, error = run_remote(pdd, "job.yml", runner, base, timeout)
        except OSError as exc:  # ansible-runner or ssh missing: this province is an error, not the run
            return ProvinceOutcome(province, "error", None, error=str(exc))
        mine = results_dir / province
        mine.mkdir(parents=True, exist_ok=True)
        shipped = pdd / "artifacts" / IDENT / shipped_dir
        kept = []
        if shipped.is_dir():
            shutil.copytree(shipped, mine, dirs_exist_ok=True)
            kept = sorted(mine / entry.name for entry in shipped.iterdir())   # audit files, or run directories
        if status == "failed" and not error:
            error = _failed_task_output(pdd)
    if status == "successful" and not kept:
        status, error = "error", "the runner finished but shipped no results"
    return ProvinceOutcome(province, status if status in ("successful", "failed") else "error", rc, kept, error)


def _failed_task_output(pdd: Path) -> str:
    """The provdc command's last output line when its task failed (from the shipped events)."""
    import json

    for f in sorted((pdd / "artifacts" / IDENT / "job_events").glob("*.json"), reverse=True):
        event = json.loads(f.read_text())
        if event.get("event") == "runner_on_failed":
            res = event.get("event_data", {}).get("res", {})
            text = (res.get("stderr") or res.get("stdout") or res.get("msg") or "").strip()
            return f"rc {res.get('rc')}: {text.splitlines()[-1][:600] if text else 'failed'}"
    return "the job failed"


def fan_out(jobs: dict[str, Callable[[], ProvinceOutcome]], concurrency: int) -> dict[str, ProvinceOutcome]:
    """Run each province's job with at most `concurrency` at once; one province's crash is its
    own ERROR outcome and never loses the others'."""
    def guarded(province: str, job) -> ProvinceOutcome:
        try:
            return job()
        except Exception as exc:  # noqa: BLE001 - any failure is this province's, reported, never raised
            return ProvinceOutcome(province, "error", None, error=f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {p: pool.submit(guarded, p, job) for p, job in jobs.items()}
        return {p: f.result() for p, f in futures.items()}
