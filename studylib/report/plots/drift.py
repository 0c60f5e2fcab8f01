"""Figures of the drift review; each function takes tables of
:class:`studylib.stages.drift.review.DriftReview` (with small cells withheld by
:func:`studylib.report.tables.drift.suppressed`) and returns a matplotlib Figure (the caller displays and
closes it). Withheld (NaN) estimates are not plotted.

- :func:`heatmap`: PSI of every input feature (and the score) × monitoring window, coloured by the
  conventional bands, with the adjusted-significance marks;
- :func:`score_distribution`: empirical CDF of the candidate's score per window against the reference;
- :func:`output_drift`: mean predicted risk (with the observed event rate) and the alert rate at the
  operating threshold per window, with intervals;
- :func:`calibration_curves`: smoothed calibration curves of every window overlaid on the reference;
- :func:`calibration_drift`: O/E ratio, calibration-in-the-large and slope per window with intervals;
- :func:`control_chart`: AUROC, sensitivity and specificity per window on a Shewhart chart — centre
  line at the reference value, 3-sigma limits from each window's class sizes (p-chart limits for
  sensitivity and specificity, Hanley–McNeil limits for AUROC). A Shewhart chart rather than CUSUM:
  monitoring windows are few and unequal in size and reviewers judge them one by one; a point
  outside the limits flags that window without a tuning constant (see
  :func:`studylib.stats.control.control_limits`).
- :func:`shadow`: shadow mode per window — the paired AUROC difference shadow − deployed with its
  interval against the non-inferiority margin, and the flag-rate (alert burden) difference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from studylib import formatting as F
from studylib.data.scan import REFERENCE
from studylib.report.plots import layout

_BAND_COLOURS = ("#e8f1e4", "#f6d98b", "#e07b5f")  # stable, moderate, significant
_REF_COLOUR = "#222222"


def _window_colours(labels: list[str]) -> dict[str, tuple]:
    cmap = colormaps["viridis"]
    n = max(len(labels) - 1, 1)
    return {label: cmap(0.1 + 0.8 * i / n) for i, label in enumerate(labels)}


def heatmap(input_table: pd.DataFrame, output_table: pd.DataFrame | None = None, *, alpha: float = 0.05,
            min_rows: int = 0) -> Figure:
    """PSI heat map, features (rows) × monitoring windows (columns).

    Cells are coloured by the PSI band (< 0.1 stable, 0.1–0.25 moderate, > 0.25 significant) and
    annotated with the PSI; ``*`` marks an adjusted p-value of the KS / chi-square test below
    ``alpha``, ``m`` an adjusted missingness-change p-value below ``alpha``; grey cells are empty or
    undefined, and grey cells marked ``†`` have fewer than ``min_rows`` values (``drift.min_rows``):
    no band is read there. The candidate's score is the last row when ``output_table`` is given.
    """
    windows = list(dict.fromkeys(input_table["window"])) if len(input_table) else []
    if output_table is not None:
        windows = windows or [w for w in output_table["window"] if w != REFERENCE]
    features = list(dict.fromkeys(input_table["feature"]))
    rows = features + (["score (output)"] if output_table is not None else [])
    psi = np.full((len(rows), len(windows)), np.nan)
    small = np.zeros(psi.shape, dtype=bool)
    marks = [["" for _ in windows] for _ in rows]
    for r in input_table.itertuples():
        i, j = features.index(r.feature), windows.index(r.window)
        psi[i, j], small[i, j] = r.psi, r.n < min_rows
        marks[i][j] = ("*" if r.p_adjusted < alpha else "") + ("m" if r.missing_p_adjusted < alpha else "")
    if output_table is not None:
        for r in output_table.itertuples():
            if r.window in windows:
                j = windows.index(r.window)
                psi[-1, j], small[-1, j] = r.psi, r.n < min_rows
                marks[-1][j] = "*" if r.p_adjusted < alpha else ""
    fig = layout.figure(max(6.0, 1.0 * len(windows) + 3), 0.55 * len(rows) + 2.2)
    ax = fig.add_axes((0, 0, 1, 1))
    cmap = ListedColormap(_BAND_COLOURS).with_extremes(bad="#d9d9d9")
    norm = BoundaryNorm([0, 0.1, 0.25, 1e9], cmap.N)
    image = ax.imshow(np.ma.masked_where(~np.isfinite(psi) | small, psi), cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(windows)):
            text = ("empty" if not np.isfinite(psi[i, j]) else
                    f"{F.number(psi[i, j], 2)}{'†' if small[i, j] else ''}{marks[i][j]}")
            ax.text(j, i, text, ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(windows)), windows)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("monitoring window")
    ax.set_title(f"Input and output drift: PSI against the reference (* adjusted p < {alpha:g}, "
                 "m missingness changed)" + (f"\n† fewer than {min_rows} values: no band is read" if small.any() else ""),
                 fontsize=10)
    bands = ["< 0.1 stable", "0.1–0.25 moderate", "> 0.25 significant"]
    bar_gap, bar_width = 0.3, 0.2  # inches: from the map to the colour bar, and its width
    room = bar_gap + bar_width + layout.y_axis_width(bands, label=False)
    layout.arrange(fig, [[ax]], right=room)
    width, height = fig.get_size_inches()
    box = ax.get_position()
    cax = fig.add_axes(((box.x1 * width + bar_gap) / width, box.y0 + 0.1 * box.height, bar_width / width,
                        0.8 * box.height))
    bar = fig.colorbar(image, cax=cax, ticks=[0.05, 0.175, 0.5])
    bar.ax.set_yticklabels(bands)
    return fig


def score_distribution(score_cdf: pd.DataFrame, *, threshold: float | None = None) -> Figure:
    """Empirical CDF of the score per window (reference in black), from the fine reference bins."""
    labels = list(dict.fromkeys(score_cdf["window"]))
    colours = _window_colours([w for w in labels if w != REFERENCE])
    fig = layout.figure(7.5, 4.5)
    ax = fig.subplots()
    for label in labels:
        part = score_cdf[score_cdf["window"] == label]
        if label == REFERENCE:
            ax.step(part["score"], part["cdf"], where="post", color=_REF_COLOUR, lw=2.5, label="reference", zorder=5)
        else:
            ax.step(part["score"], part["cdf"], where="post", color=colours[label], lw=1.3, label=str(label))
    if threshold is not None:
        ax.axvline(threshold, color="grey", ls=":", lw=1)
        ax.text(threshold, 0.02, f" threshold {threshold:g}", color="grey", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("predicted risk (candidate score, log scale)")
    ax.set_ylabel("cumulative proportion of patients")
    ax.set_ylim(0, 1)
    ax.set_title("Score distribution per window (empirical CDF)")
    ax.legend(title="window", fontsize=8, ncols=2, loc="lower right")
    layout.arrange(fig, [[ax]])
    return fig


def _errorbars(ax, x, table, name, colour, label, marker="o", offset=0.0):
    est = table[name].to_numpy(dtype=float)
    lo = est - table[f"{name}_lower"].to_numpy(dtype=float)
    hi = table[f"{name}_upper"].to_numpy(dtype=float) - est
    ax.errorbar(np.asarray(x) + offset, est, yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt=marker, color=colour,
                capsize=3, label=label)


def _reference_band(ax, table, name, colour="grey"):
    ref = table.iloc[0]
    ax.axhline(ref[name], color=colour, lw=1, ls="--")
    if np.isfinite(ref[f"{name}_lower"]):
        ax.axhspan(ref[f"{name}_lower"], ref[f"{name}_upper"], color=colour, alpha=0.12, lw=0)


def output_drift(output_table: pd.DataFrame, calibration_table: pd.DataFrame, *, threshold: float,
                 alpha: float = 0.05) -> Figure:
    """Mean predicted risk and observed event rate per window (left) and the alert rate (right), with
    their intervals; the dashed line and band are the reference window's value and interval."""
    level = F.confidence_level(alpha)
    labels = list(output_table["window"])
    x = np.arange(len(labels))
    fig = layout.figure(11, 4.2)
    left, right = fig.subplots(1, 2)
    _reference_band(left, output_table, "mean_score")
    _errorbars(left, x, output_table, "mean_score", "#1f77b4", f"mean predicted risk ({level} CI)", offset=-0.1)
    _errorbars(left, x, calibration_table, "observed_rate", "#d62728", f"observed event rate ({level} Wilson CI)",
               marker="s", offset=0.1)
    left.set_ylabel("risk (proportion)")
    left.set_title("Mean predicted risk and observed event rate")
    left.legend(fontsize=8)
    _reference_band(right, output_table, "alert_rate")
    _errorbars(right, x, output_table, "alert_rate", "#9467bd", f"alert rate ({level} CI)")
    right.set_ylabel(f"share of patients with score ≥ {threshold:g}")
    right.set_title(f"Alert rate at the operating threshold {threshold:g}")
    for ax in (left, right):
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_xlabel("window (dashed line and band: reference value and interval)")
        ax.set_ylim(bottom=0)
    layout.arrange(fig, [[left, right]])
    return fig


