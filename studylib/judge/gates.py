"""Gates: pre-declared rules judged on interval bounds, with a verdict and one plain sentence.

A gate's verdict is PASS, FAIL or INSUFFICIENT_EVIDENCE (the quantity could not be estimated, e.g. a
subgroup without positives; or its interval is degenerate). A study passes only when no blocking gate
is FAIL or INSUFFICIENT_EVIDENCE. A check whose inputs the plan does not declare is NOT_CHECKED: it is
listed with the reason everywhere gates are, blocks nothing, and is never a PASS.

Each rule is a test (the convention of ICH E9, section 5.5 and its non-inferiority practice): a rule
on the lower bound of a two-sided ``1 − alpha`` interval (``at_least``, ``versus: baseline``,
``relative_to`` with ``max_below``) is a one-sided test at ``alpha / 2`` (2.5 % for the default 95 %
interval) of the null hypothesis that the requirement is not met; on the upper bound likewise;
``interval_within: [a, b]`` is two one-sided tests (TOST) at ``alpha / 2`` per side; a rule on the
point estimate is no test. :func:`test_level` states it and every gate carries it (``Gate.test``).
A criterion may declare its own ``interval_level`` (default ``1 − analysis.alpha``).

References
----------
.. [1] ICH E9. Statistical principles for clinical trials. International Council for Harmonisation;
   1998. Section 5.5 (one-sided tests at half the two-sided level; non-inferiority by confidence interval).
.. [2] Schuirmann DJ. A comparison of the two one-sided tests procedure and the power approach for
   assessing the equivalence of average bioavailability. J Pharmacokinet Biopharm. 1987;15(6):657-680.
   doi:10.1007/BF01068419
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studylib import formatting
from studylib.plan import LOWER_IS_BETTER, Criterion
from studylib.stats import Estimate

PASS, FAIL, INSUFFICIENT = "PASS", "FAIL", "INSUFFICIENT_EVIDENCE"
#: the verdicts of a rule that was judged (or could not be)
VERDICTS = (PASS, FAIL, INSUFFICIENT)
#: a check that did not apply (its inputs are not declared): listed with the reason, blocks nothing
NOT_CHECKED = "NOT_CHECKED"
STATUSES = (*VERDICTS, NOT_CHECKED)


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
    test: str = ""  # the test the rule is, e.g. "one-sided test at 2.5%" (:func:`test_level`)
    #: declared blocking (a criterion, a blocking subgroup gate, a trigger whose action is revalidate or
    #: suspend); None: the same as ``blocks``. A drift trigger that could not be judged counts toward no
    #: verdict (``blocks`` False) and can still block (``can_block`` True): reports say both.
    can_block: bool | None = None

    def __post_init__(self):
        if self.verdict not in STATUSES:
            raise ValueError(f"gate {self.id}: verdict must be one of {STATUSES}; got {self.verdict!r}")
        if self.verdict == NOT_CHECKED and self.blocks:
            raise ValueError(f"gate {self.id}: a check that was not performed cannot block")
        object.__setattr__(self, "can_block", bool(self.blocks or self.can_block))  # what blocks can block

    @property
    def blocking_failure(self) -> bool:
        return self.blocks and self.verdict != PASS


def check(id: str, stage: str, subject: str, passed: bool, *, rule: str, sentence: str = "", blocks: bool = True) -> Gate:
    """A gate on a yes/no check (e.g. "no patient in two splits")."""
    return Gate(id, stage, subject, rule, PASS if passed else FAIL, blocks=blocks, sentence=sentence,
                test="check on every record (no sampling)")


def not_checked(id: str, stage: str, subject: str, *, reason: str) -> Gate:
    """A check that was not performed because its inputs are not declared: NOT_CHECKED with the reason."""
    return Gate(id, stage, subject, "not checked", NOT_CHECKED, blocks=False, sentence=f"Not checked: {reason}.")


def interval_alpha(criterion: Criterion, alpha: float) -> float:
    """The alpha of the two-sided interval ``criterion`` is judged on: ``1 − interval_level`` when it
    declares one, else the study's ``alpha``."""
    level = getattr(criterion, "interval_level", None)
    return alpha if level is None else round(1 - level, 12)


