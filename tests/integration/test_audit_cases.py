"""A PASS and a FAIL case on real lab hosts for the checks no other lab test names.

Each group plants its states in two (or three) hosts' own files, mounts and daemons, runs one
audit of those hosts and restores everything. The FAIL cases hide the defect where the
program that evaluates it looks but a simple reader would not (a stacked mount, an earlier
modprobe.d file, an rsyslog.d file the main configuration does not include, a Match block,
an `access_log off` in the middle of a line). Where the lab cannot run the real thing because
it would take over a facility of the machine's one kernel, a comment says so and the host gets
the closest honest state.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.registry import DEFAULT, CheckRegistry
from provdc.checks.results import Status
from tests.integration.conftest import planted

pytestmark = pytest.mark.twin

NGINX = "/etc/provdc-lab/nginx.conf"
MODULES = ("cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf", "usb-storage", "dccp", "sctp", "rds", "tipc")


def findings(inv, layers, hosts):
    run = run_audit(inv, Options(layers=set(layers), hosts=set(hosts)))
    return {(f.check, f.host or f.system or "inventory"): f for f in run.findings}


def sh(lab, host: str, script: str) -> str:
    """A shell script inside the host's own view; daemons it starts must not hold our pipes."""
    r = lab.in_host(host, "sh", "-c", script)
    assert r.returncode == 0, f"{host}: {script}: {r.stderr}"
    return r.stdout


def variant(inv, **changes):
    return inv.__class__(doc=inv.doc.model_copy(update=changes), base=inv.base)


def assert_cases(v, check: str, passing: str, failing: str, found: str = "") -> None:
    good, bad = v[(check, passing)], v[(check, failing)]
    assert good.status is Status.PASS, (check, passing, good)
    assert bad.status is Status.FAIL, (check, failing, bad)
    assert found in bad.found, (check, failing, bad.found)


def _mounted(lab, host: str, target: str) -> int:
    mounts = lab.in_host(host, "cat", "/proc/self/mounts").stdout.splitlines()
    return sum(line.split()[1] == target for line in mounts if len(line.split()) > 1)


@contextmanager
def mounts(lab, host: str, script: str, targets: list[str]):
    """Mounts made in the host's private mount namespace, unmounted (top first) afterwards;
    never one the host had before (its own /tmp, say), even if the script stopped half-way."""
    before = {t: _mounted(lab, host, t) for t in targets}
    try:
        sh(lab, host, script)
        yield
    finally:
        for target in targets:
            if _mounted(lab, host, target) > before[target]:
                lab.in_host(host, "umount", target)


@contextmanager
def daemons(lab, host: str, script: str, pid_files: list[str]):
    """Daemons started in the host (each writes its PID file in the host's own /run or /tmp),
    stopped by their own PIDs afterwards (lab hosts share this machine's process table) and
    waited for."""
    try:
        sh(lab, host, script)
        yield
    finally:
        for pid_file in pid_files:
            pid = lab.in_host(host, "cat", pid_file).stdout.strip()
            if pid.isdigit():
                lab.in_host(host, "kill", pid)
                deadline = time.monotonic() + 10
                while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert not os.path.exists(f"/proc/{pid}"), f"{host}: {script.split()[0]} (PID {pid}) did not stop"
            lab.in_host(host, "rm", "-f", pid_file)


# ------------------------------------------------------------------ files, mounts and the kernel

HARDEN_TEMP = ("mount --bind /tmp /tmp && mount -o remount,bind,nodev,nosuid /tmp && mount --bind /tmp /var/tmp && "
               "mount --bind /dev/shm /dev/shm && mount -o remount,bind,nodev,nosuid,noexec /dev/shm")
