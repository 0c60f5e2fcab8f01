"""stats.calibration.logistic_recalibration: the CITL and slope of stats.calibration without the lowess
statistics (what the drift review computes per window)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from studylib import stats
from studylib.stats.calibration import logistic_recalibration, oe_ratio


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_citl_and_slope_of_calibration(seed):
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-1, 1.5, 3000)))
    y = (rng.random(3000) < np.clip(p * 1.3, 0, 1)).astype(float)
    citl, slope = logistic_recalibration(y, p, alpha=0.1)
    full = stats.calibration(y, p, alpha=0.1)
    assert citl == full.citl and slope == full.slope  # the same code path: identical, not just close
    assert oe_ratio(int(y.sum()), float(p.sum()), 0.1, variance=float(np.dot(p, 1 - p))) == full.oe_ratio


def test_undefined_with_the_reason_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        citl, slope = logistic_recalibration([1, 1, 1], [0.2, 0.5, 0.7])
        assert citl.reason.startswith("citl: y has a single class") and math.isnan(citl.estimate)
        assert slope.reason.startswith("slope: y has a single class")
        _, constant = logistic_recalibration([0, 1, 0, 1], [0.3] * 4)
        assert "single distinct value" in constant.reason
        empty = logistic_recalibration([], [])
        assert all(e.reason.endswith("n = 0: no observations") for e in empty)


def test_validates_inputs():
    with pytest.raises(ValueError, match="prob must be probabilities"):
        logistic_recalibration([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="alpha"):
        logistic_recalibration([0, 1], [0.5, 0.5], alpha=2)
