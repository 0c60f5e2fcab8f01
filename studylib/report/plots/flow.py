"""Participant flow diagram (STARD 2015 / CONSORT style): boxes and arrows with counts and reasons.

The diagram is drawn from the same :class:`studylib.cohort.StepCount` records as the step table and
the results JSON: a box for the locked snapshot, one box per step with what remains, an exclusion box
beside each step with its reason and count, the analysis cohort, and one box per split with its
reference-standard results.
"""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.figure import Figure

from studylib import formatting as F
from studylib.judge import suppression

_WIDTH = 10.0
_MAIN_X, _MAIN_W = 2.55, 3.9     # centre and width of the main column (inches)
_SIDE_X, _SIDE_W = 7.35, 4.6     # exclusion boxes
_GAP = 0.5                       # vertical space between a box and the next (arrow length)
_FONT = 9.5
_LINE = _FONT * 1.3 / 72         # inches per text line
_PAD = 0.12                      # inner padding of a box
_MAIN = dict(fc="#ffffff", ec="#1b1f24", lw=1.2)
_SIDE = dict(fc="#f3f4f6", ec="#57606a", lw=1.0)
_FINAL = dict(fc="#e8f1fb", ec="#0b4f8a", lw=1.2)
_EMPTY = dict(fc="#fdecec", ec="#a3161a", lw=1.6)
_ARROW = dict(arrowstyle="-|>", color="#1b1f24", lw=1.1, shrinkA=0, shrinkB=0, mutation_scale=12)


def _count(rows: int, patients: int, per_patient: bool) -> str:
    return f"{F.count(rows)} records of {F.count(patients)} patients" if per_patient else f"n = {F.count(rows)}"


def _wrap(text: str, width_in: float, font: float) -> list[str]:
    chars = max(10, int(width_in / (0.52 * font / 72)))
    return textwrap.wrap(text, chars) or [text]


class _Canvas:
    """Boxes in inches (y grows downwards from the top), converted to axes data on the fly."""

    def __init__(self, ax):
        self.ax = ax

    def box(self, x, top, width, lines, style, *, bold_first=False, font=_FONT):
        from matplotlib.patches import FancyBboxPatch

        height = len(lines) * _LINE * (font / _FONT) + 2 * _PAD
        self.ax.add_patch(FancyBboxPatch((x - width / 2, -(top + height)), width, height,
                                         boxstyle="round,pad=0,rounding_size=0.08", zorder=2, **style))
        for i, line in enumerate(lines):
            y = top + _PAD + (i + 0.5) * _LINE * (font / _FONT)
            self.ax.text(x, -y, line, ha="center", va="center", fontsize=font, zorder=3,
                         fontweight="bold" if (bold_first and i == 0) else "normal")
        return top + height

    def arrow(self, start, end):
        self.ax.annotate("", xy=(end[0], -end[1]), xytext=(start[0], -start[1]), arrowprops=_ARROW, zorder=1)

    def line(self, xs, ys):
        self.ax.plot(xs, [-y for y in ys], color="#1b1f24", lw=1.1, zorder=1, solid_capstyle="butt")


def outcome_counts(splits: pd.DataFrame, threshold: int | None) -> list[tuple[str, str, str]]:
    """(outcome 1, outcome 0, unknown) of each split as shown: with a ``threshold``, the study's small-cell
    rule (:func:`studylib.judge.suppression.protect` over the splits, whose counts add up to the
    cohort's): a small count reads "<T", a count hidden so that it cannot be worked out "withheld".
    The flow's step counts themselves are shown exactly (see :mod:`studylib.judge.suppression`)."""
    if threshold is None:
        return [(F.count(r.positive), F.count(r.negative), F.count(r.unknown)) for r in splits.itertuples(index=False)]
    table = splits[["positive", "negative"]].to_numpy()
    hide = suppression.protect(table, threshold)

    def shown(value, hidden):
        return (F.fewer_than(threshold) if suppression.is_small(value, threshold) else F.WITHHELD) if hidden \
            else F.count(value)

    return [(shown(p, hp), shown(n, hn), suppression.shown_count(u, threshold))
            for (p, n), (hp, hn), u in zip(table, hide, splits["unknown"])]


