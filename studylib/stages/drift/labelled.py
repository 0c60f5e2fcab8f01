"""Calibration and performance drift per monitoring window, from the labelled rows of each window.

Per window with a known outcome: observed event rate, O/E ratio, calibration-in-the-large and slope
(:func:`studylib.stats.calibration.logistic_recalibration`, :func:`~studylib.stats.calibration.oe_ratio`),
a calibration curve, AUROC, sensitivity and specificity at the operating threshold, and the Shewhart
control limits of the three performance metrics around the reference window's values
(:func:`studylib.stats.control.control_limits`).
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib import stats
from studylib.data.scan import WindowPlan
from studylib.stages.drift._columns import estimate_columns, quiet
from studylib.stats import Estimate
from studylib.stats.calibration import logistic_recalibration, oe_ratio
from studylib.stats.control import control_limits

#: a window's calibration curve needs this many events and non-events
MIN_CURVE_EVENTS = 10
#: above this many labelled rows a window's calibration curve uses 20 quantile bins instead of lowess
LOWESS_MAX_ROWS = 20_000
#: the performance metrics charted with control limits
PERFORMANCE_METRICS = ("auroc", "sensitivity", "specificity")
#: the counts each labelled statistic needs in a window (``drift.min_events``, ``drift.min_non_events``):
#: sensitivity the events, specificity the non-events, AUROC and the logistic calibration both, O/E the events
NEEDS = {"auroc": ("events", "non_events"), "sensitivity": ("events",), "specificity": ("non_events",),
         "oe_ratio": ("events",), "calibration_in_the_large": ("events", "non_events"),
         "calibration_slope": ("events", "non_events")}


def too_few(statistic: str, events: int, non_events: int, min_events: int, min_non_events: int) -> str:
    """Why ``statistic`` cannot be judged in a window with these counts; "" when it can.

    The reason names the minimum, not the count (a small count would be a small cell).

    Examples
    --------
    >>> too_few("auroc", 1, 44, 10, 10)
    'fewer than 10 events (drift.min_events)'
    >>> too_few("specificity", 1, 44, 10, 10)
    ''
    """
    needs = NEEDS.get(statistic, ())
    parts = []
    if "events" in needs and events < min_events:
        parts.append(f"fewer than {min_events} events (drift.min_events)")
    if "non_events" in needs and non_events < min_non_events:
        parts.append(f"fewer than {min_non_events} non-events (drift.min_non_events)")
    return " and ".join(parts)


def not_judged(statistics, events: int, non_events: int, min_events: int, min_non_events: int) -> str:
    """A table note: which of ``statistics`` are not judged in a window, and why ("" when all are)."""
    by_reason: dict[str, list[str]] = {}
    for name in statistics:
        reason = too_few(name, events, non_events, min_events, min_non_events)
        if reason:
            by_reason.setdefault(reason, []).append(name.replace("_", " "))
    return "; ".join(f"{', '.join(names)} not judged: {reason}" for reason, names in by_reason.items())


def _notes(*reasons: str) -> str:
    return "; ".join(r for r in dict.fromkeys(reasons) if r)


def _fit_window(y: np.ndarray, p: np.ndarray, threshold: float, alpha: float, ci: str, oe_method: str) -> dict:
    """Calibration, discrimination and the operating point of one window's labelled rows."""
    n, events = int(y.size), int(np.count_nonzero(y))
    citl, slope = logistic_recalibration(y, p, alpha=alpha)
    oe = oe_ratio(events, float(p.sum()), alpha, variance=float(np.dot(p, 1 - p)), method=oe_method)
    out = {"n": n, "events": events, "citl": citl, "slope": slope, "oe": oe, "curve": None,
           "auroc": stats.auroc(y, p, alpha=alpha), "binary": stats.binary_metrics(y, p, threshold, alpha=alpha, method=ci)}
    if min(events, n - events) >= MIN_CURVE_EVENTS:
        method = "lowess" if n <= LOWESS_MAX_ROWS else "quantile-bins"
        curve = stats.calibration_curve(y, p, method=method, alpha=alpha, n_points=40, n_bins=20)
        out["curve"] = curve.assign(method=method)[["predicted", "observed", "method"]]
    return out


@dataclass(frozen=True)
class OperatingPoint:
    """Sensitivity and specificity at the threshold (the attributes of :class:`studylib.stats.BinaryMetrics`
    the drift tables read), from counts."""

    sensitivity: Estimate
    specificity: Estimate


