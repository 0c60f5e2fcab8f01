"""Figures of the subgroup stage: a forest plot per metric, ROC and calibration curves by subgroup.

Every function draws from the *reviewer view* (:func:`studylib.stages.subgroups.reviewer.reviewer_view`), so counts
below the small-cell threshold read ``"<T"`` in labels and withheld estimates are not drawn; curves
are drawn only for subgroups that meet the plan's minimum n. Each returns ``(Figure, caption)``: the
caption is an alt-text-like description for the markdown under the figure. :func:`svg` renders a
figure as SVG with text kept as text (searchable, selectable, readable by screen readers).
"""

from __future__ import annotations

import io
import re
import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.markers import TICKLEFT
from matplotlib.transforms import ScaledTranslation

from studylib import formatting as F
from studylib import stats
from studylib.judge import gates, suppression
from studylib.report.plots import figures, layout
from studylib.plan import Study
from studylib.stages.subgroups.analysis import SubgroupAnalysis
from studylib.stages.subgroups.groups import OVERALL
from studylib.stages.subgroups.metrics import DIFFERENCE_METRICS, LABELS, PROPORTION_METRICS
from studylib.stages.subgroups.reviewer import ReviewerView

VERDICT_STYLE = {  # colour and marker: the verdict is readable without colour
    gates.PASS: dict(color="#0a6b2d", marker="s", mfc="#0a6b2d", label="PASS"),
    gates.FAIL: dict(color="#a3161a", marker="D", mfc="#a3161a", label="FAIL"),
    gates.INSUFFICIENT: dict(color="#8a5a00", marker="o", mfc="white", label="INSUFFICIENT EVIDENCE"),
    None: dict(color="#333333", marker="s", mfc="#333333", label="no gate on this metric"),
}
_RANK = {gates.FAIL: 3, gates.INSUFFICIENT: 2, gates.PASS: 1}
MAX_POINTS = 300
UNITS = {
    "prevalence": "proportion of patients with the outcome",
    "sensitivity": "proportion of positives flagged",
    "specificity": "proportion of negatives not flagged",
    "ppv": "proportion of flagged patients with the outcome",
    "npv": "proportion of unflagged patients without the outcome",
    "auroc": "area under the ROC curve (0.5 = chance)",
    "calibration_in_the_large": "log-odds; 0 ideal, > 0 under-prediction",
    "calibration_slope": "1 ideal, < 1 predictions too extreme",
    "brier": "mean squared error of the predicted risk; lower is better",
    "auroc_vs_baseline": "difference in AUROC; > 0 favours the candidate",
}


def svg(fig: Figure, caption: str = ""):
    """The figure for display in the notebook: an SVG image, text kept as text (selectable in the browser,
    smaller than outlines), whose alt text is the lead sentence of ``caption`` (its bold start).

    The figure is left as it is: it belongs to no pyplot manager, so its memory goes with its last
    reference (clearing it would build new, empty axes).
    """
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "studylib"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    lead = re.match(r"\*\*(.+?)\*\*", caption)
    return figures.image(buffer.getvalue(), alt=(lead.group(1) if lead else caption).rstrip(". ") or "Figure")


def _verdicts(view: ReviewerView, gate_ids: list[str]) -> dict[tuple[str, str], str]:
    """(variable, level) → the worst verdict of the named gates there."""
    out: dict[tuple[str, str], str] = {}
    for gate in view.gates:
        base, _, where = gate.id.partition("[")
        if base not in gate_ids or not where:
            continue
        variable, _, level = where[:-1].partition("=")
        key = (variable, level)
        if _RANK[gate.verdict] > _RANK.get(out.get(key), 0):
            out[key] = gate.verdict
    return out


