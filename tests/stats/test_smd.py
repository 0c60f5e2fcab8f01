"""Standardised mean differences: hand-worked examples from the formulas of Austin (2009), Yang and
Dalton's categorical form (2012), and agreement with the tableone package's implementation.

Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between treatment
groups in propensity-score matched samples. Stat Med. 2009;28(25):3083-3107. doi:10.1002/sim.3697
(continuous: difference of means over sqrt((s1² + s2²) / 2); binary: difference of proportions over
sqrt((p1(1 - p1) + p2(1 - p2)) / 2)).
"""

import math

import numpy as np
import pytest

from studylib.stats.smd import smd_categorical, smd_continuous, smd_from_moments


def test_smd_continuous_hand_worked_example():
    # means 2 and 3, sample variances 1 and 1: |2 - 3| / sqrt((1 + 1) / 2) = 1
    assert smd_continuous([1, 2, 3], [2, 3, 4]) == pytest.approx(1.0)
    # means 2 and 6, sample variances 1 and 4: 4 / sqrt(2.5) = 2.5298…
    assert smd_continuous([1, 2, 3], [4, 6, 8]) == pytest.approx(4 / math.sqrt(2.5), rel=1e-15)


def test_smd_continuous_known_answer_and_symmetry():
    a, b = np.random.default_rng(1).normal(size=(2, 50))
    assert smd_continuous(a, b) == pytest.approx(smd_continuous(b, a))
    assert math.isnan(smd_continuous([1], [1, 2]))
    assert smd_continuous([1, np.nan, 3], [1, 3]) == 0.0


def test_smd_from_moments_equals_the_array_version_and_handles_zero_spread():
    rng = np.random.default_rng(5)
    a, b = rng.normal(1, 2, 40), rng.normal(0, 1, 70)
    assert smd_from_moments(a.mean(), a.var(ddof=1), b.mean(), b.var(ddof=1)) == smd_continuous(a, b)
    assert smd_from_moments(3.0, 0.0, 3.0, 0.0) == 0.0
    assert smd_from_moments(3.0, 0.0, 4.0, 0.0) == math.inf


def test_smd_categorical_binary_is_austins_formula():
    # Austin 2009: p1 = 0.3, p2 = 0.5 → 0.2 / sqrt((0.21 + 0.25) / 2) = 0.41703…
    assert smd_categorical([0.7, 0.3], [0.5, 0.5]) == pytest.approx(0.2 / math.sqrt(0.23), rel=1e-12)
    assert smd_categorical([0.7, 0.3], [0.5, 0.5]) == pytest.approx(0.417029, abs=1e-6)


def test_smd_categorical_binary_formula_and_level_order_invariance():
    p1, p2 = 0.3, 0.5
    expected = abs(p1 - p2) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert smd_categorical([1 - p1, p1], [1 - p2, p2]) == pytest.approx(expected)
    a, b = np.array([0.2, 0.3, 0.1, 0.4]), np.array([0.25, 0.25, 0.2, 0.3])
    value = smd_categorical(a, b)
    for order in ([1, 0, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]):
        assert smd_categorical(a[order], b[order]) == pytest.approx(value)
    assert smd_categorical([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0  # an absent level is dropped
    assert math.isnan(smd_categorical([1.0], [1.0]))


@pytest.mark.parametrize("p1, p2", [([0.7, 0.3], [0.5, 0.5]),
                                    ([0.2, 0.3, 0.1, 0.4], [0.25, 0.25, 0.2, 0.3]),
                                    ([0.6, 0.3, 0.1], [0.1, 0.3, 0.6])])
def test_smd_categorical_agrees_with_tableone(p1, p2):
    from tableone.statistics import Statistics

    peer, _ = Statistics()._cat_smd(prop1=p1, prop2=p2, n1=100, n2=100)
    assert smd_categorical(p1, p2) == pytest.approx(abs(peer), rel=1e-9)


def test_smd_continuous_agrees_with_tableone():
    from tableone.statistics import Statistics

    a, b = np.random.default_rng(2).normal([0.0, 0.4], [1.0, 1.5], size=(80, 2)).T
    peer, _ = Statistics()._cont_smd(mean1=a.mean(), mean2=b.mean(), sd1=a.std(ddof=1), sd2=b.std(ddof=1),
                                     n1=a.size, n2=b.size)
    assert smd_continuous(a, b) == pytest.approx(abs(peer), rel=1e-12)
