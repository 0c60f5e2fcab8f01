"""McNemar's test against statsmodels, the paired-difference interval, edge cases and validation."""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from studylib import stats
from studylib.stats._validate import UndefinedMetricWarning

SM_OPTIONS = {"exact": dict(exact=True), "chi2": dict(exact=False, correction=False),
              "chi2-corrected": dict(exact=False, correction=True)}


def _pairs(n11, n12, n21, n22):
    a = np.r_[np.ones(n11 + n12), np.zeros(n21 + n22)].astype(int)
    b = np.r_[np.ones(n11), np.zeros(n12), np.ones(n21), np.zeros(n22)].astype(int)
    return a, b


@pytest.mark.parametrize("table", [(10, 8, 2, 30), (50, 3, 12, 40), (5, 0, 4, 1), (100, 25, 40, 5),
                                   (0, 1, 0, 0), (20, 7, 9, 20)])
@pytest.mark.parametrize("method", ["exact", "chi2", "chi2-corrected"])
def test_matches_statsmodels(table, method):
    a, b = _pairs(*table)
    r = stats.mcnemar(a, b, method)
    ref = sm_mcnemar(np.array([[table[0], table[1]], [table[2], table[3]]]), **SM_OPTIONS[method])
    assert (r.b, r.c, r.n) == (table[1], table[2], sum(table))
    assert r.statistic == pytest.approx(float(ref.statistic))
    assert r.p_value == pytest.approx(float(ref.pvalue))
    assert r.method == method and r.reason == ""


def test_corrected_with_equal_discordant_counts():
    # Edwards' correction max(|b - c| - 1, 0): b == c gives statistic 0 and p 1 (statsmodels: 1/(b+c))
    a, b = _pairs(10, 5, 5, 10)
    r = stats.mcnemar(a, b, "chi2-corrected")
    assert r.statistic == 0.0 and r.p_value == 1.0
    assert float(sm_mcnemar([[10, 5], [5, 10]], exact=False, correction=True).statistic) == pytest.approx(0.1)


def test_no_discordant_pairs():
    a, b = _pairs(10, 0, 0, 5)
    r = stats.mcnemar(a, b, "exact")
    assert r.statistic == 0.0 and r.p_value == 1.0
    with pytest.warns(UndefinedMetricWarning, match="no discordant pairs"):
        r = stats.mcnemar(a, b, "chi2")
    assert math.isnan(r.statistic) and math.isnan(r.p_value) and r.reason
    assert r.difference.estimate == 0.0


def test_exact_p_value_by_hand():
    a, b = _pairs(5, 8, 2, 0)
    r = stats.mcnemar(a, b, "exact")
    assert r.p_value == pytest.approx(2 * sps.binom.cdf(2, 10, 0.5)) and r.p_value == pytest.approx(0.109375)


def test_paired_difference():
    n11, n12, n21, n22 = 40, 15, 5, 40
    a, b = _pairs(n11, n12, n21, n22)
    d = stats.mcnemar(a, b).difference
    n = n11 + n12 + n21 + n22
    assert d.estimate == pytest.approx((n12 - n21) / n) == pytest.approx(a.mean() - b.mean())
    assert d.se == pytest.approx(math.sqrt((n12 + n21) - (n12 - n21) ** 2 / n) / n)
    # Newcombe square-and-add from the two Wilson intervals and phi, written out
    p1, p2 = (n11 + n12) / n, (n11 + n21) / n
    l1, u1 = stats.proportion_ci(n11 + n12, n)
    l2, u2 = stats.proportion_ci(n11 + n21, n)
    # Newcombe's corrected phi: A = n11 n22 - n12 n21 = 1525 > n/2, so A - n/2
    phi = (n11 * n22 - n12 * n21 - n / 2) / math.sqrt((n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22))
    lower = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    upper = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    assert (d.lower, d.upper) == pytest.approx((lower, upper))
    # positive correlation makes the interval narrower than for independent samples (phi = 0)
    indep = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    assert (p1 - p2) - d.lower < indep


#: Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables, chapter 8: Cavo et al. (2012),
#: complete response before/after consolidation therapy, n = (59, 6, 16, 80). Printed to 4 decimals (tolerance
#: 5e-5), as reproduced by the authors' R package contingencytables (tests/testthat/test-chapter08.R):
#:   Newcombe_square_and_add_CI_paired_2x2(cavo_2012)
#:   -> "estimate = -0.0621 (95% CI -0.1186 to -0.0046)"
#:   McNemar_midP_test_paired_2x2(cavo_2012) -> "The McNemar mid-P test: P = 0.034690"
#:   McNemar_exact_cond_test_paired_2x2(cavo_2012) -> "P = 0.052479"
#: The difference there is pi_1+ - pi_+1 (row margin minus column margin), as mcnemar's mean(a) - mean(b).
CAVO = (59, 6, 16, 80)


