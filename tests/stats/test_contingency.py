"""Pearson's chi-square of a contingency table against scipy, empty rows and columns, degenerate
tables, validation."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy import stats as sps

from studylib.stats import contingency
from studylib.stats.contingency import PearsonChi2, pearson_chi2


@pytest.mark.parametrize("table", [
    [[50, 30, 20], [40, 30, 10]],
    [[12, 5], [3, 9]],
    [[10, 0, 4], [0, 7, 4], [5, 5, 5]],
    np.array([[100.0, 250.0], [90.0, 310.0]]),
])
def test_matches_scipy(table):
    got = pearson_chi2(table)
    want = sps.chi2_contingency(np.asarray(table), correction=False)
    assert got.statistic == pytest.approx(want.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(want.pvalue, rel=1e-12)
    assert got.dof == want.dof


def test_yates_correction_only_on_two_by_two():
    got = pearson_chi2([[12, 5], [3, 9]], correction=True)
    assert got.statistic == pytest.approx(sps.chi2_contingency(np.array([[12, 5], [3, 9]]), correction=True).statistic)
    three = pearson_chi2([[10, 2, 4], [3, 7, 4]], correction=True)
    assert three == pearson_chi2([[10, 2, 4], [3, 7, 4]])


def test_hand_worked_example():
    # expected 40/60 in both rows: X^2 = 2 (10^2/40 + 10^2/60) = 25/3
    r = pearson_chi2([[50, 50], [30, 70]])
    assert r.statistic == pytest.approx(25 / 3, rel=1e-12) and r.dof == 1
    assert r.p_value == pytest.approx(sps.chi2.sf(25 / 3, 1), rel=1e-12)


def test_empty_rows_and_columns_are_dropped():
    full = pearson_chi2([[50, 0, 30, 20], [40, 0, 30, 10], [0, 0, 0, 0]])
    assert full == pearson_chi2([[50, 30, 20], [40, 30, 10]])


def test_a_single_row_or_column_cannot_differ():
    assert pearson_chi2([[5, 0], [3, 0]]) == PearsonChi2(0.0, 0, 1.0)
    assert pearson_chi2([[5, 3, 1]]) == PearsonChi2(0.0, 0, 1.0)
    assert pearson_chi2(np.zeros((2, 2))) == PearsonChi2(0.0, 0, 1.0)


@pytest.mark.parametrize(("table", "fragment"), [
    ([1, 2, 3], "two-dimensional"),
    ([[1, -2], [3, 4]], "non-negative finite counts; got \\[-2\\] at \\[\\[0, 1\\]\\]"),
    ([[1.0, np.nan], [3, 4]], "non-negative finite"),
])
def test_validation(table, fragment):
    with pytest.raises(ValueError, match=fragment):
        pearson_chi2(table)


def test_docstring_examples():
    assert doctest.testmod(contingency, raise_on_error=False).failed == 0
