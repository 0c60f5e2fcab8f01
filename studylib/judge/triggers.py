"""Surveillance triggers of the drift review: each declared trigger judged over the monitoring windows.

Pure functions of the review's long statistics table (``window, of, statistic, estimate, lower,
upper, reason``; see :class:`studylib.stages.drift.review.DriftReview`) and the plan: a trigger that
fires is a FAIL gate naming the windows, the evidence and the action declared in advance; it blocks the
release when that action is "revalidate" or "suspend". A trigger that did not fire but could not be
judged in some window (empty window, undefined statistic, too few rows, events or non-events) is
INSUFFICIENT_EVIDENCE with the windows and the reasons, never "not fired", and does not block.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from studylib import formatting
from studylib.judge import gates, suppression
from studylib.plan import Study, Trigger
from studylib.stats import Estimate
from studylib.stats.difference import mover_difference
from studylib.stats.roc import auroc_logit_interval

__all__ = ["BLOCKING_ACTIONS", "ACTION_TEXT", "judge_triggers"]

#: actions that block a release (the run exits 1 when such a trigger fires)
BLOCKING_ACTIONS = ("revalidate", "suspend")
#: what each declared action asks of the team, in words for the report
ACTION_TEXT = {
    "investigate": "investigate the cause (data pipeline, population, practice change) and document it",
    "clinical_review": "clinical review of the affected windows before further use",
    "revalidate": "revalidate the model under the change protocol before further use",
    "suspend": "suspend the model's use until the cause is resolved",
    "activate_shadow": "the shadow candidate is eligible for activation under the change protocol (a decision, "
                       "signed like a release)",
    "stop_shadow": "stop scoring the shadow candidate and record why",
}


#: the window label of the reference rows in the statistics table (``relative_to: reference``)
REFERENCE = "reference"  # the label studylib.data.scan gives the reference window


def _rule_text(trigger: Trigger, alpha_level: str = "95%") -> str:
    if trigger.relative_to is not None:
        return (f"{trigger.statistic} of {trigger.of}, window − reference: " + _rule_text(
            trigger.model_copy(update={"relative_to": None}), alpha_level).split(": ", 1)[1]
            + (" (two-sample test against the reference window: MOVER interval from logit-scale DeLong "
               "intervals)" if trigger.statistic == "auroc" else
               " (two-sample Wald test against the reference window)"))
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


def _fires(trigger: Trigger, estimate: float, lower: float, upper: float, reason: str = "") -> bool | None:
    """Whether the trigger's condition holds in one window; None when it cannot be judged there."""
    if reason:
        return None
    if trigger.interval_excludes is not None:
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return None
        return lower > trigger.interval_excludes or upper < trigger.interval_excludes
    value = {"estimate": estimate, "lower": lower, "upper": upper}[trigger.bound]
    if not math.isfinite(value):
        return None
    return value > trigger.above if trigger.above is not None else value < trigger.below


def relative_to_reference(part: pd.DataFrame, reference: pd.Series | None, alpha: float,
                          statistic: str = "") -> pd.DataFrame:
    """Each window's statistic minus the reference window's, with a two-sample interval of the difference.

    The difference ``d = est_w − est_r`` of the two independent windows gets the MOVER interval
    (:func:`studylib.stats.difference.mover_difference`) of their intervals (each at level ``alpha``):
    ``interval_excludes: 0`` on it is a two-sided two-sample test at that level. The windows' intervals
    are Wald intervals, for which MOVER is the two-sample Wald interval ``d ± z·sqrt(SE_w² + SE_r²)``
    (calibration slope and calibration-in-the-large). An AUROC's Wald interval is first formed again on
    the logit scale (:func:`studylib.stats.roc.auroc_logit_interval`, the SE recovered from the Wald
    interval's unclipped half), because the two-sample Wald test of AUROCs over-fires with few events:
    in a simulation with 15 events a window it fired in 3.2 % of windows at a nominal 0.5 %, against
    0.8 % this way (``tests/judge/test_triggers_null.py``). A window is not judged when the reference is not.

    References
    ----------
    .. [1] Zou GY, Donner A (2008). Construction of confidence limits about effect measures: a general
       approach. Stat Med 27(10):1693-1702. doi:10.1002/sim.3095
    .. [2] Pepe MS (2003). The Statistical Evaluation of Medical Tests for Classification and
       Prediction. Oxford University Press, section 5.2.2.

    Examples
    --------
    Slopes 0.80 (0.70–0.90) in a window and 0.90 (0.85–0.95) in the reference: d = −0.10, SE =
    sqrt(0.051² + 0.026²) = 0.057, interval −0.21 to 0.01 (includes 0: no evidence of drift).
    """
    z = float(special.ndtri(1 - alpha / 2))

    def estimate(value: float, lower: float, upper: float) -> Estimate:
        if statistic == "auroc" and 0 < value < 1 and math.isfinite(lower) and math.isfinite(upper):
            low_half, high_half = value - lower, upper - value
            # a Wald interval is symmetric unless clipped to [0, 1]; Newcombe's (DeLong variance 0) is kept
            if math.isclose(low_half, high_half, rel_tol=1e-9, abs_tol=1e-12) or lower <= 0 or upper >= 1:
                se = max(low_half, high_half) / z
                if se > 0:
                    lower, upper = auroc_logit_interval(value, se, alpha)
        return Estimate(value, lower, upper)

    out = part.copy()
    ref_reason = "" if reference is None else (reference["reason"] if isinstance(reference["reason"], str) else "")
    if reference is None or ref_reason or not all(math.isfinite(float(reference[c]))
                                                  for c in ("estimate", "lower", "upper")):
        why = "the reference window's value is undefined" + (f" ({ref_reason})" if ref_reason else "")
        out["reason"] = [r if isinstance(r, str) and r else why for r in out["reason"]]
        out[["estimate", "lower", "upper"]] = math.nan
        return out
    ref = estimate(*(float(reference[c]) for c in ("estimate", "lower", "upper")))
    differences = [mover_difference(estimate(*map(float, row)), ref)
                   for row in out[["estimate", "lower", "upper"]].itertuples(index=False)]
    out["estimate"] = [d.estimate for d in differences]
    out["lower"] = [d.lower for d in differences]
    out["upper"] = [d.upper for d in differences]
    return out


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