def _gate_lines(study: Study, metric: str, overall: float) -> list[tuple[float, str]]:
    """Vertical lines for the plan's gates on this metric: (x, label)."""
    lines = []
    for gate in study.subgroups.gates:
        if metric == "auroc_vs_baseline":
            if gate.versus == "baseline":
                lines.append((-gate.non_inferiority_margin, f"{gate.id}: lower bound > −{gate.non_inferiority_margin:g}"))
            continue
        if gate.metric != metric or gate.versus is not None:
            continue
        if gate.relative_to == "overall" and math.isfinite(overall):
            if gate.max_below is not None:
                lines.append((overall - gate.max_below, f"{gate.id}: lower bound ≥ overall − {gate.max_below:g}"))
            else:
                lines.append((overall + gate.max_above, f"{gate.id}: upper bound ≤ overall + {gate.max_above:g}"))
        elif gate.interval_within is not None:
            low, high = gate.interval_within
            lines += [(low, f"{gate.id}: interval within [{low:g}, {high:g}]"), (high, "")]
        elif gate.at_least is not None or gate.at_most is not None:
            bound, target, op = gates.one_sided_rule(gate)
            lines.append((target, f"{gate.id}: {bound} bound {'≥' if op == '>=' else '≤'} {target:g}"))
    return lines


def _gate_ids(study: Study, metric: str) -> list[str]:
    if metric == "auroc_vs_baseline":
        return [g.id for g in study.subgroups.gates if g.versus == "baseline"]
    return [g.id for g in study.subgroups.gates if g.metric == metric and g.versus is None]


ROW_FONT = 8.5  # labels and estimates of the forest plot's rows
_ROW_PAD = 7 * layout.POINT  # from the axes to a row's label (tick length and pad) or its estimate
MUTED = dict(color="#555555", fontstyle="italic")  # withheld or not estimable


def _row_texts(fig: Figure, ax, y_positions, labels: list[tuple[str, bool]], right: list[tuple[str, bool]]) -> None:
    """Each row's label left of the axes (bold for a variable) and its estimate right of it, as figure texts
    at the row's height (tick labels would be measured at every draw; axes texts get the axes' clip path)."""
    left = ax.get_yaxis_transform() + ScaledTranslation(-_ROW_PAD, 0, fig.dpi_scale_trans)
    beside = ax.get_yaxis_transform() + ScaledTranslation(_ROW_PAD / 2, 0, fig.dpi_scale_trans)
    ax.plot(np.zeros(len(y_positions)), y_positions, ls="none", marker=TICKLEFT, ms=matplotlib.rcParams["ytick.major.size"],
            mew=matplotlib.rcParams["ytick.major.width"], color="black", transform=ax.get_yaxis_transform(),
            clip_on=False, label="_row ticks")  # one artist for all rows' tick marks
    for y, (text, bold), (estimate, muted) in zip(y_positions, labels, right):
        fig.text(0, y, text, transform=left, ha="right", va="center", fontsize=ROW_FONT,
                fontweight="bold" if bold else "normal")
        if estimate:
            fig.text(1, y, estimate, transform=beside, ha="left", va="center", fontsize=ROW_FONT,
                    **(MUTED if muted else {}))


def _forest_layout(fig: Figure, ax, rows: int, labels: list[tuple[str, bool]], right: list[tuple[str, bool]],
                   handles: list) -> None:
    """Size the forest plot and place its axes and legend from the geometry: 0.3 inch per row, the widest
    label left, the widest estimate right, the title above, the x axis and the legend below."""
    left = layout.EDGE + _ROW_PAD + max(
        (layout.text_width(t, ROW_FONT, weight="bold" if bold else "normal") for t, bold in labels), default=0.0)
    right_room = layout.EDGE + _ROW_PAD / 2 + max(
        (layout.text_width(t, ROW_FONT, style="italic" if muted else "normal") for t, muted in right), default=0.0)
    width = max(10.5, left + right_room + 4.0)
    names = [h.get_label() for h in handles]
    ncol = layout.legend_columns(names, fontsize=8, room=width - 2 * layout.EDGE)
    legend_height = layout.legend_size(names, fontsize=8, ncol=ncol, frame=False)[1] if names else 0.0
    top = layout.EDGE + layout.title_height(11)
    bottom = layout.EDGE + (legend_height + layout.GAP if names else 0.0) + layout.axis_height()
    height = top + bottom + 0.3 * (max(rows, 1) + 0.4)
    fig.set_size_inches(width, height)
    layout.place(fig, ax, left=left, right=right_room, top=top, bottom=bottom)
    layout.fix_labels(fig, ax)
    if handles:
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, layout.EDGE / height), ncol=ncol,
                   fontsize=8, frameon=False, borderaxespad=0)


