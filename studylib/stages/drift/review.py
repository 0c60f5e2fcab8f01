"""Drift review: a reference window against monitoring windows.

:func:`review` computes, per monitoring window against the reference window,

- **input drift** of every declared feature: PSI over reference-quantile bins, counts smoothed with
  0.5 per bin, beside the PSI expected without drift at the window's size (conventional bands < 0.1
  stable, 0.1–0.25 moderate, > 0.25 significant, read only from ``drift.min_rows`` values), the KS statistic (continuous) or Pearson's
  chi-square (categorical) with p-values adjusted across features × windows (Holm or BH), and the
  change in missingness;
- **output drift**: PSI and KS of the candidate's score, mean predicted risk and alert rate at the
  operating threshold, each with its interval;
- **calibration drift** (labelled rows): observed/expected ratio, calibration-in-the-large and slope
  with intervals, and a calibration curve per window;
- **performance drift** (labelled rows): AUROC, sensitivity and specificity with intervals, and
  Shewhart control limits around the reference values (:func:`studylib.stats.control.control_limits`);

and returns them as the tables of a :class:`DriftReview`, with a long form of every statistic that
:func:`studylib.judge.triggers.judge_triggers` turns into the declared triggers' gates; a statistic a
window has too little data for (``drift.min_rows`` values for a PSI, ``drift.min_events`` events and
``drift.min_non_events`` non-events for the labelled statistics that need them) carries the reason and
is not judged there.

Everything is computed from aggregates that :mod:`studylib.data.scan` gets from DuckDB (histograms
over fixed reference bins, sums per window, and the outcome and score of one window at a time), so
that monitoring data of any size never has to be loaded whole. The statistics themselves are in
:mod:`studylib.stats` (the histogram forms in :mod:`studylib.stats.drift`, tested against the direct
computations there).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from studylib import formatting
from studylib.data.scan import REFERENCE, Scanner, WindowPlan
from studylib.plan import Study
from studylib.plan.vocabulary import RELATIVE_STATISTICS
from studylib.stages.drift import histograms, labelled as labelled_rows
from studylib.stats.control import CONTROL_SIGMA
from studylib.stats.drift import PSI_NULL_DRAWS, PSI_SMOOTHING, bin_edges

#: reference columns read per scan when computing the bin edges (5M rows × 6 columns ≈ 240 MB)
REFERENCE_BATCH = 6
STATISTICS_COLUMNS = ["window", "of", "statistic", "estimate", "lower", "upper", "reason"]


@dataclass(frozen=True)
class DriftReview:
    """Everything the drift stage reports (tidy tables; ``window`` labels in time order).

    Attributes
    ----------
    windows : DataFrame
        ``window, values, n, labelled, events, empty``: every window, the reference first.
    input : DataFrame
        One row per feature × monitoring window: ``feature, kind, window, n, psi, psi_null_mean,
        psi_null_95`` (the PSI of a window of this size without drift, simulated), ``psi_band, test,
        statistic, ks_upper, p_value, p_adjusted, missing_reference, missing_rate (+ lower, upper),
        missing_change (+ lower, upper), missing_p, missing_p_adjusted, reason``.
    output : DataFrame
        Per window: ``n, psi, psi_null_mean, psi_null_95, psi_band, ks, ks_upper, p_value, p_adjusted``,
        ``mean_score`` and
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
        Long form for the triggers: ``window, of, statistic, estimate, lower, upper, reason``; a
        non-empty ``reason`` says why the statistic cannot be judged in that window (empty window,
        undefined, fewer values than ``drift.min_rows`` for a PSI, fewer events or non-events than
        ``drift.min_events``/``drift.min_non_events`` for the statistic's needs), and a trigger is then
        INSUFFICIENT_EVIDENCE there.
    settings : dict
        How it was computed (bins, multiplicity, alpha, KS approximation, source, rows outside).
    shadow : DataFrame or None
        With a monitoring source's shadow score: the shadow candidate against the deployed model per
        monitoring window (:func:`studylib.stages.drift.shadow.shadow_table`); None otherwise.
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
    shadow: pd.DataFrame | None = None

    @property
    def monitoring_labels(self) -> list[str]:
        """The monitoring windows' labels in time order (the reference excluded)."""
        return [w for w in self.windows["window"] if w != REFERENCE]

    def results(self) -> dict:
        """The JSON-ready results of the stage (no curves at full resolution)."""
        out = {"settings": self.settings, "windows": self.windows, "input_drift": self.input,
               "output_drift": self.output, "calibration_drift": self.calibration,
               "performance_drift": self.performance}
        if self.shadow is not None:
            out["shadow_mode"] = self.shadow
        return out


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
        Passed to :class:`studylib.data.scan.Scanner`.
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
        (:class:`studylib.data.scan.TimestampParseError`, with examples).

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
    bins = histograms.index_bins(bins)
    seed = analysis.seed
    input_table = histograms.input_table(plan, drift, bins, categories, sizes, edges, fine, alpha, ci, method, seed)
    output_table, score_cdf = histograms.output_table(plan, bins, sums, edges, fine, score, alpha, ci, method,
                                                      min_rows=drift.min_rows, seed=seed)
    clock("PSI, KS, chi-square, missingness from histograms")
    fits = labelled_rows.window_fits(labelled, analysis.threshold, alpha, ci, oe_method=analysis.oe_interval)
    del labelled
    minimum = {"min_events": drift.min_events, "min_non_events": drift.min_non_events}
    calibration_table, curves = labelled_rows.calibration_table(plan, fits, sums, alpha, **minimum)
    performance_table = labelled_rows.performance_table(plan, fits, **minimum)
    clock("calibration and performance")
    statistics_long = _statistics(input_table, output_table, calibration_table, performance_table, drift)
    settings = {
        "source": source_text, "rows_outside_windows": plan.outside, "psi_bins": drift.bins,
        "ks_bins": drift.ks_bins, "multiplicity": method, "alpha": alpha, "threshold": analysis.threshold,
        "reference": windows.loc[0, "values"], "score": score, "outcome": outcome,
        "ks_method": "statistic at the fine reference-quantile bin edges (a lower bound of the exact D; "
                     "ks_upper bounds it from above); p-value of that statistic",
        "control_chart": f"Shewhart, {CONTROL_SIGMA:g}-sigma limits around the reference value",
        "psi_smoothing": f"{PSI_SMOOTHING:g} added to every bin's count (Krichevsky-Trofimov)",
        "psi_null": f"mean and 95th percentile of the PSI without drift at each window's size, simulated: "
                    f"{formatting.count(PSI_NULL_DRAWS)} multinomial draws of both samples from the reference bin proportions, "
                    "seeded by analysis.seed",
        "min_rows": drift.min_rows, "min_events": drift.min_events, "min_non_events": drift.min_non_events,
    }
    return DriftReview(windows, input_table, output_table, calibration_table, performance_table, curves, score_cdf,
                       statistics_long, settings)


class _Clock:
    """Adds the seconds since the last call to ``timings[phase]`` (nothing when ``timings`` is None)."""

    def __init__(self, timings: dict | None):
        self.timings, self.last = timings, time.perf_counter()

    def __call__(self, phase: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[phase] = self.timings.get(phase, 0.0) + now - self.last
            self.last = now


def _windows_table(plan: WindowPlan, sums: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for index, window in enumerate(plan.windows):
        rows.append({"window": window.label, "values": ", ".join(map(str, window.keys)), "n": window.n,
                     "labelled": int(sums.loc[index, "labelled"]), "events": int(round(sums.loc[index, "events"])),
                     "empty": window.empty})
    return pd.DataFrame(rows)


def _statistics(input_table, output_table, calibration_table, performance_table, drift) -> pd.DataFrame:
    """Every statistic a trigger can name, in long form: ``window, of, statistic, estimate, lower, upper,
    reason`` (``reason``: why it cannot be judged in that window, "" when it can)."""
    rows = []

    def add(window, of, statistic, estimate, lower=math.nan, upper=math.nan, reason=""):
        rows.append({"window": window, "of": of, "statistic": statistic, "estimate": float(estimate),
                     "lower": float(lower), "upper": float(upper), "reason": reason})

    def psi_reason(n, reason):
        return reason or (f"fewer than {drift.min_rows} values (drift.min_rows)" if n < drift.min_rows else "")

    for r in input_table.itertuples():
        add(r.window, r.feature, "psi", r.psi, reason=psi_reason(r.n, r.reason))
        if r.kind == "continuous":
            add(r.window, r.feature, "ks", r.statistic, reason=r.reason)
        add(r.window, r.feature, "p_value", r.p_value, reason=r.reason)
        add(r.window, r.feature, "p_adjusted", r.p_adjusted, reason=r.reason)
        empty = "empty window" if r.reason == "empty window" else ""
        add(r.window, r.feature, "missing_rate", r.missing_rate, r.missing_rate_lower, r.missing_rate_upper, empty)
        add(r.window, r.feature, "missing_change", r.missing_change, r.missing_change_lower, r.missing_change_upper,
            empty)
    for r in output_table.iloc[1:].itertuples():
        empty = "" if r.n else "empty window"
        add(r.window, "score", "psi", r.psi, reason=psi_reason(r.n, empty))
        add(r.window, "score", "ks", r.ks, reason=empty)
        add(r.window, "score", "p_value", r.p_value, reason=empty)
        add(r.window, "score", "p_adjusted", r.p_adjusted, reason=empty)
        add(r.window, "score", "mean_score", r.mean_score, r.mean_score_lower, r.mean_score_upper, empty)
        add(r.window, "score", "alert_rate", r.alert_rate, r.alert_rate_lower, r.alert_rate_upper, empty)
    counts = {r.window: (int(r.positives), int(r.negatives)) for r in performance_table.itertuples()}
    for table, names in ((calibration_table, ("oe_ratio", "calibration_in_the_large", "calibration_slope")),
                         (performance_table, labelled_rows.PERFORMANCE_METRICS)):
        for index, r in enumerate(table.to_dict(orient="records")):
            events, non_events = counts[r["window"]]
            for name in names:
                if index == 0:  # the reference window: what a trigger relative_to: reference compares with
                    if name in RELATIVE_STATISTICS:
                        add(REFERENCE, "score", name, r[name], r[f"{name}_lower"], r[f"{name}_upper"],
                            "" if math.isfinite(float(r[name])) else (r["reason"] or "undefined"))
                    continue
                reason = labelled_rows.too_few(name, events, non_events, drift.min_events, drift.min_non_events)
                if not events + non_events:
                    reason = r["reason"] or "no labelled rows"
                add(r["window"], "score", name, r[name], r[f"{name}_lower"], r[f"{name}_upper"], reason)
    return pd.DataFrame(rows, columns=STATISTICS_COLUMNS)