def calibration_curves(curves: pd.DataFrame) -> Figure:
    """Smoothed (lowess) calibration curves of every window overlaid; the diagonal is perfect calibration."""
    labels = list(dict.fromkeys(curves["window"]))
    colours = _window_colours([w for w in labels if w != REFERENCE])
    fig = layout.figure(6.5, 5.5)
    ax = fig.subplots()
    top = float(np.nanmax([curves["predicted"].max(), curves["observed"].max(), 0.1])) if len(curves) else 1.0
    top = min(1.0, top * 1.05)
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1, label="perfect calibration")
    for label in labels:
        part = curves[curves["window"] == label]
        if label == REFERENCE:
            ax.plot(part["predicted"], part["observed"], color=_REF_COLOUR, lw=2.5, label="reference", zorder=5)
        else:
            ax.plot(part["predicted"], part["observed"], color=colours[label], lw=1.3, label=str(label))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted risk")
    ax.set_ylabel("observed proportion with the outcome (lowess)")
    ax.set_title("Calibration curves by window")
    ax.legend(title="window", fontsize=8)
    layout.arrange(fig, [[ax]])
    return fig


def calibration_drift(calibration_table: pd.DataFrame, *, alpha: float = 0.05) -> Figure:
    """O/E ratio, calibration-in-the-large and calibration slope per window with their intervals."""
    level = F.confidence_level(alpha)
    labels = list(calibration_table["window"])
    x = np.arange(len(labels))
    fig = layout.figure(12, 4)
    axes = fig.subplots(1, 3)
    for ax, (name, ideal, title) in zip(axes, (("oe_ratio", 1.0, "Observed / expected events"),
                                               ("calibration_in_the_large", 0.0, "Calibration-in-the-large"),
                                               ("calibration_slope", 1.0, "Calibration slope"))):
        ax.axhline(ideal, color="grey", ls=":", lw=1)
        _errorbars(ax, x, calibration_table, name, "#1f77b4", f"estimate ({level} CI)")
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_title(f"{title} (ideal {ideal:g})")
        ax.set_xlabel("window")
    axes[0].set_ylabel("estimate with interval")
    layout.arrange(fig, [list(axes)])
    return fig