def flow_diagram(result, splits: pd.DataFrame | None = None, *, snapshot: str = "Locked snapshot",
                 outcome: str = "outcome", title: str = "Participant flow", threshold: int | None = None) -> Figure:
    """Draw the participant flow of a cohort.

    Parameters
    ----------
    result
        A :class:`studylib.cohort.CohortResult` (its ``steps``, ``source_rows`` and
        ``source_patients`` give every count).
    splits
        Optional per-split counts of the analysis cohort (:func:`studylib.cohort.split_counts`): one
        final box per row with its rows and reference-standard results.
    snapshot
        Name of the snapshot for the first box.
    outcome
        Name of the reference-standard column, for the final boxes.
    title
        Figure title.
    threshold
        The study's small-cell threshold for the outcome counts of the splits (:func:`outcome_counts`);
        None shows them as they are.

    Returns
    -------
    matplotlib.figure.Figure
        10 inches wide; the height grows with the number of steps. A step that leaves no rows is drawn
        in red.
    """
    steps = result.steps
    per_patient = result.source_rows != result.source_patients or any(
        s.rows_after != s.patients_after for s in steps)
    side_lines = [[f"{'Excluded' if s.kind == 'drop' else 'Not meeting inclusion'} ({s.id}): "
                   f"{_count(s.rows_excluded, s.patients_excluded, per_patient)}",
                   *_wrap(s.label, _SIDE_W - 2 * _PAD, _FONT - 0.5)] for s in steps]
    finals = [] if splits is None or not len(result.cohort) else [
        [str(r.split), _count(r.rows, r.patients, per_patient), f"{outcome} = 1: {pos}",
         f"{outcome} = 0: {neg}"] + ([f"{outcome} unknown: {unknown}"] if r.unknown else [])
        for r, (pos, neg, unknown) in zip(splits.itertuples(index=False), outcome_counts(splits, threshold))]
    emptied = next((i for i, s in enumerate(steps) if s.rows_after == 0), None)
    if emptied is not None:
        steps, side_lines = steps[:emptied + 1], side_lines[:emptied + 1]
    # height: title, snapshot box, one band per step (tall enough for its exclusion box), final boxes
    main_h = 2 * _LINE + 2 * _PAD
    side_hs = [len(lines) * _LINE * (_FONT - 0.5) / _FONT + 2 * _PAD for lines in side_lines]
    bands = [max(main_h, h) + 2 * _GAP for h in side_hs]
    final_h = max(len(f) for f in finals) * _LINE * (_FONT - 0.5) / _FONT + 2 * _PAD if finals else 0.0
    height = (0.7 + main_h + sum(b + main_h for b in bands) + (2 * _GAP + main_h if not steps else 0.0)
              + (2 * _GAP + final_h if finals else 0.0) + 0.3)
    fig = Figure(figsize=(_WIDTH, height), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, _WIDTH)
    ax.set_ylim(-height, 0)
    ax.axis("off")
    ax.text(_WIDTH / 2, -0.35, title, ha="center", va="center", fontsize=13, fontweight="bold")
    canvas = _Canvas(ax)

    top = 0.7
    bottom = canvas.box(_MAIN_X, top, _MAIN_W, [snapshot, _count(result.source_rows, result.source_patients,
                                                                  per_patient)], _MAIN, bold_first=True)
    for step, lines, band, side_h in zip(steps, side_lines, bands, side_hs):
        last = step is steps[-1]
        next_top = bottom + band
        middle = (bottom + next_top) / 2
        canvas.box(_SIDE_X, middle - side_h / 2, _SIDE_W, lines, _SIDE, font=_FONT - 0.5)
        canvas.arrow((_MAIN_X, middle), (_SIDE_X - _SIDE_W / 2, middle))
        canvas.arrow((_MAIN_X, bottom), (_MAIN_X, next_top))
        remaining = _count(step.rows_after, step.patients_after, per_patient)
        text = ["Analysis cohort", remaining] if last else [f"After {step.id}", remaining]
        style = _EMPTY if step.rows_after == 0 else _MAIN
        if step.rows_after == 0:
            text = [f"No rows remain after {step.id}", "the analysis cohort is empty"]
        bottom = canvas.box(_MAIN_X, next_top, _MAIN_W, text, style, bold_first=last or step.rows_after == 0)
    if not steps:
        next_top = bottom + 2 * _GAP
        canvas.arrow((_MAIN_X, bottom), (_MAIN_X, next_top))
        bottom = canvas.box(_MAIN_X, next_top, _MAIN_W, ["Analysis cohort (no cohort steps)",
                                                         _count(result.source_rows, result.source_patients,
                                                                per_patient)], _MAIN, bold_first=True)
    if finals:
        spacing = _WIDTH / len(finals)
        xs = [spacing * (i + 0.5) for i in range(len(finals))] if len(finals) > 1 else [_MAIN_X]
        width = min(3.2, spacing - 0.3)
        bar = bottom + _GAP
        final_top = bar + _GAP
        canvas.line([_MAIN_X, _MAIN_X], [bottom, bar])
        canvas.line([min(xs + [_MAIN_X]), max(xs + [_MAIN_X])], [bar, bar])
        for x, lines in zip(xs, finals):
            canvas.arrow((x, bar), (x, final_top))
            canvas.box(x, final_top, width, lines, _FINAL, bold_first=True, font=_FONT - 0.5)
    return fig


def alt_text(result, splits: pd.DataFrame | None = None, *, threshold: int | None = None) -> str:
    """The flow diagram in words (for the image's alt text): every box with its count."""
    per_patient = result.source_rows != result.source_patients or any(
        s.rows_after != s.patients_after for s in result.steps)
    parts = [f"Participant flow. Locked snapshot: {_count(result.source_rows, result.source_patients, per_patient)}."]
    for s in result.steps:
        verb = "excluded" if s.kind == "drop" else "did not meet the inclusion rule"
        parts.append(f"Step {s.id}, {s.label}: {_count(s.rows_excluded, s.patients_excluded, per_patient)} {verb}, "
                     f"{_count(s.rows_after, s.patients_after, per_patient)} remain.")
    if splits is not None and len(result.cohort):
        parts.append("Analysis cohort by split: " + "; ".join(
            f"{r.split} {_count(r.rows, r.patients, per_patient)} ({pos} with outcome 1, {neg} with 0)"
            for r, (pos, neg, _) in zip(splits.itertuples(index=False), outcome_counts(splits, threshold))) + ".")
    return " ".join(parts)
