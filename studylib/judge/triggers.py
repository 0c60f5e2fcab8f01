"""Surveillance triggers of the drift review: each declared trigger judged over the monitoring windows.

Pure functions of the review's long statistics table (``window, of, statistic, estimate, lower,
upper``; see :class:`studylib.stages.drift.review.DriftReview`) and the plan: a trigger that fires is
a FAIL gate naming the windows, the evidence and the action declared in advance; it blocks the release
when that action is "revalidate" or "suspend". A trigger that cannot be judged in any window is
INSUFFICIENT_EVIDENCE and does not block.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import pandas as pd

from studylib import formatting
from studylib.judge import gates, suppression
from studylib.plan import Study, Trigger

__all__ = ["BLOCKING_ACTIONS", "ACTION_TEXT", "judge_triggers"]

#: actions that block a release (the run exits 1 when such a trigger fires)
BLOCKING_ACTIONS = ("revalidate", "suspend")
#: what each declared action asks of the team, in words for the report
ACTION_TEXT = {
    "investigate": "investigate the cause (data pipeline, population, practice change) and document it",
    "clinical_review": "clinical review of the affected windows before further use",
    "revalidate": "revalidate the model under the change protocol before further use",
    "suspend": "suspend the model's use until the cause is resolved",
}


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


def _severity(trigger: Trigger, estimate: float, lower: float, upper: float) -> float:
    """How close a window is to firing (larger is closer; positive beyond the threshold)."""
    if trigger.interval_excludes is not None:
        x = trigger.interval_excludes
        return max(lower - x, x - upper)
    value = {"estimate": estimate, "lower": lower, "upper": upper}[trigger.bound]
    return value if trigger.above is not None else -value


def judge_triggers(statistics: pd.DataFrame, windows: Sequence[str], study: Study) -> list[gates.Gate]:
    """Evaluate each declared trigger over the monitoring windows (in time order).

    Parameters
    ----------
    statistics : DataFrame
        The review's long table: ``window, of, statistic, estimate, lower, upper``.
    windows : sequence of str
        The monitoring windows' labels in time order (the reference excluded).
    study : Study
        The plan: ``drift.triggers``, the declared features and ``analysis.alpha`` (for the words).

    Returns
    -------
    list of Gate
        One gate per trigger, in the order declared.

    Raises
    ------
    ValueError
        The study declares no ``drift`` section.

    Notes
    -----
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
    if study.drift is None:
        raise ValueError(f"{study.source}: the study declares no drift: section, so there are no triggers to judge")
    labels = list(windows)
    level = formatting.confidence_level(study.analysis.alpha)
    # the sentences reach results JSON: three decimals, three significant digits below 0.001, "–" if undefined
    number = functools.partial(formatting.number, digits=3, tiny=3, undefined="–")
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
                        f"({trigger.statistic} {number(value[0])}"
                        + (f", {level} CI {number(value[1])}–{number(value[2])}" if math.isfinite(value[1]) else "")
                        + f"). Declared action: {trigger.action.replace('_', ' ')} — {ACTION_TEXT[trigger.action]}.")
            verdict = gates.FAIL
        else:
            _, subject, where, value = worst
            of_text = f" ({subject})" if trigger.of == "any_feature" else ""
            sentence = (f"Did not fire; the window closest to firing is {where}{of_text} with {trigger.statistic} "
                        f"{number(value[0])}" + (f" ({level} CI {number(value[1])}–{number(value[2])})"
                                              if math.isfinite(value[1]) else "") + ".")
            verdict = gates.PASS
        if unjudged:
            sentence += f" Not judged in window(s) {', '.join(sorted(unjudged, key=labels.index))} (undefined)."
        judged.append(gates.Gate(trigger.id, "drift", subject_text, rule, verdict, estimate=value[0], lower=value[1],
                                 upper=value[2], blocks=blocks, sentence=sentence))
    # the sentences are reviewer-facing: counts in the reasons of undefined statistics follow the small-cell rule
    threshold = study.study.small_cell_threshold
    return [gates.Gate(**{**g.__dict__, "sentence": suppression.suppress_text(g.sentence, threshold)}) for g in judged]
