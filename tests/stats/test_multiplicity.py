"""adjust_pvalues against statsmodels multipletests, NaN pass-through, validation and properties."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from studylib import stats

P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 1.0, 0.0]


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_matches_multipletests(method):
    assert stats.adjust_pvalues(P, method) == pytest.approx(multipletests(P, method=method)[1], abs=1e-15)


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 with m = 3: 0.03, 0.06, max(0.06, 0.04)
    assert stats.adjust_pvalues([0.01, 0.04, 0.03], "holm").tolist() == pytest.approx([0.03, 0.06, 0.06])


def test_bh_by_hand():
    # sorted 0.01, 0.03, 0.04, m = 3: 0.03, 0.045, 0.04 -> step-up minimum from the top: 0.03, 0.04, 0.04
    assert stats.adjust_pvalues([0.01, 0.04, 0.03], "fdr_bh").tolist() == pytest.approx([0.03, 0.04, 0.04])


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_nan_passed_through_and_not_counted(method):
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    out = stats.adjust_pvalues(p, method)
    assert np.isnan(out[[1, 4]]).all()
    assert out[[0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method=method)[1])


def test_all_nan_and_empty():
    assert np.isnan(stats.adjust_pvalues([np.nan, np.nan])).all()
    assert stats.adjust_pvalues([]).shape == (0,)


def test_series_keeps_index():
    s = pd.Series([0.01, 0.04, np.nan], index=["age", "sex", "site"], name="p")
    out = stats.adjust_pvalues(s)
    assert isinstance(out, pd.Series) and list(out.index) == ["age", "sex", "site"] and out.name == "p"


@pytest.mark.parametrize(("p", "fragment"), [([0.1, 1.2], r"in \[0, 1\]"), ([-0.1], r"in \[0, 1\]"),
                                             ([np.inf], r"in \[0, 1\]"), ([[0.1, 0.2]], "one-dimensional")])
def test_validation(p, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.adjust_pvalues(p)


def test_unknown_method():
    with pytest.raises(ValueError, match="'holm', 'fdr_bh'"):
        stats.adjust_pvalues([0.1], "bonferroni")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), max_size=30),
       st.sampled_from(["holm", "fdr_bh"]), st.randoms())
def test_property_bounds_and_order_invariance(p, method, rnd):
    p = np.array(p, dtype=float)
    out = stats.adjust_pvalues(p, method)
    present = ~np.isnan(p)
    assert np.array_equal(np.isnan(out), ~present)
    assert np.all(out[present] >= p[present] - 1e-15) and np.all(out[present] <= 1)
    perm = list(range(p.size))
    rnd.shuffle(perm)
    assert np.allclose(stats.adjust_pvalues(p[perm], method), out[perm], equal_nan=True)


def test_docstring_examples():
    failures, _ = doctest.testmod(importlib.import_module("studylib.stats.multiplicity"))
    assert failures == 0
