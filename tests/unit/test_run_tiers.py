"""The suite's two-tier runner: which runs it starts and how their statuses combine."""

from __future__ import annotations

from tests.run_tiers import NO_TESTS, chooses_a_tier, combined_status


def test_both_tiers_must_pass_and_an_empty_tier_is_no_failure():
    assert combined_status([0, 0]) == 0
    assert combined_status([0, NO_TESTS]) == 0              # `tests/unit/x.py`: the twin tier selects nothing
    assert combined_status([NO_TESTS, NO_TESTS]) == NO_TESTS  # nothing at all ran
    assert combined_status([1, 0]) == 1 and combined_status([0, 1]) == 1
    assert combined_status([NO_TESTS, 2]) == 2              # interrupted or a usage error is not hidden


def test_a_marker_expression_means_the_caller_chose_a_tier():
    assert chooses_a_tier(["-m", "not lab"]) and chooses_a_tier(["-mtwin"])
    assert not chooses_a_tier(["-q", "--maxfail=1", "tests/unit"]) and not chooses_a_tier(["--my-option"])