def forest(view: ReviewerView, metric: str, study: Study) -> tuple[Figure, str]:
    """Forest plot of one metric: every subgroup's estimate and interval, grouped by variable.

    The overall estimate is a dashed vertical line with its interval as a shaded band; each gate on the
    metric is a dotted red line at its threshold. Markers give the verdict of the gate(s) on the metric
    in that subgroup (colour and shape). Labels show n and positives after small-cell suppression;
    withheld estimates are written, not drawn.
    """
    alpha = study.analysis.alpha
    level_text = F.confidence_level(alpha)
    threshold = view.threshold
    part = view.metrics[view.metrics.metric == metric]
    overall = part[part.variable == OVERALL].iloc[0]
    rows = part[part.variable != OVERALL]
    verdicts = _verdicts(view, _gate_ids(study, metric))
    subgroups = view.subgroups
    sizes = dict(zip(zip(subgroups.variable, subgroups.level), zip(subgroups.n, subgroups.positives)))

    # layout: a header line per variable, then its levels
    entries: list[tuple[str, object]] = []
    for record in rows.to_dict("records"):
        if not entries or entries[-1][0] == "row" and entries[-1][1]["variable"] != record["variable"]:
            entries.append(("header", record["variable"]))
        entries.append(("row", record))
    fig = layout.figure(10.5, 4.0)  # the size is set below, from the labels and the rows
    ax = fig.add_axes((0, 0, 1, 1))
    y_positions = np.arange(len(entries))[::-1]
    labels, right, withheld, undefined = [], [], 0, 0
    xs = [overall.lower, overall.upper, overall.estimate]
    digits = 3 if metric in ("brier", *DIFFERENCE_METRICS) else 2
    segments, colours, points = [], [], {}  # intervals; estimates by verdict
    for y, (kind, r) in zip(y_positions, entries):
        if kind == "header":
            labels.append((str(r), True))
            right.append(("", False))
            continue
        n, positives = sizes[(r["variable"], r["level"])]
        labels.append((f"{r['level']} · n {n} · pos. {positives}", False))
        verdict = verdicts.get((r["variable"], r["level"]))
        style = VERDICT_STYLE[verdict]
        said = f" — {style['label']}" if verdict is not None else ""
        estimate, lower, upper = r["estimate"], r["lower"], r["upper"]
        if r["withheld"]:
            withheld += 1
            text = f"{suppression.withheld_label(threshold)}{said}"
        elif not math.isfinite(estimate):
            undefined += 1
            text = f"not estimable{said}"
        else:
            if math.isfinite(lower) and math.isfinite(upper):
                segments.append([(lower, y), (upper, y)])
                colours.append(style["color"])
                xs += [lower, upper]
            points.setdefault(verdict, []).append((estimate, y))
            xs.append(estimate)
            text = F.interval(estimate, lower, upper, digits)
        right.append((text, bool(r["withheld"] or not math.isfinite(estimate))))
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=1.6, capstyle="butt"), autolim=False)
    for verdict, xy in points.items():  # one artist per verdict, not one per row
        style = VERDICT_STYLE[verdict]
        ax.plot(*zip(*xy), ls="none", marker=style["marker"], ms=6.5, mfc=style["mfc"], mec=style["color"],
                mew=1.5, zorder=4)
    handles = []
    if math.isfinite(overall.estimate):
        if math.isfinite(overall.lower) and math.isfinite(overall.upper):
            ax.axvspan(overall.lower, overall.upper, color="#1f5fa8", alpha=0.10, lw=0)
        ax.axvline(overall.estimate, color="#1f5fa8", ls="--", lw=1.2)
        handles.append(Line2D([], [], color="#1f5fa8", ls="--",
                              label=f"overall {F.interval(overall.estimate, overall.lower, overall.upper, digits)}"))
    if metric in DIFFERENCE_METRICS:
        ax.axvline(0.0, color="#888888", lw=0.8)
        xs.append(0.0)
    lines = _gate_lines(study, metric, float(overall.estimate))
    for x, text in lines:
        ax.axvline(x, color="#a3161a", ls=":", lw=1.6)
        xs.append(x)
        if text:
            handles.append(Line2D([], [], color="#a3161a", ls=":", lw=1.6, label=text))
    present = {verdicts.get((r["variable"], r["level"])) for kind, r in entries if kind == "row"}
    for verdict in (gates.PASS, gates.FAIL, gates.INSUFFICIENT, None):
        if verdict in present:
            style = VERDICT_STYLE[verdict]
            handles.append(Line2D([], [], color=style["color"], marker=style["marker"], mfc=style["mfc"],
                                  mec=style["color"], ls="-", lw=1.4, label=style["label"]))
    finite = [x for x in xs if isinstance(x, (int, float)) and math.isfinite(x)]
    if finite:
        low, high = min(finite), max(finite)
        pad = 0.06 * (high - low or 1.0)
        low, high = low - pad, high + pad
        if metric in PROPORTION_METRICS or metric == "auroc":
            low, high = max(low, -0.02), min(high, 1.02)
        ax.set_xlim(low, high)
    ax.set_yticks([])
    ax.set_ylim(-0.7, len(entries) - 0.3)
    _row_texts(fig, ax, y_positions, labels, right)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(f"{LABELS[metric]} — {UNITS[metric]}")
    title = f"{LABELS[metric]} by subgroup, {level_text} intervals"
    if metric in PROPORTION_METRICS and metric != "prevalence":
        title += f" (threshold {study.analysis.threshold:g})"
    ax.set_title(title, loc="left", fontsize=11)
    _forest_layout(fig, ax, len(entries), labels, right, handles)
    method = str(overall.method)
    caption = (f"**{LABELS[metric]} by subgroup.** Each row is one subgroup ({len(rows)} in all, grouped by "
               f"variable in bold): the marker is the estimate and the horizontal line its {level_text} interval "
               f"({method}); the number at the right repeats them. The dashed blue line is the overall estimate and the "
               f"shaded band its interval.")
    if lines:
        caption += " Dotted red lines mark the gate thresholds: " + "; ".join(t for _, t in lines if t) + "."
    if verdicts:
        caption += (" Marker colour and shape give the gate verdict: green squares PASS, red diamonds FAIL, hollow "
                    "amber circles INSUFFICIENT EVIDENCE (below the minimum n, or not estimable).")
    if withheld:
        caption += (f" {withheld} estimate(s) are withheld because they would disclose a count below {threshold} "
                    "(small-cell suppression).")
    if undefined:
        caption += f" {undefined} estimate(s) are not estimable (e.g. no positives, or nobody flagged)."
    caption += f" Counts in the labels below {threshold} read \"<{threshold}\"."
    return fig, caption


