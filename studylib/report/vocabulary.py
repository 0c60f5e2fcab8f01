"""The one reviewer vocabulary: readable names of metrics, statistics, verdicts and actions, and the
glossary printed on the summary page.

Machine names (``oe_ratio``, ``p_adjusted``, ``any_feature``, ``INSUFFICIENT_EVIDENCE``,
``clinical_review``) stay in the parameter file and in the results JSON; every text a reviewer reads
on a page goes through :func:`metric`, :func:`verdict`, :func:`action` or :func:`readable` here.
"Blocks release" has one meaning everywhere: :func:`blocks` says whether the gate blocks the release
*now* (it is blocking and did not pass); :func:`can_block` whether it is declared able to.
"""

from __future__ import annotations

import re

#: readable names of the metrics and statistics of the plan's vocabulary (studylib.plan.vocabulary)
METRICS = {
    "sensitivity": "sensitivity", "specificity": "specificity", "ppv": "PPV", "npv": "NPV",
    "accuracy": "accuracy", "auroc": "AUROC", "auprc": "AUPRC", "prevalence": "prevalence",
    "calibration_slope": "calibration slope", "calibration_in_the_large": "calibration-in-the-large",
    "brier": "Brier score", "oe_ratio": "O/E ratio", "auroc_vs_baseline": "AUROC difference (candidate − baseline)",
    "psi": "PSI", "ks": "KS statistic", "p_value": "p", "p_adjusted": "adjusted p", "missing_rate": "missing rate",
    "missing_change": "change in missing rate", "alert_rate": "alert rate", "mean_score": "mean score",
    "any_feature": "any feature", "score": "score",
    "auroc_difference": "AUROC difference (shadow − deployed)",
    "flag_rate_difference": "flag-rate difference (shadow − deployed)", "discordance_rate": "discordance rate",
    "mcnemar_p": "McNemar p", "shadow": "shadow candidate",
}
#: verdicts and trigger states as words (the colour of a verdict cell is keyed by the machine name)
VERDICTS = {
    "PASS": "pass", "FAIL": "fail", "INSUFFICIENT_EVIDENCE": "insufficient evidence",
    "NOT_CHECKED": "not checked", "NOT CHECKED": "not checked", "ERROR": "error",
    "FIRED": "fired", "NOT_FIRED": "not fired", "NOT FIRED": "not fired",
}
#: the mark shown before a verdict, so that it reads without colour
MARKS = {"PASS": "✔", "FAIL": "✘", "INSUFFICIENT_EVIDENCE": "?", "ERROR": "✘", "FIRED": "⚑"}
#: actions a drift trigger may declare (studylib.plan.vocabulary.ACTIONS)
ACTIONS = {"investigate": "investigate", "clinical_review": "clinical review", "revalidate": "revalidate",
           "suspend": "suspend the model", "activate_shadow": "shadow eligible for activation",
           "stop_shadow": "stop the shadow"}
#: stage names as headings
STAGES = {"cohort": "Cohort", "evaluation": "Evaluation", "subgroups": "Subgroups", "drift": "Drift"}

#: the glossary of the summary page: term → meaning
GLOSSARY = {
    "Gate": "A rule declared in the parameter file before the results were seen (an acceptance criterion, "
            "a subgroup gate, a cohort check or a drift trigger), judged on this run.",
    "Pass / fail": "Judged on the confidence interval, not the point estimate: e.g. \"lower 95% bound ≥ 0.70\" "
                   "passes only when the whole interval lies above 0.70.",
    "Insufficient evidence": "The data cannot judge the rule (too few patients with or without the outcome, "
                             "or an estimate that is undefined); never counted as a pass.",
    "Not checked": "The rule was declared but not judged on this run (e.g. its stage did not run); the reason "
                   "is given.",
    "Blocks: yes": "The gate is blocking and did not pass: it holds the release back now.",
    "Can block": "The gate is declared blocking: a failure (or, where declared, insufficient evidence) would "
                 "hold the release back.",
    "Fired / not fired": "A drift trigger fires when its rule holds in the windows it names; each names the "
                         "action the team declared in advance.",
    "O/E ratio": "Observed over expected events: the number of patients with the outcome divided by the sum "
                 "of the predicted risks (1 ideal; above 1 the model under-predicts).",
    "Calibration slope": "Slope of the outcome on the logit of the predicted risk (1 ideal; below 1 the "
                         "predictions are too extreme).",
    "Calibration-in-the-large": "Intercept with the logit of the predicted risk as offset (0 ideal; above 0 the "
                                "model under-predicts).",
    "AUROC": "Area under the ROC curve: the probability that a patient with the outcome scores higher than one "
             "without it.",
    "PPV / NPV": "Positive / negative predictive value at the operating threshold; they depend on prevalence.",
    "PSI": "Population stability index of a distribution against the reference window (above 0.25: a large "
           "shift, by convention).",
    "Adjusted p": "A p-value adjusted for multiple testing by the plan's method (Holm or Benjamini–Hochberg).",
    "withheld (<5)": "A count below the small-cell threshold, or a number that would disclose one, is not shown.",
}

_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b(?:auroc|auprc|ppv|npv|psi|ks|brier)\b")
_OF = re.compile(r"\b(p_adjusted|p_value|psi|ks|missing_rate|missing_change)\s+of\s+([A-Za-z_][\w]*)")


