"""The requirement catalogue: valid data, every check mapped in both frameworks, listed by the CLI."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from click.testing import CliRunner

from provdc.checks.engine import DEFAULT
from provdc.checks.registry import text
from provdc.cli import main
from provdc.inventory.catalogue import FRAMEWORKS, REGULATIONS, CatalogueError, load_catalogue

CATALOGUE = load_catalogue()


def test_both_frameworks_hold_every_requirement_of_the_research_note():
    for fid in FRAMEWORKS:
        ids = set(CATALOGUE.framework(fid).requirements)
        assert len(ids) >= 86
        # the 86 rows of regulations.md §2.3-2.7 (NET, SRV, APP, DAT, AVL), plus governance records
        for prefix, count in (("NET", 27), ("SRV", 27), ("APP", 11), ("DAT", 10), ("AVL", 11)):
            assert {f"{prefix}-{n:02d}" for n in range(1, count + 1)} <= ids, (fid, prefix)


def test_every_check_named_in_the_catalogue_exists():
    assert CATALOGUE.check_ids() <= {c.id for c in DEFAULT}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_check_serves_a_requirement_in_each_framework(framework):
    fw = CATALOGUE.framework(framework)
    unmapped = [c.id for c in DEFAULT if not fw.for_check(c.id)]
    assert unmapped == []


def test_automated_requirements_name_checks_and_the_others_none():
    for fw in CATALOGUE.frameworks.values():
        for r in fw.requirements.values():
            assert (r.met_by == "automated") == bool(r.checks), r.id
            assert r.met_by != "evidence" or r.evidence, r.id


def test_unverified_clauses_are_marked_not_invented():
    nd331 = CATALOGUE.framework("nd331_tcvn14423")
    for r in nd331.requirements.values():
        if r.clause and r.clause.startswith("TCVN 14423") and "not verified" in r.clause:
            assert r.clause_verified is False, r.id
    assert not any("~" in (r.clause or "") for fw in CATALOGUE.frameworks.values() for r in fw.requirements.values())


def test_the_frameworks_differ_where_their_sources_do():
    nd85, nd331 = CATALOGUE.framework("nd85_tcvn11930"), CATALOGUE.framework("nd331_tcvn14423")
    assert (nd85.value("password_max_days", 3), nd331.value("password_max_days", 3)) == (90, 60)
    assert (nd85.value("lockout_min_unlock_seconds", 3), nd331.value("lockout_min_unlock_seconds", 3)) == (900, 43200)
    assert nd331.value("log_retention_days", 3, "portal") == 365 and nd85.value("log_retention_days", 3, "portal") == 90
    assert nd85.value("incident_initial_report_hours", 3) is None and nd331.value("incident_initial_report_hours", 3) == 24


def test_every_requirement_and_parameter_has_both_languages():
    for info in [*CATALOGUE.requirements.values(), *CATALOGUE.parameters.values()]:
        assert info.title.en.strip() and info.title.vi.strip()


def test_every_check_has_its_vietnamese_title_and_remediation():
    missing = [c.id for c in DEFAULT if text(c, "title", "vi") == c.title or text(c, "remediation", "vi") == c.remediation]
    assert missing == []


def test_a_broken_catalogue_file_is_refused_with_its_name(tmp_path):
    for f in REGULATIONS.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    doc = yaml.safe_load((tmp_path / "nd85_tcvn11930.yaml").read_text())
    doc["requirements"][0]["checks"] = []          # automated, but no check
    doc["requirements"][1]["parameters"] = ["no_such_number"]
    (tmp_path / "nd85_tcvn11930.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(CatalogueError) as exc:
        load_catalogue.__wrapped__(tmp_path)
    assert "nd85_tcvn11930.yaml: requirements[0] (NET-01)" in str(exc.value)
    assert "parameter no_such_number is not defined" in str(exc.value)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_catalogue_command_lists_requirements_with_status_and_parameters(framework):
    result = CliRunner().invoke(main, ["catalogue", "--framework", framework, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["requirements"]
    assert len(rows) >= 86
    srv03 = next(r for r in rows if r["id"] == "SRV-03")
    assert srv03["met_by"] == "automated" and "password_max_age" in srv03["checks"]
    assert srv03["parameters"]["password_max_days"]["levels"]["3"] == (90 if framework == "nd85_tcvn11930" else 60)


def test_catalogue_at_a_level_gives_that_levels_numbers_as_csv():
    result = CliRunner().invoke(main, ["catalogue", "--framework", "nd331_tcvn14423", "--level", "2", "--format", "csv"])
    assert result.exit_code == 0
    assert re.search(r"SRV-04,.*lockout_max_attempts 5 attempts", result.output)
    assert "NET-26" not in result.output              # the 30 km rule applies from level 5
