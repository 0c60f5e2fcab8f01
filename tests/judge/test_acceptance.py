"""Judging the evaluation's acceptance criteria: the estimate each criterion is judged on, the gate's
subject, and the plain sentence for every kind of criterion and verdict."""

from __future__ import annotations

import math

from studylib.judge import acceptance, gates
from studylib.stats import Estimate
from tests.stages.evaluation.test_analysis import make_study

CRITERIA = [
    {"id": "SENS", "metric": "sensitivity", "at_least": 0.80},
    {"id": "SPEC", "metric": "specificity", "bound": "estimate", "at_least": 0.70, "label": "few false alarms"},
    {"id": "SLOPE", "metric": "calibration_slope", "interval_within": [0.8, 1.2]},
    {"id": "AUC-NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.02},
    {"id": "BRIER-NI", "metric": "brier", "versus": "baseline", "non_inferiority_margin": 0.01},
]


def _criterion(study, id):
    return next(c for c in study.acceptance if c.id == id)


def _judge(estimates, differences, **analysis):
    study = make_study(CRITERIA, **analysis)
    return {g.id: g for g in acceptance.judge_acceptance(study, {"candidate": estimates}, differences)}


def test_each_criterion_is_judged_on_its_estimate_with_subject_and_sentence():
    estimates = {"sensitivity": Estimate(0.9, 0.85, 0.94), "specificity": Estimate(0.72, 0.69, 0.75),
                 "calibration_slope": Estimate(0.7, 0.6, 0.8)}
    differences = {"auroc": Estimate(0.03, 0.01, 0.05), "brier": Estimate(0.004, -0.002, 0.012)}
    g = _judge(estimates, differences)
    assert [g[k].verdict for k in ("SENS", "SPEC", "SLOPE", "AUC-NI", "BRIER-NI")] == \
        ["PASS", "PASS", "FAIL", "PASS", "FAIL"]
    assert g["SENS"].subject == "sensitivity (candidate)" and g["SENS"].lower == 0.85
    assert g["SPEC"].subject == "few false alarms — specificity (candidate)"
    assert g["AUC-NI"].subject == "AUROC: candidate − baseline" and g["AUC-NI"].estimate == 0.03
    assert g["SENS"].sentence == ("The candidate's sensitivity is 0.900 (95% CI 0.850 to 0.940); even the lower "
                                  "bound (0.850) is at least 0.8, as required.")
    assert g["SPEC"].sentence.endswith("the point estimate (0.720) is at least 0.7, as required.")
    assert g["SLOPE"].sentence.endswith("it does not lie inside the required range [0.8, 1.2]: the lower end 0.600 "
                                        "is below 0.8.")
    assert g["AUC-NI"].sentence == (
        "The candidate's AUROC minus the baseline's is +0.030 (95% CI +0.010 to +0.050); the lower bound is above "
        "−0.02, so the candidate is not worse than the baseline by more than the allowed margin; the whole interval "
        "is above 0, so it is better.")
    assert g["BRIER-NI"].sentence.endswith("the upper bound is not below +0.01, so the data cannot rule out that the "
                                           "candidate is worse than the baseline by more than the allowed margin.")


def test_undefined_estimate_or_missing_comparison_is_insufficient_evidence_with_the_reason():
    estimates = {"sensitivity": Estimate.undefined("no positive cases"), "specificity": Estimate(0.9, 0.8, 0.95),
                 "calibration_slope": Estimate(1.0, 0.9, 1.1)}
    g = _judge(estimates, {})
    assert g["SENS"].verdict == gates.INSUFFICIENT
    assert g["SENS"].sentence == "SENS cannot be judged: the sensitivity could not be estimated (no positive cases)."
    assert g["AUC-NI"].verdict == gates.INSUFFICIENT and math.isnan(g["AUC-NI"].estimate)
    assert "(no paired comparison with the baseline for auroc)" in g["AUC-NI"].sentence
    assert gates.overall(g.values()) == gates.INSUFFICIENT


def test_confidence_level_follows_alpha():
    estimates = {"sensitivity": Estimate(0.9, 0.85, 0.94), "specificity": Estimate(0.72, 0.69, 0.75),
                 "calibration_slope": Estimate(1.0, 0.9, 1.1)}
    g = _judge(estimates, {"auroc": Estimate(0.0, -0.01, 0.01), "brier": Estimate(-0.01, -0.02, -0.001)}, alpha=0.1)
    assert "(90% CI 0.850 to 0.940)" in g["SENS"].sentence and g["SENS"].rule == "lower 90% bound >= 0.8"
    assert g["BRIER-NI"].verdict == "PASS" and "and below 0, so it is better" in g["BRIER-NI"].sentence


def test_plain_sentence_failing_one_sided_and_metric_names():
    study = make_study(CRITERIA)
    sentence = acceptance.plain_sentence(_criterion(study, "SENS"), Estimate(0.82, 0.78, 0.86), gates.FAIL)
    assert sentence == ("The candidate's sensitivity is 0.820 (95% CI 0.780 to 0.860); the lower bound (0.780) is "
                        "not at least 0.8, so the requirement is not shown to be met.")
    assert acceptance.METRIC_NAMES["ppv"] == "positive predictive value (PPV)"
