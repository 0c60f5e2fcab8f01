"""MOVER differences: Newcombe's published intervals, statsmodels' Newcombe interval, the Wald special
case and undefined inputs."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from studylib import stats
from studylib.stats import Estimate
from studylib.stats.difference import mover_difference


@pytest.mark.parametrize("x1, n1, x2, n2, lower, upper", [
    (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe (1998), Table II, example (a), method 10
    (9, 10, 3, 10, 0.1705, 0.8090),    # example (b)
])
def test_mover_with_wilson_limits_is_newcombes_published_interval(x1, n1, x2, n2, lower, upper):
    d = mover_difference(stats.proportion(x1, n1), stats.proportion(x2, n2))
    assert d.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (round(d.lower, 4), round(d.upper, 4)) == (lower, upper)


def test_mover_difference_of_proportions_is_newcombe_as_statsmodels():
    a, b = stats.proportion(45, 60), stats.proportion(30, 55)
    d = mover_difference(a, b)
    low, high = confint_proportions_2indep(45, 60, 30, 55, method="newcomb", compare="diff")
    assert (d.lower, d.upper) == pytest.approx((low, high), abs=1e-10)


def test_mover_with_wald_limits_is_the_wald_interval():
    z = 1.959963984540054
    a = Estimate(0.8, 0.8 - z * 0.03, 0.8 + z * 0.03, 0.03, "wald")
    b = Estimate(0.7, 0.7 - z * 0.04, 0.7 + z * 0.04, 0.04, "wald")
    d = mover_difference(a, b)
    assert d.se == pytest.approx(0.05)
    assert (d.lower, d.upper) == pytest.approx((0.1 - z * 0.05, 0.1 + z * 0.05), abs=1e-12)
    assert d.method == "mover"


def test_mover_difference_undefined_side():
    d = mover_difference(Estimate.undefined("no positives"), stats.proportion(3, 10))
    assert not d.defined and d.reason == "no positives"


def test_mover_difference_without_standard_errors():
    d = mover_difference(Estimate(0.8, 0.7, 0.9), Estimate(0.6, 0.5, 0.7))
    assert d.defined and math.isnan(d.se)