def test_newcombe_interval_matches_the_published_values():
    """Newcombe's method 10 (with his corrected phi) against the published Cavo et al. example; the
    uncorrected phi gives -0.1174 to -0.0059, outside the printed precision."""
    a, b = _pairs(*CAVO)
    r = stats.mcnemar(a, b)
    assert r.difference.estimate == pytest.approx(-0.0621, abs=5e-5)
    assert (r.difference.lower, r.difference.upper) == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    assert r.p_value == pytest.approx(0.034690, abs=5e-7)
    assert stats.mcnemar(a, b, "exact").p_value == pytest.approx(0.052479, abs=5e-7)


@pytest.mark.parametrize(("table", "phi_branch"), [((36, 12, 2, 0), "A < 0"), ((6, 5, 5, 6), "0 <= A <= n/2"),
                                                   (CAVO, "A > n/2")])
def test_newcombe_phi_correction_branches(table, phi_branch):
    """Each branch of Newcombe's corrected phi, written out (independent of the code path)."""
    n11, n12, n21, n22 = table
    n = sum(table)
    big_a = n11 * n22 - n12 * n21
    phi_num = big_a - n / 2 if big_a > n / 2 else (0.0 if big_a >= 0 else big_a)
    assert phi_branch == ("A > n/2" if big_a > n / 2 else "0 <= A <= n/2" if big_a >= 0 else "A < 0")
    phi = phi_num / math.sqrt((n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22))
    p1, p2 = (n11 + n12) / n, (n11 + n21) / n
    l1, u1 = stats.proportion_ci(n11 + n12, n)
    l2, u2 = stats.proportion_ci(n11 + n21, n)
    lower = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    upper = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    d = stats.mcnemar(*_pairs(*table)).difference
    assert (d.lower, d.upper) == pytest.approx((lower, upper), abs=1e-12)


def test_symmetry():
    a, b = _pairs(12, 9, 3, 20)
    r1, r2 = stats.mcnemar(a, b), stats.mcnemar(b, a)
    assert (r1.b, r1.c) == (r2.c, r2.b) and r1.p_value == r2.p_value
    assert r1.difference.estimate == -r2.difference.estimate
    assert r1.difference.lower == pytest.approx(-r2.difference.upper)


def test_empty():
    with pytest.warns(UndefinedMetricWarning, match="no pairs"):
        r = stats.mcnemar([], [])
    assert r.n == 0 and math.isnan(r.p_value) and not r.difference.defined


@pytest.mark.parametrize(("a", "b", "fragment"), [
    ([0, 1, 1], [0, 1], "same length"),
    ([0, 1, 2], [0, 1, 1], "binary labels"),
    ([0, 1, np.nan], [0, 1, 1], "missing"),
])
def test_validation(a, b, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.mcnemar(a, b)


def test_unknown_method():
    with pytest.raises(ValueError, match="'mid-p', 'exact', 'chi2', 'chi2-corrected'"):
        stats.mcnemar([0, 1], [1, 0], method="midp")


def test_mid_p_matches_the_published_example():
    """Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, Table 1 (Bentur et al.: airway
    hyper-responsiveness before/after stem-cell transplantation, 21 children, n12 = 1, n21 = 7) and its
    worked example: exact conditional p = 0.070, mid-p = 0.039, asymptotic McNemar p = 0.034 (printed
    to 3 decimals: tolerance 5e-4). The default method is the mid-p test."""
    a, b = _pairs(1, 1, 7, 12)
    assert stats.mcnemar(a, b).method == "mid-p"
    assert stats.mcnemar(a, b).p_value == pytest.approx(0.039, abs=5e-4)
    assert stats.mcnemar(a, b, "exact").p_value == pytest.approx(0.070, abs=5e-4)
    assert stats.mcnemar(a, b, "chi2").p_value == pytest.approx(0.034, abs=5e-4)
    # by hand: 2 P(X <= 1 | 8) - P(X = 1 | 8) = (18 - 8) / 256
    assert stats.mcnemar(a, b).p_value == pytest.approx(10 / 256, abs=1e-12)


def test_mid_p_with_equal_discordant_counts():
    """Fagerland et al. (2013), supplement: with n12 = n21 the mid-p value is 1 - P(X = n12) / 2."""
    a, b = _pairs(10, 3, 3, 10)
    assert stats.mcnemar(a, b).p_value == pytest.approx(1 - sps.binom.pmf(3, 6, 0.5) / 2)


def test_mid_p_is_never_above_the_exact_p_value():
    for table in [(10, 8, 2, 30), (50, 3, 12, 40), (5, 0, 4, 1), (20, 7, 9, 20), (0, 1, 0, 0)]:
        a, b = _pairs(*table)
        assert stats.mcnemar(a, b).p_value <= stats.mcnemar(a, b, "exact").p_value


@settings(max_examples=100, deadline=None)
@given(st.tuples(*[st.integers(0, 40)] * 4))
def test_property_interval(table):
    a, b = _pairs(*table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        r = stats.mcnemar(a, b)
    d = r.difference
    if sum(table) == 0:
        assert not d.defined
    else:
        assert -1 <= d.lower <= d.estimate <= d.upper <= 1
        assert 0 <= r.p_value <= 1


def test_docstring_examples():
    failures, _ = doctest.testmod(importlib.import_module("studylib.stats.paired"))
    assert failures == 0