def test_level(criterion: Criterion, alpha: float = 0.05) -> str:
    """The test a rule on a two-sided ``1 − alpha`` interval is, in words (ICH E9 convention).

    Examples
    --------
    >>> from studylib.plan import Criterion
    >>> test_level(Criterion(id="A", metric="auroc", bound="lower", at_least=0.7))
    'one-sided test at 2.5%'
    >>> test_level(Criterion(id="B", metric="calibration_slope", interval_within=(0.8, 1.2)))
    'TOST: two one-sided tests at 2.5% each'
    """
    side = f"{100 * alpha / 2:g}%"
    if criterion.versus is not None:
        return f"one-sided non-inferiority test at {side}"
    if criterion.interval_within is not None:
        return f"TOST: two one-sided tests at {side} each"
    if getattr(criterion, "relative_to", None) is not None:
        return f"one-sided test at {side}"
    bound, _, op = one_sided_rule(criterion)
    if bound == "estimate":
        return "no test: judged on the point estimate (no error control)"
    if (bound == "lower") == (op == ">="):
        return f"one-sided test at {side}"
    return (f"one-sided test at {side} of missing the requirement (passes unless the interval shows it is "
            "missed)")


def identical(estimate: Estimate) -> bool:
    """Candidate − baseline is exactly 0 with standard error exactly 0: the two models agree on every
    patient (the same ranking for AUROC, the same probabilities for Brier), so there is no difference
    and no sampling variability of the difference."""
    return estimate.se == 0.0 and math.isfinite(estimate.estimate) and abs(estimate.estimate) <= 1e-12


def degenerate(estimate: Estimate) -> bool:
    """A defined estimate whose interval has zero width: its variance estimate is 0, which shows a
    method at its limit, not certainty (e.g. a Wald interval at a boundary)."""
    return estimate.defined and estimate.lower == estimate.upper


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
    (:data:`studylib.plan.LOWER_IS_BETTER`, e.g. Brier) iff its upper bound is < +m.

    What cannot be judged is INSUFFICIENT_EVIDENCE with the reason, never PASS: an undefined estimate,
    or a zero-width interval (:func:`degenerate`). One exception is stated in the sentence: for
    ``versus: baseline`` a difference of exactly 0 with standard error 0 (:func:`identical`: the
    candidate ranks every patient exactly as the baseline) is non-inferior by any margin: PASS.

    ``alpha`` is the study's; a criterion's own ``interval_level`` overrides it (:func:`interval_alpha`),
    and ``estimate`` must then be the interval at that level. The gate's ``test`` is
    :func:`test_level` (e.g. a lower-bound rule on a 95 % interval is a one-sided test at 2.5 %).
    """
    alpha = interval_alpha(criterion, alpha)
    level = formatting.confidence_level(alpha)
    subject = subject or criterion.metric
    common = dict(id=criterion.id, stage=stage, subject=subject, estimate=estimate.estimate,
                  lower=estimate.lower, upper=estimate.upper, blocks=blocks, test=test_level(criterion, alpha))
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
    if criterion.versus is not None and identical(estimate):
        return Gate(rule=rule, verdict=PASS, sentence=(
            f"{subject} is exactly 0 with standard error 0: the candidate agrees with the baseline on every "
            f"patient, so it is not worse by any margin (non-inferior; no test is needed)."), **common)
    if not estimate.defined:
        reason = estimate.reason or "the quantity could not be estimated"
        return Gate(rule=rule, verdict=INSUFFICIENT, sentence=f"{subject} could not be judged: {reason}.", **common)
    if degenerate(estimate):
        return Gate(rule=rule, verdict=INSUFFICIENT, sentence=(
            f"{subject} could not be judged: its {level} interval has zero width "
            f"({formatting.number(estimate.lower, tiny=0)} to {formatting.number(estimate.upper, tiny=0)}), "
            "a variance estimate of 0 that shows the method at its limit, not certainty."), **common)
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
    """The gates as a DataFrame (id, subject, estimate, lower, upper, rule, test, verdict, blocks, sentence)."""
    import pandas as pd

    columns = ["id", "subject", "estimate", "lower", "upper", "rule", "test", "verdict", "blocks", "sentence"]
    return pd.DataFrame([{c: (g.get(c, "") if isinstance(g, dict) else getattr(g, c)) for c in columns}
                         for g in judged], columns=columns)
