"""Data-layer checks (TCVN 11930 x.2.4): database access and storage, backups by policy."""

from __future__ import annotations

from datetime import datetime

from provdc.checks.registry import Verdict, check


@check(layer="data", level=2, severity="critical", title="the database requires authentication (no trust)",
       rationale="A 'trust' rule lets anyone who can connect act as any user (data confidentiality, 7.2.4.2).",
       remediation="Replace 'trust' by 'scram-sha-256' in pg_hba.conf and reload PostgreSQL.",
       tags=(), facts=("postgres",))
def db_no_trust_auth(postgres: dict) -> Verdict:
    if not postgres["installed"]:
        return Verdict.not_applicable("no PostgreSQL configuration on this host")
    trust = [" ".join(rule) for rule in postgres["hba"] if rule and rule[-1] == "trust"
             or len(rule) >= 4 and "trust" in rule[3:]]
    return Verdict.failed("no 'trust' method", "; ".join(trust)) if trust else Verdict.passed(f"{len(postgres['hba'])} rules, none trust")


@check(layer="data", level=2, severity="high", title="database data directories are private to the database user",
       rationale="Data files readable by others bypass every database control (7.2.4.2).",
       remediation="chmod 700 the data directory (owned by postgres).",
       tags=(), facts=("postgres",))
def db_data_dir_private(postgres: dict) -> Verdict:
    if not postgres["datadirs"]:
        return Verdict.not_applicable("no PostgreSQL data directory on this host")
    loose = [f"{path} {mode:o} {owner}" for path, mode, owner in postgres["datadirs"] if mode & 0o077]
    return Verdict.failed("mode 700", "; ".join(loose)) if loose else Verdict.passed("mode 700")


@check(layer="data", level=3, severity="medium", title="the database listens only on the server's own address",
       rationale="Database servers are reachable only from the application zone (TT 12 §II.1.a; DAT-07).",
       remediation="Set listen_addresses to the server's address (not '*') in postgresql.conf.",
       tags=(), facts=("postgres", "server"))
def db_listen_restricted(postgres: dict, server) -> Verdict:
    if not postgres["listen"]:
        return Verdict.not_applicable("no listen_addresses setting (PostgreSQL not configured here)")
    value = postgres["listen"][-1]  # the last setting read wins (conf.d, then postgresql.auto.conf)
    ok = "*" not in value and "0.0.0.0" not in value
    return Verdict.passed(f"listen_addresses '{value}'") if ok else Verdict.failed(f"'{server.address}' or localhost", f"'{value}'")


@check(layer="data", level=1, severity="high", title="a backup policy with an off-host target is declared",
       rationale="At least configuration, databases and business data are backed up (7.2.4.3), away from the source (DAT-02).",
       remediation="Declare backup (max_age_hours, target) for the system in the inventory and schedule the job.",
       tags=(), facts=("system", "bar"), scope="system")
def backup_policy_declared(system, bar) -> Verdict:
    b, most = system.backup, bar["backup_max_age_hours"]
    if not (b and b.target):
        return Verdict.failed(f"backup.target and max_age_hours <= {most:g}", "no backup policy")
    found = f"every {b.max_age_hours} h to {b.target}"
    return Verdict.passed(found) if b.max_age_hours <= most else \
        Verdict.failed(f"max_age_hours <= {most:g} ({bar.why('backup_max_age_hours')})", found)


def _backup_sets(system, host_facts: dict) -> tuple[dict | None, Verdict | None]:
    """The backup facts of a system's declared target host, or the verdict when they are missing."""
    b = system.backup
    if b is None or b.target is None:
        return None, Verdict.not_applicable("no backup policy declared (see backup_policy_declared)")
    target = host_facts.get(b.target)
    if target is None:
        return None, Verdict.error(f"the backup host {b.target} was not audited in this run, or could not be reached")
    facts = target.get("backups")
    if facts is None or isinstance(facts, Exception):
        return None, Verdict.error(f"backups on {b.target} could not be read: {facts}")
    return facts, None


