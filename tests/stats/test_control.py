"""Monitoring statistics: the Hanley–McNeil standard error against the published example and an exact
identity, Shewhart control limits, and the mean from running sums against numpy."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from studylib.stats import control
from studylib.stats.control import control_limits, hanley_mcneil_se, mean_from_sums
from tests.reference import hanley_mcneil as hm


def _published_q(normal, abnormal) -> tuple[float, float, float]:
    """W, Q1 and Q2 of Hanley & McNeil (1982) from rating counts (ties: 1/2 for a pair, 1/3 for three)."""
    nn, na = sum(normal), sum(abnormal)
    levels = range(len(normal))
    w = sum(abnormal[i] * normal[j] * (1.0 if i > j else 0.5 if i == j else 0.0) for i in levels for j in levels)
    q1 = q2 = 0.0
    for j in levels:  # a normal image at rating j against two abnormal ones
        above, tied = sum(abnormal[j + 1:]) / na, abnormal[j] / na
        q1 += normal[j] * (above * above + above * tied + tied * tied / 3)
    for i in levels:  # an abnormal image at rating i against two normal ones
        below, tied = sum(normal[:i]) / nn, normal[i] / nn
        q2 += abnormal[i] * (below * below + below * tied + tied * tied / 3)
    return w / (na * nn), q1 / nn, q2 / na


def test_published_example_is_reproduced_from_the_ratings():
    # the reference value is what the SE formula gives with Q1, Q2 from the ratings (tests/reference/hanley_mcneil.py)
    w, q1, q2 = _published_q(hm.NORMAL, hm.ABNORMAL)
    na, nn = sum(hm.ABNORMAL), sum(hm.NORMAL)
    se = math.sqrt((w * (1 - w) + (na - 1) * (q1 - w * w) + (nn - 1) * (q2 - w * w)) / (na * nn))
    assert w == pytest.approx(hm.W, abs=hm.PRINTED_TOLERANCE)
    assert se == pytest.approx(hm.SE_W, abs=hm.PRINTED_TOLERANCE)


def test_hanley_mcneil_se_matches_published_example():
    # Hanley & McNeil 1982, worked example: W = 0.8932, 51 abnormal (positives), 58 normal,
    # SE(W) = 0.0320. hanley_mcneil_se uses the paper's closed-form approximations of Q1 and Q2
    # (negative-exponential ratings), which give 0.0325 here; tolerance 6e-4 allows that approximation
    # and still fails if the class sizes are swapped (0.0311) or a term is dropped.
    assert hanley_mcneil_se(hm.W, sum(hm.ABNORMAL), sum(hm.NORMAL)) == pytest.approx(hm.SE_W, abs=6e-4)
    assert hanley_mcneil_se(hm.W, sum(hm.NORMAL), sum(hm.ABNORMAL)) != pytest.approx(hm.SE_W, abs=6e-4)
    assert math.isnan(hanley_mcneil_se(0.9, 0, 50)) and math.isnan(hanley_mcneil_se(math.nan, 5, 5))


def test_hanley_mcneil_se_is_equation_1_in_exact_fractions_and_matches_simulation():
    # Hanley & McNeil 1982, equation (1) with Q1 = A/(2-A), Q2 = 2A^2/(1+A), for A = 0.9 and 50 + 50 cases,
    # in exact fractions: se^2 = (9/100 + 49 (9/11 - 81/100) + 49 (81/95 - 81/100)) / 2500
    from fractions import Fraction

    import numpy as np

    var = (Fraction(9, 100) + 49 * (Fraction(9, 11) - Fraction(81, 100))
           + 49 * (Fraction(81, 95) - Fraction(81, 100))) / 2500
    assert hanley_mcneil_se(0.9, 50, 50) == pytest.approx(math.sqrt(var), rel=1e-12)
    # Q1, Q2 are exact for exponential scores: the SE is the sampling SD of the Mann-Whitney AUROC there
    rng = np.random.default_rng(12)
    positives, negatives = rng.exponential(9.0, (4000, 50)), rng.exponential(1.0, (4000, 50))  # P(pos > neg) = 0.9
    auc = (positives[:, :, None] > negatives[:, None, :]).mean(axis=(1, 2))
    assert auc.std(ddof=1) == pytest.approx(hanley_mcneil_se(0.9, 50, 50), rel=0.05)
    assert math.isnan(hanley_mcneil_se(0.9, 0, 50))


@pytest.mark.parametrize(("n_pos", "n_neg"), [(1, 1), (10, 30), (51, 58), (400, 7)])
def test_hanley_mcneil_se_at_half_is_the_mann_whitney_null_variance(n_pos, n_neg):
    # at A = 1/2, Q1 = Q2 = 1/3 exactly and the variance is (n1 + n0 + 1) / (12 n1 n0): the null
    # variance of the Mann-Whitney U (Mann & Whitney 1947) divided by (n1 n0)^2
    expected = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    assert hanley_mcneil_se(0.5, n_pos, n_neg) == pytest.approx(expected, rel=1e-14)


def test_hanley_mcneil_se_hand_worked():
    # A = 0.9, 50 + 50: Q1 - A^2 = 9/11 - 0.81 = 9/1100, Q2 - A^2 = 81/95 - 0.81 = 81/1900
    var = (0.09 + 49 * 9 / 1100 + 49 * 81 / 1900) / 2500
    assert hanley_mcneil_se(0.9, 50, 50) == pytest.approx(math.sqrt(var), rel=1e-14)
    assert hanley_mcneil_se(1.0, 50, 50) == 0.0


def test_control_limits_p_chart():
    lo, hi = control_limits("specificity", 0.9, 10, 400)
    assert (lo, hi) == pytest.approx((0.9 - 3 * math.sqrt(0.09 / 400), 0.9 + 3 * math.sqrt(0.09 / 400)))
    assert control_limits("sensitivity", 0.9, 100, 1) == pytest.approx((0.81, 0.99))
    assert all(math.isnan(v) for v in control_limits("sensitivity", 0.9, 0, 400))
    with pytest.raises(ValueError, match="metric must be"):
        control_limits("ppv", 0.9, 1, 1)


def test_control_limits_auroc_use_hanley_mcneil_and_are_clipped():
    se = hanley_mcneil_se(0.85, 40, 300)
    assert control_limits("auroc", 0.85, 40, 300) == pytest.approx((0.85 - 3 * se, min(1.0, 0.85 + 3 * se)))
    assert control_limits("sensitivity", 0.99, 5, 5, sigma=3)[1] == 1.0
    assert control_limits("specificity", 0.05, 5, 5)[0] == 0.0
    assert control_limits("auroc", 0.8, 100, 100, sigma=2) == pytest.approx(
        (0.8 - 2 * hanley_mcneil_se(0.8, 100, 100), 0.8 + 2 * hanley_mcneil_se(0.8, 100, 100)))


def test_mean_from_sums_matches_numpy():
    from scipy import stats as sps

    x = np.random.default_rng(4).beta(2, 8, 5000)
    est = mean_from_sums(x.size, float(x.sum()), float(np.dot(x, x)), alpha=0.1)
    se = x.std(ddof=1) / math.sqrt(x.size)
    z = sps.norm.ppf(0.95)
    assert (est.estimate, est.se) == pytest.approx((x.mean(), se), rel=1e-9)
    assert (est.lower, est.upper) == pytest.approx((x.mean() - z * se, x.mean() + z * se), rel=1e-9)
    assert est.method == "wald-mean"


def test_mean_from_sums_edges():
    empty = mean_from_sums(0, 0.0, 0.0)
    assert math.isnan(empty.estimate) and empty.reason == "n = 0: no values"
    assert mean_from_sums(0, 0.0, 0.0, empty="empty window").reason == "empty window"
    one = mean_from_sums(1, 0.3, 0.09)
    assert one.estimate == 0.3 and math.isnan(one.lower) and one.reason == "one value: no interval"
    clipped = mean_from_sums(3, 0.01, 0.0001, bounds=(0.0, 1.0))
    assert clipped.lower == 0.0 and clipped.upper > clipped.estimate
    constant = mean_from_sums(4, 0.8, 0.16 - 1e-18)  # rounding below zero variance is clipped to 0
    assert constant.lower == constant.upper == pytest.approx(0.2)


def test_docstring_examples():
    assert doctest.testmod(control, raise_on_error=False).failed == 0
