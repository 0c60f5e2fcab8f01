"""Net benefit: hand-worked example (tests/reference/decision_curve.py), a direct formula, edge cases,
validation and properties. (dcurves was not used as a cross-check: installing it would downgrade
pandas 3.1 to 2.x.)"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studylib import stats
from studylib.stats._validate import UndefinedMetricWarning
from tests.reference import decision_curve as ref


def direct_net_benefit(y, prob, t):
    """Textbook formula, one threshold at a time with a boolean mask."""
    y = np.asarray(y, dtype=bool)
    prob = np.asarray(prob, dtype=float)
    treat = prob >= t
    n = y.size
    tp, fp = np.sum(treat & y), np.sum(treat & ~y)
    return tp / n - fp / n * t / (1 - t), y.mean() - (1 - y.mean()) * t / (1 - t)


def test_hand_worked_example():
    df = stats.net_benefit(ref.Y, ref.PROB, ref.THRESHOLDS)
    assert list(df.columns) == ["threshold", "net_benefit_model", "net_benefit_all", "net_benefit_none"]
    assert df["threshold"].tolist() == ref.THRESHOLDS
    assert df["net_benefit_model"].to_numpy() == pytest.approx(ref.NET_BENEFIT_MODEL, abs=ref.TOLERANCE)
    assert df["net_benefit_all"].to_numpy() == pytest.approx(ref.NET_BENEFIT_ALL, abs=ref.TOLERANCE)
    assert (df["net_benefit_none"] == 0).all()


def test_matches_direct_formula():
    rng = np.random.default_rng(0)
    prob = np.round(rng.beta(2, 5, 3000), 2)  # ties with the thresholds
    y = rng.random(3000) < prob
    thresholds = np.round(np.arange(0, 1, 0.01), 2)
    df = stats.net_benefit(y, prob, thresholds)
    for t, model, treat_all in zip(thresholds, df["net_benefit_model"], df["net_benefit_all"]):
        want_model, want_all = direct_net_benefit(y, prob, t)
        assert model == pytest.approx(want_model, abs=1e-12)
        assert treat_all == pytest.approx(want_all, abs=1e-12)


def test_threshold_zero_treats_everyone_and_scalar_threshold():
    df = stats.net_benefit([1, 0, 0, 1], [0.0, 0.2, 0.3, 0.9], 0)
    assert len(df) == 1
    assert df["net_benefit_model"].iloc[0] == pytest.approx(0.5) == df["net_benefit_all"].iloc[0]


def test_unsorted_thresholds_keep_their_order():
    df = stats.net_benefit(ref.Y, ref.PROB, [0.5, 0.1])
    assert df["threshold"].tolist() == [0.5, 0.1]
    assert df["net_benefit_model"].tolist() == pytest.approx([0.2, 0.4 - 0.6 / 9])


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan"), [0.2, 1.5]])
def test_bad_thresholds(bad):
    with pytest.raises(ValueError, match=r"thresholds must be threshold probabilities in \[0, 1\)"):
        stats.net_benefit([0, 1], [0.2, 0.8], bad)


@pytest.mark.parametrize(("y", "prob", "fragment"), [
    ([0, 1, 1], [0.2, 0.8], "same length"),
    ([0, 1], [0.2, 1.8], "prob must be probabilities"),
    ([0, 5], [0.2, 0.8], "binary labels"),
])
def test_validation(y, prob, fragment):
    with pytest.raises(ValueError, match=fragment):
        stats.net_benefit(y, prob, [0.1])


def test_empty_and_one_class():
    with pytest.warns(UndefinedMetricWarning):
        df = stats.net_benefit([], [], [0.1, 0.2])
    assert df["net_benefit_model"].isna().all()
    df = stats.net_benefit([0, 0, 0], [0.1, 0.5, 0.9], [0.2])  # no events: legal, negative net benefit
    assert df["net_benefit_model"].iloc[0] == pytest.approx(-2 / 3 * 0.25)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), min_size=1, max_size=50), st.randoms())
def test_property_row_order_and_perfect_model_bound(rows, rnd):
    y = np.array([r[0] for r in rows])
    prob = np.array([r[1] / 20 for r in rows])
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    t = np.linspace(0, 0.95, 20)
    a = stats.net_benefit(y, prob, t)
    b = stats.net_benefit(y[perm], prob[perm], t)
    assert np.allclose(a.to_numpy(), b.to_numpy())
    # no model beats a perfect one: net benefit <= prevalence
    assert (a["net_benefit_model"] <= y.mean() + 1e-12).all()


def test_docstring_examples():
    failures, _ = doctest.testmod(importlib.import_module("studylib.stats.decision_curve"))
    assert failures == 0