AIDE_CONF = "database_in=file:/var/lib/aide/aide.db\ndatabase_out=file:/var/lib/aide/aide.db.new\n/etc/ssh R\n"
AIDE_CRON = "#!/bin/sh\n# daily file-integrity check (the job aide-common installs)\nexec aide --check --config /etc/aide/aide.conf\n"
# this machine's kernel has a single audit configuration: `auditctl -e 2` would lock it for every
# lab host and the machine itself until a reboot. The PASS host gets a stand-in auditctl, first on
# the fact script's PATH, that answers as a kernel holding immutable rules does; the FAIL host is
# asked the real kernel, whose rules are not immutable, beside a rules file that says -e 2.
AUDITCTL_IMMUTABLE = "#!/bin/sh\n# lab stand-in: the kernel's answer once '-e 2' is loaded\n[ \"$1\" = -s ] && printf 'enabled 2\\nfailure 1\\npid 1\\n'\n"
# this machine's kernel has no AppArmor; the PASS host's view of the kernel's interface is what a
# kernel with AppArmor shows (its module parameter and securityfs profile list, each a tmpfs in
# that host's own mount namespace); the FAIL host sees the real kernel: AppArmor not enabled
APPARMOR_VIEW = ("mount -t tmpfs -o mode=0755 aa-module /sys/module && mkdir -p /sys/module/apparmor/parameters && "
                 "echo Y > /sys/module/apparmor/parameters/enabled && mount -t tmpfs -o mode=0755 aa-securityfs /sys/kernel/security && "
                 "mkdir /sys/kernel/security/apparmor && printf '/usr/sbin/sshd (enforce)\\n/usr/sbin/nginx (enforce)\\n' "
                 "> /sys/kernel/security/apparmor/profiles")


def _accounts(lab, host: str, *, expire_others: bool, log_in: bool) -> None:
    """An admin account `ops` (key login: password locked) and useradd's INACTIVE=30; the
    other login accounts of the host expired (usermod -e 1) or only their password locked."""
    passwd, shadow = lab.host_path(host, "/etc/passwd"), lab.host_path(host, "/etc/shadow")
    users = {line.split(":")[0] for line in passwd.read_text().splitlines()
             if len(line.split(":")) > 6 and 1000 <= int(line.split(":")[2]) < 65534}
    lines = []
    for line in shadow.read_text().splitlines():
        f = line.split(":")
        if f[0] in users and len(f) >= 9:
            f[7] = "1" if expire_others else f[7]                        # usermod -e 1
            f[1] = f[1] if f[1].startswith("!") else "!" + f[1]          # usermod -L
        lines.append(":".join(f))
    shadow.write_text("\n".join(lines + ["ops:!:20000:0:99999:7:::"]) + "\n")
    passwd.write_text(passwd.read_text() + "ops:x:1990:1990:admin:/nonexistent:/bin/bash\n")
    useradd = lab.host_path(host, "/etc/default/useradd")
    useradd.write_text(useradd.read_text() + "INACTIVE=30\n")
    if log_in:
        sh(lab, host, "lastlog -S -u ops >/dev/null")


