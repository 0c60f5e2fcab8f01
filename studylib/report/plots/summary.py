"""The two small figures of the summary page, drawn from what the run recorded (gates and calibration
results), never from patient rows: a forest plot of the first subgroup gate's metric with its threshold,
and the calibration of the candidate with the accepted band of the calibration slope.

Both are pure functions returning a matplotlib Figure; axes are scaled to the data shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from studylib import formatting
from studylib.report import vocabulary
from studylib.report.plots import layout

_COLOURS = {"PASS": "#0a6b2d", "FAIL": "#a3161a", "INSUFFICIENT_EVIDENCE": "#8a5a00"}


def forest(rows: Sequence[Mapping], *, metric: str, threshold: float | None, level: str = "95%") -> Figure:
    """Forest plot of one subgroup gate: every subgroup's estimate with its interval, coloured by verdict,
    and the gate's threshold; a subgroup without a shown estimate is named with the reason (withheld,
    insufficient evidence) instead of a point.

    Parameters
    ----------
    rows : sequence of dict
        The gate's rows of ``verdict.json`` (subject, estimate, lower, upper, verdict, sentence).
    metric : str
        The metric's machine name (labelled through :mod:`studylib.report.vocabulary`).
    threshold : float or None
        The value the rule compares a bound with (a dotted line), if any.
    level : str
        Confidence level of the intervals, for the axis label.
    """
    n = len(rows)
    fig = layout.figure(6.2, 0.9 + 0.24 * max(n, 1))
    ax = fig.subplots()
    shown = [r for r in rows if r.get("lower") is not None and r.get("upper") is not None]
    values = [v for r in shown for v in (r["lower"], r["upper"])] + ([threshold] if threshold is not None else [])
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = max(0.02, 0.06 * (high - low))
    ax.set_xlim(low - pad, high + pad)
    for i, r in enumerate(rows):
        y = n - 1 - i
        colour = _COLOURS.get(r.get("verdict"), "#555555")
        if r.get("lower") is not None and r.get("upper") is not None:
            ax.plot([r["lower"], r["upper"]], [y, y], color=colour, lw=2)
            ax.plot([r["estimate"]], [y], "s", color=colour, ms=4)
        else:
            note = "withheld (small cell)" if formatting.WITHHELD in str(r.get("sentence", "")) else \
                vocabulary.verdict(str(r.get("verdict", "")))
            ax.text(low - pad * 0.6, y, note, va="center", fontsize=7, color=colour)
    if threshold is not None:
        ax.axvline(threshold, color="#a3161a", ls=":", lw=1.2)
    ax.set_yticks(range(n), [str(r.get("subject", "")).rsplit(":", 1)[0] for r in reversed(rows)], fontsize=7)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(f"{vocabulary.metric(metric)} ({level} interval); dotted: the gate's threshold", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    layout.arrange(fig, [[ax]])
    return fig


def calibration(deciles: Sequence[Mapping], *, slope: Mapping | None, accepted: tuple[float, float] | None,
                level: str = "95%") -> Figure:
    """Calibration of the candidate: observed against predicted risk by tenths of predicted risk (with
    intervals), the line of perfect calibration, the recalibration curve of the estimated slope and, shaded,
    the band of curves whose slope lies in the accepted range.

    Parameters
    ----------
    deciles : sequence of dict
        ``calibration_deciles`` of the evaluation results (predicted, observed, lower, upper).
    slope : dict or None
        The calibration slope estimate (estimate, lower, upper).
    accepted : (float, float) or None
        The accepted range of the slope (e.g. ``interval_within: [0.8, 1.2]``).
    level : str
        Confidence level of the intervals.

    Notes
    -----
    The curves are ``expit(b · logit(p))`` for slope ``b`` with the intercept at 0: a slope below 1 bends
    observed risk toward the middle (predictions too extreme), above 1 away from it.
    """
    predicted = np.array([d["predicted"] for d in deciles], dtype=float)
    observed = np.array([d["observed"] for d in deciles], dtype=float)
    lower = np.array([d["lower"] for d in deciles], dtype=float)
    upper = np.array([d["upper"] for d in deciles], dtype=float)
    top = float(np.nanmax(np.concatenate([predicted, upper]))) if len(deciles) else 1.0
    lim = min(1.0, max(0.05, np.ceil(top * 1.08 * 20) / 20))
    fig = layout.figure(4.6, 4.2)
    ax = fig.subplots()
    p = np.linspace(max(1e-4, lim / 400), min(lim, 1 - 1e-4), 200)
    logit = np.log(p / (1 - p))

    def curve(b):
        return 1 / (1 + np.exp(-b * logit))

    ax.plot([0, lim], [0, lim], color="#888888", lw=1, ls=":", label="perfect calibration")
    if accepted is not None:
        ax.fill_between(p, curve(accepted[0]), curve(accepted[1]), color="#0a6b2d", alpha=0.15, lw=0,
                        label=f"accepted slope {accepted[0]:g}–{accepted[1]:g}")
    if slope is not None and slope.get("estimate") is not None:
        ax.plot(p, curve(slope["estimate"]), color="#1f5fa8", lw=1.5,
                label=f"slope {formatting.interval(slope['estimate'], slope.get('lower'), slope.get('upper'))}")
    if len(deciles):
        err = np.clip(np.vstack([observed - lower, upper - observed]), 0, None)
        ax.errorbar(predicted, observed, yerr=err, fmt="s", ms=4, color="#222222", ecolor="#555555", capsize=2,
                    lw=1, label=f"tenths of predicted risk ({level} CI)")
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_xlabel("predicted risk", fontsize=8)
    ax.set_ylabel("observed risk", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)
    layout.arrange(fig, [[ax]])
    return fig
