"""Every registered check is named by a lab test (tests/integration): a PASS and a FAIL case on
real lab hosts (issue #13). Offline: it reads the test files, it runs none of them."""

from __future__ import annotations

import re

from provdc.checks.engine import DEFAULT
from tests.conftest import ROOT

INTEGRATION = ROOT / "tests" / "integration"
# Checks still without a lab case (none now: the device checks have theirs in
# test_audit_devices.py). A name listed here fails the test below as soon as a lab test names it.
NOT_YET_IN_THE_LAB: set[str] = set()


def named_in_lab_tests() -> set[str]:
    """Identifiers written as string literals ("check_id" or 'check_id') in the lab tests."""
    return {name for path in sorted(INTEGRATION.rglob("*.py"))
            for name in re.findall(r"""["']([a-z][a-z0-9_]*)["']""", path.read_text(encoding="utf-8"))}


def test_every_registered_check_is_named_by_a_lab_test():
    named = named_in_lab_tests()
    missing = sorted(c.id for c in DEFAULT if c.id not in named and c.id not in NOT_YET_IN_THE_LAB)
    assert not missing, f"checks with no lab (tests/integration) case: {', '.join(missing)}"


def test_the_temporary_exceptions_are_still_needed():
    registered = {c.id for c in DEFAULT}
    assert NOT_YET_IN_THE_LAB <= registered, f"no longer registered: {sorted(NOT_YET_IN_THE_LAB - registered)}"
    covered = sorted(NOT_YET_IN_THE_LAB & named_in_lab_tests())
    assert not covered, f"now named by a lab test, remove from NOT_YET_IN_THE_LAB: {', '.join(covered)}"
