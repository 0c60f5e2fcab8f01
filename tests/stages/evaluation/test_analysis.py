"""The evaluation stage end to end: criteria of every kind passing and failing on constructed data, the
plan's validation (exit 2 with the criterion id), the results JSON against the library, and the notebook.

The parts are tested beside their modules: ``test_inputs`` (missing scores and probabilities),
``test_metrics``, ``test_comparison``, ``test_thresholds``; the statistics in ``tests/stats`` and the
verdict sentences in ``tests/judge/test_acceptance.py``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps
from sklearn.metrics import brier_score_loss
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from studylib import stats
from studylib.stages.evaluation import analysis as evaluation
from studylib.stages.evaluation import inputs
from studylib.evidence import results as evidence
from studylib.judge import gates
from studylib import plan
from studylib.run import preflight
from studylib.data import snapshot
from studylib.errors import ParameterError
from tests.conftest import PROJECT_ROOT, tiny_params

LOCK = "sha256:" + "0" * 64
ARTIFACT = "0" * 64


def make_study(acceptance=(), **analysis) -> plan.Study:
    data = tiny_params(LOCK, ARTIFACT)
    data["analysis"] = {"threshold": 0.5, "seed": 1, "n_bootstrap": 200} | analysis
    data["acceptance"] = list(acceptance)
    return plan.Study.model_validate(data)


def frame_of(y, candidate, baseline=None, **columns) -> pd.DataFrame:
    n = len(y)
    baseline = candidate if baseline is None else baseline
    return pd.DataFrame({"person_id": [f"P-{i:05d}" for i in range(n)], "split": "validation",
                         "death_5y": np.asarray(y, dtype=float), "p_v2": candidate, "p_v1": baseline, **columns})


def calibrated(n=4000, seed=3, noise=1.0):
    """Outcomes drawn from the candidate's own risks (well calibrated); the baseline is noisier."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-1.5, 1.2, n)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    base = 1 / (1 + np.exp(-(logit + rng.normal(0, noise, n))))
    return y, p, base


def judged(study, frame) -> dict[str, gates.Gate]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        ev = evaluation.evaluate(frame, study)
    return {g.id: g for g in ev.gates}


def example():
    """A study with three criteria of different kinds, a baseline, error-analysis variables and 3,000
    patients, and its evaluation: ``(study, frame, y, p, base, ev)``."""
    y, p, base = calibrated(n=3000, seed=11)
    rng = np.random.default_rng(1)
    frame = frame_of(y, p, base, sex=rng.choice(["F", "M"], len(y)), age=rng.integers(50, 95, len(y)))
    study = make_study([{"id": "AC-1", "metric": "sensitivity", "at_least": 0.5},
                        {"id": "AC-2", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02},
                        {"id": "AC-3", "metric": "calibration_slope", "interval_within": [0.8, 1.2]}],
                       threshold=0.3, primary_metrics=["sensitivity"], secondary_metrics=["auroc"],
                       error_analysis={"variables": ["sex", "age"], "list_misses": 5})
    return study, frame, y, p, base, evaluation.evaluate(frame, study)


# --------------------------------------------------------------------------------------------------
# Each criterion kind, passing and failing, on constructed data
# --------------------------------------------------------------------------------------------------