def test_files_mounts_and_kernel_facilities(lab):
    """mon1 passes, backup1 fails, for seven host checks, in one audit of both. Both belong to
    dc-infra, judged here at level 4, where the audit rules must be immutable."""
    inv = variant(lab.inventory, systems=[s.model_copy(update={"level": 4}) if s.id == "dc-infra" else s
                                          for s in lab.inventory.doc.systems])
    files = ["/etc/passwd", "/etc/shadow", "/etc/default/useradd", "/etc/modprobe.d/provdc-modules.conf",
             "/etc/modprobe.d/00-local.conf", "/etc/aide", "/var/lib/aide", "/etc/cron.daily/aide",
             "/etc/audit/rules.d/99-finalize.rules", "/usr/local/sbin/auditctl"]
    disable = "".join(f"install {m} /bin/false\nblacklist {m}\n" for m in MODULES)
    with ExitStack() as stack:
        stack.enter_context(planted(lab, files={"mon1": files, "backup1": files}))
        # /tmp, /var/tmp, /dev/shm: both hardened; on backup1 a second /tmp mounted on top of the
        # hardened one (the mount on top is the one in use) drops nodev and nosuid again
        stack.enter_context(mounts(lab, "mon1", HARDEN_TEMP, ["/dev/shm", "/var/tmp", "/tmp"]))
        stack.enter_context(mounts(lab, "backup1", HARDEN_TEMP + " && mount -t tmpfs -o mode=1777 over-tmp /tmp",
                                   ["/tmp", "/dev/shm", "/var/tmp", "/tmp"]))
        # /var/log on a file system of its own: room left on mon1, 94 % used on backup1
        stack.enter_context(mounts(lab, "mon1", "mount -t tmpfs -o size=16m logs /var/log && mkdir /var/log/nginx && touch /var/log/lastlog", ["/var/log"]))
        stack.enter_context(mounts(lab, "backup1", "mount -t tmpfs -o size=1m logs /var/log && mkdir /var/log/nginx && touch /var/log/lastlog && "
                                   "dd if=/dev/zero of=/var/log/old.log bs=64k count=15 2>/dev/null", ["/var/log"]))
        stack.enter_context(mounts(lab, "mon1", APPARMOR_VIEW, ["/sys/kernel/security", "/sys/module"]))
        # accounts: on mon1 ops logged in just now and every other login account is expired; on
        # backup1 the others have only their password locked, which an SSH key still gets past
        _accounts(lab, "mon1", expire_others=True, log_in=True)
        _accounts(lab, "backup1", expire_others=False, log_in=False)
        for host in ("mon1", "backup1"):
            lab.host_path(host, "/etc/modprobe.d/provdc-modules.conf").write_text(disable)
            sh(lab, host, "mkdir -p /etc/aide /var/lib/aide /etc/audit/rules.d && echo '-e 2' > /etc/audit/rules.d/99-finalize.rules")
            lab.host_path(host, "/etc/aide/aide.conf").write_text(AIDE_CONF)
            lab.host_path(host, "/etc/cron.daily/aide").write_text(AIDE_CRON)
            sh(lab, host, "chmod 0755 /etc/cron.daily/aide")
        # modprobe takes the first install command: an earlier file re-enables usb-storage
        lab.host_path("backup1", "/etc/modprobe.d/00-local.conf").write_text(
            "install usb-storage /sbin/modprobe --ignore-install usb-storage\n")
        # a real AIDE database on mon1 (aide --init); on backup1 one that was never initialised
        sh(lab, "mon1", "aide --init --config /etc/aide/aide.conf >/dev/null && mv /var/lib/aide/aide.db.new /var/lib/aide/aide.db")
        sh(lab, "backup1", ": > /var/lib/aide/aide.db")
        lab.host_path("mon1", "/usr/local/sbin/auditctl").write_text(AUDITCTL_IMMUTABLE)
        sh(lab, "mon1", "chmod 0755 /usr/local/sbin/auditctl")
        v = findings(inv, {"host"}, {"mon1", "backup1"})
    assert_cases(v, "temp_mounts_hardened", "mon1", "backup1", "/tmp without nodev,nosuid")
    assert_cases(v, "kernel_modules_disabled", "mon1", "backup1", "loadable: usb-storage")
    assert_cases(v, "accounts_inactive_disabled", "mon1", "backup1", "ops never logged in")
    assert "expired" in v[("accounts_inactive_disabled", "mon1")].found
    assert_cases(v, "file_integrity_monitored", "mon1", "backup1", "database empty")
    assert_cases(v, "log_storage_headroom", "mon1", "backup1", "% used on /var/log")
    assert_cases(v, "apparmor_enforcing", "mon1", "backup1", "not enabled in the kernel")
    assert_cases(v, "audit_rules_immutable", "mon1", "backup1", "rules files end with -e 2")
    for host in ("mon1", "backup1"):  # everything planted is gone again
        assert not lab.host_path(host, "/var/lib/aide").exists() and not lab.host_path(host, "/var/log/old.log").exists()
        assert "ops:" not in lab.host_path(host, "/etc/passwd").read_text()


# ---------------------------------------------------------------------------------- daemons

FRESHCLAM_CONF = ("DatabaseDirectory /var/lib/clamav\nUpdateLogFile /var/log/clamav/freshclam.log\nDatabaseOwner clamav\n"
                  "DatabaseMirror 127.0.0.1\nScriptedUpdates no\nNotifyClamd no\nChecks 1\nPidFile /run/clamav/freshclam.pid\n")
