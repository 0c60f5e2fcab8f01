"""Single-proportion intervals: published values (Newcombe 1998), statsmodels for every method × edge
case, boundary rules, properties and input validation."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from studylib import stats
from studylib.stats.proportion import PROPORTION_METHODS
from tests.reference import proportion as ref

SM_NAME = {"wilson": "wilson", "clopper-pearson": "beta", "agresti-coull": "agresti_coull", "jeffreys": "jeffreys"}
CASES = [(0, 1), (1, 1), (0, 10), (10, 10), (1, 10), (5, 10), (81, 263), (15, 148), (0, 20), (1, 29),
         (999, 1000), (3, 100000)]


@pytest.mark.parametrize(("x", "n"), list(ref.NEWCOMBE_1998_TABLE_I))
@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_newcombe_1998_table_i(x, n, method):
    lower, upper = stats.proportion_ci(x, n, method=method)
    want = ref.NEWCOMBE_1998_TABLE_I[(x, n)][method]
    assert lower == pytest.approx(want[0], abs=ref.TOLERANCE)
    assert upper == pytest.approx(want[1], abs=ref.TOLERANCE)


@pytest.mark.parametrize(("x", "n"), CASES)
@pytest.mark.parametrize("method", PROPORTION_METHODS)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_matches_statsmodels(x, n, method, alpha):
    lower, upper = stats.proportion_ci(x, n, alpha, method)
    sm_lower, sm_upper = (float(v) for v in proportion_confint(x, n, alpha=alpha, method=SM_NAME[method]))
    # documented boundary rule: exactly 0 at x = 0 and 1 at x = n (differs from statsmodels only
    # for Jeffreys, by Brown-Cai-DasGupta's modification, and by rounding for Wilson)
    if x == 0:
        assert lower == 0.0
        if method != "jeffreys":
            assert sm_lower == pytest.approx(0.0, abs=1e-12)
    else:
        assert lower == pytest.approx(sm_lower, rel=1e-12, abs=1e-15)
    if x == n:
        assert upper == 1.0
        if method != "jeffreys":
            assert sm_upper == pytest.approx(1.0, abs=1e-12)
    else:
        assert upper == pytest.approx(sm_upper, rel=1e-12, abs=1e-15)


def test_jeffreys_boundary_modification():
    lower, upper = stats.proportion_ci(0, 20, method="jeffreys")
    sm_lower, sm_upper = proportion_confint(0, 20, method="jeffreys")
    assert sm_lower > 0 and lower == 0.0  # statsmodels' lower bound would exceed the estimate 0
    assert upper == pytest.approx(sm_upper)


def test_n_zero_gives_nan():
    for method in PROPORTION_METHODS:
        lower, upper = stats.proportion_ci(0, 0, method=method)
        assert math.isnan(lower) and math.isnan(upper)
    est = stats.proportion(0, 0)
    assert not est.defined and "n = 0" in est.reason and math.isnan(est.estimate)


def test_vectorised_equals_scalar():
    x = np.array([0, 3, 7, 10, 0])
    n = np.array([10, 10, 10, 10, 0])
    lower, upper = stats.proportion_ci(x, n, method="wilson")
    for i in range(x.size):
        lo, hi = stats.proportion_ci(int(x[i]), int(n[i]))
        assert (math.isnan(lo) and math.isnan(lower[i])) or lo == lower[i]
        assert (math.isnan(hi) and math.isnan(upper[i])) or hi == upper[i]


def test_proportion_estimate():
    est = stats.proportion(81, 263)
    assert est.estimate == pytest.approx(81 / 263)
    assert est.se == pytest.approx(math.sqrt(81 / 263 * (182 / 263) / 263))
    assert (est.lower, est.upper) == stats.proportion_ci(81, 263)
    assert est.method == "wilson" and est.defined and est.reason == ""
    assert isinstance(est.lower, float)
    assert stats.proportion(np.int64(3), np.int64(10)).estimate == pytest.approx(0.3)


@pytest.mark.parametrize("bad", ["wilson-cc", "Wilson", "jeff", "beta", "normal", "exact", None])
def test_unknown_method_lists_valid_ones(bad):
    with pytest.raises(ValueError) as err:
        stats.proportion_ci(1, 10, method=bad)
    message = str(err.value)
    for method in PROPORTION_METHODS:
        assert repr(method) in message
    assert repr(bad) in message


@pytest.mark.parametrize(("x", "n", "fragment"), [
    (11, 10, "x must not exceed n"),
    (-1, 10, "x must be a non-negative integer"),
    (2.5, 10, "x must be a non-negative integer"),
    (1, float("nan"), "n must be a non-negative integer"),
    ("3", 10, "x must be a non-negative integer"),
])
def test_bad_counts(x, n, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.proportion_ci(x, n)


def test_bad_alpha():
    with pytest.raises(ValueError, match="alpha must be in"):
        stats.proportion_ci(1, 10, alpha=1.5)


def test_integral_floats_accepted():
    assert stats.proportion_ci(81.0, 263.0) == stats.proportion_ci(81, 263)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 5000), frac=st.floats(0, 1), method=st.sampled_from(PROPORTION_METHODS),
       alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_property_bounds_contain_estimate(n, frac, method, alpha):
    x = int(round(frac * n))
    est = stats.proportion(x, n, alpha, method)
    assert 0.0 <= est.lower <= est.estimate <= est.upper <= 1.0


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 2000), frac=st.floats(0, 1))
def test_property_wider_at_higher_confidence(n, frac):
    x = int(round(frac * n))
    lo95, hi95 = stats.proportion_ci(x, n, 0.05)
    lo99, hi99 = stats.proportion_ci(x, n, 0.01)
    assert lo99 <= lo95 + 1e-15 and hi95 <= hi99 + 1e-15


def test_docstring_examples():
    failures, _ = doctest.testmod(importlib.import_module("studylib.stats.proportion"))
    assert failures == 0
