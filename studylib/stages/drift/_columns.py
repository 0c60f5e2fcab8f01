"""Small helpers shared by the drift tables: estimate columns and silenced undefined-metric warnings."""

from __future__ import annotations

import warnings

from studylib import stats
from studylib.stats import Estimate


def estimate_columns(prefix: str, est: Estimate) -> dict:
    """``{prefix: estimate, prefix_lower: lower, prefix_upper: upper}`` for one table row."""
    return {prefix: est.estimate, f"{prefix}_lower": est.lower, f"{prefix}_upper": est.upper}


def quiet(func, *args, **kwargs):
    """``func(*args, **kwargs)`` without undefined-metric and runtime warnings (the tables give the reason)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)
