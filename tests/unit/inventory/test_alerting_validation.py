"""The `alerting` and `schedule` sections and SNMP measurability: every defect at once, each on
its own line and field (the minimal inventory plus one appended section per case)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provdc.errors import InventoryError
from provdc.inventory import load_inventory

MINIMAL = (Path(__file__).parent / "valid" / "minimal.yaml").read_text(encoding="utf-8")

GOOD = """
alerting:
  smtp: {smarthost: "mail.test.gov.vn:587", from: provdc@test.gov.vn, username: provdc, password: env:SMTP_PW}
  receivers:
    - {id: ops, email: [ops@test.gov.vn]}
    - {id: hook, webhook: {url: "https://tickets.test.gov.vn/hook", token: file:keys/hook}}
  routes:
    - {agency: so-a, severity: page, receiver: ops}
    - {severity: ticket, receiver: hook}
  default_receiver: ops
schedule:
  audit: {when: "every 30m"}
  report: {when: "monthly 1 07:00", receivers: [ops]}
"""


def _load(tmp_path: Path, extra: str):
    path = tmp_path / "inv.yaml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    return load_inventory(path)


def _problems(tmp_path: Path, extra: str) -> list[tuple[int, str, str]]:
    with pytest.raises(InventoryError) as caught:
        _load(tmp_path, extra)
    lines = MINIMAL.count("\n")
    return [(p.pos.line - lines, p.field, p.message) for p in caught.value.problems]


def test_a_complete_alerting_section_is_valid(tmp_path):
    inv = _load(tmp_path, GOOD)
    assert inv.doc.alerting.smtp.port == 587
    assert inv.doc.schedule.audit.when == "every 30m"
    assert inv.doc.schedule.report.langs == ["vi", "en"]


def test_defaults_schedule_audit_daily_and_report_monthly(tmp_path):
    inv = _load(tmp_path, "")
    assert (inv.doc.schedule.audit.when, inv.doc.schedule.report.when) == ("daily 02:00", "monthly 1 07:00")


def test_every_cross_reference_defect_is_reported_on_its_line(tmp_path):
    extra = """
alerting:
  smtp: {smarthost: "mail.test.gov.vn:587", from: provdc@test.gov.vn, username: provdc}
  receivers:
    - {id: ops, email: [ops@test.gov.vn]}
    - {id: hook}
  routes:
    - {agency: so-z, receiver: ops}
    - {severity: page, receiver: nobody}
    - {receiver: ops}
  default_receiver: night
schedule:
  report: {when: "monthly 1 07:00", receivers: [ops, hook, ghost]}
"""
    got = _problems(tmp_path, extra)
    assert got == [
        (3, "alerting.smtp.password", "`username` and `password` go together"),
        (6, "alerting.receivers[hook]", "a receiver needs `email` addresses, a `webhook`, or both"),
        (8, "alerting.routes[0].agency", "unknown agency 'so-z'"),
        (9, "alerting.routes[1].receiver", "unknown receiver 'nobody'"),
        (10, "alerting.routes[2]", "a route names an `agency`, a `severity`, or both (else use default_receiver)"),
        (11, "alerting.default_receiver", "unknown receiver 'night'"),
        (13, "schedule.report.receivers[1]", "receiver 'hook' has no e-mail address (results are sent by e-mail)"),
        (13, "schedule.report.receivers[2]", "unknown receiver 'ghost'"),
    ], got


@pytest.mark.parametrize("extra, field, text", [
    ('\nalerting:\n  smtp: {smarthost: "m.test.gov.vn:587", from: a@test.gov.vn, username: u, password: hunter2}\n'
     '  receivers: [{id: ops, email: [ops@test.gov.vn]}]\n  default_receiver: ops\n', "alerting.smtp.password", "plaintext secret"),
    ('\nalerting:\n  receivers: [{id: ops, email: [ops]}]\n  default_receiver: ops\n', "alerting.receivers[ops].email[0]",
     "not an e-mail address: 'ops'"),
    ('\nschedule:\n  audit: {when: "daily 25:00"}\n', "schedule.audit.when", "not a schedule: 'daily 25:00'"),
    ('\nschedule:\n  report: {when: "monthly 31 07:00"}\n', "schedule.report.when", "DAY 1-28"),
    ('\nalerting:\n  receivers: [{id: ops, email: [ops@test.gov.vn]}]\n  default_receiver: ops\n',
     "alerting.receivers[ops].email", "e-mail receivers need `alerting.smtp`"),
    ('\nschedule:\n  report: {when: "monthly 1 07:00", receivers: [ops]}\n', "schedule.report.receivers",
     "the `alerting` section, which is missing"),
])
def test_one_defect_one_problem(tmp_path, extra, field, text):
    got = _problems(tmp_path, extra)
    assert len(got) == 1 and got[0][1] == field and text in got[0][2], got


def test_secret_value_never_in_the_message(tmp_path):
    extra = ('\nalerting:\n  smtp: {smarthost: "m.test.gov.vn:587", from: a@test.gov.vn, username: u, password: s3cr3t-value}\n'
             '  receivers: [{id: ops, email: [ops@test.gov.vn]}]\n  default_receiver: ops\n')
    assert not any("s3cr3t-value" in msg for _, _, msg in _problems(tmp_path, extra))


@pytest.mark.parametrize("snmp, text", [
    ("{version: '3', username: mon, auth_password: env:A}", "SNMPv3 (authPriv) needs priv_password"),
    ("{version: '3'}", "SNMPv3 (authPriv) needs username, auth_password, priv_password"),
    ("{version: '2c'}", "SNMPv2c needs a `community` reference"),
])
def test_a_measuring_device_that_cannot_be_read_is_an_error_not_a_silent_drop(tmp_path, snmp, text):
    path = tmp_path / "inv.yaml"
    path.write_text(MINIMAL.replace("    snmp:\n      community: env:SNMP_COMMUNITY\n", f"    snmp: {snmp}\n"), encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    (problem,) = caught.value.problems
    assert problem.field == "devices[rtr1].snmp" and text in problem.message and "wan-ubnd" in problem.message, str(problem)