def metric(name: str) -> str:
    """The readable name of a metric or statistic: ``oe_ratio`` → ``O/E ratio``; unknown names unchanged.

    Examples
    --------
    >>> metric("oe_ratio"), metric("calibration_slope"), metric("age")
    ('O/E ratio', 'calibration slope', 'age')
    """
    return METRICS.get(name, name)


def verdict(name: str) -> str:
    """A verdict or trigger state in words: ``INSUFFICIENT_EVIDENCE`` → ``insufficient evidence``.

    Examples
    --------
    >>> verdict("INSUFFICIENT_EVIDENCE"), verdict("NOT CHECKED"), verdict("PASS")
    ('insufficient evidence', 'not checked', 'pass')
    """
    return VERDICTS.get(name, name.replace("_", " ").lower())


def mark(name: str) -> str:
    """The verdict with its mark, upper case, for badges: ``✘ FAIL``, ``? INSUFFICIENT EVIDENCE``.

    Examples
    --------
    >>> mark("FAIL"), mark("INSUFFICIENT_EVIDENCE"), mark("NOT_CHECKED")
    ('✘ FAIL', '? INSUFFICIENT EVIDENCE', '– NOT CHECKED')
    """
    return f"{MARKS.get(name, '–')} {verdict(name).upper()}"


def css_class(name: str) -> str:
    """The CSS class that colours a verdict cell (the same on every page): ``NOT CHECKED`` → ``NOT_CHECKED``."""
    return name.replace(" ", "_").upper()


def action(name: str) -> str:
    """A declared trigger action in words: ``clinical_review`` → ``clinical review``."""
    return ACTIONS.get(name, name.replace("_", " "))


def blocks(gate) -> bool:
    """Whether a gate blocks the release now: it counts toward the verdict (``blocks`` in verdict.json;
    true when absent) and did not pass."""
    return bool(gate.get("blocks", True)) and gate.get("verdict") != "PASS"


def can_block(gate) -> bool:
    """Whether a gate is declared blocking (``can_block`` in verdict.json; runs before it was recorded:
    ``blocks``). A drift trigger declared to revalidate or suspend can block even when it could not be
    judged (it then does not block now)."""
    return bool(gate.get("can_block", gate.get("blocks", True)))


#: the column headers of the two blocking answers, the same in every table of every page
BLOCKS, CAN_BLOCK = "Blocks", "Can block"


def yes_no(flag: bool) -> str:
    """A blocking answer as it reads in a table: ``yes`` / ``no``."""
    return "yes" if flag else "no"


def blocking_columns(gate) -> dict[str, str]:
    """The two blocking answers of a gate object (:class:`studylib.judge.gates.Gate`) as table cells:
    :data:`BLOCKS` (it holds the release back now: declared blocking and not passed) and :data:`CAN_BLOCK`
    (declared blocking)."""
    return {BLOCKS: yes_no(gate.blocking_failure), CAN_BLOCK: yes_no(gate.can_block)}


def words_for(study):
    """:func:`readable` bound to the study's outcome and its declared label."""
    outcome, label = study.data.outcome, outcome_label(study)
    return lambda text: readable(text, outcome=outcome, outcome_label=label)


def readable(text: str, *, outcome: str | None = None, outcome_label: str | None = None) -> str:
    """Reviewer text with the machine names of metrics, statistics and verdicts replaced by words.

    ``p_adjusted of any_feature`` → ``any feature (adjusted p)``; ``oe_ratio`` → ``O/E ratio``;
    ``INSUFFICIENT_EVIDENCE`` → ``insufficient evidence``; ``<outcome> = 1`` → the outcome's declared
    label when one is given.

    Examples
    --------
    >>> readable("p_adjusted of any_feature below 0.05; oe_ratio interval excludes 1; lower bound >= 0.7")
    'any feature (adjusted p) below 0.05; O/E ratio interval excludes 1; lower bound ≥ 0.7'
    >>> readable("positives: death_5y = 1", outcome="death_5y", outcome_label="died within 5 years")
    'positives: died within 5 years'
    """
    if not text:
        return text
    if outcome and outcome_label:
        text = re.sub(rf"\b{re.escape(outcome)}\s*(?:==|=)\s*1\b", outcome_label, text)
    text = _OF.sub(lambda m: f"{metric(m.group(2))} ({metric(m.group(1))})", text)
    for name in ("INSUFFICIENT_EVIDENCE", "NOT_CHECKED", "NOT_FIRED"):
        text = text.replace(name, verdict(name))
    text = text.replace(">=", "≥").replace("<=", "≤")
    return _IDENTIFIER.sub(lambda m: METRICS.get(m.group(0), m.group(0)), text)


def outcome_label(study) -> str | None:
    """The outcome's declared label (its Table 1 label, without a trailing "(outcome)"), or None."""
    outcome = study.data.outcome
    for item in getattr(study.table_one, "categorical", ()) if study.table_one else ():
        column, label = (item, None) if isinstance(item, str) else (item.column, item.label)
        if column == outcome and label:
            return re.sub(r"\s*\(outcome\)\s*$", "", label).strip()
    return None
