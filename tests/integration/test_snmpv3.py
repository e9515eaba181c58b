"""SNMPv3 end to end: the lab's inet-rtr declares an authPriv user (SHA-256, AES; passphrases
by reference); its snmpd, written from the snmpd role's own template, answers that user only,
and snmp_exporter measures its links through the same rules as the v2c router's."""

from __future__ import annotations

import subprocess

import pytest

from provdc.lab import faults
from provdc.secrets import SecretRef

pytestmark = pytest.mark.twin

from tests.integration.conftest import _value, _wait  # noqa: E402

SYS_NAME = "1.3.6.1.2.1.1.5.0"


def _get(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["snmpget", *args, "-t", "2", "-r", "1", "-Oqv", "10.99.0.3", SYS_NAME], capture_output=True, text=True)


def test_the_v3_agent_answers_its_authpriv_user_and_nothing_else(lab):
    snmp = lab.inventory.devices["inet-rtr"].snmp
    auth, priv = (SecretRef.parse(r).resolve(lab.inventory.base) for r in (snmp.auth_password, snmp.priv_password))
    ok = _get(["-v3", "-l", "authPriv", "-u", snmp.username, "-a", "SHA-256", "-A", auth, "-x", "AES", "-X", priv])
    assert ok.returncode == 0 and ok.stdout.strip() == '"inet-rtr"', ok.stderr
    wrong = _get(["-v3", "-l", "authPriv", "-u", snmp.username, "-a", "SHA-256", "-A", "not-the-passphrase", "-x", "AES", "-X", priv])
    assert wrong.returncode != 0
    community = SecretRef.parse(lab.inventory.devices["wan-rtr"].snmp.community).resolve(lab.inventory.base)
    assert _get(["-v2c", "-c", community]).returncode != 0  # no community is accepted by a v3 agent


def test_a_saturated_v3_link_is_measured_like_a_v2c_one(monitoring, lab):
    _wait(lambda: _value(monitoring, 'up{job="snmp", device="inet-rtr"}') == 1, 20, "v3 target up")
    faults.saturate(lab, "inet-international", seconds=24)
    ratio = _value(monitoring, 'provdc:link_utilisation:ratio{link="inet-international",direction="a_to_b"}')
    # tbf holds the wire at the contract; a rate read from counters over a window that the
    # scrape times bound can exceed it by a few parts in ten thousand
    assert 0.8 <= ratio <= 1.01, ratio
    assert _value(monitoring, 'provdc:link_up{link="inet-international"}') == 1
