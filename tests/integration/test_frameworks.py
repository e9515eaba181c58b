"""One host, one level, two frameworks: on a real lab host the same settings pass under Decree 85
and fail under Decree 331 wherever the catalogue's numbers differ, and the finding says which
system and framework set the bar. Whatever a test plants it restores."""

from __future__ import annotations

import pytest

from provdc.checks.engine import Options, run_audit
from provdc.checks.results import Status
from provdc.inventory.model import Framework

pytestmark = pytest.mark.twin

HOST = "mcdt-app1"          # serves only mcdt: level 3, one-stop shop (an online service)
# Settings that meet Decree 85's numbers at level 3 but not Decree 331's:
PLANTED = {
    "/etc/security/faillock.conf": "deny = 5\nunlock_time = 3600\n",            # 1 h: >= 900 s, < 12 h
    "/etc/pam.d/common-auth": (  # the stack that reads it (as the password_policy role wires it)
        "auth\trequired\tpam_faillock.so preauth\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
        "auth\t[default=die]\tpam_faillock.so authfail\nauth\tsufficient\tpam_faillock.so authsucc\n"
        "auth\trequisite\tpam_deny.so\nauth\trequired\tpam_permit.so\n"),
    "/etc/systemd/journald.conf.d/provdc.conf": "[Journal]\nStorage=persistent\nMaxRetentionSec=120day\n",  # 90 <= 120 < 365
    "/etc/security/pwquality.conf": "minlen = 14\nminclass = 3\n",               # 3 classes: not 4
}
PASS_MAX_DAYS = 75                                                               # <= 90, > 60
DIFFERING = ["login_lockout", "log_retention_for_level", "password_max_age", "password_complexity"]


@pytest.fixture
def planted(lab):
    """Plant PLANTED and PASS_MAX_DAYS on HOST; put every file back as it was afterwards."""
    saved = {}
    for path in [*PLANTED, "/etc/login.defs"]:
        p = lab.host_path(HOST, path)
        saved[p] = p.read_bytes() if p.exists() else None
    try:
        for path, text in PLANTED.items():
            lab.host_path(HOST, path).parent.mkdir(parents=True, exist_ok=True)
            lab.host_path(HOST, path).write_text(text)
        defs = lab.host_path(HOST, "/etc/login.defs")
        lines = [line for line in defs.read_text().splitlines() if not line.strip().startswith("PASS_MAX_DAYS")]
        defs.write_text("\n".join([*lines, f"PASS_MAX_DAYS\t{PASS_MAX_DAYS}"]) + "\n")
        yield
    finally:
        for p, content in saved.items():
            if content is None:
                p.unlink(missing_ok=True)
            else:
                p.write_bytes(content)


def _under(inv, framework: Framework):
    systems = [s.model_copy(update={"framework": framework}) if s.id == "mcdt" else s for s in inv.doc.systems]
    return inv.__class__(doc=inv.doc.model_copy(update={"systems": systems}), base=inv.base)


def _findings(inv):
    run = run_audit(inv, Options(layers={"host"}, hosts={HOST}))
    assert not run.partial
    return {f.check: f for f in run.findings}


def test_same_host_and_level_pass_decree_85_and_fail_decree_331_where_the_numbers_differ(lab, planted):
    nd85 = _findings(_under(lab.inventory, Framework.nd85_tcvn11930))
    nd331 = _findings(_under(lab.inventory, Framework.nd331_tcvn14423))
    for check in DIFFERING:
        assert nd85[check].status is Status.PASS, (check, nd85[check].found)
        assert nd331[check].status is Status.FAIL, (check, nd331[check].found)
        assert "set by mcdt (nd331_tcvn14423, level 3)" in nd331[check].expected, nd331[check].expected
        assert nd331[check].bar and "mcdt (nd331_tcvn14423, level 3)" in nd331[check].bar
        assert any(r.framework == "nd331_tcvn14423" for r in nd331[check].requirements)
    assert "unlock_time 3600" in nd331["login_lockout"].found
    assert ">= 365 days" in nd331["log_retention_for_level"].expected     # online services: a year under Law 116
    assert "maximum age <= 60" in nd331["password_max_age"].expected


def test_a_host_shared_by_two_frameworks_is_held_to_the_stricter(lab):
    """db2 serves qlvb (Decree 85, level 2) and lgsp (Decree 331, level 3): Debian's default
    PASS_MAX_DAYS 99999 fails, and the bar it fails is lgsp's 60 days."""
    findings = _findings_of(lab, "db2")
    assert findings["password_max_age"].status is Status.FAIL
    assert "PASS_MAX_DAYS and every password's maximum age <= 60 (set by lgsp (nd331_tcvn14423, level 3))" == \
        findings["password_max_age"].expected
    frameworks = {r.framework for r in findings["password_max_age"].requirements}
    assert frameworks == {"nd85_tcvn11930", "nd331_tcvn14423"}


def _findings_of(lab, host_id):
    run = run_audit(lab.inventory, Options(layers={"host"}, hosts={host_id}))
    return {f.check: f for f in run.findings}