def test_sensitivity_lower_bound_known_answer():
    # 90 of 100 positives flagged: Wilson 95% interval of 90/100 is (0.8256, 0.9448)
    y = np.r_[np.ones(100), np.zeros(100)]
    score = np.r_[np.full(90, 0.9), np.full(10, 0.1), np.full(100, 0.1)]
    study = make_study([
        {"id": "PASS-1", "metric": "sensitivity", "bound": "lower", "at_least": 0.82},
        {"id": "FAIL-1", "metric": "sensitivity", "bound": "lower", "at_least": 0.83},
        {"id": "PASS-2", "metric": "sensitivity", "bound": "estimate", "at_least": 0.90},
        {"id": "FAIL-2", "metric": "sensitivity", "bound": "upper", "at_most": 0.94},
    ])
    g = judged(study, frame_of(y, score))
    lower, upper = stats.proportion_ci(90, 100, 0.05, "wilson")
    assert g["PASS-1"].lower == pytest.approx(lower, abs=1e-12) == pytest.approx(0.8256, abs=1e-4)
    assert g["PASS-1"].upper == pytest.approx(upper, abs=1e-12)
    assert [g[k].verdict for k in ("PASS-1", "FAIL-1", "PASS-2", "FAIL-2")] == ["PASS", "FAIL", "PASS", "FAIL"]
    assert "even the lower bound (0.826) is at least 0.82" in g["PASS-1"].sentence
    assert "is not at least 0.83" in g["FAIL-1"].sentence
    assert g["PASS-1"].rule == "lower 95% bound >= 0.82"


@pytest.mark.parametrize("metric, low, high", [("specificity", 0.5, 0.99), ("ppv", 0.3, 0.99),
                                               ("npv", 0.5, 0.999), ("accuracy", 0.5, 0.99),
                                               ("auroc", 0.6, 0.99), ("auprc", 0.3, 0.99)])
def test_at_least_on_every_discrimination_metric(metric, low, high):
    y, p, base = calibrated()
    study = make_study([{"id": "P", "metric": metric, "at_least": low}, {"id": "F", "metric": metric, "at_least": high}])
    g = judged(study, frame_of(y, p, base))
    assert (g["P"].verdict, g["F"].verdict) == ("PASS", "FAIL")
    assert g["P"].lower <= g["P"].estimate <= g["P"].upper


def test_brier_at_most_and_its_interval():
    y, p, base = calibrated()
    expected = brier_score_loss(y, p)
    study = make_study([{"id": "P", "metric": "brier", "at_most": expected + 0.01},
                        {"id": "F", "metric": "brier", "at_most": expected}])  # upper bound > estimate
    g = judged(study, frame_of(y, p, base))
    assert g["P"].estimate == pytest.approx(expected, abs=1e-12)
    se = np.std((p - y) ** 2, ddof=1) / math.sqrt(len(y))
    assert g["P"].upper == pytest.approx(expected + sps.norm.ppf(0.975) * se, abs=1e-12)
    assert (g["P"].verdict, g["F"].verdict) == ("PASS", "FAIL")
    assert g["F"].rule == "upper 95% bound <= " + f"{expected:g}"


def test_calibration_slope_interval_within():
    y, p, base = calibrated(n=6000)
    overconfident = 1 / (1 + np.exp(-2.0 * np.log(p / (1 - p))))  # slope about 0.5
    rule = [{"id": "AC", "metric": "calibration_slope", "interval_within": [0.8, 1.2]},
            {"id": "CITL", "metric": "calibration_in_the_large", "interval_within": [-0.2, 0.2]},
            {"id": "OE", "metric": "oe_ratio", "interval_within": [0.85, 1.15]}]
    good = judged(make_study(rule), frame_of(y, p, base))
    bad = judged(make_study(rule), frame_of(y, overconfident, base))
    assert {k: v.verdict for k, v in good.items()} == {"AC": "PASS", "CITL": "PASS", "OE": "PASS"}
    assert bad["AC"].verdict == "FAIL" and bad["AC"].upper < 0.8
    assert "does not lie inside the required range [0.8, 1.2]: the lower end" in bad["AC"].sentence
    expected = stats.calibration(y, p)
    assert good["AC"].estimate == pytest.approx(expected.slope.estimate, abs=1e-12)


