"""Subgroup gates: the rule of one gate on one subgroup's estimate, and how its verdict is worded.

A gate of the plan's ``subgroups.gates`` is judged in every subgroup. An *absolute* gate (``at_least``,
``at_most``, ``interval_within``, ``versus: baseline``) is an acceptance criterion judged by
:func:`studylib.judge.gates.judge`. A *relative* gate compares an interval bound with a reference value
and a margin (:func:`judge_relative`): ``relative_to: overall`` against the overall estimate (taken as
fixed), ``relative_to: reference`` against 0 on the level − reference difference. What cannot be judged
is INSUFFICIENT_EVIDENCE with the reason, and blocks the release unless the gate says
``insufficient_evidence_blocks: false`` (:func:`apply_insufficient_policy`); an estimate that would
disclose a small cell is withheld from the gate while its verdict stands (:func:`withhold_estimate`).

Which estimate is judged in which subgroup, against which reference value, is decided by the stage
(:mod:`studylib.stages.subgroups.judging`), which owns the subgroup tables; the rules are here.
"""

from __future__ import annotations

import math

from studylib import formatting
from studylib.judge import gates
from studylib.judge.gates import Gate
from studylib.plan import SubgroupGate
from studylib.stats import Estimate

STAGE = "subgroups"


def with_changes(gate: Gate, **changes) -> Gate:
    """A copy of a judged gate with some fields changed."""
    return Gate(**{**gate.__dict__, **changes})


def judge_absolute(gate: SubgroupGate, estimate: Estimate, *, subject: str, alpha: float) -> Gate:
    """An absolute gate (a bound against a fixed value, or candidate − baseline) on one subgroup's estimate.

    An undefined estimate without a reason is INSUFFICIENT_EVIDENCE because "the interval could not be
    computed"; otherwise :func:`studylib.judge.gates.judge` decides.
    """
    if not estimate.defined and not estimate.reason:
        estimate = Estimate.undefined("the interval could not be computed")
    return gates.judge(gate, estimate, stage=STAGE, subject=subject, alpha=alpha)


def judge_relative(gate: SubgroupGate, estimate: Estimate, *, reference: float, subject: str, alpha: float,
                   undefined_reason: str = "") -> Gate:
    """A relative gate: ``lower bound >= reference − max_below`` or ``upper bound <= reference + max_above``.

    Parameters
    ----------
    gate : SubgroupGate
        The plan's gate (``relative_to`` set, exactly one of ``max_below`` / ``max_above``).
    estimate : Estimate
        The judged quantity with its interval (the subgroup's metric, or its difference from the
        reference level).
    reference : float
        The value the margin is taken from: the overall estimate (``relative_to: overall``; the rule
        reads e.g. ``"lower 95% bound >= overall 0.812 − 0.05"``), or 0 for a difference from the
        reference level (``relative_to: reference``).
    subject : str
        What is judged, for the sentence.
    alpha : float
        The intervals are ``1 − alpha`` intervals.
    undefined_reason : str, optional
        Why the gate cannot be judged although the estimate may be defined (e.g. the overall estimate
        is undefined); INSUFFICIENT_EVIDENCE with this reason.

    Returns
    -------
    Gate
        PASS or FAIL with a sentence giving the bound and the required value, or INSUFFICIENT_EVIDENCE
        (also for a zero-width interval). ``test``: a one-sided test at ``alpha / 2`` (ICH E9).
    """
    alpha = gates.interval_alpha(gate, alpha)
    level_text = formatting.confidence_level(alpha)
    # rule and sentence reach results JSON: three decimals, and "nan" for an undefined overall estimate, as ever
    against = (f"overall {formatting.number(reference, tiny=0, undefined='nan')}" if gate.relative_to == "overall"
               else "0 (no difference from the reference)")
    below = gate.max_below is not None
    margin = gate.max_below if below else gate.max_above
    common = dict(id=gate.id, stage=STAGE, subject=subject, estimate=estimate.estimate,
                  lower=estimate.lower, upper=estimate.upper, test=gates.test_level(gate, alpha))
    if below:
        target = reference - margin
        rule = f"lower {level_text} bound >= {against} − {margin:g}"
        value, passed, op = estimate.lower, estimate.lower >= target, ">="
        name = f"lower {level_text} bound"
    else:
        target = reference + margin
        rule = f"upper {level_text} bound <= {against} + {margin:g}"
        value, passed, op = estimate.upper, estimate.upper <= target, "<="
        name = f"upper {level_text} bound"
    if not undefined_reason and gates.degenerate(estimate):
        undefined_reason = "its interval has zero width (a variance estimate of 0), which shows the method at its limit"
    if undefined_reason or not estimate.defined:
        reason = undefined_reason or "the quantity could not be estimated"
        return Gate(rule=rule, verdict=gates.INSUFFICIENT, sentence=f"{subject} could not be judged: {reason}.",
                    **common)
    wording = "meets" if passed else "does not meet"
    sentence = (f"The {name} of {subject} ({formatting.number(value, tiny=0)}) {wording} the required {op} "
                f"{formatting.number(target, tiny=0)}.")
    return Gate(rule=rule, verdict=gates.PASS if passed else gates.FAIL, sentence=sentence, **common)


def apply_insufficient_policy(verdict: Gate, gate: SubgroupGate, hint: str = "") -> Gate:
    """An INSUFFICIENT_EVIDENCE verdict gets the sample-size ``hint`` (if any) and the plan's blocking policy.

    It blocks the release unless the gate says ``insufficient_evidence_blocks: false``; the sentence
    says which. Other verdicts are returned unchanged.
    """
    if verdict.verdict != gates.INSUFFICIENT:
        return verdict
    if hint:
        verdict = with_changes(verdict, sentence=f"{verdict.sentence} {hint}")
    blocks = gate.insufficient_evidence_blocks
    note = ("Blocks the release (the plan says insufficient evidence blocks)." if blocks else
            "Does not block the release (insufficient_evidence_blocks: false).")
    return with_changes(verdict, blocks=blocks, sentence=f"{verdict.sentence} {note}")


def withhold_estimate(verdict: Gate, *, subject: str, threshold: int) -> Gate:
    """A PASS or FAIL whose estimate would disclose a count below ``threshold``: the estimate and bounds
    become NaN and the sentence says why; the verdict stands. INSUFFICIENT_EVIDENCE is returned unchanged."""
    if verdict.verdict == gates.INSUFFICIENT:
        return verdict
    wording = "meets" if verdict.verdict == gates.PASS else "does not meet"
    return with_changes(verdict, estimate=math.nan, lower=math.nan, upper=math.nan,
                        sentence=f"{subject} {wording} the rule ({verdict.rule}); its estimate is withheld "
                                 f"because it would disclose a count below {threshold} (small-cell suppression).")
