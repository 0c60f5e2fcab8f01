"""Sample-size hints of INSUFFICIENT_EVIDENCE gates: each metric's own formula, on the classes it uses."""

from __future__ import annotations

import math

import pytest

from studylib.judge.sample_size_hints import Counts, Planning, gate_hint
from studylib.plan import SubgroupGate
from studylib.stats.auroc_power import auroc_noninferiority_size, correlation_from_se
from studylib.stats.sample_size import sample_size
from studylib.stats.validation_size import n_c_statistic

#: the demo's overall cohort (validation split of flchain): estimates as the subgroup stage records them
PLANNING = Planning(prevalence=402 / 3167, sensitivity=0.7488, specificity=0.7052, ppv=0.2697, npv=0.9508,
                    flagged=1116 / 3167, auroc=0.8045, auroc_baseline=0.7883, auroc_difference_se=0.005018,
                    calibration_slope=0.886, calibration_in_the_large=0.029, positives=402, negatives=2765)
COUNTS = Counts(positives=43, negatives=9, prevalence=43 / 52, basis="this subgroup's")
KW = dict(alpha=0.05, interval_width=0.2, min_positives=20, min_negatives=20)


def _gate(**rule) -> SubgroupGate:
    return SubgroupGate(id="SG", **rule)


def test_sensitivity_asks_for_positives_only():
    hint = gate_hint(_gate(metric="sensitivity", bound="lower", at_least=0.5), COUNTS, PLANNING, **KW)
    need = sample_size(0.7488, 0.2)
    assert f"Needs {need} positives" in hint and f"{need - 43} more positives" in hint
    assert "negatives" not in hint


def test_specificity_asks_for_negatives_only():
    hint = gate_hint(_gate(metric="specificity", bound="lower", at_least=0.5), COUNTS, PLANNING, **KW)
    assert f"Needs {sample_size(0.7052, 0.2)} negatives" in hint and "positives" not in hint


def test_auroc_level_uses_c_statistic_precision_at_the_rule():
    hint = gate_hint(_gate(metric="auroc", bound="lower", at_least=0.6), COUNTS, PLANNING, **KW)
    n = n_c_statistic(0.8045, 43 / 52, 2 * (0.8045 - 0.6)).participants
    assert "C-statistic precision" in hint and "half-width 0.205" in hint
    assert f"Needs {max(20, math.ceil(n * 43 / 52))} positives" in hint


def test_non_inferiority_uses_power_at_the_margin():
    hint = gate_hint(_gate(metric="auroc", versus="baseline", non_inferiority_margin=0.02), COUNTS, PLANNING, **KW)
    r = correlation_from_se(0.8045, 0.7883, 402, 2765, 0.005018)
    plan = auroc_noninferiority_size(0.8045, 0.7883, 0.02, prevalence=43 / 52, correlation=r)
    assert f"Needs {plan.positives} positives and {max(20, plan.negatives)} negatives" in hint
    assert "80% power" in hint and "overall AUROCs 0.80" in hint and "correlation 0.93" in hint


def test_no_size_when_the_rule_fails_at_the_overall_value():
    hint = gate_hint(_gate(metric="auroc", bound="lower", at_least=0.85), COUNTS, PLANNING, **KW)
    assert hint.startswith("No sample size lets the rule be met")


def test_calibration_hints_name_riley_criteria():
    slope = gate_hint(_gate(metric="calibration_slope", interval_within=[0.7, 1.3]), COUNTS, PLANNING, **KW)
    citl = gate_hint(_gate(metric="calibration_in_the_large", interval_within=[-0.5, 0.5]), COUNTS, PLANNING, **KW)
    assert "calibration-slope criterion" in slope and "O/E criterion" in citl


@pytest.mark.parametrize("metric", ["ppv", "npv"])
def test_predictive_values_count_the_flagged_or_unflagged(metric):
    hint = gate_hint(_gate(metric=metric, bound="lower", at_least=0.1), COUNTS, PLANNING, **KW)
    assert ("flags" if metric == "ppv" else "does not flag") in hint and "positives" not in hint


def test_hint_counts_of_empty_and_small_groups():
    from collections import namedtuple

    from studylib.stages.subgroups.judging import _hint_counts

    group = namedtuple("Group", "n positives negatives")
    empty = _hint_counts(group(0, 0, 0), PLANNING, 5)
    assert (empty.positives, empty.negatives, empty.basis) == (0, 0, "the overall")
    small = _hint_counts(group(30, 3, 27), PLANNING, 5)
    assert (small.positives, small.negatives) == (0, 0)        # a small class hides both counts
    own = _hint_counts(group(100, 20, 80), PLANNING, 5)
    assert own.prevalence == 0.2 and own.basis == "this subgroup's"
    hint = gate_hint(_gate(metric="auroc", bound="lower", at_least=0.6), empty, PLANNING, **KW)
    assert hint.startswith("Needs")


def test_relative_gate_uses_its_margin_as_the_half_width():
    hint = gate_hint(_gate(metric="auroc", relative_to="overall", max_below=0.05), COUNTS, PLANNING, **KW)
    assert "half-width 0.05" in hint and hint.startswith("Needs")
