"""Offline: the provdc_files module's line edits match lineinfile's, so a host lineinfile
converged is unchanged under provdc_files."""

from __future__ import annotations

import importlib.util

from provdc.playbooks import PLAYBOOKS_DIR

_spec = importlib.util.spec_from_file_location("provdc_files", PLAYBOOKS_DIR / "library" / "provdc_files.py")
provdc_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(provdc_files)
edited = provdc_files.edited

AGEING = [{"regexp": r"^\s*PASS_MAX_DAYS\s", "line": "PASS_MAX_DAYS\t90"},
          {"regexp": r"^\s*PASS_MIN_DAYS\s", "line": "PASS_MIN_DAYS\t1"}]


def test_the_last_matching_line_is_replaced_others_left_alone():
    text = "# PASS_MAX_DAYS in days\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS 0\nUMASK 022\n"
    assert edited(text, AGEING) == "# PASS_MAX_DAYS in days\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS\t1\nUMASK 022\n"


def test_a_missing_setting_is_appended_even_without_a_final_newline():
    assert edited("UMASK 022", AGEING) == "UMASK 022\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS\t1\n"
    assert edited("", AGEING[:1]) == "PASS_MAX_DAYS\t90\n"


def test_a_converged_file_is_unchanged():
    text = "UMASK 022\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS\t1\n"
    assert edited(text, AGEING) == text
    assert edited(edited(text, AGEING), AGEING) == text