def judge_triggers(statistics: pd.DataFrame, windows: Sequence[str], study: Study, *,
                   alpha: float | None = None) -> list[gates.Gate]:
    """Evaluate each declared trigger over the monitoring windows (in time order).

    Parameters
    ----------
    statistics : DataFrame
        The review's long table: ``window, of, statistic, estimate, lower, upper`` and optionally
        ``reason`` (why the statistic cannot be judged in that window; "" when it can) and ``site``
        (per-site windows: each site's windows are judged as a series of their own).
    windows : sequence of str
        The monitoring windows' labels in time order (the reference excluded).
    study : Study
        The plan: ``drift.triggers``, the declared features and ``analysis.alpha`` (for the words).
    alpha : float, optional
        The level of the intervals in ``statistics`` (per-site windows: ``analysis.alpha`` over the number
        of sites, Bonferroni); default ``analysis.alpha``. It sets the interval of ``relative_to``
        and the words.

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
    "suspend" (the run exits 1) and is reported without blocking otherwise. A window where the
    statistic has a ``reason`` or is undefined (NaN) is not judged: for ``consecutive_windows`` it
    breaks a run. A trigger that did not fire is INSUFFICIENT_EVIDENCE (not "not fired") when it would
    fire had the windows not judged met its rule, naming those windows and the reasons; it does not
    block. It is PASS only when no outcome of those windows could have made it fire (e.g. a window
    not judged between two quiet windows of a two-consecutive-windows rule). ``of: any_feature``
    fires when the rule holds for any declared feature. With a ``site`` column a trigger is judged over
    each site's windows in time order (a run of consecutive windows is within one site); it fires when
    the rule holds at any site, and its sentence names the site(s). The reference rows (window
    ``reference``, no site) serve every site.

    Examples
    --------
    A trigger ``psi of score > 0.25 in any window`` with PSI 0.05, 0.31 in windows 2001, 2002 fires in
    2002 and reports the action declared for it.
    """
    if study.drift is None:
        raise ValueError(f"{study.source}: the study declares no drift: section, so there are no triggers to judge")
    labels = list(windows)
    alpha = study.analysis.alpha if alpha is None else alpha
    level = formatting.confidence_level(alpha)
    # the sentences reach results JSON: three decimals, three significant digits below 0.001, "–" if undefined
    number = functools.partial(formatting.number, digits=3, tiny=3, undefined="–")

    def shown(statistic: str, value) -> str:  # a p-value reads "<0.001" as on every page
        return formatting.p_value(value, undefined="–") if statistic in ("p_value", "p_adjusted") else number(value)
    features = list(study.drift.features) + list(study.drift.categorical)
    if "reason" not in statistics.columns:
        statistics = statistics.assign(reason="")
    site_of = ({w: s for w, s in zip(statistics["window"], statistics["site"]) if isinstance(s, str)}
               if "site" in statistics.columns else {})
    series = [(s, [w for w in labels if site_of.get(w) == s]) for s in dict.fromkeys(site_of.get(w) for w in labels)]
    judged = []
    for trigger in study.drift.triggers:
        blocks = trigger.action in BLOCKING_ACTIONS
        rule = _rule_text(trigger, level)
        subjects = features if trigger.of == "any_feature" else [trigger.of]
        fired_where, worst, unjudged, could_fire = [], None, {}, False
        for subject, (site, ordered) in ((f, s) for f in subjects for s in series):
            part = statistics[(statistics["of"] == subject) & (statistics["statistic"] == trigger.statistic)]
            part = part.set_index("window")
            if trigger.relative_to is not None:
                reference = part.loc[REFERENCE] if REFERENCE in part.index else None
                part = relative_to_reference(part.reindex(ordered), reference, alpha, trigger.statistic)
            part = part.reindex(ordered)
            reasons = [r if isinstance(r, str) and r else "" for r in part["reason"]]
            values = list(zip(part["estimate"].astype(float), part["lower"].astype(float), part["upper"].astype(float)))
            flags = [_fires(trigger, *v, reason=r) for v, r in zip(values, reasons)]
            for i, flag in enumerate(flags):
                if flag is None:
                    why = reasons[i] or "undefined"
                    unjudged.setdefault(ordered[i], set()).add(f"{subject}: {why}" if trigger.of == "any_feature"
                                                              else why)
            hits = _fired(trigger, flags)
            # would the trigger fire if every window not judged had met the rule? then it cannot be cleared
            could_fire |= bool(_fired(trigger, [True if f is None else f for f in flags]))
            if hits:
                fired_where.append((subject, site, [ordered[i] for i in hits], values[hits[0]]))
            for i, v in enumerate(values):
                if flags[i] is None:
                    continue
                key = _severity(trigger, *v)
                if worst is None or key > worst[0]:
                    worst = (key, subject, ordered[i], v)
        subject_text = f"{trigger.statistic} of {trigger.of}"
        grouped: dict[str, list[str]] = {}
        for w in labels:
            if w in unjudged:
                grouped.setdefault("; ".join(sorted(unjudged[w])), []).append(w)
        not_judged = "; ".join(f"{', '.join(ws)} ({why})" for why, ws in grouped.items())
        if worst is None and not fired_where:
            judged.append(gates.Gate(trigger.id, "drift", subject_text, rule, gates.INSUFFICIENT, blocks=False,
                                     can_block=trigger.action in BLOCKING_ACTIONS, sentence=f"Could not be judged in any monitoring window: "
                                              f"{not_judged or '(none declared)'}."))
            continue
        if fired_where:
            subject, site, where, value = fired_where[0]
            fired_subjects = list(dict.fromkeys(f[0] for f in fired_where))
            fired_sites = list(dict.fromkeys(f[1] for f in fired_where))
            extra = f" (and {len(fired_subjects) - 1} more feature(s))" if len(fired_subjects) > 1 else ""
            of_text = f" for {subject}" if trigger.of == "any_feature" else ""
            if site is not None:
                of_text += f" at site {site}"
                if len(fired_sites) > 1:
                    extra += f" (fired at {len(fired_sites)} sites: {', '.join(fired_sites)})"
            sentence = (f"FIRED{of_text} in window(s) {', '.join(map(str, where))}{extra} "
                        f"({trigger.statistic} {shown(trigger.statistic, value[0])}"
                        + (f", {level} CI {number(value[1])}–{number(value[2])}" if math.isfinite(value[1]) else "")
                        + f"). Declared action: {trigger.action.replace('_', ' ')} — {ACTION_TEXT[trigger.action]}.")
            verdict = gates.FAIL
            if not_judged:
                sentence += f" Not judged in window(s) {not_judged}."
        else:
            _, subject, where, value = worst
            of_text = f" ({subject})" if trigger.of == "any_feature" else ""
            closest = (f"the window closest to firing is {where}{of_text} with {trigger.statistic} "
                       f"{shown(trigger.statistic, value[0])}"
                       + (f" ({level} CI {number(value[1])}–{number(value[2])})" if math.isfinite(value[1]) else ""))
            if could_fire:
                sentence = (f"Not judged in window(s) {not_judged}: the trigger could have fired there. "
                            f"It did not fire in the windows judged; {closest}.")
                verdict = gates.INSUFFICIENT
                blocks = False
            else:
                sentence = f"Did not fire; {closest}." + (
                    f" Not judged in window(s) {not_judged}, which could not have made it fire." if not_judged else "")
                verdict = gates.PASS
        judged.append(gates.Gate(trigger.id, "drift", subject_text, rule, verdict, estimate=value[0], lower=value[1],
                                 upper=value[2], blocks=blocks, can_block=trigger.action in BLOCKING_ACTIONS,
                                 sentence=sentence))
    # the sentences are reviewer-facing: counts in the reasons of undefined statistics follow the small-cell rule
    threshold = study.study.small_cell_threshold
    return [gates.Gate(**{**g.__dict__, "sentence": suppression.suppress_text(g.sentence, threshold)}) for g in judged]
