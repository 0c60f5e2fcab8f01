"""Judging the evaluation's acceptance criteria: one gate per pre-registered criterion, with a sentence a
reviewer can read without statistics training.

The verdict itself is :func:`studylib.judge.gates.judge` on the criterion's interval bound; this module
chooses the estimate each criterion is judged on (the candidate's, or the paired difference with the
baseline) and writes what was found and why it gives the verdict.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace

from studylib import formatting
from studylib.judge import eligibility, gates
from studylib.plan import LOWER_IS_BETTER, Criterion, Study
from studylib.stats import Estimate

#: plain-language names of the metrics, for tables and verdict sentences
METRIC_NAMES = {
    "sensitivity": "sensitivity", "specificity": "specificity", "ppv": "positive predictive value (PPV)",
    "npv": "negative predictive value (NPV)", "accuracy": "accuracy", "auroc": "AUROC", "auprc": "AUPRC",
    "calibration_slope": "calibration slope", "calibration_in_the_large": "calibration-in-the-large",
    "brier": "Brier score", "oe_ratio": "observed/expected ratio", "lr_pos": "positive likelihood ratio (LR+)",
    "lr_neg": "negative likelihood ratio (LR−)", "prevalence": "prevalence",
}


def plain_sentence(criterion: Criterion, estimate: Estimate, verdict: str, *, alpha: float = 0.05) -> str:
    """One sentence a reviewer can read without statistics training, saying what was found and why it
    gives this verdict."""
    alpha = gates.interval_alpha(criterion, alpha)
    level = formatting.confidence_level(alpha)
    # the sentence reaches results JSON: three decimals, no significant-digit form, "undefined" if undefined
    number = functools.partial(formatting.number, digits=3, tiny=0, undefined="undefined")
    name = METRIC_NAMES.get(criterion.metric, criterion.metric)
    passed = verdict == gates.PASS
    if verdict == gates.INSUFFICIENT:
        if gates.degenerate(estimate):
            return (f"{criterion.id} cannot be judged: the {level} interval of the {name} has zero width "
                    f"({number(estimate.lower)} to {number(estimate.upper)}), a variance estimate of 0 that shows "
                    "the method at its limit, not certainty.")
        reason = estimate.reason or "the quantity could not be estimated on these data"
        return f"{criterion.id} cannot be judged: the {name} could not be estimated ({reason})."
    if criterion.versus is not None and passed and gates.identical(estimate):
        return (f"The candidate's {name} equals the baseline's on these patients with no variability of the "
                f"difference (candidate − baseline exactly 0, standard error 0: the two models agree on every "
                f"patient, e.g. the same ranking), so it is not worse than the baseline by any margin.")
    if criterion.versus is not None:
        m = criterion.non_inferiority_margin
        head = (f"The candidate's {name} minus the baseline's is {number(estimate.estimate, signed=True)} "
                f"({level} CI {number(estimate.lower, signed=True)} to {number(estimate.upper, signed=True)})")
        if criterion.metric in LOWER_IS_BETTER:
            if passed:
                extra = " and below 0, so it is better" if estimate.upper < 0 else ""
                return (f"{head}; the upper bound is below the margin +{m:g}, so the candidate is not worse than the "
                        f"baseline by more than the allowed margin{extra}.")
            return (f"{head}; the upper bound is not below +{m:g}, so the data cannot rule out that the candidate is "
                    "worse than the baseline by more than the allowed margin.")
        if passed:
            extra = "; the whole interval is above 0, so it is better" if estimate.lower > 0 else ""
            return (f"{head}; the lower bound is above −{m:g}, so the candidate is not worse than the baseline by "
                    f"more than the allowed margin{extra}.")
        return (f"{head}; the lower bound is not above −{m:g}, so the data cannot rule out that the candidate is "
                "worse than the baseline by more than the allowed margin.")
    head = (f"The candidate's {name} is {number(estimate.estimate)} ({level} CI {number(estimate.lower)} to "
            f"{number(estimate.upper)})")
    if criterion.interval_within is not None:
        low, high = criterion.interval_within
        if passed:
            return f"{head}; the whole interval lies inside the required range [{low:g}, {high:g}]."
        outside = []
        if not estimate.lower >= low:
            outside.append(f"the lower end {number(estimate.lower)} is below {low:g}")
        if not estimate.upper <= high:
            outside.append(f"the upper end {number(estimate.upper)} is above {high:g}")
        return f"{head}; it does not lie inside the required range [{low:g}, {high:g}]: " + " and ".join(outside) + "."
    bound, target, op = gates.one_sided_rule(criterion)
    need = "at least" if op == ">=" else "at most"
    value = gates.bound_value(estimate, bound)
    which = "the point estimate" if bound == "estimate" else f"the {bound} bound"
    if passed:
        even = "even " if (bound == "lower" and need == "at least") or (bound == "upper" and need == "at most") else ""
        return f"{head}; {even}{which} ({number(value)}) is {need} {target:g}, as required."
    return f"{head}; {which} ({number(value)}) is not {need} {target:g}, so the requirement is not shown to be met."


def judge_acceptance(study: Study, estimates: dict[str, dict[str, Estimate]],
                     differences: dict[str, Estimate], *, counts: eligibility.Counts | None = None,
                     levels: Mapping[float, tuple[dict, dict]] | None = None) -> list[gates.Gate]:
    """Judge every acceptance criterion of the plan (PASS / FAIL / INSUFFICIENT_EVIDENCE).

    ``estimates`` maps model role → metric → Estimate; criteria are judged on the candidate's, or on
    ``differences`` (candidate − baseline) for ``versus: baseline``. Each gate carries the rule, the
    estimate with its interval, the test it is and a plain-language sentence (:func:`plain_sentence`).

    ``counts`` (the cohort's positives, negatives, flagged and unflagged patients): a criterion whose
    metric's counts are below ``analysis.min_positives`` / ``min_negatives``
    (:func:`studylib.judge.eligibility.reason`: positives for sensitivity, negatives for specificity,
    flagged/unflagged for PPV/NPV, both classes otherwise and for every ``versus: baseline``) is
    INSUFFICIENT_EVIDENCE with the reason. ``levels`` maps the alpha of a criterion's own
    ``interval_level`` to ``(estimates, differences)`` at that level.
    """
    judged = []
    analysis = study.analysis
    for criterion in study.acceptance:
        name = METRIC_NAMES.get(criterion.metric, criterion.metric)
        alpha = gates.interval_alpha(criterion, analysis.alpha)
        at_estimates, at_differences = (estimates, differences) if alpha == analysis.alpha else levels[alpha]
        if criterion.versus == "baseline":
            estimate = at_differences.get(criterion.metric) or Estimate.undefined(
                f"no paired comparison with the baseline for {criterion.metric}")
            subject = f"{name}: candidate − baseline"
        else:
            estimate = at_estimates["candidate"][criterion.metric]
            subject = f"{name} (candidate)"
        why = "" if counts is None else eligibility.reason(
            criterion.metric, counts, min_positives=analysis.min_positives, min_negatives=analysis.min_negatives,
            versus=criterion.versus is not None)
        if why and estimate.defined:  # an undefined estimate keeps its own reason (e.g. no positive cases)
            estimate = Estimate.undefined(why, estimate.method)
        if criterion.label:
            subject = f"{criterion.label} — {subject}"
        gate = gates.judge(criterion, estimate, stage="evaluation", subject=subject, alpha=analysis.alpha)
        judged.append(replace(gate, sentence=plain_sentence(criterion, estimate, gate.verdict, alpha=analysis.alpha)))
    return judged