def forest_plots(view: ReviewerView, study: Study) -> list[tuple[Figure, str]]:
    """A forest plot for every metric in the view, in the order of :data:`studylib.plan.SUBGROUP_METRICS`."""
    present = list(dict.fromkeys(view.metrics.metric))
    return [forest(view, metric, study) for metric in present]


PANEL = (5.6, 5.0)  # inches per panel of the ROC and calibration figures
_PANEL_TICKS = ["0.00", "0.25", "0.50", "0.75", "1.00"]  # the widest tick labels of a panel's 0–1 axes


def _panels(names: list[str]) -> tuple[Figure, list]:
    """A grid of up to two panels per row; :func:`_place_panels` lays it out once the legends are known."""
    cols = min(2, len(names)) or 1
    rows = math.ceil(len(names) / cols) or 1
    fig = layout.figure(PANEL[0] * cols, PANEL[1] * rows + 0.4)
    axes = [fig.add_axes((0, 0, 1, 1)) for _ in names] or [fig.add_axes((0, 0, 1, 1))]
    for extra in axes[len(names):]:
        extra.set_visible(False)
    return fig, axes[:len(names)]


def _place_panels(fig: Figure, axes: list, counts: list[int], title: str) -> None:
    """Place the panels in their grid from the geometry: room left for the y axis, below for the x axis, above
    for the panel's title and the figure's, right for a legend drawn outside the panel. Each panel keeps its
    square aspect inside its cell, centred, as constrained layout placed it."""
    cols = min(2, len(axes)) or 1
    top = layout.EDGE + layout.text_height(11) + layout.GAP  # the figure's title
    left = layout.EDGE + layout.y_axis_width(_PANEL_TICKS)
    bottom = layout.EDGE + layout.axis_height()
    above = layout.title_height(10)
    width, height = fig.get_size_inches()
    fig.suptitle(title, x=0.02, y=1 - layout.EDGE / height, ha="left", va="top", fontsize=11)
    for i, (ax, count) in enumerate(zip(axes, counts)):
        row, col = divmod(i, cols)
        legend = ax.get_legend()
        right = layout.EDGE
        if legend is not None and count > _LEGEND_INSIDE:  # drawn right of the panel
            labels = [t.get_text() for t in legend.get_texts()]
            right += 0.02 * PANEL[0] + layout.legend_size(labels, fontsize=6.5, ncol=2)[0]
        x0 = col * PANEL[0]
        y0 = height - top - (row + 1) * PANEL[1]
        ax.set_position([(x0 + left) / width, (y0 + bottom) / height, (PANEL[0] - left - right) / width,
                         (PANEL[1] - bottom - above) / height])
        layout.fix_labels(fig, ax)


