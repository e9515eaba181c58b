"""Offline: the provdc_files module's line edits match lineinfile's, so a host lineinfile
converged is unchanged under provdc_files."""

from __future__ import annotations

import importlib.util

import pytest

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


def _run_module(tmp_path, files: list[dict], check: bool = False) -> dict:
    """The module run as Ansible runs it (its arguments in a JSON file), offline on tmp paths."""
    import json
    import subprocess
    import sys

    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"files": files, "_ansible_check_mode": check}}))
    r = subprocess.run([sys.executable, str(PLAYBOOKS_DIR / "library" / "provdc_files.py"), str(args)],
                       capture_output=True, text=True)
    return json.loads(r.stdout)


def test_a_file_rejected_in_place_is_put_back_and_the_run_fails(tmp_path):
    conf = tmp_path / "50-hardening.conf"
    conf.write_text("PasswordAuthentication no\n")
    checker = f"grep -q Typo {conf} && exit 1 || exit 0"  # a checker that reads the file where it belongs
    result = _run_module(tmp_path, [{"path": str(conf), "content": "Typo yes\n", "check_in_place": f"sh -c '{checker}'"}])
    assert result.get("failed") and "previous content is back" in result["msg"]
    assert conf.read_text() == "PasswordAuthentication no\n"
    new = tmp_path / "51-new.conf"  # a new file that is rejected is removed
    result = _run_module(tmp_path, [{"path": str(new), "content": "x\n", "check_in_place": "false"}])
    assert result.get("failed") and not new.exists()


def test_a_file_accepted_in_place_stays_and_apply_runs_only_on_change(tmp_path):
    conf, marker = tmp_path / "60.conf", tmp_path / "applied"
    item = {"path": str(conf), "content": "net.x = 1\n", "check_in_place": "true", "apply": f"sh -c 'echo >> {marker}'"}
    assert _run_module(tmp_path, [item], check=True)["changed"] and not conf.exists() and not marker.exists()
    assert _run_module(tmp_path, [item])["changed"] and conf.read_text() == "net.x = 1\n"
    assert _run_module(tmp_path, [item])["changed"] is False
    assert marker.read_text() == "\n"  # applied once, on the change
    failing = {**item, "content": "net.x = 2\n", "apply": "false"}
    result = _run_module(tmp_path, [failing])
    assert result.get("failed") and "false failed" in result["msg"]


DEBIAN_AUTH = ("# /etc/pam.d/common-auth\nauth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\t\t\tpam_deny.so\n"
               "auth\trequired\t\t\tpam_permit.so\nauth\toptional\t\t\tpam_cap.so \n")
DEBIAN_ACCOUNT = "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so \naccount\trequisite\t\t\tpam_deny.so\n"


def _role_edits(path: str) -> list[dict]:
    import yaml

    spec = yaml.safe_load((PLAYBOOKS_DIR / "vars/baseline.yml").read_text())   # the role's files
    return next(f["lines"] for f in spec["provdc_files_password_policy"] if f["path"] == path)


def _lineinfile(tmp_path, text: str, edits: list[dict]) -> str:
    """`text` after Ansible's own lineinfile module made each edit (run offline on a tmp file)."""
    import json
    import subprocess
    import sys

    target, args = tmp_path / "target", tmp_path / "lineinfile.json"
    target.write_text(text)
    for edit in edits:
        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"path": str(target), **edit}}))
        r = subprocess.run([sys.executable, "-m", "ansible.modules.lineinfile", str(args)], capture_output=True, text=True)
        assert '"changed"' in r.stdout and '"failed"' not in r.stdout, r.stdout
    return target.read_text()


@pytest.mark.parametrize("text", [
    DEBIAN_AUTH,                                                                        # as Debian ships it
    DEBIAN_AUTH.replace("auth\trequisite", "auth\t[default=die]\t\t\tpam_faillock.so authfail\nauth\trequisite"),  # half done
    "auth\trequired\t\t\tpam_faillock.so preauth\n" + DEBIAN_AUTH,                     # preauth already first
    DEBIAN_AUTH + "auth\trequired\tpam_faillock.so preauth\n",                          # preauth after pam_unix
    "auth required pam_env.so\n",                                                       # no pam_unix at all
    "",
])
def test_the_pam_edits_match_lineinfile_on_common_auth(tmp_path, text):
    edits = _role_edits("/etc/pam.d/common-auth")
    assert edited(text, edits) == _lineinfile(tmp_path, text, edits)
    assert edited(edited(text, edits), edits) == edited(text, edits)


@pytest.mark.parametrize("text", [DEBIAN_ACCOUNT, "account\trequired\tpam_faillock.so\n" + DEBIAN_ACCOUNT, "x"])
def test_the_pam_edit_matches_lineinfile_on_common_account(tmp_path, text):
    edits = _role_edits("/etc/pam.d/common-account")
    assert edited(text, edits) == _lineinfile(tmp_path, text, edits)
