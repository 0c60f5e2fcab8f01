"""Heterogeneity tests: the k × 2 contingency test against scipy, Cochran's Q against statsmodels'
meta-analysis, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency
from statsmodels.stats.meta_analysis import combine_effects

from studylib.stats.heterogeneity import cochran_q, contingency_test


@pytest.mark.parametrize("test, lambda_", [("chi2", None), ("g-test", "log-likelihood")])
def test_contingency_test_matches_scipy(test, lambda_):
    successes, totals = [12, 30, 7], [40, 70, 33]
    statistic, df, p = contingency_test(successes, totals, test=test)
    table = np.column_stack([successes, np.subtract(totals, successes)])
    ref = chi2_contingency(table, correction=False, lambda_=lambda_)
    assert statistic == pytest.approx(ref.statistic, rel=1e-12) and df == ref.dof
    assert p == pytest.approx(ref.pvalue, rel=1e-10)


def test_contingency_test_with_identical_extreme_proportions():
    assert contingency_test([10, 20], [10, 20]) == (0.0, 1, 1.0)


def test_contingency_test_of_one_group_and_unknown_test():
    assert contingency_test([3], [10]) == (0.0, 0, 1.0)
    with pytest.raises(ValueError, match="test must be 'chi2' or 'g-test'; got 'fisher'"):
        contingency_test([3, 4], [10, 10], test="fisher")


def test_cochran_q_matches_statsmodels_meta_analysis():
    est, se = np.array([0.80, 0.72, 0.77, 0.69]), np.array([0.02, 0.03, 0.025, 0.04])
    q, df, p = cochran_q(est, se)
    reference = combine_effects(est, se ** 2)
    assert q == pytest.approx(reference.q, rel=1e-12) and df == 3


def test_cochran_q_of_one_estimate_and_of_equal_estimates():
    assert cochran_q([0.8], [0.02]) == (0.0, 0, 1.0)
    q, df, p = cochran_q([0.7, 0.7, 0.7], [0.01, 0.02, 0.03])
    assert q == pytest.approx(0.0, abs=1e-20) and df == 2 and p == pytest.approx(1.0)