def _thin(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    if x.size <= max_points:
        return x, y
    keep = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))
    return x[keep], y[keep]


def _curve_groups(analysis: SubgroupAnalysis, view: ReviewerView):
    """Variables in order, each with its judged subgroups whose counts are not withheld (the only ones with
    curves: a curve's steps give its class counts)."""
    sizes = view.subgroups.set_index(["variable", "level"])
    judged = sizes["judged"] & ~sizes["withheld"]
    out: dict[str, list] = {}
    skipped = 0
    for group in analysis.groups:
        if group.variable == OVERALL:
            continue
        out.setdefault(group.variable, [])
        if bool(judged.get((group.variable, group.level), False)):
            out[group.variable].append(group)
        else:
            skipped += 1
    return out, skipped


_LEGEND_INSIDE = 8  # at most this many curves: the legend sits inside the panel; more: two columns right of it


def _legend(ax, count: int) -> None:
    if not ax.get_legend_handles_labels()[0]:  # nothing drawn in this panel (no warning on stderr)
        return
    inside = count <= _LEGEND_INSIDE
    ax.legend(loc="lower right" if inside else "center left", fontsize=7.5 if inside else 6.5,
              ncol=1 if inside else 2, frameon=True, bbox_to_anchor=None if inside else (1.02, 0.5))


