"""The lab twin on real namespaces: SSH, per-host views, shaping, SNMP, faults, safety, teardown."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from provdc.lab import faults, net, twin
from provdc.lab.plan import LabError
from provdc.proc import alive
from provdc.secrets import SecretRef

pytestmark = pytest.mark.twin

IF_NAME = ".1.3.6.1.2.1.31.1.1.1.1"
IF_HC_OUT_OCTETS = ".1.3.6.1.2.1.31.1.1.1.10"


def test_ssh_to_every_server_sees_its_own_hostname_and_etc(lab):
    host_keys = set()
    for sid, server in lab.inventory.servers.items():
        r = lab.ssh(sid, "hostname; cat /etc/hostname; cat /etc/ssh/ssh_host_ed25519_key.pub")
        assert r.returncode == 0, (sid, r.stderr)
        hostname, etc_hostname, host_key = r.stdout.splitlines()
        assert hostname == etc_hostname == server.hostname
        host_keys.add(host_key.split()[1])
    assert len(host_keys) == len(lab.inventory.servers)  # no two hosts share a host key


def test_a_file_written_on_one_host_is_invisible_elsewhere(lab):
    marker = f"/etc/provdc-test-{uuid.uuid4().hex}"
    assert lab.ssh("db1", f"echo mine > {marker}").returncode == 0
    assert lab.ssh("db1", f"cat {marker}").stdout.strip() == "mine"
    assert lab.ssh("db2", f"test -e {marker}").returncode == 1
    assert not Path(marker).exists()  # nor on the real machine


def test_each_host_has_private_tmp_root_and_run(lab):
    r = lab.ssh("mon1", "ls -A /root /tmp; test -e /run/provdc/lab-pd/id_lab && echo LEAK")
    assert "LEAK" not in r.stdout and ".pyenv" not in r.stdout and ".bashrc" not in r.stdout


def test_no_namespace_has_a_default_route_and_the_supernet_is_unreachable_from_here(lab):
    for name in lab.plan.namespaces:
        assert net.run(["ip", "-n", name, "route", "show", "default"]).stdout.strip() == ""
    stray = str(next(ipaddress.IPv4Network("10.99.77.0/24").hosts()))
    r = subprocess.run(["ip", "route", "get", stray], capture_output=True, text=True)
    assert r.returncode != 0 and "no route to host" in r.stderr.lower()  # EHOSTUNREACH, locally
    assert "unreachable 10.99.0.0/16" in net.run(["ip", "route", "show", "type", "unreachable"]).stdout


def test_declared_services_listen_for_real(lab):
    import socket
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("10.99.10.11", 443), timeout=3) as raw, ctx.wrap_socket(raw) as tls:
        cert = tls.getpeercert(binary_form=True)
        tls.sendall(b"GET / HTTP/1.0\r\nHost: portal-web1\r\n\r\n")
        assert b"portal-web1" in tls.recv(4096)
    assert cert  # a real self-signed certificate
    with socket.create_connection(("10.99.10.20", 25), timeout=3) as smtp:
        assert smtp.recv(100).startswith(b"220 mail1")
    with socket.create_connection(("10.99.30.11", 5432), timeout=3):
        pass
    # an undeclared port is closed
    with pytest.raises(OSError):
        socket.create_connection(("10.99.30.11", 3306), timeout=2)


def test_shaped_wan_link_measures_within_ten_percent_of_contract(lab):
    result = faults.saturate(lab, "wan-xa-dong-son", seconds=3)
    assert result.contract_bps == 2_000_000
    assert 0.9 <= result.ratio <= 1.1, result


def test_asymmetric_contract_is_shaped_per_direction(lab):
    down = faults.saturate(lab, "wan-phuong-trung-tam", seconds=2, direction="a_to_b")
    up = faults.saturate(lab, "wan-phuong-trung-tam", seconds=2, direction="b_to_a")
    assert 0.9 <= down.ratio <= 1.1 and 0.9 <= up.ratio <= 1.1
    assert down.measured_bps > 1.6 * up.measured_bps  # 10 Mbit/s one way, 5 Mbit/s the other


def _snmp(lab, oid: str) -> dict[str, str]:
    community = SecretRef.parse(lab.inventory.devices["wan-rtr"].snmp.community).resolve(lab.inventory.base)
    out = subprocess.run(["snmpwalk", "-v2c", "-c", community, "-On", "-Oq", "-t", "2", "10.99.0.2", oid],
                         capture_output=True, text=True, timeout=20, check=True).stdout
    return {line.split()[0].rsplit(".", 1)[-1]: line.split(None, 1)[1].strip('"') for line in out.splitlines()}


def test_snmp_counters_of_a_link_endpoint_grow_after_traffic(lab):
    names = _snmp(lab, IF_NAME)
    index = next(i for i, name in names.items() if name == "wan3")  # the inventory's interface name
    before = int(_snmp(lab, IF_HC_OUT_OCTETS)[index])
    sent = faults.saturate(lab, "wan-xa-dong-son", seconds=2)
    deadline = time.monotonic() + 15  # snmpd caches interface counters for a few seconds
    after = before
    while time.monotonic() < deadline and after - before < 0.8 * sent.measured_bps * 2 / 8:
        time.sleep(1)
        after = int(_snmp(lab, IF_HC_OUT_OCTETS)[index])
    assert after - before >= 0.8 * sent.measured_bps * 2 / 8, (before, after)


def test_a_linux_router_is_a_lab_host_with_sshd_and_its_own_snmpd(lab):
    # its own view and hostname, reached over SSH with strict host keys like a server
    r = lab.ssh("wan-rtr", "hostname; cat /proc/$(cat /run/snmpd.pid)/cmdline | tr '\\0' ' '; echo; ls /etc/snmp/snmpd.conf.d")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0] == "wan-rtr", r
    assert lines[1].startswith("/usr/sbin/snmpd") and "-u Debian-snmp" in lines[1]  # the package's init script
    assert lines[2] == "provdc-lab.conf"
    assert "core-fw" not in lab.anchors  # an appliance (no `ssh` in the inventory): no sshd of its own
    # restarting one router's agent through its init script leaves the other router's alone
    # (lab hosts share this machine's process table; Debian's stop would wait for every snmpd)
    other = lab.ssh("inet-rtr", "cat /run/snmpd.pid").stdout.strip()
    t = time.monotonic()
    assert lab.ssh("wan-rtr", "/etc/init.d/snmpd restart >/dev/null 2>&1 </dev/null; echo done", timeout=25).stdout.strip() == "done"
    assert time.monotonic() - t < 15
    assert lab.ssh("inet-rtr", "cat /run/snmpd.pid; kill -0 $(cat /run/snmpd.pid) && echo alive").stdout.split() == [other, "alive"]
    # a power cycle: the agent is gone, then back with live counters
    faults.stop_host(lab, "wan-rtr")
    try:
        with pytest.raises(subprocess.CalledProcessError):
            _snmp(lab, IF_NAME)
    finally:
        faults.start_host(lab, "wan-rtr")
    assert "wan3" in _snmp(lab, IF_NAME).values()
    # and the agencies behind it are reachable again (their routes went with the links)
    sweep = subprocess.run(["nmap", "-sn", "-n", "-PE", "10.99.100.10"], capture_output=True, text=True, timeout=30)
    assert "1 host up" in sweep.stdout, sweep.stdout


def test_fault_stop_makes_a_host_unreachable_and_start_brings_it_back(lab):
    marker = f"/var/tmp/survives-{uuid.uuid4().hex}"
    assert lab.ssh("docs-app1", f"touch {marker}").returncode == 0
    faults.stop_host(lab, "docs-app1")
    try:
        assert not twin.tcp_open("10.99.20.12", 22, timeout=1)
        assert not twin.tcp_open("10.99.20.12", 443, timeout=1)
        assert lab.ssh("docs-app1", "true", timeout=3).returncode == 255
        assert lab.ssh("lgsp1", "true").returncode == 0  # the others are untouched
    finally:
        faults.start_host(lab, "docs-app1")
    r = lab.ssh("docs-app1", f"hostname; test -e {marker} && echo kept")
    assert r.stdout.split() == ["docs-app1", "kept"]  # its disk survived the power cycle


def test_fault_link_down_cuts_the_agency_and_link_up_restores_it(lab):
    agency = "10.99.100.6"
    faults.link_down(lab, "wan-so-khcn")
    try:
        hosts, links = twin.status(lab)
        assert not next(link for link in links if link.id == "wan-so-khcn").up
        with pytest.raises(LabError):
            faults.saturate(lab, "wan-so-khcn", seconds=1)
    finally:
        faults.link_up(lab, "wan-so-khcn")
    assert faults.saturate(lab, "wan-so-khcn", seconds=1).ratio > 0.8
    assert agency  # the agency end is reachable again through the restored routes


def test_status_reports_every_host_listening(lab):
    hosts, links = twin.status(lab)
    assert all(h.running and h.listening == h.declared for h in hosts), hosts
    assert all(link.up and link.shaped for link in links)


def test_delay_is_refused_with_the_reason(lab):
    if faults.netem_available(lab):
        pytest.skip("this kernel has netem")
    with pytest.raises(LabError, match="netem"):
        raise faults.unsupported("delay")


# ------------------------------------------------------------------ life cycle (second lab)

def _lab_leftovers(path) -> list[str]:
    from provdc.inventory import load_inventory
    from provdc.lab.plan import plan_lab

    return net.leftovers(plan_lab(load_inventory(path)))


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found


def test_down_leaves_no_namespaces_links_mounts_or_processes(mini_lab_path):
    running = twin.up(mini_lab_path)
    anchors = list(running.anchors.values())
    # an SSH ControlPersist master, like ansible leaves behind
    cp = running.paths.root / "cp"
    cp.mkdir()
    master = running.ssh_argv("app1", "true")
    subprocess.run([master[0], "-o", "ControlMaster=auto", "-o", f"ControlPath={cp}/%C", "-o", "ControlPersist=60",
                    *master[1:]], check=True, capture_output=True, timeout=20)
    assert _processes_mentioning(str(cp))
    removed = twin.down(mini_lab_path)
    assert "pt-app1" in removed
    assert _lab_leftovers(mini_lab_path) == []
    assert not any(alive(pid) for pid in anchors)  # gone, or a zombie awaiting PID 1
    assert not _processes_mentioning("/run/provdc/lab-pt")
    mounts = Path("/proc/mounts").read_text() + Path("/proc/self/mountinfo").read_text()
    assert "lab-pt" not in mounts
    assert not Path("/run/provdc/lab-pt").exists()


def test_up_twice_is_a_clear_error(mini_lab_path):
    twin.up(mini_lab_path)
    with pytest.raises(LabError, match="already up"):
        twin.up(mini_lab_path)


def test_a_build_failing_half_way_is_torn_down_and_the_next_up_works(mini_lab_path, monkeypatch):
    from provdc.lab import hosts

    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure after the hosts booted")

    monkeypatch.setattr(hosts, "start_snmpd", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        twin.up(mini_lab_path)
    assert _lab_leftovers(mini_lab_path) == []
    monkeypatch.undo()
    running = twin.up(mini_lab_path)
    assert running.ssh("db1", "hostname").stdout.strip() == "db1"


def test_up_after_a_crash_removes_the_leftovers_first(mini_lab_path):
    from provdc.inventory import load_inventory
    from provdc.lab.plan import plan_lab

    plan = plan_lab(load_inventory(mini_lab_path))
    net.build_network(plan)  # what a killed `up` leaves: a network and no state
    assert _lab_leftovers(mini_lab_path)
    running = twin.up(mini_lab_path)
    assert running.ssh("app1", "hostname").stdout.strip() == "app1"


def test_refuses_to_start_when_the_supernet_is_routed_elsewhere(mini_lab_path):
    subprocess.run(["ip", "route", "add", "blackhole", "10.98.77.0/24"], check=True)
    try:
        with pytest.raises(LabError, match="already in use"):
            twin.up(mini_lab_path)
        assert _lab_leftovers(mini_lab_path) == []
    finally:
        subprocess.run(["ip", "route", "del", "blackhole", "10.98.77.0/24"], check=True)


def test_non_root_gets_a_clear_message(mini_lab_path, tmp_path):
    script = ("import sys; from provdc.cli import main; sys.argv=['provdc','lab','up',%r]; main()" % str(mini_lab_path))
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", script],
                       capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert r.returncode == 1 and "needs root" in r.stderr and "Traceback" not in r.stderr


def test_cli_status_and_fault_round_trip(lab):
    from tests.conftest import LAB_INVENTORY

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "provdc.cli", "lab", *args], capture_output=True, text=True, timeout=60)

    r = cli("status", str(LAB_INVENTORY))
    assert r.returncode == 0 and "portal-web1" in r.stdout and "wan-xa-dong-son" in r.stdout
    r = cli("fault", str(LAB_INVENTORY), "stop", "nosuchhost")
    assert r.returncode == 1 and "no server or device 'nosuchhost'" in r.stderr
    r = cli("fault", str(LAB_INVENTORY), "delay", "wan-so-khcn")
    assert r.returncode == 1 and "netem" in r.stderr


def test_nothing_is_sent_to_a_lab_inventory_whose_twin_is_down(mini_lab_path):
    """The network rule: with the twin down, its addresses would leave by the default route."""
    from provdc.checks.engine import Options, run_audit
    from provdc.errors import ScopeError
    from provdc.exporters import stack
    from provdc.inventory import load_inventory
    from provdc.lab.guard import lab_is_routed

    inv = load_inventory(mini_lab_path)
    assert not lab_is_routed(inv)
    with pytest.raises(ScopeError, match="twin is not up"):
        run_audit(inv, Options(layers={"host"}))
    with pytest.raises(ScopeError, match="twin is not up"):
        run_audit(inv, Options(layers={"network"}))
    with pytest.raises(ScopeError, match="twin is not up"):
        stack.up(mini_lab_path)
    run = run_audit(inv, Options(layers={"governance"}))  # inventory evidence only: allowed
    assert run.findings == [] or all(f.host is None for f in run.findings)
    twin.up(mini_lab_path)
    assert lab_is_routed(inv)


def test_the_machine_arp_table_holds_a_full_sweep_of_every_zone(lab):
    # one ARP table for all namespaces: the default limit of 1024 overflowed during full audits
    for key, wanted in net.NEIGH_LIMITS.items():
        assert int(Path(f"/proc/sys/net/ipv4/neigh/default/{key}").read_text()) >= wanted
