"""Drift review: a reference window against monitoring windows, with declared surveillance triggers.

:func:`review` computes, per monitoring window against the reference window,

- **input drift** of every declared feature: PSI over reference-quantile bins (conventional bands
  < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant), the KS statistic (continuous) or Pearson's
  chi-square (categorical) with p-values adjusted across features × windows (Holm or BH), and the
  change in missingness;
- **output drift**: PSI and KS of the candidate's score, mean predicted risk and alert rate at the
  operating threshold, each with its interval;
- **calibration drift** (labelled rows): observed/expected ratio, calibration-in-the-large and slope
  with intervals, and a calibration curve per window;
- **performance drift** (labelled rows): AUROC, sensitivity and specificity with intervals, and
  Shewhart control limits around the reference values (:func:`control_limits`);

and :func:`judge_triggers` turns the declared triggers into gates that name the declared action.

Everything is computed from aggregates that :mod:`studylib.drift_scan` gets from DuckDB (histograms
over fixed reference bins, sums per window, and the outcome and score of one window at a time), so
that monitoring data of any size never has to be loaded whole. The functions that turn histograms into
statistics (:func:`bin_edges`, :func:`continuous_drift`, :func:`categorical_drift`,
:func:`missingness_change`) are pure and tested against the direct computations of
:mod:`studylib.stats`.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import ndtri

from studylib import stats
from studylib.judge import gates
from studylib.data.scan import REFERENCE, Scanner, WindowPlan
from studylib.plan import DriftSection, Study, Trigger
from studylib.stats import Estimate

#: actions that block a release (the run exits 1 when such a trigger fires)
BLOCKING_ACTIONS = ("revalidate", "suspend")
#: what each declared action asks of the team, in words for the report
ACTION_TEXT = {
    "investigate": "investigate the cause (data pipeline, population, practice change) and document it",
    "clinical_review": "clinical review of the affected windows before further use",
    "revalidate": "revalidate the model under the change protocol before further use",
    "suspend": "suspend the model's use until the cause is resolved",
}
#: conventional PSI bands (Siddiqi 2006)
PSI_BANDS = (0.1, 0.25)
#: above this effective sample size the KS p-value uses Kolmogorov's limit (as stats.ks_test does)
_KS_EXACT_MAX = 10_000
#: a window's calibration curve needs this many events and non-events
MIN_CURVE_EVENTS = 10
#: above this many labelled rows a window's calibration curve uses 20 quantile bins instead of lowess
LOWESS_MAX_ROWS = 20_000
#: reference columns read per scan when computing the bin edges (5M rows × 6 columns ≈ 240 MB)
REFERENCE_BATCH = 6
#: Shewhart limits at this many standard errors
CONTROL_SIGMA = 3.0


def psi_band(value: float) -> str:
    """The conventional reading of a PSI: "stable" (< 0.1), "moderate" (0.1–0.25), "significant" (> 0.25)."""
    if not math.isfinite(value):
        return ""
    return "stable" if value < PSI_BANDS[0] else "moderate" if value <= PSI_BANDS[1] else "significant"


# --- histogram statistics ---------------------------------------------------------------------

def bin_edges(reference, bins: int = 10, ks_bins: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """PSI edges and fine KS edges from the reference sample.

    Parameters
    ----------
    reference : array_like of float
        Non-missing reference values (at least one).
    bins : int, default 10
        PSI bins (reference quantiles).
    ks_bins : int, default 500
        Fine bins for the KS statistic (reference quantiles).

    Returns
    -------
    psi_edges : numpy.ndarray
        Inner PSI edges, identical to :func:`studylib.stats.reference_edges` ``(reference, bins)``.
    fine_edges : numpy.ndarray
        Increasing fine edges: the distinct reference quantiles at ``k / ks_bins`` and ``j / bins``
        (minimum and maximum included). Every PSI edge is a fine edge, so PSI counts are sums of
        fine counts.

    Notes
    -----
    Quantiles are numpy's default (type 7) at the probabilities ``k / ks_bins`` and ``j / bins``,
    computed once; the PSI edges are those at ``j / bins`` with duplicates, the minimum and the maximum
    removed, exactly as :func:`studylib.stats.reference_edges` does.
    """
    ref = np.asarray(reference, dtype=float)
    if ref.size == 0:
        raise ValueError("reference is empty; bins need at least one reference value")
    probs = np.unique(np.concatenate((np.arange(ks_bins + 1) / ks_bins, np.arange(bins + 1) / bins)))
    quantiles = np.quantile(ref, probs)
    psi_probs = np.arange(bins + 1) / bins
    psi_edges = np.unique(quantiles[np.searchsorted(probs, psi_probs)])[1:-1]
    return psi_edges, np.unique(quantiles)


def _counts_array(bins: pd.DataFrame, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    if len(bins):
        np.add.at(out, bins["bin"].to_numpy(dtype=np.int64), bins["count"].to_numpy(dtype=np.int64))
    return out


@dataclass(frozen=True)
class KSFromBins:
    """KS statistic from fine histograms: ``statistic`` at the bin edges (a lower bound of the exact
    D), ``upper`` (an upper bound of it) and the p-value of ``statistic``."""

    statistic: float
    upper: float
    p_value: float
    method: str


def ks_from_counts(ref_counts, cur_counts) -> KSFromBins:
    """Two-sample KS statistic and p-value from counts in the same fine bins.

    Parameters
    ----------
    ref_counts, cur_counts : array_like of int
        Counts per bin (same right-closed bins, the last one open above).

    Returns
    -------
    KSFromBins
        NaN when either sample is empty.

    Notes
    -----
    *Approximation.* The empirical CDFs are known exactly at the bin edges, so
    ``D_edges = max_k |F_r(e_k) - F_c(e_k)|`` is a lower bound of the exact ``D``. Within a bin both
    CDFs are monotone, so ``D <= max_k max(F_r(e_k) - F_c(e_{k-1}), F_c(e_k) - F_r(e_{k-1}))``, the
    reported ``upper``; the gap is at most the larger share of either sample in one bin (about
    ``1 / ks_bins`` of the reference). ``D_edges`` equals the exact ``D`` when every bin holds at most
    one distinct value (e.g. integer features with fewer values than bins). The p-value is that of
    ``D_edges`` (so it is never smaller than the exact one's): scipy's ``kstwo.sf(D, round(nm/(n+m)))``
    — the asymptotic method of ``scipy.stats.ks_2samp`` — up to ``nm/(n+m) = 10,000``, beyond it
    Kolmogorov's limit ``kstwobign.sf(D sqrt(nm/(n+m)))`` as in :func:`studylib.stats.ks_test`.

    References
    ----------
    .. [1] Smirnov N. Table for estimating the goodness of fit of empirical distributions. Ann Math
       Stat. 1948;19(2):279-281. doi:10.1214/aoms/1177730256
    .. [2] Hodges JL Jr. The significance probability of the Smirnov two-sample test. Ark Mat.
       1958;3(5):469-486. doi:10.1007/BF02589501

    Examples
    --------
    >>> r = ks_from_counts([5, 5, 0], [0, 5, 5])
    >>> r.statistic, r.upper
    (0.5, 1.0)
    """
    r = np.asarray(ref_counts, dtype=float)
    c = np.asarray(cur_counts, dtype=float)
    n, m = r.sum(), c.sum()
    if n == 0 or m == 0:
        return KSFromBins(math.nan, math.nan, math.nan, "")
    fr, fc = np.cumsum(r) / n, np.cumsum(c) / m
    fr_prev, fc_prev = np.concatenate(([0.0], fr[:-1])), np.concatenate(([0.0], fc[:-1]))
    d = float(np.max(np.abs(fr - fc)))
    upper = float(max(np.max(fr - fc_prev), np.max(fc - fr_prev), d))
    en = n * m / (n + m)
    if en <= _KS_EXACT_MAX:
        p, method = float(sps.kstwo.sf(d, max(1, int(round(en))))), "kstwo(round(nm/(n+m)))"
    else:
        p, method = float(sps.kstwobign.sf(d * math.sqrt(en))), "kolmogorov-limit"
    return KSFromBins(d, upper, min(1.0, p), method)


def psi_counts(fine_counts, fine_edges, psi_edges) -> np.ndarray:
    """Counts in the PSI bins from counts in the fine bins (every PSI edge must be a fine edge)."""
    counts = np.asarray(fine_counts, dtype=np.int64)
    cumulative = np.cumsum(counts)
    positions = np.searchsorted(fine_edges, psi_edges)
    if np.any(fine_edges[np.minimum(positions, len(fine_edges) - 1)] != psi_edges):
        raise ValueError("every PSI edge must be one of the fine edges")
    at = np.concatenate(([0], cumulative[positions], [cumulative[-1]]))
    return np.diff(at)


def continuous_drift(ref_fine, cur_fine, fine_edges, psi_edges) -> dict:
    """PSI and KS of one continuous feature in one window, from fine-bin counts (see :func:`ks_from_counts`)."""
    ref_fine, cur_fine = np.asarray(ref_fine), np.asarray(cur_fine)
    if ref_fine.sum() == 0 or cur_fine.sum() == 0:
        return {"psi": math.nan, "statistic": math.nan, "ks_upper": math.nan, "p_value": math.nan, "test": "ks"}
    psi = stats.psi_from_counts(psi_counts(ref_fine, fine_edges, psi_edges), psi_counts(cur_fine, fine_edges, psi_edges))
    ks = ks_from_counts(ref_fine, cur_fine)
    return {"psi": psi, "statistic": ks.statistic, "ks_upper": ks.upper, "p_value": ks.p_value, "test": "ks"}


def chi2_from_counts(ref_counts, cur_counts) -> tuple[float, int, float]:
    """Pearson chi-square test of equal category distributions from counts per category.

    Returns ``(statistic, dof, p_value)``; the statistic and p-value of
    :func:`studylib.stats.chi2_test` on the rows themselves (scipy ``chi2_contingency`` without
    continuity correction on the 2 × categories table; one category: 0, 0, 1).

    References
    ----------
    .. [1] Pearson K. On the criterion that a given system of deviations from the probable in the
       case of a correlated system of variables is such that it can be reasonably supposed to have
       arisen from random sampling. Philos Mag. 1900;50(302):157-175.
       doi:10.1080/14786440009463897

    Examples
    --------
    >>> s, dof, p = chi2_from_counts([50, 50], [30, 70])
    >>> round(s, 4), dof
    (8.3333, 1)
    """
    table = np.vstack([np.asarray(ref_counts, dtype=float), np.asarray(cur_counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] <= 1:
        return 0.0, 0, 1.0
    res = sps.chi2_contingency(table, correction=False)
    return float(res.statistic), int(res.dof), float(res.pvalue)


def categorical_drift(ref: pd.Series, cur: pd.Series) -> dict:
    """PSI (categories as bins) and chi-square of one categorical feature, from counts per category."""
    categories = sorted(set(ref.index) | set(cur.index))
    r = ref.reindex(categories, fill_value=0).to_numpy(dtype=float)
    c = cur.reindex(categories, fill_value=0).to_numpy(dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return {"psi": math.nan, "statistic": math.nan, "ks_upper": math.nan, "p_value": math.nan, "test": "chi2"}
    statistic, _, p = chi2_from_counts(r, c)
    return {"psi": stats.psi_from_counts(r, c), "statistic": statistic, "ks_upper": math.nan, "p_value": p,
            "test": "chi2"}


def missingness_change(ref_missing: int, ref_n: int, cur_missing: int, cur_n: int, *, alpha: float = 0.05,
                       method: str = "wilson") -> dict:
    """Missing rate of a window, its change from the reference, and a test of the change.

    Returns
    -------
    dict
        ``missing_rate`` (Estimate, ``method`` interval), ``missing_change`` (Estimate of current −
        reference with Newcombe's hybrid score interval, method 10) and ``missing_p`` (Pearson
        chi-square of the 2×2 table; NaN when nothing or everything is missing in both).

    References
    ----------
    .. [1] Newcombe RG. Interval estimation for the difference between independent proportions:
       comparison of eleven methods. Stat Med. 1998;17(8):873-890.
       doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Examples
    --------
    >>> out = missingness_change(10, 100, 30, 100)
    >>> round(out["missing_change"].estimate, 2)
    0.2
    """
    if cur_n == 0 or ref_n == 0:
        reason = "empty window" if cur_n == 0 else "empty reference"
        return {"missing_rate": Estimate.undefined(reason), "missing_change": Estimate.undefined(reason),
                "missing_p": math.nan}
    rate = stats.proportion(cur_missing, cur_n, alpha=alpha, method="wilson")
    base = stats.proportion(ref_missing, ref_n, alpha=alpha, method="wilson")
    diff = rate.estimate - base.estimate
    lower = diff - math.sqrt((rate.estimate - rate.lower) ** 2 + (base.upper - base.estimate) ** 2)
    upper = diff + math.sqrt((rate.upper - rate.estimate) ** 2 + (base.estimate - base.lower) ** 2)
    change = Estimate(diff, max(-1.0, lower), min(1.0, upper), math.nan, "newcombe-hybrid-score")
    present = np.array([[ref_missing, ref_n - ref_missing], [cur_missing, cur_n - cur_missing]], dtype=float)
    p = math.nan
    if present[:, 0].sum() > 0 and present[:, 1].sum() > 0:
        p = float(sps.chi2_contingency(present, correction=False).pvalue)
    return {"missing_rate": rate if method == "wilson" else stats.proportion(cur_missing, cur_n, alpha=alpha, method=method),
            "missing_change": change, "missing_p": p}


# --- control limits -----------------------------------------------------------------------------

def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUROC of ``auc`` with ``n_pos`` positives and ``n_neg`` negatives.

    ``se^2 = [A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)] / (n1 n0)`` with ``Q1 = A/(2-A)``,
    ``Q2 = 2A^2/(1+A)``; NaN when a class is empty.

    References
    ----------
    .. [1] Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology. 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    >>> round(hanley_mcneil_se(0.8, 50, 50), 4)
    0.0435
    """
    if n_pos <= 0 or n_neg <= 0 or not math.isfinite(auc):
        return math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def control_limits(metric: str, center: float, n_pos: int, n_neg: int, *, sigma: float = CONTROL_SIGMA
                   ) -> tuple[float, float]:
    """Shewhart control limits of one window around the reference value of a performance metric.

    Parameters
    ----------
    metric : {"auroc", "sensitivity", "specificity"}
    center : float
        The reference window's value (the centre line).
    n_pos, n_neg : int
        Positives and negatives of the monitoring window.
    sigma : float, default 3
        Width of the limits in standard errors.

    Returns
    -------
    (lower, upper) : tuple of float
        ``center ± sigma · se``, clipped to [0, 1]; NaN when the window has no positives (or
        negatives) for the metric.

    Notes
    -----
    *Which chart and why.* A Shewhart chart with limits that depend on each window's size: a p-chart
    for sensitivity (``se = sqrt(p0 (1 - p0) / n_pos)``) and specificity (``n_neg``), and for AUROC
    the Hanley–McNeil standard error at the reference AUROC with the window's class sizes. Monitoring
    windows are few (6–24) and unequal in size, and the chart is read by reviewers window by
    window: a point outside 3-sigma limits is a signal in that window that does not depend on a tuning
    constant (CUSUM needs a pre-declared reference shift k and decision interval h, and accumulates
    evidence across windows, so it detects small persistent shifts sooner but its alarms are harder to
    attribute to a window; it suits many small windows). 3 sigma keeps the false-alarm rate near 0.27 %
    per point, about 2 % over 8 windows of one metric. The limits treat the reference value as known;
    its own uncertainty is shown by its interval in the tables.

    References
    ----------
    .. [1] Shewhart WA. Economic Control of Quality of Manufactured Product. New York: Van Nostrand;
       1931. (no DOI)
    .. [2] Montgomery DC. Introduction to Statistical Quality Control. 8th ed. Hoboken (NJ): Wiley;
       2019. Chapter 7 (control charts for attributes). ISBN 978-1-119-39930-8; no DOI.
    .. [3] Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
       characteristic (ROC) curve. Radiology. 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747

    Examples
    --------
    >>> [round(v, 3) for v in control_limits("sensitivity", 0.8, 100, 900)]
    [0.68, 0.92]
    """
    if metric == "auroc":
        se = hanley_mcneil_se(center, n_pos, n_neg)
    elif metric in ("sensitivity", "specificity"):
        n = n_pos if metric == "sensitivity" else n_neg
        se = math.sqrt(center * (1 - center) / n) if n > 0 and math.isfinite(center) else math.nan
    else:
        raise ValueError(f"metric must be auroc, sensitivity or specificity; got {metric!r}")
    if not math.isfinite(se):
        return math.nan, math.nan
    return max(0.0, center - sigma * se), min(1.0, center + sigma * se)


# --- the review ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DriftReview:
    """Everything the drift stage reports (tidy tables; ``window`` labels in time order).

    Attributes
    ----------
    windows : DataFrame
        ``window, values, n, labelled, events, empty``: every window, the reference first.
    input : DataFrame
        One row per feature × monitoring window: ``feature, kind, window, n, psi, psi_band, test,
        statistic, ks_upper, p_value, p_adjusted, missing_reference, missing_rate (+ lower, upper),
        missing_change (+ lower, upper), missing_p, missing_p_adjusted, reason``.
    output : DataFrame
        Per window: ``n, psi, psi_band, ks, ks_upper, p_value, p_adjusted``, ``mean_score`` and
        ``alert_rate`` with intervals.
    calibration : DataFrame
        Per window: ``labelled, events, expected, observed_rate`` (+ interval), ``oe_ratio``,
        ``calibration_in_the_large``, ``calibration_slope`` with intervals.
    performance : DataFrame
        Per window: ``auroc, sensitivity, specificity`` with intervals and control limits
        ``*_cl_lower``, ``*_cl_upper`` and ``*_signal`` (outside the limits).
    curves : DataFrame
        Calibration curve per window (``window, predicted, observed``).
    score_cdf : DataFrame
        Empirical CDF of the score per window at the fine edges (``window, score, cdf``).
    statistics : DataFrame
        Long form for the triggers: ``window, of, statistic, estimate, lower, upper``.
    settings : dict
        How it was computed (bins, multiplicity, alpha, KS approximation, source, rows outside).
    """

    windows: pd.DataFrame
    input: pd.DataFrame
    output: pd.DataFrame
    calibration: pd.DataFrame
    performance: pd.DataFrame
    curves: pd.DataFrame = field(repr=False)
    score_cdf: pd.DataFrame = field(repr=False)
    statistics: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def monitoring_labels(self) -> list[str]:
        return [w for w in self.windows["window"] if w != REFERENCE]

    def results(self) -> dict:
        """The JSON-ready results of the stage (no curves at full resolution)."""
        return {"settings": self.settings, "windows": self.windows, "input_drift": self.input,
                "output_drift": self.output, "calibration_drift": self.calibration,
                "performance_drift": self.performance}


def _estimate_columns(prefix: str, est: Estimate) -> dict:
    return {prefix: est.estimate, f"{prefix}_lower": est.lower, f"{prefix}_upper": est.upper}


def _mean_estimate(n: int, total: float, squares: float, alpha: float) -> Estimate:
    if n == 0:
        return Estimate.undefined("empty window")
    mean = total / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, math.nan, "normal", "one row: no interval")
    var = max(squares - n * mean * mean, 0.0) / (n - 1)
    se = math.sqrt(var / n)
    z = float(ndtri(1 - alpha / 2))
    return Estimate(mean, mean - z * se, mean + z * se, se, "normal")


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def review(source, study: Study, *, threads: int | None = None, memory_limit: str = "1GB",
           timings: dict | None = None) -> DriftReview:
    """The drift review of ``source`` (the frozen analysis cohort) under the study's ``drift`` plan.

    Parameters
    ----------
    source : DataFrame, path or sequence of paths
        The rows (Parquet files are scanned by DuckDB in place).
    study : Study
        Parameters; ``study.drift`` must be declared.
    threads, memory_limit
        Passed to :class:`studylib.drift_scan.Scanner`.
    timings : dict, optional
        Filled with the seconds of each phase (windows, edges, histograms, sums, labelled rows,
        statistics), for benchmarks.

    Returns
    -------
    DriftReview

    Raises
    ------
    ValueError
        No drift section, an empty reference window, or a timestamp window column that does not parse
        (:class:`studylib.drift_scan.TimestampParseError`, with examples).

    Notes
    -----
    Empty monitoring windows (declared values or calendar periods without rows) are kept and reported
    with n = 0 and undefined statistics. Missing values of a feature are left out of its PSI and KS
    (or chi-square) and reported as missingness. The input-drift family for the multiplicity
    adjustment is every distribution test (KS or chi-square) and every missingness test of every
    feature in every monitoring window; the score's KS p-values are adjusted across windows as a
    family of their own. Rows with a missing score are left out of the output, calibration and
    performance statistics; rows with a missing outcome out of calibration and performance.
    """
    drift = study.drift
    if drift is None:
        raise ValueError(f"{study.source}: the study declares no drift: section")
    analysis = study.analysis
    alpha, ci = analysis.alpha, analysis.ci_method
    method = drift.multiplicity or analysis.multiplicity
    score, outcome = study.models.candidate.score, study.data.outcome
    clock = _Clock(timings)
    with Scanner(source, threads=threads, memory_limit=memory_limit) as scan:
        plan = scan.plan(drift)
        clock("windows")
        continuous = (*drift.features, score)
        edges, fine = {}, {}
        for start in range(0, len(continuous), REFERENCE_BATCH):  # a few columns per scan bounds memory
            batch = scan.reference_columns(plan, list(continuous[start:start + REFERENCE_BATCH]))
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = {c: pool.submit(bin_edges, v, drift.bins, drift.ks_bins) for c, v in batch.items() if v.size}
                for column, future in futures.items():
                    edges[column], fine[column] = future.result()
            del batch
        clock("edges (reference quantiles)")
        bins, categories, sizes = scan.histograms(plan, {c: fine[c] for c in continuous if c in fine},
                                                  tuple(drift.categorical))
        clock("histograms (features × windows)")
        sums = scan.score_sums(plan, score, outcome, analysis.threshold)
        clock("score sums")
        labelled = scan.labelled(plan, score, outcome) if sums["labelled"].sum() > 0 else {}
        source_text = scan.description
        clock("labelled rows per window")
    windows = _windows_table(plan, sums)
    bins = _index_bins(bins)
    input_table = _input_table(plan, drift, bins, categories, sizes, edges, fine, alpha, ci, method)
    output_table, score_cdf = _output_table(plan, bins, sizes, sums, edges, fine, score, alpha, ci, method)
    clock("PSI, KS, chi-square, missingness from histograms")
    fits = _window_fits(labelled, analysis.threshold, alpha, ci)
    del labelled
    calibration_table, curves = _calibration_table(plan, fits, sums, alpha)
    performance_table = _performance_table(plan, fits)
    clock("calibration and performance")
    statistics_long = _statistics(input_table, output_table, calibration_table, performance_table)
    settings = {
        "source": source_text, "rows_outside_windows": plan.outside, "psi_bins": drift.bins,
        "ks_bins": drift.ks_bins, "multiplicity": method, "alpha": alpha, "threshold": analysis.threshold,
        "reference": windows.loc[0, "values"], "score": score, "outcome": outcome,
        "ks_method": "statistic at the fine reference-quantile bin edges (a lower bound of the exact D; "
                     "ks_upper bounds it from above); p-value of that statistic",
        "control_chart": f"Shewhart, {CONTROL_SIGMA:g}-sigma limits around the reference value",
    }
    return DriftReview(windows, input_table, output_table, calibration_table, performance_table, curves, score_cdf,
                       statistics_long, settings)


