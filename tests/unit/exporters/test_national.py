"""The two levels, offline: provincial external labels and aggregates, NATIONAL.yaml
validation, the national configuration, and the bounded, failure-isolating fan-out."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest
import yaml

from provdc.exporters import monitoring, national
from provdc.exporters.national import NationalError, load_national
from provdc.playbooks.remote import ProvinceOutcome, fan_out
from tests.conftest import LAB_INVENTORY

needs = pytest.mark.skipif(shutil.which("promtool") is None, reason="Prometheus tools not installed")


def _promtool(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", "check", *map(str, args)], capture_output=True, text=True)


def test_every_provincial_prometheus_carries_its_province_and_the_aggregate_rules(lab_inventory, tmp_path):
    monitoring.write(lab_inventory, tmp_path)
    config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    assert config["global"]["external_labels"] == {"province": "lab"}
    assert national.PROVINCE_RULES in config["rule_files"]
    rules = yaml.safe_load((tmp_path / national.PROVINCE_RULES).read_text())
    names = {r["record"] for g in rules["groups"] for r in g["rules"]}
    assert all(n.startswith("province:") for n in names)
    assert {"province:system_availability:sli", "province:system_coverage:ratio", "province:link_utilisation:p95_7d",
            "province:audit_score:ratio", "province:audit_level_score:ratio", "province:job_targets_up:ratio"} <= names
    # one SLI and one coverage rule per system, labelled by it
    sli = [r for g in rules["groups"] for r in g["rules"] if r["record"] == "province:system_availability:sli"]
    assert sorted(r["labels"]["system"] for r in sli) == sorted(s.id for s in lab_inventory.doc.systems)
    assert [g["interval"] for g in rules["groups"]] == ["1m", "5m"]


def test_site_label_only_for_a_site_of_the_inventory(lab_inventory):
    assert national.external_labels(lab_inventory, "dc") == {"province": "lab", "site": "dc"}
    with pytest.raises(Exception, match="no such site"):
        national.external_labels(lab_inventory, "nowhere")


@needs
def test_promtool_accepts_provincial_and_national_configuration(lab_inventory, tmp_path):
    monitoring.write(lab_inventory, tmp_path / "prov")
    r = _promtool("rules", tmp_path / "prov" / national.PROVINCE_RULES)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "national.yaml").write_text(yaml.safe_dump({"version": 1, "provinces": [
        {"inventory": str(LAB_INVENTORY), "prometheus": "http://127.0.0.1:34001", "exporter": "http://127.0.0.1:34002"},
        {"id": "soc-trang", "prometheus": "https://prom.example:9090/prom"}]}))
    nat = load_national(tmp_path / "national.yaml")
    national.write_national(nat, tmp_path / "nat")
    r = _promtool("config", tmp_path / "nat" / "prometheus.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    config = yaml.safe_load((tmp_path / "nat" / "prometheus.yml").read_text())
    federate = [j for j in config["scrape_configs"] if j["job_name"].startswith("federate_")]
    assert [j["job_name"] for j in federate] == ["federate_lab", "federate_soc-trang"]
    assert all(j["honor_labels"] and j["params"]["match[]"] == ['{__name__=~"province:.+"}'] for j in federate)
    assert federate[1]["scheme"] == "https" and federate[1]["metrics_path"] == "/prom/federate"
    alerts = yaml.safe_load((tmp_path / "nat" / "rules" / "nation-alerts.yml").read_text())
    assert {r["alert"] for r in alerts["groups"][0]["rules"]} >= {"NationalProvinceNotReporting", "NationalSystemsBelowTarget"}


def test_national_file_problems_are_all_reported_with_their_position(tmp_path):
    f = tmp_path / "national.yaml"
    f.write_text("version: 2\nprovinces:\n  - prometheus: ftp://x\n    colour: red\n  - id: Bad_Id\n    prometheus: http://127.0.0.1:1\n"
                 "  - id: b\n    prometheus: http://127.0.0.1:2\n    runner: {host: 127.0.0.1, key: /root/.ssh/id}\n")
    with pytest.raises(NationalError) as exc:
        load_national(f)
    lines = [str(p) for p in exc.value.problems]
    assert "national.yaml:1:10: version: unsupported version (this provdc reads version 1)" in lines
    assert any(x.startswith("national.yaml:3:17: provinces[0].prometheus: not an http(s) URL") for x in lines)
    assert "national.yaml:4:5: provinces[0].colour: unknown key" in lines
    assert any(x.startswith("national.yaml:5:9: provinces[Bad_Id].id:") for x in lines)
    assert any("runner.key" in x and "file:PATH" in x for x in lines)
    assert str(exc.value) == f"national file has {len(lines)} problems"


def test_national_file_semantic_problems(tmp_path):
    f = tmp_path / "national.yaml"
    f.write_text(yaml.safe_dump({"version": 1, "provinces": [
        {"inventory": str(LAB_INVENTORY), "prometheus": "http://127.0.0.1:1"},
        {"id": "lab", "prometheus": "http://127.0.0.1:2"},
        {"prometheus": "http://127.0.0.1:3"},
        {"id": "x", "prometheus": "http://127.0.0.1:4", "runner": {"host": "127.0.0.1"}}]}))
    with pytest.raises(NationalError) as exc:
        load_national(f)
    text = "\n".join(map(str, exc.value.problems))
    assert "listed twice" in text and "give `id`, or `inventory`" in text and "give `inventory` too" in text


def test_fan_out_is_bounded_and_keeps_every_provinces_outcome():
    running, peak, lock = 0, 0, threading.Lock()

    def job(name: str, crash: bool = False):
        def run():
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            if crash:
                raise RuntimeError("runner vanished")
            return ProvinceOutcome(name, "successful", 0)
        return run

    jobs = {f"p{k}": job(f"p{k}", crash=k == 3) for k in range(8)}
    outcomes = fan_out(jobs, concurrency=3)
    assert peak <= 3 and list(outcomes) == list(jobs)
    assert outcomes["p3"].status == "error" and "runner vanished" in outcomes["p3"].error
    assert all(o.status == "successful" for k, o in outcomes.items() if k != "p3")


@needs
def test_the_system_sli_rules_on_prometheus_own_engine(lab_inventory, tmp_path):
    """The one definition of a system's availability, evaluated by `promtool test rules`: one of
    qlvb's targets down for two minutes while two others fall silent (an outage silences some
    probes): the window shows the system down and measured whole; once it is back, the two
    silent targets lower the coverage instead of counting as up."""
    settings = monitoring.Settings(scrape_interval="15s", sli_window="1m")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(national.province_rules(lab_inventory, settings)))
    count = national.targets_per_system(lab_inventory)["qlvb"]
    series = ([("0", "1x19 0x7 1x12")] + [(str(n), "1x19 _x20") for n in (1, 2)]
              + [(str(n), "1x40") for n in range(3, count)])            # a sample every 15 s for 10 minutes
    sli, coverage = 'province:system_availability:sli{system="qlvb"}', 'province:system_coverage:ratio{system="qlvb"}'

    def at(expr: str, minute: int, value: float) -> dict:
        return {"expr": expr, "eval_time": f"{minute}m", "exp_samples": [{"labels": expr, "value": value}]}

    test = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "15s",
        "input_series": [{"series": f'probe_success{{job="blackbox_tcp",instance="t{n}",systems=",qlvb,"}}', "values": v}
                         for n, v in series],
        "promql_expr_test": [at(sli, 3, 1), at(coverage, 3, 1),                 # all up, all recorded
                             at(sli, 6, 0), at(coverage, 6, 1),                 # one down, two silent: measured whole
                             at(sli, 9, 1), at(coverage, 9, (count - 2) * 5 / (count * 4))]}]}  # 5 samples per closed minute
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    done = subprocess.run(["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
