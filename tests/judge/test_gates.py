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


def test_zero_width_interval_is_insufficient_evidence_not_pass():
    """Issue 13 items 5 and 10: an AUROC of 1.0 (1.0–1.0), a DeLong variance of 0, passed "lower >= 0.75";
    a degenerate interval cannot show anything."""
    rule = Criterion(id="AC-3", metric="auroc", bound="lower", at_least=0.75)
    gate = gates.judge(rule, Estimate(1.0, 1.0, 1.0, 0.0, "delong"), stage="evaluation")
    assert gate.verdict == gates.INSUFFICIENT and "zero width" in gate.sentence
    constant = gates.judge(rule, Estimate(0.5, 0.5, 0.5, 0.0, "delong"), stage="evaluation")
    assert constant.verdict == gates.INSUFFICIENT


@pytest.mark.parametrize("estimate", [Estimate(math.nan, 0.7, 0.9), Estimate(0.8, math.nan, 0.9),
                                      Estimate(0.8, 0.7, math.inf), Estimate.undefined("")])
def test_undefined_parts_never_pass(estimate):
    for rule in (Criterion(id="A", metric="auroc", bound="upper", at_least=0.5),
                 Criterion(id="B", metric="auroc", bound="estimate", at_least=0.5),
                 Criterion(id="C", metric="auroc", versus="baseline", non_inferiority_margin=0.05)):
        gate = gates.judge(rule, estimate, stage="evaluation")
        assert gate.verdict == gates.INSUFFICIENT and "could not be judged" in gate.sentence


def test_identical_ranking_is_non_inferior():
    """Issue 13 item 6: candidate − baseline 0 with SE 0 (the same ranking) was INSUFFICIENT_EVIDENCE."""
    rule = Criterion(id="AC-4", metric="auroc", versus="baseline", non_inferiority_margin=0.02)
    same = Estimate(0.0, math.nan, math.nan, 0.0, "delong-paired", "the DeLong variance of the difference is 0")
    gate = gates.judge(rule, same, stage="evaluation")
    assert gate.verdict == gates.PASS and "agrees with the baseline on every patient" in gate.sentence
    shifted = Estimate(0.01, math.nan, math.nan, 0.0, "delong-paired", "variance 0")  # not identical
    assert gates.judge(rule, shifted, stage="evaluation").verdict == gates.INSUFFICIENT
    one_sided = Criterion(id="AC-3", metric="auroc", bound="lower", at_least=0.0)
    assert gates.judge(one_sided, same, stage="evaluation").verdict == gates.INSUFFICIENT


@pytest.mark.parametrize("criterion, test", [
    (dict(metric="sensitivity", bound="lower", at_least=0.7), "one-sided test at 2.5%"),
    (dict(metric="brier", at_most=0.2), "one-sided test at 2.5%"),
    (dict(metric="calibration_slope", interval_within=[0.8, 1.2]), "TOST: two one-sided tests at 2.5% each"),
    (dict(metric="auroc", versus="baseline", non_inferiority_margin=0.02), "one-sided non-inferiority test at 2.5%"),
    (dict(metric="sensitivity", bound="estimate", at_least=0.7), "no test: judged on the point estimate"),
    (dict(metric="sensitivity", bound="upper", at_least=0.7), "of missing the requirement"),
    (dict(metric="sensitivity", bound="lower", at_least=0.7, interval_level=0.9), "one-sided test at 5%"),
])
def test_each_gate_states_the_test_it_is(criterion, test):
    """Issue 13 item 9: a lower-bound rule on a two-sided 95% interval is a one-sided test at 2.5%."""
    gate = gates.judge(Criterion(id="AC", **criterion), E, stage="evaluation")
    assert test in gate.test
    if "interval_level" in criterion:
        assert gate.rule.startswith("lower 90% bound")


def test_not_checked_is_listed_never_blocks_and_never_passes():
    gate = gates.not_checked("LEAK-TIME", "cohort", "no prediction after the label",
                             reason="data.label_time is not declared")
    assert gate.verdict == gates.NOT_CHECKED and not gate.blocks and not gate.blocking_failure
    assert "data.label_time" in gate.sentence
    assert gates.overall([gate]) == gates.PASS
    with pytest.raises(ValueError, match="cannot block"):
        gates.Gate("X", "s", "x", "r", gates.NOT_CHECKED)