class _Clock:
    def __init__(self, timings: dict | None):
        import time

        self.timings, self.now, self.last = timings, time.perf_counter, time.perf_counter()

    def __call__(self, phase: str) -> None:
        if self.timings is not None:
            now = self.now()
            self.timings[phase] = self.timings.get(phase, 0.0) + now - self.last
            self.last = now


def _windows_table(plan: WindowPlan, sums: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for index, window in enumerate(plan.windows):
        rows.append({"window": window.label, "values": ", ".join(map(str, window.keys)), "n": window.n,
                     "labelled": int(sums.loc[index, "labelled"]), "events": int(round(sums.loc[index, "events"])),
                     "empty": window.empty})
    return pd.DataFrame(rows)


def _index_bins(bins: pd.DataFrame) -> dict:
    """The histogram rows grouped by (window, feature), for fast lookups."""
    return {key: part for key, part in bins.groupby(["window", "feature"], sort=False)}


def _fine_counts(index: dict, window: int, feature: str, size: int) -> np.ndarray:
    """Counts per fine bin of one feature in one window (zeros where the histogram has no entry)."""
    part = index.get((window, feature))
    return _counts_array(part, size) if part is not None else np.zeros(size, dtype=np.int64)


def _input_table(plan, drift: DriftSection, bins, categories, sizes, edges, fine, alpha, ci, method) -> pd.DataFrame:
    rows = []
    size_of = {(int(r.window), r.feature): (int(r.n), int(r.missing)) for r in sizes.itertuples()}
    features = [(f, "continuous") for f in drift.features] + [(f, "categorical") for f in drift.categorical]
    for feature, kind in features:
        ref_n, ref_missing = size_of[(0, feature)]
        if kind == "continuous" and feature in fine:
            ref_fine = _fine_counts(bins, 0, feature, len(fine[feature]) + 1)
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
            if kind == "continuous":
                if reason:
                    found = {"psi": math.nan, "statistic": math.nan, "ks_upper": math.nan, "p_value": math.nan,
                             "test": "ks"}
                else:
                    cur = _fine_counts(bins, index, feature, len(fine[feature]) + 1)
                    found = _quiet(continuous_drift, ref_fine, cur, fine[feature], edges[feature])
            else:
                cur_cat = categories[(categories.window == index) & (categories.feature == feature)].set_index(
                    "category")["count"]
                found = ({"psi": math.nan, "statistic": math.nan, "ks_upper": math.nan, "p_value": math.nan,
                          "test": "chi2"} if reason else _quiet(categorical_drift, ref_cat, cur_cat))
            miss = missingness_change(ref_missing, ref_n, missing, n, alpha=alpha, method=ci)
            rows.append({
                "feature": feature, "kind": kind, "window": window.label, "n": n - missing,
                "psi": found["psi"], "psi_band": psi_band(found["psi"]), "test": found["test"],
                "statistic": found["statistic"], "ks_upper": found["ks_upper"], "p_value": found["p_value"],
                "missing_reference": ref_missing / ref_n if ref_n else math.nan,
                **_estimate_columns("missing_rate", miss["missing_rate"]),
                **_estimate_columns("missing_change", miss["missing_change"]),
                "missing_p": miss["missing_p"], "reason": reason,
            })
    table = pd.DataFrame(rows, columns=[
        "feature", "kind", "window", "n", "psi", "psi_band", "test", "statistic", "ks_upper", "p_value",
        "missing_reference", "missing_rate", "missing_rate_lower", "missing_rate_upper", "missing_change",
        "missing_change_lower", "missing_change_upper", "missing_p", "reason"])
    family = np.concatenate((table["p_value"].to_numpy(dtype=float), table["missing_p"].to_numpy(dtype=float)))
    adjusted = stats.adjust_pvalues(family, method=method) if family.size else family
    table.insert(table.columns.get_loc("p_value") + 1, "p_adjusted", adjusted[:len(table)])
    table.insert(table.columns.get_loc("missing_p") + 1, "missing_p_adjusted", adjusted[len(table):])
    return table


def _output_table(plan, bins, sizes, sums, edges, fine, score, alpha, ci, method):
    rows, cdf_rows = [], []
    have = score in fine
    size = len(fine[score]) + 1 if have else 0
    ref_fine = _fine_counts(bins, 0, score, size) if have else None
    for index, window in enumerate(plan.windows):
        s = sums.loc[index]
        scored = int(s["scored"])
        found = {"psi": math.nan, "statistic": math.nan, "ks_upper": math.nan, "p_value": math.nan}
        cur = _fine_counts(bins, index, score, size) if have else None
        if have and index > 0 and scored > 0:
            found = _quiet(continuous_drift, ref_fine, cur, fine[score], edges[score])
        if have and scored > 0:
            cdf = np.cumsum(cur)[:-1] / cur.sum()
            cdf_rows.append(pd.DataFrame({"window": window.label, "score": fine[score], "cdf": cdf}))
        mean = _mean_estimate(scored, float(s["total"]), float(s["squares"]), alpha)
        alert = (_quiet(stats.proportion, int(s["alerts"]), scored, alpha=alpha, method=ci) if scored
                 else Estimate.undefined("empty window"))
        rows.append({"window": window.label, "n": scored, "psi": found["psi"], "psi_band": psi_band(found["psi"]),
                     "ks": found["statistic"], "ks_upper": found["ks_upper"], "p_value": found["p_value"],
                     **_estimate_columns("mean_score", mean), **_estimate_columns("alert_rate", alert),
                     "alerts": int(s["alerts"])})
    table = pd.DataFrame(rows)
    adjusted = np.full(len(table), np.nan)
    if len(table) > 1:
        adjusted[1:] = stats.adjust_pvalues(table["p_value"].to_numpy(dtype=float)[1:], method=method)
    table.insert(table.columns.get_loc("p_value") + 1, "p_adjusted", adjusted)
    curves = pd.concat(cdf_rows, ignore_index=True) if cdf_rows else pd.DataFrame(columns=["window", "score", "cdf"])
    return table, curves


def window_calibration(y, p, *, alpha: float = 0.05) -> tuple[Estimate, Estimate, Estimate]:
    """Calibration-in-the-large, calibration slope and O/E ratio of one window.

    The same estimates and intervals as :func:`studylib.stats.calibration` (its Newton–Raphson fits
    :func:`~studylib.stats.calibration.fit_citl` and :func:`~studylib.stats.calibration.fit_slope` on
    the clipped logit, Wald intervals; O/E with the exact Poisson interval of the observed count),
    without the lowess E-statistics, whose cost grows with the square of the window size.

    References
    ----------
    .. [1] Cox DR. Two further applications of a model for binary regression. Biometrika.
       1958;45(3-4):562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B, McLernon DJ, van Smeden M, Wynants L, Steyerberg EW. Calibration: the Achilles
       heel of predictive analytics. BMC Med. 2019;17:230. doi:10.1186/s12916-019-1466-7
    .. [3] Garwood F. Fiducial limits for the Poisson distribution. Biometrika. 1936;28(3-4):437-442.
       doi:10.1093/biomet/28.3-4.437

    Examples
    --------
    >>> citl, slope, oe = window_calibration(np.array([0, 0, 0, 1, 0, 1, 1, 1.0]), np.array([0.25] * 4 + [0.75] * 4))
    >>> round(citl.estimate, 6), round(slope.estimate, 6), oe.estimate
    (0.0, 1.0, 1.0)
    """
    from studylib.stats.calibration import clipped_logit, fit_citl, fit_slope, oe_ratio

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    z = float(ndtri(1 - alpha / 2))
    lp = clipped_logit(p)
    a, a_se, why = fit_citl(y, lp)
    citl = (Estimate.undefined(f"citl: {why}", "wald") if why else
            Estimate(a, a - z * a_se, a + z * a_se, a_se, "wald"))
    coef, cov, why = fit_slope(y, lp)
    if why:
        slope = Estimate.undefined(f"slope: {why}", "wald")
    else:
        b, b_se = float(coef[1]), math.sqrt(float(cov[1, 1]))
        slope = Estimate(b, b - z * b_se, b + z * b_se, b_se, "wald")
    return citl, slope, oe_ratio(int(np.count_nonzero(y)), float(p.sum()), alpha)


def _fit_window(y: np.ndarray, p: np.ndarray, threshold: float, alpha: float, ci: str) -> dict:
    """Calibration, discrimination and the operating point of one window's labelled rows."""
    n, events = int(y.size), int(np.count_nonzero(y))
    citl, slope, oe = window_calibration(y, p, alpha=alpha)
    out = {"n": n, "events": events, "citl": citl, "slope": slope, "oe": oe, "curve": None,
           "auroc": stats.auroc(y, p, alpha=alpha), "binary": stats.binary_metrics(y, p, threshold, alpha=alpha, method=ci)}
    if min(events, n - events) >= MIN_CURVE_EVENTS:
        method = "lowess" if n <= LOWESS_MAX_ROWS else "quantile-bins"
        curve = stats.calibration_curve(y, p, method=method, alpha=alpha, n_points=40, n_bins=20)
        out["curve"] = curve.assign(method=method)[["predicted", "observed", "method"]]
    return out


def _window_fits(labelled: dict, threshold: float, alpha: float, ci: str) -> dict:
    """:func:`_fit_window` for every window with labelled rows, two windows at a time (numpy releases
    the GIL in the large array operations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {i: pool.submit(_fit_window, y, p, threshold, alpha, ci) for i, (y, p) in labelled.items()}
            return {i: f.result() for i, f in futures.items()}


def _calibration_table(plan, fits, sums, alpha):
    rows, curve_rows = [], []
    for index, window in enumerate(plan.windows):
        s = sums.loc[index]
        n, events = int(s["labelled"]), float(s["events"])
        row = {"window": window.label, "labelled": n, "events": int(round(events)), "expected": float(s["expected"])}
        if index in fits:
            fit = fits[index]
            observed = _quiet(stats.proportion, fit["events"], fit["n"], alpha=alpha, method="wilson")
            row.update({**_estimate_columns("observed_rate", observed), **_estimate_columns("oe_ratio", fit["oe"]),
                        **_estimate_columns("calibration_in_the_large", fit["citl"]),
                        **_estimate_columns("calibration_slope", fit["slope"]),
                        "reason": "; ".join(sorted({e.reason for e in (fit["citl"], fit["slope"], fit["oe"])
                                                    if e.reason}))})
            if fit["curve"] is not None:
                curve_rows.append(fit["curve"].assign(window=window.label)[["window", "predicted", "observed", "method"]])
        else:
            reason = "empty window" if window.empty else "no labelled rows"
            undefined = Estimate.undefined(reason)
            row.update({**_estimate_columns("observed_rate", undefined), **_estimate_columns("oe_ratio", undefined),
                        **_estimate_columns("calibration_in_the_large", undefined),
                        **_estimate_columns("calibration_slope", undefined), "reason": reason})
        rows.append(row)
    curves = (pd.concat(curve_rows, ignore_index=True) if curve_rows
              else pd.DataFrame(columns=["window", "predicted", "observed", "method"]))
    return pd.DataFrame(rows), curves


def _performance_table(plan, fits):
    rows = []
    for index, window in enumerate(plan.windows):
        row = {"window": window.label}
        if index in fits:
            fit = fits[index]
            auc, binary = fit["auroc"], fit["binary"]
            row.update({"positives": fit["events"], "negatives": fit["n"] - fit["events"],
                        **_estimate_columns("auroc", auc), **_estimate_columns("sensitivity", binary.sensitivity),
                        **_estimate_columns("specificity", binary.specificity),
                        "reason": "; ".join(sorted({e.reason for e in (auc, binary.sensitivity, binary.specificity)
                                                    if e.reason}))})
        else:
            undefined = Estimate.undefined("empty window" if window.empty else "no labelled rows")
            row.update({"positives": 0, "negatives": 0, **_estimate_columns("auroc", undefined),
                        **_estimate_columns("sensitivity", undefined), **_estimate_columns("specificity", undefined),
                        "reason": undefined.reason})
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in ("auroc", "sensitivity", "specificity"):
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


def _statistics(input_table, output_table, calibration_table, performance_table) -> pd.DataFrame:
    rows = []

    def add(window, of, statistic, estimate, lower=math.nan, upper=math.nan):
        rows.append({"window": window, "of": of, "statistic": statistic, "estimate": float(estimate),
                     "lower": float(lower), "upper": float(upper)})

    for r in input_table.itertuples():
        add(r.window, r.feature, "psi", r.psi)
        if r.kind == "continuous":
            add(r.window, r.feature, "ks", r.statistic)
        add(r.window, r.feature, "p_value", r.p_value)
        add(r.window, r.feature, "p_adjusted", r.p_adjusted)
        add(r.window, r.feature, "missing_rate", r.missing_rate, r.missing_rate_lower, r.missing_rate_upper)
        add(r.window, r.feature, "missing_change", r.missing_change, r.missing_change_lower, r.missing_change_upper)
    for r in output_table.iloc[1:].itertuples():
        add(r.window, "score", "psi", r.psi)
        add(r.window, "score", "ks", r.ks)
        add(r.window, "score", "p_value", r.p_value)
        add(r.window, "score", "p_adjusted", r.p_adjusted)
        add(r.window, "score", "mean_score", r.mean_score, r.mean_score_lower, r.mean_score_upper)
        add(r.window, "score", "alert_rate", r.alert_rate, r.alert_rate_lower, r.alert_rate_upper)
    for table, names in ((calibration_table, ("oe_ratio", "calibration_in_the_large", "calibration_slope")),
                         (performance_table, ("auroc", "sensitivity", "specificity"))):
        for r in table.iloc[1:].to_dict(orient="records"):
            for name in names:
                add(r["window"], "score", name, r[name], r[f"{name}_lower"], r[f"{name}_upper"])
    return pd.DataFrame(rows, columns=["window", "of", "statistic", "estimate", "lower", "upper"])


# --- triggers -----------------------------------------------------------------------------------

def _rule_text(trigger: Trigger, alpha_level: str = "95%") -> str:
    if trigger.interval_excludes is not None:
        test = f"{alpha_level} interval excludes {trigger.interval_excludes:g}"
    else:
        side = f"{trigger.bound} {alpha_level} bound" if trigger.bound != "estimate" else "estimate"
        test = (f"{side} > {trigger.above:g}" if trigger.above is not None else f"{side} < {trigger.below:g}")
    if trigger.in_ == "consecutive_windows":
        where = f"in {trigger.count} consecutive windows"
    else:
        where = "in any window" if trigger.count == 1 else f"in at least {trigger.count} windows"
    return f"{trigger.statistic} of {trigger.of}: {test} {where} → {trigger.action.replace('_', ' ')}"


def _fires(trigger: Trigger, estimate: float, lower: float, upper: float) -> bool | None:
    """Whether the trigger's condition holds in one window; None when it cannot be judged there."""
    if trigger.interval_excludes is not None:
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return None
        return lower > trigger.interval_excludes or upper < trigger.interval_excludes
    value = {"estimate": estimate, "lower": lower, "upper": upper}[trigger.bound]
    if not math.isfinite(value):
        return None
    return value > trigger.above if trigger.above is not None else value < trigger.below


def _fired(trigger: Trigger, flags: list[bool | None]) -> list[int]:
    """Indices of the windows that make the trigger fire (empty: it does not)."""
    if trigger.in_ == "consecutive_windows":
        run: list[int] = []
        for i, flag in enumerate(flags):
            run = run + [i] if flag else []  # an unjudgeable window (None) breaks a run
            if len(run) >= trigger.count:
                return run
        return []
    hits = [i for i, flag in enumerate(flags) if flag]
    return hits if len(hits) >= trigger.count else []


def _fmt(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.3g}" if abs(x) < 0.001 and x != 0 else f"{x:.3f}"


def judge_triggers(review: DriftReview, study: Study) -> list[gates.Gate]:
    """Evaluate each declared trigger over the monitoring windows (in time order).

    A trigger that fires is a FAIL gate that blocks the release when its action is "revalidate" or
    "suspend" (the run exits 1) and is reported without blocking otherwise; a trigger that cannot be
    judged in any window (e.g. no labelled rows) is INSUFFICIENT_EVIDENCE and does not block. Windows
    where the statistic is undefined are named in the sentence; for ``consecutive_windows`` they
    break a run. ``of: any_feature`` fires when the rule holds for any declared feature.

    Examples
    --------
    A trigger ``psi of score > 0.25 in any window`` with PSI 0.05, 0.31 in windows 2001, 2002 fires in
    2002 and reports the action declared for it.
    """
    statistics = review.statistics
    labels = review.monitoring_labels
    level = f"{100 * (1 - study.analysis.alpha):g}%"
    features = list(study.drift.features) + list(study.drift.categorical)
    judged = []
    for trigger in study.drift.triggers:
        blocks = trigger.action in BLOCKING_ACTIONS
        rule = _rule_text(trigger, level)
        subjects = features if trigger.of == "any_feature" else [trigger.of]
        fired_where, worst, unjudged = [], None, set()
        for subject in subjects:
            part = statistics[(statistics["of"] == subject) & (statistics["statistic"] == trigger.statistic)]
            part = part.set_index("window").reindex(labels)
            values = list(zip(part["estimate"].astype(float), part["lower"].astype(float), part["upper"].astype(float)))
            flags = [_fires(trigger, *v) for v in values]
            unjudged |= {labels[i] for i, f in enumerate(flags) if f is None}
            hits = _fired(trigger, flags)
            if hits:
                fired_where.append((subject, [labels[i] for i in hits], values[hits[0]]))
            for i, v in enumerate(values):
                if flags[i] is None:
                    continue
                key = _severity(trigger, *v)
                if worst is None or key > worst[0]:
                    worst = (key, subject, labels[i], v)
        subject_text = f"{trigger.statistic} of {trigger.of}"
        if worst is None and not fired_where:
            judged.append(gates.Gate(trigger.id, "drift", subject_text, rule, gates.INSUFFICIENT, blocks=False,
                                     sentence=f"Could not be judged: {trigger.statistic} is undefined in every "
                                              f"monitoring window ({', '.join(labels) or 'none declared'})."))
            continue
        if fired_where:
            subject, where, value = fired_where[0]
            extra = f" (and {len(fired_where) - 1} more feature(s))" if len(fired_where) > 1 else ""
            of_text = f" for {subject}" if trigger.of == "any_feature" else ""
            sentence = (f"FIRED{of_text} in window(s) {', '.join(map(str, where))}{extra} "
                        f"({trigger.statistic} {_fmt(value[0])}"
                        + (f", {level} CI {_fmt(value[1])}–{_fmt(value[2])}" if math.isfinite(value[1]) else "")
                        + f"). Declared action: {trigger.action.replace('_', ' ')} — {ACTION_TEXT[trigger.action]}.")
            verdict = gates.FAIL
        else:
            _, subject, where, value = worst
            of_text = f" ({subject})" if trigger.of == "any_feature" else ""
            sentence = (f"Did not fire; the window closest to firing is {where}{of_text} with {trigger.statistic} "
                        f"{_fmt(value[0])}" + (f" ({level} CI {_fmt(value[1])}–{_fmt(value[2])})"
                                              if math.isfinite(value[1]) else "") + ".")
            verdict = gates.PASS
        if unjudged:
            sentence += f" Not judged in window(s) {', '.join(sorted(unjudged, key=labels.index))} (undefined)."
        judged.append(gates.Gate(trigger.id, "drift", subject_text, rule, verdict, estimate=value[0], lower=value[1],
                                 upper=value[2], blocks=blocks, sentence=sentence))
    return judged


def _severity(trigger: Trigger, estimate: float, lower: float, upper: float) -> float:
    if trigger.interval_excludes is not None:
        x = trigger.interval_excludes
        return max(lower - x, x - upper)
    value = {"estimate": estimate, "lower": lower, "upper": upper}[trigger.bound]
    return value if trigger.above is not None else -value


def triggers_table(judged: list[gates.Gate], study: Study) -> pd.DataFrame:
    """The triggers as reviewers read them: rule, fired or not, evidence, declared action, blocking."""
    actions = {t.id: t.action for t in study.drift.triggers}
    rows = []
    for gate in judged:
        state = {gates.FAIL: "FIRED", gates.PASS: "not fired", gates.INSUFFICIENT: "not judged"}[gate.verdict]
        action = actions.get(gate.id, "")
        rows.append({"trigger": gate.id, "rule": gate.rule, "status": state, "evidence": gate.sentence,
                     "action": action.replace("_", " "),
                     "blocks release": "yes" if gate.verdict == gates.FAIL and gate.blocks else "no"})
    return pd.DataFrame(rows).set_index("trigger")


# --- where the stage's rows come from -----------------------------------------------------------

def analysis_source(study: Study, run_dir) -> Path | pd.DataFrame:
    """The frozen analysis cohort of the run as a Parquet path (hash checked), for DuckDB to scan.

    When the cohort stage has not run in ``run_dir`` (a notebook opened on its own) the cohort is
    rebuilt in memory with a warning (:func:`studylib.workspace.analysis_cohort`).

    Raises
    ------
    RuntimeError
        The frozen cohort's bytes differ from the hash the cohort stage recorded.
    """
    from studylib.stages.cohort import build as cohort
    from studylib.evidence import results as evidence
    from studylib.evidence import workspace
    from studylib.data.scan import file_sha256

    run_dir = Path(run_dir)
    recorded = evidence.read(run_dir, "cohort")
    path = run_dir / cohort.FROZEN_COHORT
    if recorded and recorded.get("cohort_sha256") and path.is_file():
        actual = file_sha256(path)
        if actual != recorded["cohort_sha256"]:
            raise RuntimeError(f"{path}: frozen cohort does not match the hash recorded by the cohort stage; expected "
                               f"sha256:{recorded['cohort_sha256']}, got sha256:{actual}. Re-run the cohort stage.")
        return path
    return workspace.analysis_cohort(study, run_dir)
