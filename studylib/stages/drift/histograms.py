"""Input and output drift per monitoring window, from the histograms and sums of :mod:`studylib.data.scan`.

Input drift: per declared feature and window, PSI and KS (continuous) or chi-square (categorical) from
the histograms, the change in missingness, and the multiplicity adjustment across features × windows.
Output drift: per window, PSI and KS of the candidate's score, its mean and the alert rate at the
operating threshold, and the score's empirical CDF at the fine edges (for the figure).

Beside each PSI: its mean and 95th percentile under no drift for the window's size
(:func:`studylib.stats.drift.psi_null`, simulated with a seed derived from ``analysis.seed``, the
feature and the window), and a band only for windows of at least ``drift.min_rows`` values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import stats
from studylib.data.scan import WindowPlan
from studylib.plan import DriftSection
from studylib.stages.drift._columns import estimate_columns, quiet
from studylib.stats import Estimate
from studylib.stats.control import mean_from_sums
from studylib.stats.drift import (
    DistributionDrift, categorical_drift, continuous_drift, missingness_change, psi_band, psi_counts, psi_null,
)

INPUT_COLUMNS = [
    "feature", "kind", "window", "n", "psi", "psi_null_mean", "psi_null_95", "psi_band", "test", "statistic", "ks_upper", "p_value",
    "missing_reference", "missing_rate", "missing_rate_lower", "missing_rate_upper", "missing_change",
    "missing_change_lower", "missing_change_upper", "missing_p", "reason"]


def _counts_array(bins: pd.DataFrame, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    if len(bins):
        np.add.at(out, bins["bin"].to_numpy(dtype=np.int64), bins["count"].to_numpy(dtype=np.int64))
    return out


def null_columns(ref_counts, n: int, seed: tuple[int, ...]) -> dict:
    """``psi_null_mean, psi_null_95``: the PSI of a window of ``n`` values without drift
    (:func:`studylib.stats.drift.psi_null`, seeded by ``seed``); NaN for an empty window."""
    if ref_counts is None or n <= 0:
        return {"psi_null_mean": math.nan, "psi_null_95": math.nan}
    null = psi_null(ref_counts, n, rng=np.random.default_rng(list(seed)))
    return {"psi_null_mean": null.mean, "psi_null_95": null.q95}


def index_bins(bins: pd.DataFrame) -> dict:
    """The histogram rows (``window, feature, bin, count``) grouped by (window, feature), for fast lookups."""
    return {key: part for key, part in bins.groupby(["window", "feature"], sort=False)}


def fine_counts(index: dict, window: int, feature: str, size: int) -> np.ndarray:
    """Counts per fine bin of one feature in one window (zeros where the histogram has no entry)."""
    part = index.get((window, feature))
    return _counts_array(part, size) if part is not None else np.zeros(size, dtype=np.int64)


def input_table(plan: WindowPlan, drift: DriftSection, bins: dict, categories: pd.DataFrame, sizes: pd.DataFrame,
                edges: dict, fine: dict, alpha: float, ci: str, method: str, seed: int) -> pd.DataFrame:
    """One row per feature × monitoring window (columns of :attr:`DriftReview.input`).

    ``bins`` is :func:`index_bins` of the histograms, ``categories`` the counts per category,
    ``sizes`` the rows and missing values per window × feature, ``edges``/``fine`` the PSI and fine edges
    per continuous feature; ``ci`` is the interval method of the missing rate, ``method`` the
    multiplicity adjustment of the family of every distribution and missingness test, and ``seed``
    (``analysis.seed``) seeds the simulated PSI without drift.
    """
    rows = []
    size_of = {(int(r.window), r.feature): (int(r.n), int(r.missing)) for r in sizes.itertuples()}
    features = [(f, "continuous") for f in drift.features] + [(f, "categorical") for f in drift.categorical]
    for number, (feature, kind) in enumerate(features):
        ref_n, ref_missing = size_of[(0, feature)]
        if kind == "continuous" and feature in fine:
            ref_fine = fine_counts(bins, 0, feature, len(fine[feature]) + 1)
        elif kind == "categorical":
            ref_cat = categories[(categories.window == 0) & (categories.feature == feature)].set_index("category")["count"]
        for index, window in enumerate(plan.windows):
            if index == 0:
                continue
            n, missing = size_of[(index, feature)]
            reason = ""
            if window.empty:
                reason = "empty window"
            elif n == missing:
                reason = "all values missing in the window"
            elif ref_n == ref_missing:
                reason = "all values missing in the reference"
            ref_psi = None
            if kind == "continuous":
                if reason:
                    found = DistributionDrift.undefined("ks")
                else:
                    cur = fine_counts(bins, index, feature, len(fine[feature]) + 1)
                    found = quiet(continuous_drift, ref_fine, cur, fine[feature], edges[feature])
                    ref_psi = psi_counts(ref_fine, fine[feature], edges[feature])
            else:
                cur_cat = categories[(categories.window == index) & (categories.feature == feature)].set_index(
                    "category")["count"]
                found = DistributionDrift.undefined("chi2") if reason else quiet(categorical_drift, ref_cat, cur_cat)
                union = sorted(set(ref_cat.index) | set(cur_cat.index))
                ref_psi = None if reason else ref_cat.reindex(union, fill_value=0).to_numpy(dtype=float)
            miss = missingness_change(ref_missing, ref_n, missing, n, alpha=alpha, method=ci)
            rows.append({
                "feature": feature, "kind": kind, "window": window.label, "n": n - missing, "psi": found.psi,
                **null_columns(ref_psi, n - missing, (seed, number + 1, index)),
                "psi_band": psi_band(found.psi, n - missing, min_n=drift.min_rows), "test": found.test,
                "statistic": found.statistic, "ks_upper": found.ks_upper, "p_value": found.p_value,
                "missing_reference": ref_missing / ref_n if ref_n else math.nan,
                **estimate_columns("missing_rate", miss.rate),
                **estimate_columns("missing_change", miss.change),
                "missing_p": miss.p_value, "reason": reason,
            })
    table = pd.DataFrame(rows, columns=INPUT_COLUMNS)
    family = np.concatenate((table["p_value"].to_numpy(dtype=float), table["missing_p"].to_numpy(dtype=float)))
    adjusted = stats.adjust_pvalues(family, method=method) if family.size else family
    table.insert(table.columns.get_loc("p_value") + 1, "p_adjusted", adjusted[:len(table)])
    table.insert(table.columns.get_loc("missing_p") + 1, "missing_p_adjusted", adjusted[len(table):])
    return table


def output_table(plan: WindowPlan, bins: dict, sums: pd.DataFrame, edges: dict, fine: dict, score: str,
                 alpha: float, ci: str, method: str, *, min_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Output drift per window (columns of :attr:`DriftReview.output`) and the score's CDF per window.

    The score's KS p-values are adjusted across the monitoring windows as a family of their own; the
    PSI gets its value without drift (seeded by ``seed``) and a band from ``min_rows`` scores on.
    """
    rows, cdf_rows = [], []
    have = score in fine
    size = len(fine[score]) + 1 if have else 0
    ref_fine = fine_counts(bins, 0, score, size) if have else None
    for index, window in enumerate(plan.windows):
        s = sums.loc[index]
        scored = int(s["scored"])
        found = DistributionDrift.undefined("ks")
        cur = fine_counts(bins, index, score, size) if have else None
        null = null_columns(None, 0, ())
        if have and index > 0 and scored > 0:
            found = quiet(continuous_drift, ref_fine, cur, fine[score], edges[score])
            null = null_columns(psi_counts(ref_fine, fine[score], edges[score]), scored, (seed, 0, index))
        if have and scored > 0:
            cdf = np.cumsum(cur)[:-1] / cur.sum()
            cdf_rows.append(pd.DataFrame({"window": window.label, "score": fine[score], "cdf": cdf}))
        mean = mean_from_sums(scored, float(s["total"]), float(s["squares"]), alpha=alpha, empty="empty window")
        alert = (quiet(stats.proportion, int(s["alerts"]), scored, alpha=alpha, method=ci) if scored
                 else Estimate.undefined("empty window"))
        rows.append({"window": window.label, "n": scored, "psi": found.psi, **null,
                     "psi_band": psi_band(found.psi, scored, min_n=min_rows),
                     "ks": found.statistic, "ks_upper": found.ks_upper, "p_value": found.p_value,
                     **estimate_columns("mean_score", mean), **estimate_columns("alert_rate", alert),
                     "alerts": int(s["alerts"])})
    table = pd.DataFrame(rows)
    adjusted = np.full(len(table), np.nan)
    if len(table) > 1:
        adjusted[1:] = stats.adjust_pvalues(table["p_value"].to_numpy(dtype=float)[1:], method=method)
    table.insert(table.columns.get_loc("p_value") + 1, "p_adjusted", adjusted)
    curves = pd.concat(cdf_rows, ignore_index=True) if cdf_rows else pd.DataFrame(columns=["window", "score", "cdf"])
    return table, curves