# rsyslog as a lab host may run it: no imklog (the kernel log is the machine's, one reader) and
# no system socket (/dev/log lives in the machine's /dev, which every lab host shares)
RSYSLOG_LAB = 'module(load="imuxsock" SysSock.Use="off")\n'
FORWARD = "*.* @@10.99.40.10:514\n"   # mon1, the variant's declared log collector
PROMETHEUS = ("mkdir -p /tmp/provdc-prom && printf 'global: {{scrape_interval: 1m}}\\n' > /tmp/provdc-prom/prometheus.yml && "
              "(setsid prometheus --config.file=/tmp/provdc-prom/prometheus.yml --storage.tsdb.path=/tmp/provdc-prom/data "
              "--web.listen-address=127.0.0.1:29190 {flags} </dev/null >/tmp/provdc-prom/log 2>&1 & echo $! > /tmp/provdc-prom/pid)")
NODE_EXPORTER = "/etc/default/prometheus-node-exporter"
RESTART_NODE_EXPORTER = ("/etc/init.d/prometheus-node-exporter stop >/dev/null 2>&1; "
                         "/etc/init.d/prometheus-node-exporter start </dev/null >/dev/null 2>&1")
MY_CNF = "[client-server]\n!includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n"
# no MariaDB server package is installed on this machine (and none may be fetched here): the
# hosts get a stand-in executable under the server's name; the option files are Debian's layout
# and are read as the server reads them
MARIADBD = "#!/bin/sh\n# lab stand-in for the MariaDB server binary\nexit 0\n"
SSHD_MFA = "/etc/ssh/sshd_config.d/05-mfa.conf"


