"""Measures over a range of thresholds: the EXPLORATORY threshold table (sensitivity, specificity, PPV
and NPV at each threshold of the plan's grid) and the decision curve (net benefit over the declared
range of threshold probabilities).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from studylib import stats
from studylib.plan import Study


def threshold_table(y, score, study: Study) -> pd.DataFrame:
    """EXPLORATORY: sensitivity, specificity, PPV and NPV (with intervals) at each threshold of the plan's
    ``analysis.threshold_grid`` and at the operating threshold.

    These are not pre-specified operating points: reading a better threshold off this table and
    reporting its performance as a result is optimistic (STARD 2015 item 12b). Columns: ``threshold``,
    ``operating`` (True for the pre-specified threshold), ``flagged`` (number called positive),
    ``flagged_share``, then ``<metric>``, ``<metric>_lower``, ``<metric>_upper`` for each metric.
    """
    analysis = study.analysis
    grid = sorted(set(analysis.threshold_grid) | {analysis.threshold})
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)  # NaN with reason; shown as undefined
        for t in grid:
            m = stats.binary_metrics(y, score, t, alpha=analysis.alpha, method=analysis.ci_method)
            row = {"threshold": float(t), "operating": bool(t == analysis.threshold), "flagged": m.tp + m.fp,
                   "flagged_share": (m.tp + m.fp) / m.n if m.n else math.nan}
            for name in ("sensitivity", "specificity", "ppv", "npv"):
                e = getattr(m, name)
                row |= {name: e.estimate, f"{name}_lower": e.lower, f"{name}_upper": e.upper}
            rows.append(row)
    return pd.DataFrame(rows)


def decision_thresholds(study: Study) -> np.ndarray:
    """The threshold probabilities of the decision curve: the declared range ``analysis.decision_curve``
    in steps of 0.01 (0.005 or 0.001 when the range is narrow), plus the operating threshold when it
    lies in the range."""
    low, high = study.analysis.decision_curve
    for step in (0.01, 0.005, 0.001):
        grid = np.round(np.arange(low, high + step / 2, step), 6)
        if grid.size >= 20:
            break
    grid = grid[(grid >= low) & (grid <= high)]
    if low <= study.analysis.threshold <= high:
        grid = np.union1d(grid, [study.analysis.threshold])
    return grid


def decision_curve(y, scores: dict[str, np.ndarray], study: Study) -> pd.DataFrame:
    """Net benefit of each model, of treating all and of treating none over the declared threshold range.

    Columns ``threshold``, ``net_benefit_<role>`` for each model, ``net_benefit_all``,
    ``net_benefit_none``. See :func:`studylib.stats.net_benefit` (Vickers & Elkin 2006).
    """
    t = decision_thresholds(study)
    out = None
    for role, score in scores.items():
        nb = stats.net_benefit(y, score, t)
        if out is None:
            out = nb[["threshold"]].copy()
        out[f"net_benefit_{role}"] = nb["net_benefit_model"].to_numpy()
        out["net_benefit_all"] = nb["net_benefit_all"].to_numpy()
        out["net_benefit_none"] = nb["net_benefit_none"].to_numpy()
    return out
