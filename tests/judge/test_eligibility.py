"""Eligibility per metric: the plan's minima apply to the counts each metric uses (issue 13 item 3)."""

from __future__ import annotations

import pytest

from studylib.judge.eligibility import Counts, reason

MIN = dict(min_positives=20, min_negatives=20)


@pytest.mark.parametrize("metric, judged", [
    ("sensitivity", True), ("ppv", True), ("specificity", False), ("npv", False), ("auroc", False),
    ("calibration_slope", False), ("brier", False), ("prevalence", True),
])
def test_many_positives_few_negatives(metric, judged):
    counts = Counts(positives=43, negatives=8, flagged=45, unflagged=6)
    assert (reason(metric, counts, **MIN) == "") is judged


def test_versus_needs_both_classes_whatever_the_metric():
    counts = Counts(positives=43, negatives=8, flagged=45, unflagged=6)
    assert reason("sensitivity", counts, **MIN) == ""
    assert "8 negatives" in reason("sensitivity", counts, **MIN, versus=True)


def test_reason_names_counts_and_minimum_and_suppresses_small_counts():
    why = reason("specificity", Counts(40, 3, 40, 3), **MIN, threshold=5)
    assert "<5 negatives" in why and "at least 20 negatives" in why
    assert reason("sensitivity", Counts(0, 0, 0, 0), **MIN) == "no patients"


def test_small_cell_rule_applies_to_the_counts_used():
    counts = Counts(positives=30, negatives=3, flagged=31, unflagged=2)
    low = dict(min_positives=2, min_negatives=2)
    assert reason("sensitivity", counts, **low, threshold=5) == ""
    assert "small-cell" in reason("specificity", counts, **low, threshold=5)