def roc_by_subgroup(frame: pd.DataFrame, analysis: SubgroupAnalysis, view: ReviewerView,
                    study: Study) -> tuple[Figure, str]:
    """ROC curves of the candidate model, one panel per variable, one curve per judged subgroup."""
    y = frame[study.data.outcome].to_numpy(dtype=int)
    score = frame[study.models.candidate.score].to_numpy(dtype=float)
    auroc = view.metrics[view.metrics.metric == "auroc"].set_index(["variable", "level"])
    groups, skipped = _curve_groups(analysis, view)
    names = list(groups)
    fig, axes = _panels(names)
    for ax, name in zip(axes, names):
        ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls=":", label="chance")
        for group in groups[name]:
            curve = stats.roc_curve(y[group.rows], score[group.rows], drop_intermediate=True)
            fx, ty = _thin(curve["fpr"].to_numpy(), curve["tpr"].to_numpy())
            a = auroc.loc[(group.variable, group.level)]
            ax.plot(fx, ty, lw=1.4, label=f"{group.level} (AUROC {F.number(a.estimate, 2)})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_aspect("equal")
        ax.set_title(f"{name}", loc="left", fontsize=10)
        ax.set_xlabel("1 − specificity (false-positive rate)")
        ax.set_ylabel("sensitivity (true-positive rate)")
        ax.grid(alpha=0.3)
        _legend(ax, len(groups[name]))
    _place_panels(fig, axes, [len(groups[name]) for name in names], "ROC curves of the candidate model by subgroup")
    caption = (f"**ROC curves by subgroup.** One panel per subgroup variable ({', '.join(names)}); each curve "
               "is the empirical ROC curve of the candidate model in one subgroup (legend: its AUROC). The dotted "
               "diagonal is chance. Only subgroups that meet the plan's minimum n, and whose counts are not withheld "
               "(small-cell rule), are drawn")
    caption += f" ({skipped} subgroup(s) are not)." if skipped else "."
    return fig, caption


def calibration_by_subgroup(frame: pd.DataFrame, analysis: SubgroupAnalysis, view: ReviewerView,
                            study: Study) -> tuple[Figure, str]:
    """Observed against predicted risk (quantile bins) by subgroup, one panel per variable.

    Each judged subgroup gets up to 10 bins at the quantiles of its predicted risk (fewer when it has
    fewer than 100 patients of its smaller class, at least 3). Bins whose events or non-events are
    below the small-cell threshold are not drawn (they would disclose the count).
    """
    y = frame[study.data.outcome].to_numpy(dtype=int)
    prob = frame[study.models.candidate.score].to_numpy(dtype=float)
    threshold = view.threshold
    groups, skipped = _curve_groups(analysis, view)
    names = list(groups)
    fig, axes = _panels(names)
    hidden = 0
    top = 0.0
    for ax, name in zip(axes, names):
        for group in groups[name]:
            yy, pp = y[group.rows], prob[group.rows]
            smaller = int(min(yy.sum(), yy.size - yy.sum()))
            n_bins = int(min(10, max(3, smaller // 10)))
            curve = stats.calibration_curve(yy, pp, method="quantile-bins", n_bins=n_bins)
            events = np.rint(curve["observed"] * curve["n"]).astype(int)
            small = [(0 < e < threshold) or (0 < (n - e) < threshold) for e, n in zip(events, curve["n"])]
            hidden += int(np.sum(small))
            shown = curve[~np.array(small, dtype=bool)]
            ax.plot(shown["predicted"], shown["observed"], marker="o", ms=4, lw=1.2, label=group.level)
            if len(shown):
                top = max(top, float(shown["predicted"].max()), float(shown["observed"].max()))
        ax.set_title(f"{name}", loc="left", fontsize=10)
        ax.set_xlabel("predicted risk (mean in bin)")
        ax.set_ylabel("observed proportion with the outcome")
        ax.grid(alpha=0.3)
        _legend(ax, len(groups[name]))
    limit = min(1.0, max(0.05, top * 1.08))
    for ax in axes:
        ax.plot([0, limit], [0, limit], color="#bbbbbb", lw=1, ls=":", label="_ideal")
        ax.set_xlim(0, limit)
        ax.set_ylim(0, limit)
        ax.set_aspect("equal")
    _place_panels(fig, axes, [len(groups[name]) for name in names],
                  "Calibration of the candidate model by subgroup (quantile bins)")
    caption = ("**Calibration by subgroup.** One panel per subgroup variable; each line joins the bins of one "
               "subgroup (up to 10 bins at the quantiles of its predicted risk): mean predicted risk against the "
               "observed proportion with the outcome. Points on the dotted diagonal are perfectly calibrated; above it "
               "the model under-predicts, below it over-predicts.")
    if hidden:
        caption += f" {hidden} bin(s) with fewer than {threshold} events or non-events are not drawn (small-cell suppression)."
    if skipped:
        caption += f" {skipped} subgroup(s) below the minimum n, or whose counts are withheld, are not drawn."
    return fig, caption
