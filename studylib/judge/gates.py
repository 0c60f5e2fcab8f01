"""Gates: pre-declared rules judged on interval bounds, with a verdict and one plain sentence.

A gate's verdict is PASS, FAIL or INSUFFICIENT_EVIDENCE (the quantity could not be estimated, e.g. a
subgroup without positives). A study passes only when no blocking gate is FAIL or
INSUFFICIENT_EVIDENCE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studylib import formatting
from studylib.plan import LOWER_IS_BETTER, Criterion
from studylib.stats import Estimate

PASS, FAIL, INSUFFICIENT = "PASS", "FAIL", "INSUFFICIENT_EVIDENCE"
VERDICTS = (PASS, FAIL, INSUFFICIENT)


@dataclass(frozen=True)
class Gate:
    """One judged rule."""

    id: str
    stage: str
    subject: str  # what was judged, e.g. "sensitivity (candidate)" or "sex=F: sensitivity"
    rule: str  # the rule in words, e.g. "lower 95% bound >= 0.70"
    verdict: str
    estimate: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    blocks: bool = True
    sentence: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"gate {self.id}: verdict must be one of {VERDICTS}; got {self.verdict!r}")

    @property
    def blocking_failure(self) -> bool:
        return self.blocks and self.verdict != PASS


def check(id: str, stage: str, subject: str, passed: bool, *, rule: str, sentence: str = "", blocks: bool = True) -> Gate:
    """A gate on a yes/no check (e.g. "no patient in two splits")."""
    return Gate(id, stage, subject, rule, PASS if passed else FAIL, blocks=blocks, sentence=sentence)


def one_sided_rule(criterion: Criterion) -> tuple[str, float, str]:
    """``(bound, target, op)`` of an ``at_least`` / ``at_most`` criterion: the bound judged (default
    lower for ``at_least``, upper for ``at_most``), the required value, and ``">="`` or ``"<="``."""
    if criterion.at_least is not None:
        return criterion.bound or "lower", criterion.at_least, ">="
    return criterion.bound or "upper", criterion.at_most, "<="


def bound_value(estimate: Estimate, bound: str) -> float:
    """The ``"lower"``, ``"upper"`` or ``"estimate"`` value of an estimate."""
    return {"lower": estimate.lower, "upper": estimate.upper, "estimate": estimate.estimate}[bound]


def judge(criterion: Criterion, estimate: Estimate, *, stage: str, subject: str | None = None,
          alpha: float = 0.05, blocks: bool = True) -> Gate:
    """Judge an acceptance criterion against an estimate and its interval.

    Rules: ``at_least`` x passes iff the chosen bound (default: lower) is >= x; ``at_most`` x passes iff
    the chosen bound (default: upper) is <= x; ``interval_within: [a, b]`` passes iff a <= lower and
    upper <= b; ``versus: baseline`` with margin m is judged on the estimate of candidate − baseline and
    passes iff its lower bound is > −m (non-inferiority); for a metric where smaller is better
    (:data:`studylib.plan.LOWER_IS_BETTER`, e.g. Brier) iff its upper bound is < +m. An undefined
    estimate gives INSUFFICIENT_EVIDENCE.
    """
    level = formatting.confidence_level(alpha)
    subject = subject or criterion.metric
    common = dict(id=criterion.id, stage=stage, subject=subject, estimate=estimate.estimate,
                  lower=estimate.lower, upper=estimate.upper, blocks=blocks)
    if criterion.versus is not None and criterion.metric in LOWER_IS_BETTER:
        margin = criterion.non_inferiority_margin
        rule = f"upper {level} bound of candidate − baseline < +{margin:g} (smaller is better)"
        value, name, passed = estimate.upper, "upper bound of the difference", estimate.upper < margin
        wording = f"is below the non-inferiority margin +{margin:g}" if passed else f"is not below +{margin:g}"
    elif criterion.versus is not None:
        margin = criterion.non_inferiority_margin
        rule = f"lower {level} bound of candidate − baseline > −{margin:g}"
        value, name, passed = estimate.lower, "lower bound of the difference", estimate.lower > -margin
        wording = f"is above the non-inferiority margin −{margin:g}" if passed else f"does not exceed −{margin:g}"
    elif criterion.interval_within is not None:
        low, high = criterion.interval_within
        rule = f"{level} interval within [{low:g}, {high:g}]"
        passed = estimate.lower >= low and estimate.upper <= high
        value, name = estimate.estimate, "estimate"
        shown = f"[{formatting.number(estimate.lower, tiny=0)}, {formatting.number(estimate.upper, tiny=0)}]"
        wording = (f"has its {level} interval {shown} "
                   f"{'inside' if passed else 'not inside'} [{low:g}, {high:g}]")
    else:
        bound, target, op = one_sided_rule(criterion)
        value = bound_value(estimate, bound)
        name = f"{bound} {level} bound" if bound != "estimate" else "point estimate"
        rule = f"{name} {op} {target:g}"
        passed = value >= target if op == ">=" else value <= target
        wording = f"{'meets' if passed else 'does not meet'} the required {op} {target:g}"
    if not estimate.defined:
        reason = estimate.reason or "the quantity could not be estimated"
        return Gate(rule=rule, verdict=INSUFFICIENT, sentence=f"{subject} could not be judged: {reason}.", **common)
    if criterion.interval_within is not None:
        sentence = f"{subject} ({formatting.number(value, tiny=0)}) {wording}."
    else:
        sentence = f"The {name} of {subject} ({formatting.number(value, tiny=0)}) {wording}."
    return Gate(rule=rule, verdict=PASS if passed else FAIL, sentence=sentence, **common)


def overall(gates) -> str:
    """PASS when no blocking gate failed or lacked evidence; otherwise FAIL or INSUFFICIENT_EVIDENCE."""
    blocking = [g for g in gates if _get(g, "blocks")]
    verdicts = {_get(g, "verdict") for g in blocking}
    if FAIL in verdicts:
        return FAIL
    if INSUFFICIENT in verdicts:
        return INSUFFICIENT
    return PASS


def _get(gate, name):
    return gate[name] if isinstance(gate, dict) else getattr(gate, name)


def table(judged):
    """The gates as a DataFrame (id, subject, estimate, lower, upper, rule, verdict, blocks, sentence)."""
    import pandas as pd

    columns = ["id", "subject", "estimate", "lower", "upper", "rule", "verdict", "blocks", "sentence"]
    return pd.DataFrame([{c: _get(g, c) for c in columns} for g in judged], columns=columns)