def _listening(lab, host: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while f":{port} " not in lab.in_host(host, "ss", "-Htln").stdout + " ":
        assert time.monotonic() < deadline, f"{host}: nothing listens on {port}"
        time.sleep(0.2)


def test_daemons_as_they_run(lab):
    """db1 passes, db2 fails (lgsp1 passes the MFA check, which db1's systems do not ask), in
    one audit; the inventory variant declares mon1 the log collector (syslog, 514/tcp)."""
    mon1 = lab.inventory.servers["mon1"]
    syslog = mon1.services[0].model_copy(update={"name": "syslog", "port": 514, "proto": "tcp", "kind": "syslog", "from_": ["internal"]})
    inv = variant(lab.inventory, servers=[s.model_copy(update={"services": [*s.services, syslog]}) if s.id == "mon1" else s
                                          for s in lab.inventory.doc.servers])
    files = ["/etc/resolv.conf", "/etc/clamav/freshclam.conf", "/var/lib/clamav/daily.cld", "/var/lib/clamav/freshclam.dat",
             "/var/log/clamav/freshclam.log", "/run/clamav", "/etc/rsyslog.conf", "/etc/rsyslog.d/90-provdc-forward.conf",
             "/var/log/syslog", "/etc/default/prometheus", "/tmp/provdc-prom", "/etc/mysql", "/usr/sbin/mariadbd", SSHD_MFA]
    with ExitStack() as stack:
        stack.enter_context(planted(lab, files={"db1": files, "db2": files, "lgsp1": [SSHD_MFA]}))
        for host in ("db1", "db2"):
            # ClamAV's real freshclam daemon; its mirror is the host's own loopback (the lab has no
            # Internet, by rule) and so is its resolver. No signature database can be fetched:
            # the file stands for the one freshclam writes, and its age is what is judged
            lab.host_path(host, "/etc/resolv.conf").write_text("nameserver 127.0.0.1\n")
            lab.host_path(host, "/etc/clamav/freshclam.conf").write_text(FRESHCLAM_CONF)
            lab.host_path(host, "/var/lib/clamav/daily.cld").write_text("ClamAV-VDB:lab stand-in\n")
            stack.enter_context(daemons(lab, host, "mkdir -p /run/clamav && chown clamav /run/clamav && "
                                        "freshclam -d --config-file=/etc/clamav/freshclam.conf </dev/null >/dev/null 2>&1",
                                        ["/run/clamav/freshclam.pid"]))
            lab.host_path(host, "/etc/rsyslog.d/90-provdc-forward.conf").write_text(FORWARD)
            # MariaDB option files: db2's last file turns the grant tables off
            sh(lab, host, "mkdir -p /etc/mysql/conf.d /etc/mysql/mariadb.conf.d")
            lab.host_path(host, "/etc/mysql/my.cnf").write_text(MY_CNF)
            address = lab.inventory.servers[host].address
            lab.host_path(host, "/etc/mysql/mariadb.conf.d/50-server.cnf").write_text(f"[mysqld]\nbind-address = {address}\n")
            lab.host_path(host, "/usr/sbin/mariadbd").write_text(MARIADBD)
            sh(lab, host, "chmod 0755 /usr/sbin/mariadbd")
        sh(lab, "db2", "touch -d '5 days ago' /var/lib/clamav/daily.cld")          # the daemon runs, nothing updates
        lab.host_path("db2", "/etc/mysql/mariadb.conf.d/99-local.cnf").write_text("[mariadb]\nskip_grant_tables\n")
        # rsyslog: db1's configuration includes rsyslog.d; db2's daemon reads one that does not,
        # so the forwarding rule beside it is read by nobody
        lab.host_path("db1", "/etc/rsyslog.conf").write_text(RSYSLOG_LAB + "$IncludeConfig /etc/rsyslog.d/*.conf\n")
        lab.host_path("db2", "/etc/rsyslog.conf").write_text(RSYSLOG_LAB + "*.* /var/log/syslog\n")
        for host in ("db1", "db2"):
            stack.enter_context(daemons(lab, host, "rsyslogd -i /run/rsyslogd.pid </dev/null >/dev/null 2>&1", ["/run/rsyslogd.pid"]))
        # Prometheus: db1 keeps 400 days; db2's /etc/default says so too, but the running
        # server was started without the flag (15 days, its default)
        lab.host_path("db2", "/etc/default/prometheus").write_text('ARGS="--storage.tsdb.retention.time=400d"\n')
        for host, flags in (("db1", "--storage.tsdb.retention.time=400d"), ("db2", "")):
            stack.enter_context(daemons(lab, host, PROMETHEUS.format(flags=flags), ["/tmp/provdc-prom/pid"]))
        # node_exporter on db2 restarted on the loopback only: it runs, nothing can scrape it
        defaults = lab.host_path("db2", NODE_EXPORTER)
        original = defaults.read_text()
        moved = original.replace(f"{lab.inventory.servers['db2'].address}:9100", "127.0.0.1:9101")
        assert moved != original

        def put_back() -> None:
            defaults.write_text(original)
            sh(lab, "db2", RESTART_NODE_EXPORTER)
            _listening(lab, "db2", 9100)
        stack.callback(put_back)
        defaults.write_text(moved)
        sh(lab, "db2", RESTART_NODE_EXPORTER)
        _listening(lab, "db2", 9101)
        # key and password for everyone on lgsp1; on db2 a Match block for the management zone,
        # where administrators come from, drops the password. sshd -T reads the files; the
        # running sshd is not reloaded, so the audit's own key login is unchanged
        two = "AuthenticationMethods publickey,password\n"
        lab.host_path("lgsp1", SSHD_MFA).write_text(two)
        lab.host_path("db2", SSHD_MFA).write_text(two + "Match Address 10.99.40.0/24\n    AuthenticationMethods publickey\n")
        v = findings(inv, {"host", "data"}, {"db1", "db2", "lgsp1"})
    assert_cases(v, "antimalware_signatures_fresh", "db1", "db2", "running freshclam; signatures 120 h old")
    assert_cases(v, "logs_forwarded_to_collector", "db1", "db2", "targets none; running rsyslogd")
    assert_cases(v, "monitoring_retention_sufficient", "db1", "db2", "no retention flag")
    assert_cases(v, "monitoring_agent_running", "db1", "db2", "nothing listens on 9100")
    assert_cases(v, "mysql_exposure_and_auth", "db1", "db2", "skip-grant-tables")
    assert_cases(v, "ssh_admin_mfa", "lgsp1", "db2", "(Match)")
    assert "addr=10.99.40." in v[("ssh_admin_mfa", "db2")].found
    for host in ("db1", "db2"):  # what was planted is gone again (the daemons were waited for)
        assert not lab.host_path(host, "/tmp/provdc-prom").exists() and not lab.host_path(host, "/etc/mysql").exists()


# ----------------------------------------------------------------------------- web applications

def test_cookies_security_txt_and_access_logs(lab):
    """portal-web1 passes, mcdt-app1 fails, each nginx reconfigured in its own view and reloaded."""
    expires = (date.today() + timedelta(days=180)).isoformat()
    good = lambda t: (t.replace("location = / { default_type text/html;",  # noqa: E731
                                "location = / { default_type text/html; add_header Set-Cookie "
                                "\"sid=lab; Path=/; Secure; HttpOnly; SameSite=Strict\" always;")
                      .replace("location / { return 404; }",
                               "location = /.well-known/security.txt { default_type text/plain; return 200 "
                               f"\"Contact: mailto:csirt@lab.gov.vn\\nExpires: {expires}T00:00:00Z\\n\"; }} location / {{ return 404; }}"))
    # mcdt-app1 (level 3, where security.txt applies): a session cookie without its flags; the
    # application answers every path with its home page (so security.txt "answers 200"); and
    # access_log off in the middle of a line
    bad = lambda t: (t.replace("location = / { default_type text/html;",  # noqa: E731
                               "location = / { default_type text/html; add_header Set-Cookie \"sid=lab; Path=/\" always;")
                     .replace("location / { return 404; }", "location / { default_type text/html; return 200 '<!doctype html><p>mcdt</p>'; }")
                     .replace("server_name mcdt-app1;", "server_name mcdt-app1; access_log off;"))
    try:
        with planted(lab, files={"portal-web1": [NGINX], "mcdt-app1": [NGINX]}):
            for host, edit in (("portal-web1", good), ("mcdt-app1", bad)):
                path = lab.host_path(host, NGINX)
                text = path.read_text()
                assert edit(text) != text, host
                path.write_text(edit(text))
                sh(lab, host, f"nginx -c {NGINX} -s reload")
            time.sleep(0.5)  # new workers take over
            v = findings(lab.inventory, {"application"}, {"portal-web1", "mcdt-app1"})
    finally:
        for host in ("portal-web1", "mcdt-app1"):  # `planted` put the files back: nginx reads them again
            lab.in_host(host, "nginx", "-c", NGINX, "-s", "reload")
    assert_cases(v, "cookies_secure_httponly", "portal-web1", "mcdt-app1", "sid without secure, httponly")
    assert_cases(v, "security_txt_published", "portal-web1", "mcdt-app1", "without a Contact field")
    assert_cases(v, "web_access_logged", "portal-web1", "mcdt-app1", f"{NGINX}: access_log off")


# ------------------------------------------------------------------------- the inventory itself

def test_framework_and_link_paths_on_the_lab_inventory_and_variants(lab):
    only = CheckRegistry()
    for check_id in ("framework_current", "links_on_separate_paths"):
        only.add(DEFAULT[check_id])
    inv = lab.inventory

    def judged(inventory):
        return {(f.check, f.system or "inventory"): f for f in run_audit(inventory, Options(), registry=only).findings}

    v = judged(inv)
    assert v[("framework_current", "lgsp")].status is Status.PASS                     # Decree 331
    assert v[("framework_current", "portal")].status is Status.PASS                   # Decree 85 until 01/07/2027
    assert v[("links_on_separate_paths", "inventory")].status is Status.PASS          # fibre-north, fibre-south
    late = variant(inv, systems=[s.model_copy(update={"started": date(2026, 8, 1)}) if s.id == "portal" else s
                                 for s in inv.doc.systems],
                   links=[link.model_copy(update={"path_id": "fibre-north"}) for link in inv.doc.links])
    v = judged(late)
    assert v[("framework_current", "portal")].status is Status.FAIL and "after 2026-07-01" in v[("framework_current", "portal")].expected
    assert v[("framework_current", "lgsp")].status is Status.PASS
    assert v[("links_on_separate_paths", "inventory")].status is Status.FAIL
    assert "fibre-north" in v[("links_on_separate_paths", "inventory")].found
