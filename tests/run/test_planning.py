"""`studylib plan`: per-rule sizes and adequacy from counts only, bad input exit 2, the record in a run."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.judge import planning as judge_planning
from studylib import plan as plan_module
from studylib.run import planning
from studylib.stats.sample_size import sample_size
from tests.conftest import make_project

PLANNING = {"prevalence": 0.3, "c_statistic": 0.8, "baseline_c_statistic": 0.78, "auroc_correlation": 0.8}


def _with_planning(params):
    params["planning"] = dict(PLANNING)


def test_plan_lists_every_rule_with_its_size_and_no_estimate(tmp_path):
    params_file = make_project(tmp_path, change=_with_planning)
    results = planning.plan_file(params_file)
    study = plan_module.load(params_file)
    ids = [r["id"] for r in results["requirements"]]
    assert ids == [c.id for c in study.acceptance] + [g.id for g in study.subgroups.gates]
    text = planning.plan_text(results)
    assert "Precision of the whole cohort" in text and "Who reaches it" in text
    # counts only: no key of an estimate, interval or score anywhere in the plan
    flat = json.dumps(results)
    for word in ("estimate", "lower", "upper", "auroc_vs_baseline"):
        assert f'"{word}"' not in flat
    overall = [a for a in results["adequacy"] if a["variable"] == "overall"]
    assert overall and all(a["reached"] in (True, False, None) for a in overall)


def test_sensitivity_requirement_counts_positives_only(tmp_path):
    study = plan_module.load(make_project(tmp_path, change=_with_planning))
    gate = plan_module.Criterion(id="X", metric="sensitivity", bound="lower", at_least=0.5)
    req = judge_planning.requirement(gate, study, "acceptance")
    assert req.negatives == 0 and req.positives >= 1
    sens, _ = judge_planning.classification_at(judge_planning.linear_predictor(study), study.analysis.threshold)
    assert req.positives == sample_size(sens, study.subgroups.interval_width)


def test_without_planning_section_says_so(tmp_path):
    results = planning.plan_file(make_project(tmp_path))
    assert results["declared"] is False and "planning section" in results["reason"]


def test_cli_plan_and_bad_input(tmp_path):
    params_file = make_project(tmp_path, change=_with_planning)
    runner = CliRunner()
    ok = runner.invoke(main, ["plan", str(params_file)])
    assert ok.exit_code == 0, ok.output
    assert "participants" in ok.output
    data = yaml.safe_load(params_file.read_text())
    data["planning"]["prevalence"] = 1.5
    params_file.write_text(yaml.safe_dump(data))
    bad = runner.invoke(main, ["plan", str(params_file)])
    assert bad.exit_code == 2 and "planning" in bad.output and "Traceback" not in bad.output


def test_cli_plan_json_is_the_recorded_form(tmp_path):
    params_file = make_project(tmp_path, change=_with_planning)
    out = CliRunner().invoke(main, ["plan", str(params_file), "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["stage"] == "plan"