@check(layer="data", level=1, severity="high", title="the latest backup is fresher than the policy",
       rationale="A backup older than its policy is a loss window nobody accepted (7.2.4.3); the copies must be on "
                 "another host than the system's own servers (DAT-02), under the declared backup path.",
       remediation="Fix the backup job; its sets go to <backup.path>/<system> on the target host.",
       tags=(), facts=("system", "host_facts", "now"), scope="system")
def backup_fresh(system, host_facts: dict, now: datetime) -> Verdict:
    facts, verdict = _backup_sets(system, host_facts)
    if verdict:
        return verdict
    b = system.backup
    where = f"{b.target}:{b.path.rstrip('/')}/{system.id}"
    if b.target in system.servers:
        return Verdict.failed("copies on another host than the system's servers", f"{b.target} is one of its servers")
    if f"{b.path.rstrip('/')}/{system.id}" not in facts["sets"]:
        return Verdict.failed(where, "no backup set")
    age_h = (now.timestamp() - facts["sets"][f"{b.path.rstrip('/')}/{system.id}"]) / 3600
    found = f"latest {age_h:.1f} h ago at {where}"
    return Verdict.passed(found) if age_h <= b.max_age_hours else Verdict.failed(f"<= {b.max_age_hours} h", found)


@check(layer="data", level=2, severity="medium", title="a restore of the backup was tested within the framework's interval",
       rationale="Backups are only known to work once restored (TCVN 11930 7.2.4.3; TCVN 14423 restore tests).",
       remediation="Restore the latest set into a scratch database or directory, verify it, then touch "
                   "<backup.path>/<system>/.restore-tested on the backup host.",
       tags=(), facts=("system", "host_facts", "now", "bar"), scope="system")
def backup_restore_tested(system, host_facts: dict, now: datetime, bar) -> Verdict:
    facts, verdict = _backup_sets(system, host_facts)
    if verdict:
        return verdict
    days = bar["restore_test_days"]
    key = f"{system.backup.path.rstrip('/')}/{system.id}"
    expected = f"{system.backup.target}:{key}/.restore-tested younger than {days:g} days ({bar.why('restore_test_days')})"
    tested = facts["restored"].get(key)
    if tested is None:
        return Verdict.failed(expected, "no restore test recorded")
    age = (now.timestamp() - tested) / 86400
    return Verdict.passed(f"restore tested {age:.0f} days ago") if age <= days else Verdict.failed(expected, f"{age:.0f} days ago")


@check(layer="data", level=2, severity="high", title="MariaDB/MySQL requires authentication and listens only where declared",
       rationale="Database servers are reachable only from the application zone and never without authentication (7.2.4.2); "
                 "judged on the options the server reads and on the sockets it holds open (a command-line option "
                 "overrides every file).",
       remediation="Set bind-address to the server's address (not 0.0.0.0 or ::) and remove skip-grant-tables in /etc/mysql/.",
       tags=(), facts=("mysql", "listening", "server"))
def mysql_exposure_and_auth(mysql: dict, listening: list, server) -> Verdict:
    if not mysql["installed"]:
        return Verdict.not_applicable("no MariaDB or MySQL server on this host")
    opts = mysql["options"]
    on = lambda name: name in opts and opts[name].strip().lower() not in ("0", "off", "false")  # noqa: E731
    problems = []
    if on("skip-grant-tables"):
        problems.append("skip-grant-tables")
    bind = opts.get("bind-address", "*" if not on("skip-networking") else "none")
    if not on("skip-networking") and any(b.strip() in ("*", "0.0.0.0", "::", "") for b in bind.split(",")):
        problems.append(f"bind-address {bind}")
    port = int(opts["port"]) if opts.get("port", "").isdigit() else 3306
    wildcard = sorted({f"{addr or '*'}:{p}" for proto, addr, p in listening
                       if proto == "tcp" and p == port and addr in ("0.0.0.0", "::", "*", "")})
    if wildcard:
        problems.append(f"listening on {', '.join(wildcard)}")
    found = f"bind-address {bind}" + (", skip-networking" if on("skip-networking") else "")
    return Verdict.failed(f"bind-address {server.address} or 127.0.0.1, grant tables on", "; ".join(problems)) if problems \
        else Verdict.passed(found)
