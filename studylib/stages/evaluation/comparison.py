"""The paired comparison of the candidate with the locked baseline on the same patients: DeLong for the
AUROCs, McNemar with Newcombe's paired interval for the calls at the operating threshold, and the paired
Brier difference.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from studylib import stats
from studylib.plan import Study
from studylib.stats import Estimate
from studylib.stats.brier import brier_difference, brier_difference_p_value


@dataclass(frozen=True)
class Comparison:
    """Candidate against the locked baseline on the same patients.

    Attributes
    ----------
    auroc : studylib.stats.DeLongTest
        Paired DeLong test of the AUROCs (candidate − baseline).
    sensitivity, specificity, accuracy : studylib.stats.McNemarResult
        McNemar test of the paired correct calls at the operating threshold: among the positives
        (sensitivity), among the negatives (specificity), among everyone (accuracy); the
        ``difference`` is candidate − baseline with Newcombe's paired score interval.
    brier : Estimate
        Paired Brier difference candidate − baseline (negative: the candidate is better).
    """

    auroc: stats.DeLongTest
    sensitivity: stats.McNemarResult
    specificity: stats.McNemarResult
    accuracy: stats.McNemarResult
    brier: Estimate

    def differences(self) -> dict[str, Estimate]:
        """Candidate − baseline for every metric with a paired comparison (:data:`studylib.plan.PAIRED_METRICS`)."""
        t = self.auroc
        auroc = Estimate(t.diff, t.lower, t.upper, t.se, t.method, t.reason)
        return {"auroc": auroc, "sensitivity": self.sensitivity.difference,
                "specificity": self.specificity.difference, "accuracy": self.accuracy.difference,
                "brier": self.brier}

    def p_values(self) -> dict[str, float]:
        """Two-sided p-values of "no difference" (DeLong z test, McNemar tests, paired Brier z test)."""
        return {"auroc": self.auroc.p_value, "sensitivity": self.sensitivity.p_value,
                "specificity": self.specificity.p_value, "accuracy": self.accuracy.p_value,
                "brier": brier_difference_p_value(self.brier)}

    def tests(self) -> dict[str, str]:
        """Which method produced each difference's interval and which its p-value.

        For sensitivity, specificity and accuracy they are different methods: the interval is
        Newcombe's paired score interval, the p-value McNemar's test (``analysis.mcnemar``, mid-p by
        default); the interval is not the inversion of the test, so near 0 they can disagree.
        """
        mc = f"interval: Newcombe paired score; p: McNemar {self.sensitivity.method} test"
        return {"auroc": "interval and p: paired DeLong", "sensitivity": mc + ", among positives",
                "specificity": mc + ", among negatives", "accuracy": mc + ", all patients",
                "brier": "interval and p: paired mean difference (z)"}


def compare_with_baseline(y, candidate, baseline, study: Study) -> Comparison:
    """Paired DeLong, McNemar (sensitivity among positives, specificity among negatives, accuracy) and
    the paired Brier difference, candidate − baseline, at the plan's threshold and alpha."""
    analysis = study.analysis
    y = np.asarray(y).astype(bool)
    call_c = np.asarray(candidate) >= analysis.threshold
    call_b = np.asarray(baseline) >= analysis.threshold
    mc = dict(method=analysis.mcnemar, alpha=analysis.alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)  # reasons are carried in the results
        sens = stats.mcnemar(call_c[y], call_b[y], **mc)
        spec = stats.mcnemar(~call_c[~y], ~call_b[~y], **mc)
    acc = stats.mcnemar(call_c == y, call_b == y, **mc)
    return Comparison(
        auroc=stats.delong_test(y.astype(int), candidate, baseline, alpha=analysis.alpha),
        sensitivity=sens, specificity=spec, accuracy=acc,
        brier=brier_difference(y, candidate, baseline, alpha=analysis.alpha),
    )