def test_auroc_non_inferiority_paired_delong():
    y, p, base = calibrated(noise=1.0)  # the baseline is clearly worse
    study = make_study([{"id": "NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02}])
    better = judged(study, frame_of(y, p, base))["NI"]
    worse = judged(study, frame_of(y, base, p))["NI"]  # roles swapped: candidate worse than baseline
    test = stats.delong_test(y, p, base)
    assert better.estimate == pytest.approx(test.diff, abs=1e-12) and better.lower == pytest.approx(test.lower)
    assert better.verdict == "PASS" and worse.verdict == "FAIL"
    assert "better" in better.sentence and "cannot rule out" in worse.sentence


def test_sensitivity_versus_baseline_mcnemar_newcombe():
    # among 200 positives: candidate flags 180, baseline 160; discordant 30 (candidate only) vs 10
    n11, n12, n21, n22 = 150, 30, 10, 10
    cand = np.r_[np.full(n11 + n12, 0.9), np.full(n21 + n22, 0.1)]
    base = np.r_[np.full(n11, 0.9), np.full(n12, 0.1), np.full(n21, 0.9), np.full(n22, 0.1)]
    y = np.r_[np.ones(200), np.zeros(200)]
    cand = np.r_[cand, np.full(200, 0.1)]
    base = np.r_[base, np.full(200, 0.1)]
    study = make_study([{"id": "NI", "metric": "sensitivity", "versus": "baseline", "non_inferiority_margin": 0.0},
                        {"id": "REV", "metric": "specificity", "versus": "baseline", "non_inferiority_margin": 0.05}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        ev = evaluation.evaluate(frame_of(y, cand, base), study)
    ref = sm_mcnemar(np.array([[n11, n12], [n21, n22]]), exact=True)  # mid-p (default): exact − P(X = 10)
    assert ev.comparison.sensitivity.p_value == pytest.approx(ref.pvalue - sps.binom.pmf(10, 40, 0.5))
    assert ev.comparison.sensitivity.difference.estimate == pytest.approx((180 - 160) / 200)
    g = {x.id: x for x in ev.gates}
    assert g["NI"].verdict == "PASS"  # margin 0: superiority, lower bound of +0.10 is above 0
    assert g["REV"].verdict == "PASS" and g["REV"].estimate == 0.0  # identical specificity
    # swapped roles: the candidate misses 20 more positives → FAIL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        swapped = judged(study, frame_of(y, base, cand))
    assert swapped["NI"].verdict == "FAIL" and swapped["NI"].upper < 0


def test_brier_versus_baseline_lower_is_better():
    y, p, base = calibrated(noise=1.0)
    study = make_study([{"id": "B", "metric": "brier", "versus": "baseline", "non_inferiority_margin": 0.001}])
    good = judged(study, frame_of(y, p, base))["B"]
    bad = judged(study, frame_of(y, base, p))["B"]
    d = (p - y) ** 2 - (base - y) ** 2
    assert good.estimate == pytest.approx(d.mean(), abs=1e-12)
    assert good.upper == pytest.approx(d.mean() + sps.norm.ppf(0.975) * d.std(ddof=1) / math.sqrt(len(d)), abs=1e-12)
    assert (good.verdict, bad.verdict) == ("PASS", "FAIL")
    assert good.rule.startswith("upper 95% bound of candidate − baseline < +0.001")


def test_undefined_metric_gives_insufficient_evidence():
    y = np.zeros(50)  # no positive case: sensitivity and AUROC undefined
    score = np.linspace(0.01, 0.6, 50)
    study = make_study([{"id": "S", "metric": "sensitivity", "at_least": 0.5},
                        {"id": "A", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05},
                        {"id": "SP", "metric": "specificity", "at_least": 0.1}])
    g = judged(study, frame_of(y, score))
    assert g["S"].verdict == g["A"].verdict == "INSUFFICIENT_EVIDENCE"
    assert "no positive cases" in g["S"].sentence
    assert g["SP"].verdict == "PASS"
    assert gates.overall(g.values()) == "INSUFFICIENT_EVIDENCE"


def test_criterion_label_is_shown():
    y, p, base = calibrated()
    study = make_study([{"id": "AC", "metric": "auroc", "at_least": 0.6, "label": "discriminates"}])
    assert judged(study, frame_of(y, p, base))["AC"].subject == "discriminates — AUROC (candidate)"


# --------------------------------------------------------------------------------------------------
# The plan: bad criteria are rejected before execution, with the criterion id
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("criterion, message", [
    ({"id": "AC-9", "metric": "aurocc", "at_least": 0.7}, "criterion AC-9: unknown metric 'aurocc'; did you mean 'auroc'?"),
    ({"id": "AC-9", "metric": "sensitivity", "at_least": 1.3}, "criterion AC-9: at_least for sensitivity must be in [0, 1]; got 1.3"),
    ({"id": "AC-9", "metric": "brier", "at_most": -0.1}, "criterion AC-9: at_most for brier must be in [0, 1]"),
    ({"id": "AC-9", "metric": "oe_ratio", "at_most": -1}, "criterion AC-9: at_most for oe_ratio must be in [0, inf]"),
    ({"id": "AC-9", "metric": "auroc", "interval_within": [1.1, 1.5]}, "criterion AC-9: interval_within [1.1, 1.5] lies outside [0, 1]"),
    ({"id": "AC-9", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 1.0}, "non_inferiority_margin 1 is impossible"),
    ({"id": "AC-9", "metric": "calibration_slope", "versus": "baseline", "non_inferiority_margin": 0.1},
     "criterion AC-9: no paired comparison with the baseline for calibration_slope"),
    ({"id": "AC-9", "metric": "auroc", "at_least": 0.7, "at_most": 0.9}, "criterion AC-9: give at_least or at_most, not both"),
    ({"id": "AC-9", "metric": "auroc", "bound": "lower", "interval_within": [0.7, 0.9]}, "criterion AC-9: bound applies to at_least/at_most only"),
    ({"id": "AC-9", "metric": "auroc", "versus": "baseline"}, "criterion AC-9: versus: baseline needs non_inferiority_margin"),
])
def test_bad_criterion_is_a_parameter_error_with_its_id(tiny_project, criterion, message):
    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"].append(criterion)
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParameterError) as err:
        plan.load(tiny_project)
    assert message in str(err.value)
    assert f"{tiny_project}:" in str(err.value)  # file and line


@pytest.mark.parametrize("key, value, message", [
    ("primary_metrics", ["sensitivity", "sensitivty"], "unknown metric 'sensitivty'; did you mean 'sensitivity'?"),
    ("threshold_grid", [0.2, 0.1], "threshold_grid must be strictly increasing"),
    ("threshold_grid", [0.2, 1.2], "analysis.threshold_grid[1]: Input should be less than or equal to 1; got 1.2"),
    ("missing_scores", "drop", "analysis.missing_scores: Input should be 'error' or 'exclude'"),
    ("decision_curve", [0.5, 0.1], "decision_curve must be [low, high] with low < high < 1"),
    ("mcnemar", "exactly", "analysis.mcnemar: Input should be 'mid-p', 'exact', 'chi2' or 'chi2-corrected'"),
])
def test_bad_analysis_plan(tiny_project, key, value, message):
    data = yaml.safe_load(tiny_project.read_text())
    data["analysis"][key] = value
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParameterError, match="analysis") as err:
        plan.load(tiny_project)
    assert message in str(err.value)


def test_primary_and_secondary_must_not_overlap():
    with pytest.raises(ValueError, match="both primary and secondary: auroc"):
        make_study(primary_metrics=["auroc"], secondary_metrics=["auroc", "brier"])


def test_preflight_checks_error_analysis_variables(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["analysis"]["error_analysis"] = {"variables": ["sex", "agee"]}
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    study = plan.load(tiny_project)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    with pytest.raises(ParameterError, match=r"analysis.error_analysis.variables: unknown column 'agee'; columns "
                                             r"that exist \(closest first\): age"):
        preflight.check(study, snap)


def test_cli_exits_2_on_an_impossible_criterion_before_execution(tiny_project, tmp_path):
    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"].append({"id": "AC-7", "metric": "sensitivity", "bound": "lower", "at_least": 1.3})
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    result = subprocess.run([sys.executable, "-m", "studylib.cli", "run", str(tiny_project), "--reports-dir",
                             str(tmp_path / "reports")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 2
    assert "AC-7" in result.stderr and "must be in [0, 1]; got 1.3" in result.stderr
    assert not (tmp_path / "reports").exists()  # nothing ran


# --------------------------------------------------------------------------------------------------
# The results JSON against the library
# --------------------------------------------------------------------------------------------------


def test_results_json_equals_library_and_is_deterministic(evaluated):
    study, frame, y, p, base, ev = evaluated
    text = evidence.dumps(evaluation.results(ev, study))
    again = evidence.dumps(evaluation.results(evaluation.evaluate(frame, study), study))
    assert text == again
    r = json.loads(text)
    assert r["plan_sha256"] == study.sha256 and r["verdict"] == ev.verdict
    assert [g["id"] for g in r["gates"]] == ["AC-1", "AC-2", "AC-3"]
    assert {"estimate", "lower", "upper", "rule", "verdict", "sentence"} <= set(r["gates"][0])
    auroc = stats.auroc(y, p)
    assert r["estimates"]["candidate"]["auroc"]["lower"] == pytest.approx(auroc.lower, abs=1e-12)
    assert r["estimates"]["candidate"]["auprc"] == pytest.approx(
        stats.auprc(y, p, n_resamples=200, seed=1).to_dict(), abs=1e-12)
    assert r["calibration"]["candidate"]["slope"]["estimate"] == pytest.approx(stats.calibration(y, p).slope.estimate)
    assert r["comparison"]["auroc"]["diff"] == pytest.approx(stats.delong_test(y, p, base).diff, abs=1e-12)
    assert r["models"][1] == {"role": "baseline", "name": "tiny", "version": "1", "score_column": "p_v1",
                              "artifact_sha256": ARTIFACT}
    assert r["metric_roles"]["sensitivity"] == "primary" and r["metric_roles"]["auroc"] == "secondary"
    assert r["n"] == 3000 and r["positives"] == int(y.sum()) and r["excluded"]["count"] == 0
    assert len(r["error_analysis"]["misses"]) == 10


# --------------------------------------------------------------------------------------------------
# Through Papermill: the notebook on a tiny project, and the exit-code wiring of the runner
# --------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_notebook_results_equal_library_on_the_cohort(archived_run):
    """The notebook in the session's run (conftest), whose plan analyses errors by sex and age and has a
    criterion that fails (AC-3: lower bound of the AUROC at least 0.99)."""
    run_dir = archived_run.folder
    recorded = json.loads((run_dir / "results" / "evaluation.json").read_text())
    study = plan.load(archived_run.params_file)
    from studylib.evidence import workspace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = inputs.analysis_rows(workspace.build_cohort(study).cohort, study)
        expected = evaluation.results(evaluation.evaluate(frame, study), study)
    assert recorded == json.loads(evidence.dumps({"stage": "evaluation", **expected}))
    assert recorded["plan_sha256"] == study.sha256 and recorded["verdict"] == "FAIL"
    assert {g["id"]: g["verdict"] for g in recorded["gates"]}["AC-3"] == "FAIL"
    figures = {p.name for p in (run_dir / "figures").iterdir()}
    assert {"evaluation_roc_pr.svg", "evaluation_calibration_candidate.svg", "evaluation_decision_curve.svg",
            "evaluation_roc_comparison.svg"} <= figures
    executed = (run_dir / "notebooks" / "02_evaluation.ipynb").read_text()
    assert executed.index("Acceptance criteria — stage verdict") < executed.index("2×2 table")  # verdicts first


@pytest.mark.e2e
def test_failing_criterion_makes_the_run_exit_1(tiny_project):
    """The runner's wiring of a failed criterion (stub notebooks judge the plan's criteria on a canned
    0.8 (0.7–0.9); the notebook test above judges AC-3 on the real estimates)."""
    from studylib.run import runner
    from tests.conftest import STUB_NOTEBOOKS

    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"] = [{"id": "AC-1", "metric": "auroc", "bound": "lower", "at_least": 0.99}]
    tiny_project.write_text(yaml.safe_dump(data, sort_keys=False))
    outcome = runner.run(tiny_project, notebooks=STUB_NOTEBOOKS, log=lambda m: None)
    assert outcome.exit_code == runner.EXIT_GATE and outcome.verdict == "FAIL"
    verdict = json.loads((outcome.folder / "verdict.json").read_text())
    ac = [g for g in verdict["gates"] if g["stage"] == "evaluation"]
    assert [(g["id"], g["verdict"]) for g in ac] == [("AC-1", "FAIL")]


def test_perfect_separation_of_three_and_three_does_not_pass():
    """Issue 13 item 5: AUROC 1.0 (1.0–1.0) on 3 positives and 3 negatives passed "lower bound >= 0.75".
    Below the plan's minimum of each class it is INSUFFICIENT_EVIDENCE; with the minimum lowered, the
    boundary-safe interval (Newcombe, lower 0.501) fails it."""
    y, score = [0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]
    rule = [{"id": "AC-3", "metric": "auroc", "bound": "lower", "at_least": 0.75}]
    gate = judged(make_study(rule), frame_of(y, score))["AC-3"]
    assert gate.verdict == "INSUFFICIENT_EVIDENCE" and "at least 20 positives and 20 negatives" in gate.sentence
    gate = judged(make_study(rule, min_positives=2, min_negatives=2), frame_of(y, score))["AC-3"]
    assert gate.verdict == "FAIL" and gate.lower == pytest.approx(0.5010187607, abs=1e-8) and gate.upper == 1.0


def test_acceptance_eligibility_is_per_metric():
    y = np.r_[np.ones(60), np.zeros(5)]
    score = np.r_[np.full(60, 0.9), np.linspace(0.1, 0.6, 5)]
    study = make_study([{"id": "SEN", "metric": "sensitivity", "bound": "lower", "at_least": 0.8},
                        {"id": "SPE", "metric": "specificity", "bound": "lower", "at_least": 0.1}])
    g = judged(study, frame_of(y, score))
    assert g["SEN"].verdict == "PASS"
    assert g["SPE"].verdict == "INSUFFICIENT_EVIDENCE" and "5 negatives" in g["SPE"].sentence


def test_identical_ranking_is_non_inferior_with_the_reason():
    """Issue 13 item 6: a recalibrated candidate ranking every patient as the baseline does (difference 0,
    SE 0) was INSUFFICIENT_EVIDENCE; it is non-inferior."""
    y, p, _ = calibrated(n=400)
    study = make_study([{"id": "NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02}])
    gate = judged(study, frame_of(y, p, p ** 2))["NI"]
    assert gate.verdict == "PASS" and gate.estimate == 0.0
    assert "agree on every patient" in gate.sentence and "not worse than the baseline by any margin" in gate.sentence


def test_criterion_declares_its_interval_level():
    """Issue 13 item 9: a criterion may declare its interval level; the gate states the test it is."""
    y = np.r_[np.ones(100), np.zeros(100)]
    score = np.r_[np.full(90, 0.9), np.full(10, 0.1), np.full(100, 0.1)]
    study = make_study([{"id": "S95", "metric": "sensitivity", "bound": "lower", "at_least": 0.82},
                        {"id": "S90", "metric": "sensitivity", "bound": "lower", "at_least": 0.82,
                         "interval_level": 0.9}])
    g = judged(study, frame_of(y, score))
    assert g["S90"].lower == pytest.approx(stats.proportion_ci(90, 100, 0.1, "wilson")[0], abs=1e-12)
    assert g["S95"].test == "one-sided test at 2.5%" and g["S90"].test == "one-sided test at 5%"
    assert g["S90"].rule == "lower 90% bound >= 0.82" and "90% CI" in g["S90"].sentence
