"""Retrospective evaluation: performance at the operating point, discrimination, calibration, and the
paired comparison with the locked baseline, judged against the pre-registered acceptance criteria."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import gates, stats
from studylib.params import Study
from studylib.stats import Estimate

#: metrics judged on the interval of a proportion from the 2×2 table
PROPORTION_METRICS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")


def analysis_rows(cohort: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The rows the evaluation analyses: the declared split of the frozen cohort (all rows if none)."""
    if study.analysis.split is None:
        return cohort
    return cohort[cohort[study.data.split] == study.analysis.split].reset_index(drop=True)


def labels_and_scores(frame: pd.DataFrame, study: Study) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The outcome as 0/1 and each model's score, refusing missing values with the ids affected."""
    out = {}
    columns = {"outcome": study.data.outcome, **study.score_columns}
    for role, column in columns.items():
        missing = frame[column].isna().to_numpy()
        if missing.any():
            ids = frame.loc[missing, study.data.id].astype(str).tolist()
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            raise ValueError(
                f"{role} column '{column}' has {len(ids)} missing value(s) in the analysis cohort (ids {shown}); "
                "add a cohort step that excludes them (e.g. {column: " + column + ", op: 'not null'}) so they are reported"
            )
        out[role] = frame[column].to_numpy(dtype=float)
    y = out.pop("outcome")
    return y.astype(int), out


def metric_estimates(y, score, study: Study, *, model: str = "candidate") -> dict[str, Estimate]:
    """Every metric an acceptance criterion may name, each as an :class:`Estimate` with its interval."""
    analysis = study.analysis
    binary = stats.binary_metrics(y, score, analysis.threshold, alpha=analysis.alpha, method=analysis.ci_method)
    out = {name: getattr(binary, name) for name in PROPORTION_METRICS}
    out["auroc"] = stats.auroc(y, score, alpha=analysis.alpha)
    out["auprc"] = stats.auprc(y, score, alpha=analysis.alpha, n_resamples=analysis.n_bootstrap, seed=analysis.seed)
    try:
        calibration = stats.calibration(y, score, alpha=analysis.alpha)
    except ValueError as exc:
        raise ValueError(f"calibration of the {model} model: {exc}") from None
    out["calibration_slope"] = calibration.slope
    out["calibration_in_the_large"] = calibration.citl
    out["oe_ratio"] = calibration.oe_ratio
    out["brier"] = stats.bootstrap_ci(
        lambda yy, pp: np.mean((pp - yy) ** 2), y, score, n_resamples=analysis.n_bootstrap,
        alpha=analysis.alpha, seed=analysis.seed)
    return out


def baseline_differences(y, candidate, baseline, study: Study) -> dict[str, Estimate]:
    """Candidate − baseline on the same patients: AUROC by paired DeLong."""
    test = stats.delong_test(y, candidate, baseline, alpha=study.analysis.alpha)
    return {"auroc": Estimate(test.diff, test.lower, test.upper, test.se, "delong-paired",
                              "" if math.isfinite(test.diff) else "difference undefined")}


def judge_acceptance(study: Study, estimates: dict[str, dict[str, Estimate]],
                     differences: dict[str, Estimate]) -> list[gates.Gate]:
    """Judge every acceptance criterion of the plan (PASS / FAIL / INSUFFICIENT_EVIDENCE).

    ``estimates`` maps model role → metric → Estimate; criteria are judged on the candidate's.
    """
    judged = []
    for criterion in study.acceptance:
        if criterion.versus == "baseline":
            estimate = differences.get(criterion.metric) or Estimate.undefined(
                f"no paired comparison is implemented for {criterion.metric}")
            subject = f"{criterion.metric} (candidate − baseline)"
        else:
            estimate = estimates["candidate"][criterion.metric]
            subject = f"{criterion.metric} (candidate)"
        judged.append(gates.judge(criterion, estimate, stage="evaluation", subject=subject, alpha=study.analysis.alpha))
    return judged


def estimates_table(estimates: dict[str, dict[str, Estimate]]) -> pd.DataFrame:
    """Tidy table (model, metric, estimate, lower, upper, method) of the estimates of each model."""
    rows = [{"model": model, "metric": metric, "estimate": e.estimate, "lower": e.lower, "upper": e.upper,
             "method": e.method} for model, by_metric in estimates.items() for metric, e in by_metric.items()]
    return pd.DataFrame(rows)
