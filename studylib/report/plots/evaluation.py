"""Figures of the evaluation stage: ROC and precision-recall curves with the operating point, the
candidate's ROC overlaid on the baseline's, the calibration plot and the decision curve.

Each function takes the numbers computed by :mod:`studylib.evaluation` / :mod:`studylib.stats` and
returns a :class:`matplotlib.figure.Figure` (nothing is computed here except thinning curves for
drawing). Close the figure after displaying it. Curves with many points are thinned to at most
:data:`MAX_POINTS` vertices spread evenly along the curve, which changes nothing visible and keeps
the files small at 10^6 patients.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from studylib import formatting as F
from studylib.report.plots import layout
from studylib.report.plots.figures import publish

MAX_POINTS = 2000
COLOURS = {"candidate": "#1f5fa8", "baseline": "#d9822b", "all": "#7f7f7f", "none": "#222222"}
_DASH = {"candidate": "-", "baseline": "--"}


def thin(x, y, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` vertices of the polyline (x, y), evenly spaced along its length, always
    keeping the first and last vertex (for drawing only; never for computing an area)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size <= max_points:
        return x, y
    step = np.hypot(np.diff(x), np.diff(y))
    length = np.concatenate([[0.0], np.cumsum(np.nan_to_num(step))])
    targets = np.linspace(0.0, length[-1], max_points)
    keep = np.unique(np.concatenate([[0, x.size - 1], np.searchsorted(length, targets).clip(0, x.size - 1)]))
    return x[keep], y[keep]


def _figure(width: float, height: float, **kwargs) -> Figure:
    """A figure without a layout engine: each figure is laid out once, by :func:`layout.arrange`."""
    return layout.figure(width, height, **kwargs)


def _roc_axes(ax, rocs: dict, points: dict, labels: dict) -> None:
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls=":", label="chance (AUROC 0.5)")
    for role, curve in rocs.items():
        fx, ty = thin(curve["fpr"], curve["tpr"])
        ax.plot(fx, ty, color=COLOURS.get(role), ls=_DASH.get(role, "-"), lw=1.8, label=labels[role])
    for role, (fpr, tpr, text) in points.items():
        ax.plot([fpr], [tpr], marker="o", ms=8, mfc="white", mec=COLOURS.get(role), mew=2, ls="none",
                label=text, zorder=5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 − specificity (false-positive rate)")
    ax.set_ylabel("sensitivity (true-positive rate)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, frameon=True)


def discrimination_figure(roc: pd.DataFrame, pr: pd.DataFrame, *, operating: dict, label: str, auroc: str,
                          auprc: str, prevalence: float, threshold: float) -> Figure:
    """ROC and precision-recall curves of one model side by side, with the operating point marked.

    Parameters
    ----------
    roc, pr : pandas.DataFrame
        :func:`studylib.stats.roc_curve` and :func:`studylib.stats.precision_recall_curve` output.
    operating : dict
        ``sensitivity``, ``specificity``, ``ppv`` at the operating threshold.
    label : str
        The model's name for the legend.
    auroc, auprc : str
        Formatted estimates with intervals, shown in the legend.
    prevalence : float
        The chance level of the precision-recall curve.
    threshold : float
        The pre-specified operating threshold.
    """
    fig = _figure(11, 5.2)
    left, right = fig.subplots(1, 2)
    sens, spec, ppv = operating["sensitivity"], operating["specificity"], operating["ppv"]
    point = f"operating threshold {threshold:g}: sensitivity {F.number(sens)}, specificity {F.number(spec)}"
    _roc_axes(left, {"candidate": roc}, {"candidate": (1 - spec, sens, point)}, {"candidate": f"{label}, AUROC {auroc}"})
    left.set_title("ROC curve")
    rx, px = thin(pr["recall"], pr["precision"])
    right.axhline(prevalence, color="#bbbbbb", lw=1, ls=":", label=f"chance (prevalence {F.number(prevalence)})")
    right.plot(rx, px, color=COLOURS["candidate"], lw=1.8, drawstyle="steps-post", label=f"{label}, AUPRC {auprc}")
    right.plot([sens], [ppv], marker="o", ms=8, mfc="white", mec=COLOURS["candidate"], mew=2, ls="none",
               label=f"operating threshold {threshold:g}: sensitivity {F.number(sens)}, PPV {F.number(ppv)}", zorder=5)
    right.set_xlim(0, 1)
    right.set_ylim(0, 1.01)
    right.set_aspect("equal")
    right.set_xlabel("sensitivity (recall)")
    right.set_ylabel("positive predictive value (precision)")
    right.set_title("Precision-recall curve")
    right.grid(alpha=0.3)
    right.legend(loc="upper right", fontsize=8, frameon=True)
    layout.arrange(fig, [[left, right]])
    return fig


def roc_comparison_figure(rocs: dict, *, points: dict, labels: dict, title: str) -> Figure:
    """The ROC curves of the candidate and the baseline overlaid, each with its operating point.

    ``rocs`` maps role → :func:`studylib.stats.roc_curve` output; ``points`` role → ``(fpr, tpr,
    legend text)``; ``labels`` role → legend text of the curve.
    """
    fig = _figure(6.4, 6.0)
    ax = fig.subplots()
    _roc_axes(ax, rocs, points, labels)
    ax.set_title(title, fontsize=10)
    layout.arrange(fig, [[ax]])
    return fig


def calibration_figure(curve: pd.DataFrame, deciles: pd.DataFrame, prob, y, *, label: str, level: str = "95%",
                       bins: int = 40) -> Figure:
    """Calibration plot: smoothed observed risk with its band, tenths of predicted risk with intervals,
    the line of perfect calibration, and below it the histogram of predicted risk by outcome.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`studylib.stats.calibration_curve` with ``method="lowess"``.
    deciles : pandas.DataFrame
        The same with ``method="quantile-bins"``.
    prob, y : array_like
        Predicted risks and outcomes (for the histogram).
    label : str
        The model's name.
    level : str
        Confidence level of the band and the intervals, for the legend.
    bins : int
        Histogram bins over the plotted range.
    """
    prob = np.asarray(prob, dtype=float)
    y = np.asarray(y).astype(bool)
    top = float(max(prob.max(), deciles["upper"].max(), curve["observed"].max()))
    lim = min(1.0, max(0.05, np.ceil(top * 1.05 * 20) / 20))
    fig = _figure(6.6, 7.4)
    ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=[3.2, 1])
    ax.plot([0, lim], [0, lim], color="#888888", lw=1, ls=":", label="perfect calibration")
    ax.fill_between(curve["predicted"], curve["lower"], curve["upper"], color=COLOURS["candidate"], alpha=0.18,
                    lw=0, label=f"{level} pointwise band of the smoothed curve")
    ax.plot(curve["predicted"], curve["observed"], color=COLOURS["candidate"], lw=2,
            label="smoothed observed risk (lowess)")
    err = np.vstack([deciles["observed"] - deciles["lower"], deciles["upper"] - deciles["observed"]])
    ax.errorbar(deciles["predicted"], deciles["observed"], yerr=np.clip(err, 0, None), fmt="s", ms=5,
                color="#222222", ecolor="#555555", capsize=2, lw=1,
                label=f"tenths of predicted risk: observed rate ({level} CI)")
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_ylabel("observed risk (proportion with the outcome)")
    ax.set_title(f"Calibration of {label}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    edges = np.linspace(0, lim, bins + 1)
    hist.hist([prob[~y], prob[y]], bins=edges, stacked=True, color=["#9ab6d8", "#b2182b"],
              label=["without the outcome", "with the outcome"])
    hist.set_xlabel("predicted risk")
    hist.set_ylabel("patients")
    hist.legend(loc="upper right", fontsize=8)
    hist.grid(alpha=0.3)
    layout.arrange(fig, [[ax], [hist]], height_ratios=[3.2, 1])
    return fig


def decision_curve_figure(curve: pd.DataFrame, *, labels: dict, threshold: float | None = None) -> Figure:
    """Decision curve: net benefit of each model, of treating all and of treating none, against the
    threshold probability (:func:`studylib.evaluation.decision_curve` output).

    The vertical axis is cut a little below 0 so that treat-all, which falls steeply at high
    thresholds, does not squeeze the curves of interest.
    """
    fig = _figure(7.4, 5.0)
    ax = fig.subplots()
    t = curve["threshold"].to_numpy()
    for role, text in labels.items():
        ax.plot(t, curve[f"net_benefit_{role}"], color=COLOURS.get(role), ls=_DASH.get(role, "-"), lw=2, label=text)
    ax.plot(t, curve["net_benefit_all"], color=COLOURS["all"], lw=1.5, label="treat all")
    ax.plot(t, curve["net_benefit_none"], color=COLOURS["none"], lw=1.2, label="treat none")
    if threshold is not None and t.min() <= threshold <= t.max():
        ax.axvline(threshold, color="#999999", ls=":", lw=1, label=f"operating threshold {threshold:g}")
    models = [curve[f"net_benefit_{role}"].to_numpy() for role in labels]
    high = float(np.nanmax([*(m.max() for m in models), curve["net_benefit_all"].max(), 0.0]))
    ax.set_ylim(-0.15 * max(high, 0.01), 1.1 * max(high, 0.01))
    ax.set_xlim(t.min(), t.max())
    ax.set_xlabel("threshold probability (risk at which a patient would be treated)")
    ax.set_ylabel("net benefit (true positives per patient)")
    ax.set_title("Decision curve")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    layout.arrange(fig, [[ax]])
    return fig


# --------------------------------------------------------------------------------------------------
# The figures of the evaluation notebook: build, hand to the saver (the run folder), embed with alt text
# --------------------------------------------------------------------------------------------------


def show_discrimination(ev, curves, study, saver):
    """ROC and precision-recall curves of the candidate with the operating point (saved and embedded)."""
    m = ev.models["candidate"]
    b = m.binary
    label = f"{study.models.candidate.name} {study.models.candidate.version}"
    fig = discrimination_figure(
        curves.roc["candidate"], curves.pr["candidate"], label=label, auroc=F.estimate(m.auroc),
        auprc=F.estimate(m.auprc),
        operating={"sensitivity": b.sensitivity.estimate, "specificity": b.specificity.estimate,
                   "ppv": b.ppv.estimate},
        prevalence=b.prevalence.estimate, threshold=study.analysis.threshold)
    alt = (f"Left: ROC curve of the candidate {label}, AUROC {F.estimate(m.auroc)}, with the operating point at "
           f"threshold {study.analysis.threshold:g} (sensitivity {F.number(b.sensitivity.estimate)}, specificity "
           f"{F.number(b.specificity.estimate)}). Right: precision-recall curve, AUPRC {F.estimate(m.auprc)}, chance "
           f"level {F.number(b.prevalence.estimate)}, operating point PPV {F.number(b.ppv.estimate)}.")
    caption = ("Discrimination of the candidate. The circle marks the pre-specified operating threshold; "
               "the dotted lines show a model without information (chance).")
    return publish(fig, saver, "evaluation_roc_pr", alt=alt, caption=caption)


def show_roc_comparison(ev, curves, study, saver):
    """The candidate's and the baseline's ROC curves overlaid, each with its operating point."""
    from studylib.stages.evaluation.inputs import model_labels

    if ev.comparison is None:
        from IPython.display import HTML

        return HTML("<p>No baseline model is declared in the plan: there is nothing to overlay.</p>")
    labels = model_labels(study)
    t = study.analysis.threshold
    legends, points = {}, {}
    for role, m in ev.models.items():
        sens, spec = m.binary.sensitivity.estimate, m.binary.specificity.estimate
        legends[role] = f"{labels[role]}, AUROC {F.estimate(m.auroc)}"
        points[role] = (1 - spec, sens,
                        f"{role} at threshold {t:g}: sensitivity {F.number(sens)}, specificity {F.number(spec)}")
    d = ev.comparison.differences()["auroc"]
    title = f"Candidate − baseline AUROC {F.estimate(d, signed=True)} (paired DeLong)"
    fig = roc_comparison_figure(curves.roc, points=points, labels=legends, title=title)
    alt = "Overlaid ROC curves. " + " ".join(f"{legends[r]}; {points[r][2]}." for r in legends) + f" {title}."
    caption = ("The candidate (solid) and the locked baseline (dashed) on the same patients; circles mark "
               "each model's calls at the pre-specified threshold.")
    return publish(fig, saver, "evaluation_roc_comparison", alt=alt, caption=caption)


def show_calibration(ev, curves, study, saver, role: str = "candidate"):
    """Calibration plot of one model (saved and embedded)."""
    from studylib.stages.evaluation.inputs import model_labels

    m = ev.models[role]
    c = m.calibration
    level = F.confidence_level(study.analysis.alpha)
    fig = calibration_figure(curves.calibration[role], ev.calibration_deciles[role], ev.data.scores[role], ev.data.y,
                             label=model_labels(study)[role], level=level)
    alt = (f"Calibration plot of the {role}: smoothed observed risk against predicted risk with a {level} band, "
           f"observed rates in tenths of predicted risk, and the diagonal of perfect calibration; calibration slope "
           f"{F.estimate(c.slope)}, calibration-in-the-large {F.estimate(c.citl)}, observed/expected "
           f"{F.estimate(c.oe_ratio)}, ICI {F.number(c.eavg)}. Below: histogram of predicted risk for patients with and without the outcome.")
    caption = (f"Calibration of the {role}. Points on the dotted diagonal "
               "would mean that predicted risks equal observed frequencies; a curve below it means over-prediction. "
               "The band is pointwise and ignores smoothing bias.")
    return publish(fig, saver, f"evaluation_calibration_{role}", alt=alt, caption=caption)


def show_decision_curve(ev, study, saver):
    """Decision curve over the declared range (saved and embedded)."""
    from studylib.stages.evaluation.inputs import model_labels

    labels = model_labels(study)
    fig = decision_curve_figure(ev.decision_curve, labels={r: labels[r] for r in ev.models},
                                threshold=study.analysis.threshold)
    low, high = study.analysis.decision_curve
    alt = (f"Decision curve: net benefit against threshold probability from {low:g} to {high:g} for "
           + ", ".join(labels[r] for r in ev.models) + ", treat all and treat none.")
    caption = ("Clinical utility. A model is useful at a threshold probability where its curve lies above "
               "both treat all (grey) and treat none (black, 0).")
    return publish(fig, saver, "evaluation_decision_curve", alt=alt, caption=caption)
