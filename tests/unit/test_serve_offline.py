"""`provdc serve` pieces that need no lab: schedules, restart backoff, the state-directory lock,
the supervisor restarting a real crashed process, the systemd unit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime

import pytest

from provdc.schedule import VN, When, due_slot, slot_name
from provdc import serve


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.mark.parametrize("when, after, expected", [
    ("daily 02:00", vn(2026, 12, 2, 1, 59), vn(2026, 12, 2, 2, 0)),
    ("daily 02:00", vn(2026, 12, 2, 2, 0), vn(2026, 12, 3, 2, 0)),
    ("monthly 1 07:00", vn(2026, 12, 2, 9, 0), vn(2027, 1, 1, 7, 0)),
    ("monthly 1 07:00", vn(2026, 12, 1, 6, 59), vn(2026, 12, 1, 7, 0)),
    ("every 10m", vn(2026, 12, 2, 9, 3), vn(2026, 12, 2, 9, 10)),
    ("every 2h", vn(2026, 12, 2, 9, 3), vn(2026, 12, 2, 10, 0)),  # even hours, Vietnam time
    ("every 20s", vn(2026, 12, 2, 9, 3, 41), vn(2026, 12, 2, 9, 4, 0)),  # drills: multiples of 20 s
])
def test_next_slot_in_vietnam_time(when, after, expected):
    assert When.parse(when).next_after(after) == expected


def test_a_slot_is_due_once_the_clock_passes_it_and_missed_slots_collapse():
    daily = When.parse("daily 02:00")
    anchor = vn(2026, 12, 1, 12, 0)
    assert due_slot(daily, anchor, vn(2026, 12, 2, 1, 59)) is None
    assert due_slot(daily, anchor, vn(2026, 12, 2, 2, 0)) == vn(2026, 12, 2, 2, 0)
    # down for four days: one run, for the latest slot
    assert due_slot(daily, anchor, vn(2026, 12, 5, 9, 0)) == vn(2026, 12, 5, 2, 0)


def test_report_periods():
    assert When.parse("monthly 1 07:00").period_before(vn(2026, 12, 1, 7)) == (vn(2026, 11, 1), vn(2026, 12, 1))
    assert When.parse("monthly 1 07:00").period_before(vn(2027, 1, 1, 7)) == (vn(2026, 12, 1), vn(2027, 1, 1))
    assert When.parse("daily 02:00").period_before(vn(2026, 12, 2, 2)) == (vn(2026, 12, 1), vn(2026, 12, 2))
    assert When.parse("every 5m").period_before(vn(2026, 12, 2, 9, 5)) == (vn(2026, 12, 2, 9, 0), vn(2026, 12, 2, 9, 5))
    assert slot_name(vn(2026, 12, 1, 7)) == "20261201T070000+0700"


def test_backoff_doubles_to_a_minute_and_resets_after_a_long_run():
    assert serve.backoff_after(1, 0.5) == 2
    assert serve.backoff_after(32, 3) == 60
    assert serve.backoff_after(60, 3) == 60
    assert serve.backoff_after(60, 600) == 1


def test_second_service_on_the_same_state_dir_refuses(tmp_path):
    held = serve.take_lock(tmp_path)
    try:
        code = ("import sys; from pathlib import Path; from provdc import serve\n"
                "try:\n    serve.take_lock(Path(sys.argv[1]))\nexcept serve.ServeError as e:\n    print(e); sys.exit(7)\n")
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
        assert r.returncode == 7, r.stderr
        assert "already running" in r.stdout and str(held.fileno()) not in ("",)
    finally:
        held.close()
    serve.take_lock(tmp_path).close()  # released with the process' file: free again


def test_supervisor_restarts_a_crashed_child_and_counts_it(tmp_path):
    sup = serve.Supervisor(tmp_path)
    sup.set({"sleeper": [sys.executable, "-c", "import time; time.sleep(60)"]}, tmp_path)
    child = sup.children["sleeper"]
    first = child.proc.pid
    child.proc.kill()
    child.proc.wait()
    sup.poll()                      # notices the exit, schedules a restart after the backoff
    assert not child.up and child.next_start > 0
    sup.poll(now=child.next_start)  # backoff passed
    try:
        assert child.up and child.proc.pid != first and child.restarts == 1
        sup.restart("sleeper")      # on purpose (a reload): not a crash
        assert child.up and child.restarts == 1
    finally:
        sup.stop_all()
    assert not child.up


def test_invalid_inventory_reload_keeps_running_config(tmp_path, lab_inventory):
    """The reload path rejects, records why, and changes nothing (no stack needed to judge)."""
    svc = serve.Service.__new__(serve.Service)
    svc.state = tmp_path
    svc.inventory_valid, svc.reloads = 1.0, {"ok": 0, "rejected": 0}
    svc._reject(["a.yaml:3:5: servers[x].zone: unknown zone 'q'"])
    assert svc.inventory_valid == 0 and svc.reloads["rejected"] == 1
    assert "unknown zone" in (tmp_path / "inventory-problems.txt").read_text()


def test_systemd_unit_is_hardened_and_verifies(tmp_path):
    unit = serve.systemd_unit(sys.executable, tmp_path / "inventory", tmp_path / "state", "127.0.0.1:19400")
    for line in ("User=provdc", "Restart=on-failure", "KillMode=mixed", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "CapabilityBoundingSet=CAP_NET_RAW", f"ReadWritePaths={tmp_path / 'state'}", "StateDirectory=state"):
        assert line in unit.splitlines(), line
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    path = tmp_path / "provdc.service"
    path.write_text(unit)
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_children_die_with_a_killed_service(tmp_path):
    from provdc.proc import alive

    code = ("import sys, time\nfrom pathlib import Path\nfrom provdc import serve\n"
            "s = serve.Supervisor(Path(sys.argv[1]))\n"
            "s.set({'c': [sys.executable, '-c', 'import time; time.sleep(60)']}, Path(sys.argv[1]))\n"
            "print(s.children['c'].proc.pid, flush=True)\ntime.sleep(60)\n")
    with subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True) as parent:
        child = int(parent.stdout.readline())
        assert alive(child)
        parent.kill()  # SIGKILL: no handler runs in the service
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