def fit_from_counts(score: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray, threshold: float, alpha: float,
                    ci: str, *, oe_method: str = "delta-log") -> dict:
    """The fit of one window from its events and non-events per distinct score (ascending): the same keys
    as the fit of its rows, equal to it (the statistics' count forms); no calibration curve.

    AUROC by :func:`studylib.stats.roc.auroc_from_counts`, calibration-in-the-large and slope by
    :func:`studylib.stats.calibration.recalibration_from_counts`, O/E with the Bernoulli variance
    ``sum t p (1 - p)``, sensitivity and specificity at ``threshold`` (positive iff score >= threshold).
    """
    from studylib.stats.calibration import logit, recalibration_from_counts
    from studylib.stats.roc import auroc_from_counts

    score = np.asarray(score, dtype=float)
    n_pos, n_neg = np.asarray(n_pos, dtype=np.int64), np.asarray(n_neg, dtype=np.int64)
    total = n_pos + n_neg
    events, n = int(n_pos.sum()), int(total.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = recalibration_from_counts(logit(score), n_pos, n_neg, alpha=alpha)
        oe = oe_ratio(events, float(np.dot(score, total)), alpha, variance=float(np.dot(score * (1 - score), total)),
                      method=oe_method)
        flagged = score >= threshold
        sensitivity = stats.proportion(int(n_pos[flagged].sum()), events, alpha=alpha, method=ci)
        specificity = stats.proportion(int(n_neg[~flagged].sum()), n - events, alpha=alpha, method=ci)
        auc = auroc_from_counts(n_pos, n_neg, alpha=alpha)
    return {"n": n, "events": events, "citl": fit.citl, "slope": fit.slope, "oe": oe, "curve": None, "auroc": auc,
            "binary": OperatingPoint(sensitivity, specificity)}


def window_fits(labelled: dict, threshold: float, alpha: float, ci: str, *, oe_method: str = "delta-log") -> dict:
    """The fits of every window with labelled rows (``{window index: (y, p)}``), two windows at a time
    (numpy releases the GIL in the large array operations); ``oe_method`` is the plan's
    ``analysis.oe_interval``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {i: pool.submit(_fit_window, y, p, threshold, alpha, ci, oe_method) for i, (y, p) in labelled.items()}
            return {i: f.result() for i, f in futures.items()}


def calibration_table(plan: WindowPlan, fits: dict, sums: pd.DataFrame, alpha: float, *, min_events: int,
                      min_non_events: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibration per window (columns of :attr:`DriftReview.calibration`) and the calibration curves.

    ``reason`` says why a monitoring window's statistics are undefined or not judged (fewer events or
    non-events than ``min_events``/``min_non_events``).
    """
    rows, curve_rows = [], []
    for index, window in enumerate(plan.windows):
        s = sums.loc[index]
        n, events = int(s["labelled"]), float(s["events"])
        row = {"window": window.label, "labelled": n, "events": int(round(events)), "expected": float(s["expected"])}
        if index in fits:
            fit = fits[index]
            observed = quiet(stats.proportion, fit["events"], fit["n"], alpha=alpha, method="wilson")
            row.update({**estimate_columns("observed_rate", observed), **estimate_columns("oe_ratio", fit["oe"]),
                        **estimate_columns("calibration_in_the_large", fit["citl"]),
                        **estimate_columns("calibration_slope", fit["slope"]),
                        "reason": _notes(*sorted({e.reason for e in (fit["citl"], fit["slope"], fit["oe"]) if e.reason}),
                                         "" if index == 0 else not_judged(
                                             ("oe_ratio", "calibration_in_the_large", "calibration_slope"),
                                             fit["events"], fit["n"] - fit["events"], min_events, min_non_events))})
            if fit["curve"] is not None:
                curve_rows.append(fit["curve"].assign(window=window.label)[["window", "predicted", "observed", "method"]])
        else:
            reason = "empty window" if window.empty else "no labelled rows"
            undefined = Estimate.undefined(reason)
            row.update({**estimate_columns("observed_rate", undefined), **estimate_columns("oe_ratio", undefined),
                        **estimate_columns("calibration_in_the_large", undefined),
                        **estimate_columns("calibration_slope", undefined), "reason": reason})
        rows.append(row)
    curves = (pd.concat(curve_rows, ignore_index=True) if curve_rows
              else pd.DataFrame(columns=["window", "predicted", "observed", "method"]))
    return pd.DataFrame(rows), curves


def performance_table(plan: WindowPlan, fits: dict, *, min_events: int, min_non_events: int) -> pd.DataFrame:
    """Performance per window with control limits and signals (columns of :attr:`DriftReview.performance`);
    ``reason`` also names the metrics a monitoring window has too few events or non-events to judge."""
    rows = []
    for index, window in enumerate(plan.windows):
        row = {"window": window.label}
        if index in fits:
            fit = fits[index]
            auc, binary = fit["auroc"], fit["binary"]
            row.update({"positives": fit["events"], "negatives": fit["n"] - fit["events"],
                        **estimate_columns("auroc", auc), **estimate_columns("sensitivity", binary.sensitivity),
                        **estimate_columns("specificity", binary.specificity),
                        "reason": _notes(*sorted({e.reason for e in (auc, binary.sensitivity, binary.specificity)
                                                  if e.reason}),
                                         "" if index == 0 else not_judged(PERFORMANCE_METRICS, fit["events"],
                                                                          fit["n"] - fit["events"], min_events,
                                                                          min_non_events))})
        else:
            undefined = Estimate.undefined("empty window" if window.empty else "no labelled rows")
            row.update({"positives": 0, "negatives": 0, **estimate_columns("auroc", undefined),
                        **estimate_columns("sensitivity", undefined), **estimate_columns("specificity", undefined),
                        "reason": undefined.reason})
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in PERFORMANCE_METRICS:
        center = float(table.loc[0, metric])
        limits = [control_limits(metric, center, int(r.positives), int(r.negatives)) if i > 0 else (math.nan, math.nan)
                  for i, r in enumerate(table.itertuples())]
        table[f"{metric}_cl_lower"] = [lo for lo, _ in limits]
        table[f"{metric}_cl_upper"] = [hi for _, hi in limits]
        value = table[metric].to_numpy(dtype=float)
        lo = table[f"{metric}_cl_lower"].to_numpy(dtype=float)
        hi = table[f"{metric}_cl_upper"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            table[f"{metric}_signal"] = (value < lo) | (value > hi)
    return table
