"""The rules of subgroup gates on hand-built estimates: relative bounds, absolute gates, the blocking
policy for insufficient evidence, and withheld estimates."""

from __future__ import annotations

import math

import pytest

from studylib.judge import gates, subgroup_gates
from studylib.plan import SubgroupGate
from studylib.stats import Estimate


def _gate(**rule) -> SubgroupGate:
    return SubgroupGate(id="G", metric="auroc", **rule)


@pytest.mark.parametrize("lower, verdict", [(0.76, gates.PASS), (0.74, gates.FAIL)])
def test_relative_to_overall_max_below(lower, verdict):
    judged = subgroup_gates.judge_relative(_gate(relative_to="overall", max_below=0.05), Estimate(0.8, lower, 0.85),
                                           reference=0.8, subject="site = A: AUROC", alpha=0.05)
    assert judged.verdict == verdict
    assert judged.rule == "lower 95% bound >= overall 0.800 − 0.05"
    wording = "meets" if verdict == gates.PASS else "does not meet"
    assert judged.sentence == f"The lower 95% bound of site = A: AUROC ({lower:.3f}) {wording} the required >= 0.750."
    assert (judged.stage, judged.estimate, judged.lower) == ("subgroups", 0.8, lower)


def test_relative_to_reference_max_above():
    gate = SubgroupGate(id="B", metric="brier", relative_to="reference", max_above=0.02)
    judged = subgroup_gates.judge_relative(gate, Estimate(0.01, -0.005, 0.025), reference=0.0, subject="s",
                                           alpha=0.1)
    assert judged.verdict == gates.FAIL
    assert judged.rule == "upper 90% bound <= 0 (no difference from the reference) + 0.02"


def test_relative_gate_undefined_is_insufficient_evidence():
    gate = _gate(relative_to="overall", max_below=0.05)
    judged = subgroup_gates.judge_relative(gate, Estimate.undefined("too few"), reference=0.8, subject="s",
                                           alpha=0.05, undefined_reason="too few")
    assert judged.verdict == gates.INSUFFICIENT and judged.sentence == "s could not be judged: too few."
    judged = subgroup_gates.judge_relative(gate, Estimate(0.8, 0.7, 0.9), reference=math.nan, subject="s",
                                           alpha=0.05, undefined_reason="the overall estimate is undefined")
    assert judged.verdict == gates.INSUFFICIENT and "overall estimate is undefined" in judged.sentence


def test_absolute_gate_without_a_reason_says_the_interval_could_not_be_computed():
    gate = _gate(bound="lower", at_least=0.7)
    judged = subgroup_gates.judge_absolute(gate, Estimate(0.8, math.nan, math.nan), subject="s", alpha=0.05)
    assert judged.verdict == gates.INSUFFICIENT and "the interval could not be computed" in judged.sentence
    assert subgroup_gates.judge_absolute(gate, Estimate(0.8, 0.75, 0.85), subject="s", alpha=0.05).verdict == gates.PASS


def test_insufficient_evidence_policy_and_hint():
    insufficient = gates.Gate("G", "subgroups", "s", "rule", gates.INSUFFICIENT, sentence="s could not be judged.")
    blocking = subgroup_gates.apply_insufficient_policy(insufficient, _gate(bound="lower", at_least=0.7), "Needs more.")
    assert blocking.blocks and blocking.sentence == (
        "s could not be judged. Needs more. Blocks the release (the plan says insufficient evidence blocks).")
    lenient = subgroup_gates.apply_insufficient_policy(
        insufficient, _gate(bound="lower", at_least=0.7, insufficient_evidence_blocks=False))
    assert not lenient.blocks and lenient.sentence.endswith("Does not block the release (insufficient_evidence_blocks: false).")
    passed = gates.Gate("G", "subgroups", "s", "rule", gates.PASS, sentence="fine.")
    assert subgroup_gates.apply_insufficient_policy(passed, _gate(bound="lower", at_least=0.7), "hint") == passed


def test_withheld_estimate_keeps_the_verdict():
    failed = gates.Gate("G", "subgroups", "s", "lower 95% bound >= 0.5", gates.FAIL, 0.2, 0.1, 0.3, sentence="x")
    withheld = subgroup_gates.withhold_estimate(failed, subject="s", threshold=5)
    assert withheld.verdict == gates.FAIL and math.isnan(withheld.estimate) and math.isnan(withheld.upper)
    assert withheld.sentence == ("s does not meet the rule (lower 95% bound >= 0.5); its estimate is withheld because "
                                 "it would disclose a count below 5 (small-cell suppression).")
    insufficient = gates.Gate("G", "subgroups", "s", "r", gates.INSUFFICIENT)
    assert subgroup_gates.withhold_estimate(insufficient, subject="s", threshold=5) == insufficient
