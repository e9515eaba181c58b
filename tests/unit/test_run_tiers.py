"""The suite's tier runner: which runs it starts and how their statuses combine."""

from __future__ import annotations

from tests.run_tiers import AFTER, NO_TESTS, TIERS, chooses_a_tier, combined_status, ready_to_start


def test_both_tiers_must_pass_and_an_empty_tier_is_no_failure():
    assert combined_status([0, 0]) == 0
    assert combined_status([0, NO_TESTS]) == 0              # `tests/unit/x.py`: the twin tier selects nothing
    assert combined_status([NO_TESTS, NO_TESTS]) == NO_TESTS  # nothing at all ran
    assert combined_status([1, 0]) == 1 and combined_status([0, 1]) == 1
    assert combined_status([NO_TESTS, 2]) == 2              # interrupted or a usage error is not hidden


def test_a_marker_expression_means_the_caller_chose_a_tier():
    assert chooses_a_tier(["-m", "not lab"]) and chooses_a_tier(["-mtwin"])
    assert not chooses_a_tier(["-q", "--maxfail=1", "tests/unit"]) and not chooses_a_tier(["--my-option"])


def test_a_tier_that_waits_for_another_starts_when_that_one_has_ended():
    names = [name for name, _ in TIERS]
    assert AFTER == {"own-lab": "demo"} and set(AFTER) <= set(names) and set(AFTER.values()) <= set(names)
    assert ready_to_start(names, set()) == [n for n in names if n != "own-lab"]
    assert ready_to_start(["own-lab"], {"twin"}) == []
    assert ready_to_start(["own-lab"], {"demo"}) == ["own-lab"]