def control_chart(performance_table: pd.DataFrame, *, alpha: float = 0.05) -> Figure:
    """Shewhart control chart of AUROC, sensitivity and specificity per window.

    Points: the window's estimate with its interval; solid line: the reference value (centre line);
    dashed steps: the window's 3-sigma control limits (p-chart limits for sensitivity and
    specificity from the window's positives/negatives, Hanley–McNeil limits for AUROC); red points are
    outside their limits (a signal).
    """
    level = F.confidence_level(alpha)
    table = performance_table
    labels = list(table["window"])[1:]
    x = np.arange(len(labels))
    fig = layout.figure(12, 4.2)
    axes = fig.subplots(1, 3)
    for ax, name, title in zip(axes, ("auroc", "sensitivity", "specificity"), ("AUROC", "Sensitivity", "Specificity")):
        mon = table.iloc[1:]
        ax.axhline(table.iloc[0][name], color=_REF_COLOUR, lw=1.5, label="reference value")
        ax.step(np.r_[x - 0.5, x[-1:] + 0.5], np.r_[mon[f"{name}_cl_lower"], mon[f"{name}_cl_lower"].iloc[-1:]],
                where="post", color="#d62728", ls="--", lw=1, label="3-sigma limits")
        ax.step(np.r_[x - 0.5, x[-1:] + 0.5], np.r_[mon[f"{name}_cl_upper"], mon[f"{name}_cl_upper"].iloc[-1:]],
                where="post", color="#d62728", ls="--", lw=1)
        _errorbars(ax, x, mon, name, "#1f77b4", f"window estimate ({level} CI)")
        signal = mon[f"{name}_signal"].to_numpy(dtype=bool)
        if signal.any():
            ax.plot(x[signal], mon[name].to_numpy(dtype=float)[signal], "o", color="#d62728", ms=9, mfc="none",
                    mew=2, label="outside the limits")
        ax.set_xticks(x, labels, rotation=30, ha="right")
        low = np.concatenate((mon[f"{name}_lower"].to_numpy(dtype=float), mon[f"{name}_cl_lower"].to_numpy(dtype=float),
                              [float(table.iloc[0][name])]))
        ax.set_ylim(max(0.0, np.nanmin(low, initial=1.0) - 0.05), 1.02)
        ax.set_title(title)
        ax.set_xlabel("monitoring window")
    axes[0].set_ylabel("estimate")
    axes[0].legend(fontsize=8, loc="lower left")
    layout.arrange(fig, [list(axes)])
    return fig


def shadow(shadow_table: pd.DataFrame, *, margin: float, alpha: float = 0.05) -> Figure:
    """Shadow mode per window: AUROC shadow − deployed (left) with its interval, the non-inferiority
    margin (dashed red at −margin) and 0 (no difference); flag-rate difference (right) with its interval.
    Withheld or undefined windows are left empty."""
    level = F.confidence_level(alpha)
    labels = list(shadow_table["window"])
    x = np.arange(len(labels))
    fig = layout.figure(11, 3.8)
    left, right = fig.subplots(1, 2)
    _errorbars(left, x, shadow_table, "auroc_difference", "#1f77b4", f"shadow − deployed ({level} CI)")
    left.axhline(0.0, color=_REF_COLOUR, lw=1, label="no difference")
    left.axhline(-margin, color="#d62728", ls="--", lw=1, label=f"non-inferiority margin (−{F.number(margin)})")
    left.set_title("AUROC difference (paired DeLong)")
    _errorbars(right, x, shadow_table, "flag_rate_difference", "#ff7f0e", f"shadow − deployed ({level} CI)")
    right.axhline(0.0, color=_REF_COLOUR, lw=1)
    right.set_title("Flag-rate (alert burden) difference")
    for ax in (left, right):
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_xlabel("monitoring window")
    left.set_ylabel("shadow − deployed")
    left.legend(fontsize=8, loc="lower left")
    layout.arrange(fig, [[left, right]])
    return fig
