import math

import pytest

from studylib.judge import gates
from studylib.plan import Criterion
from studylib.stats import Estimate

E = Estimate(0.80, 0.72, 0.86, method="wilson")


@pytest.mark.parametrize("criterion, verdict", [
    (dict(metric="sensitivity", bound="lower", at_least=0.70), "PASS"),
    (dict(metric="sensitivity", bound="lower", at_least=0.75), "FAIL"),  # judged on the bound, not the estimate
    (dict(metric="sensitivity", bound="estimate", at_least=0.75), "PASS"),
    (dict(metric="brier", bound="upper", at_most=0.9), "PASS"),
    (dict(metric="brier", at_most=0.85), "FAIL"),  # default bound for at_most is the upper one
    (dict(metric="calibration_slope", interval_within=[0.7, 0.9]), "PASS"),
    (dict(metric="calibration_slope", interval_within=[0.75, 0.9]), "FAIL"),
])
def test_judge_rules(criterion, verdict):
    gate = gates.judge(Criterion(id="AC", **criterion), E, stage="evaluation")
    assert gate.verdict == verdict
    assert gate.sentence


def test_non_inferiority():
    rule = Criterion(id="AC", metric="auroc", versus="baseline", non_inferiority_margin=0.02)
    assert gates.judge(rule, Estimate(0.01, -0.015, 0.035), stage="e").verdict == "PASS"
    assert gates.judge(rule, Estimate(0.01, -0.025, 0.035), stage="e").verdict == "FAIL"
    assert gates.judge(rule, Estimate(0.01, -0.02, 0.035), stage="e").verdict == "FAIL"  # must exceed −margin


def test_undefined_estimate_is_insufficient_evidence():
    gate = gates.judge(Criterion(id="AC", metric="sensitivity", at_least=0.7),
                       Estimate.undefined("no positive cases"), stage="evaluation")
    assert gate.verdict == "INSUFFICIENT_EVIDENCE"
    assert "no positive cases" in gate.sentence
    assert math.isnan(gate.estimate)


def test_overall():
    ok = gates.Gate("a", "s", "x", "r", "PASS")
    bad = gates.Gate("b", "s", "x", "r", "FAIL")
    unknown = gates.Gate("c", "s", "x", "r", "INSUFFICIENT_EVIDENCE")
    advisory = gates.Gate("d", "s", "x", "r", "FAIL", blocks=False)
    assert gates.overall([ok, advisory]) == "PASS"
    assert gates.overall([ok, unknown]) == "INSUFFICIENT_EVIDENCE"
    assert gates.overall([ok, unknown, bad]) == "FAIL"
    assert gates.overall([]) == "PASS"
    assert gates.overall([bad.__dict__]) == "FAIL"  # also accepts gates read back from JSON


def test_invalid_verdict_rejected():
    with pytest.raises(ValueError, match="verdict must be one of"):
        gates.Gate("a", "s", "x", "r", "MAYBE")
