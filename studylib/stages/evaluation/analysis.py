"""Retrospective evaluation: performance at the operating point, discrimination, calibration, clinical
utility and the paired comparison with the locked baseline, judged against the pre-registered
acceptance criteria.

Everything here maps the frozen analysis cohort and the study's plan to frozen results; the notebook
``02_evaluation.ipynb`` displays them and :func:`results` turns them into the stage's results JSON.
The one entry point is :func:`evaluate`; the pieces are public so that tests (and the subgroup stage)
can call them on their own.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import ndtri

from studylib import stats
from studylib.judge import gates
from studylib.plan import LOWER_IS_BETTER, METRICS, Criterion, Study
from studylib.stats import Estimate

#: metrics judged on the interval of a proportion from the 2×2 table
PROPORTION_METRICS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")

#: plain-language names of the metrics, for tables and verdict sentences
METRIC_NAMES = {
    "sensitivity": "sensitivity", "specificity": "specificity", "ppv": "positive predictive value (PPV)",
    "npv": "negative predictive value (NPV)", "accuracy": "accuracy", "auroc": "AUROC", "auprc": "AUPRC",
    "calibration_slope": "calibration slope", "calibration_in_the_large": "calibration-in-the-large",
    "brier": "Brier score", "oe_ratio": "observed/expected ratio", "lr_pos": "positive likelihood ratio (LR+)",
    "lr_neg": "negative likelihood ratio (LR−)", "prevalence": "prevalence",
}


class EvaluationInputError(ValueError):
    """The analysis cohort cannot be evaluated as planned (missing scores, probabilities outside [0, 1])."""


# --------------------------------------------------------------------------------------------------
# The rows analysed, their outcome and scores
# --------------------------------------------------------------------------------------------------


def analysis_rows(cohort: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The rows the evaluation analyses: the declared split of the frozen cohort (all rows if none)."""
    if study.analysis.split is None:
        return cohort.reset_index(drop=True)
    return cohort[cohort[study.data.split] == study.analysis.split].reset_index(drop=True)


def _shown(ids: list[str], limit: int = 10) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


@dataclass(frozen=True)
class AnalysisData:
    """The analysed rows with the outcome as 0/1 and each model's score (same patients for every model).

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows analysed (after the declared missing-score rule), index 0..n-1.
    y : numpy.ndarray of int
        The outcome, 0/1.
    scores : dict of str to numpy.ndarray
        Model role (``candidate``, ``baseline``) → predicted risk.
    excluded : pandas.DataFrame
        Rows excluded by ``analysis.missing_scores: exclude``: columns ``id`` and ``reason``.
    """

    frame: pd.DataFrame
    y: np.ndarray
    scores: dict
    excluded: pd.DataFrame

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def positives(self) -> int:
        return int(self.y.sum())


def prepare(frame: pd.DataFrame, study: Study) -> AnalysisData:
    """Outcome and scores of the analysed rows, applying the plan's rule for missing scores.

    Parameters
    ----------
    frame : pandas.DataFrame
        The analysis rows (:func:`analysis_rows`).
    study : Study
        The study; ``analysis.missing_scores`` says what to do with a missing score: ``"error"``
        (default) stops the stage, ``"exclude"`` drops the row from every model's analysis (so that
        the models are still compared on the same patients) and reports it.

    Raises
    ------
    EvaluationInputError
        A missing outcome (always; the cohort stage must exclude those as a declared step), a missing
        score under the ``"error"`` rule, a non-binary outcome, or a predicted probability outside
        [0, 1]. Each message gives the count and the ids of the rows concerned, or names the model.
    """
    id_column, outcome = study.data.id, study.data.outcome
    missing_outcome = frame[outcome].isna().to_numpy()
    if missing_outcome.any():
        ids = frame.loc[missing_outcome, id_column].astype(str).tolist()
        raise EvaluationInputError(
            f"outcome column '{outcome}' has {len(ids)} missing value(s) in the analysis cohort (ids {_shown(ids)}); "
            "add a cohort step that excludes them (e.g. {column: " + outcome + ", op: 'is null'} under drop:) so "
            "that they appear in the participant flow")
    absent = {}
    for role, column in study.score_columns.items():
        absent[role] = frame[column].isna().to_numpy()
        if absent[role].any() and study.analysis.missing_scores == "error":
            ids = frame.loc[absent[role], id_column].astype(str).tolist()
            raise EvaluationInputError(
                f"{role} score column '{column}' has {len(ids)} missing value(s) in the analysis cohort "
                f"(ids {_shown(ids)}); exclude them with a cohort step, or declare analysis.missing_scores: exclude "
                "in the plan to exclude and report them here")
    missing = np.logical_or.reduce(list(absent.values()))
    rows = np.flatnonzero(missing)
    excluded = pd.DataFrame({
        "id": frame[id_column].to_numpy()[rows].astype(str),
        "reason": ["; ".join(f"{role} score missing" for role, a in absent.items() if a[i]) for i in rows],
    }, columns=["id", "reason"])
    kept = frame.loc[~missing].reset_index(drop=True)
    values = kept[outcome].to_numpy(dtype=float)
    bad = (values != 0) & (values != 1)
    if bad.any():
        ids = kept.loc[bad, id_column].astype(str).tolist()
        raise EvaluationInputError(f"outcome column '{outcome}' must be 0 or 1; {len(ids)} row(s) hold other values "
                                   f"(ids {_shown(ids)})")
    scores = {}
    for role, column in study.score_columns.items():
        score = kept[column].to_numpy(dtype=float)
        outside = ~((score >= 0) & (score <= 1))
        if outside.any():
            model = getattr(study.models, role)
            ids = kept.loc[outside, id_column].astype(str).tolist()
            raise EvaluationInputError(
                f"{role} model {model.name} {model.version} (column '{column}'): {len(ids)} predicted "
                f"probabilities outside [0, 1] (min {np.nanmin(score):g}, max {np.nanmax(score):g}; ids "
                f"{_shown(ids)}); calibration, the Brier score and the decision curve need probabilities")
        scores[role] = score
    return AnalysisData(kept, values.astype(int), scores, excluded)


def labels_and_scores(frame: pd.DataFrame, study: Study) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The outcome as 0/1 and each model's score (see :func:`prepare`, whose rules apply)."""
    data = prepare(frame, study)
    return data.y, data.scores


def model_identity(study: Study) -> pd.DataFrame:
    """One row per model (role, name, version, score column, artifact SHA-256) as declared in the plan.

    The artifact hashes are checked against the locked snapshot before the run starts (preflight).
    """
    rows = []
    for role in ("candidate", "baseline"):
        model = getattr(study.models, role)
        if model is not None:
            rows.append({"role": role, "name": model.name, "version": model.version, "score_column": model.score,
                         "artifact_sha256": model.artifact_sha256.removeprefix("sha256:")})
    return pd.DataFrame(rows, columns=["role", "name", "version", "score_column", "artifact_sha256"])


# --------------------------------------------------------------------------------------------------
# Brier score and its paired difference
# --------------------------------------------------------------------------------------------------


def _mean_interval(values: np.ndarray, alpha: float, low: float, high: float, method: str, what: str) -> Estimate:
    n = values.size
    if n < 2:
        return Estimate.undefined(f"{what} needs at least 2 observations; found {n}", method)
    mean = float(values.mean())
    se = float(values.std(ddof=1)) / math.sqrt(n)
    half = float(ndtri(1 - alpha / 2)) * se
    return Estimate(mean, max(low, mean - half), min(high, mean + half), se, method)


def brier_score(y, prob, *, alpha: float = 0.05) -> Estimate:
    """Brier score ``mean((prob - y)^2)`` with a normal-approximation interval.

    Parameters
    ----------
    y : array_like of {0, 1}
        Observed outcomes.
    prob : array_like of float in [0, 1]
        Predicted probabilities.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Estimate
        ``estimate ± z · sd((prob - y)^2) / sqrt(n)`` clipped to [0, 1]; ``method`` ``"wald-mean"``.
        Undefined (with the reason) when ``n < 2``.

    Notes
    -----
    The Brier score is the mean of independent squared errors, so by the central limit theorem its
    sampling distribution is normal with the standard error of a mean (Bradley et al. 2008). It costs
    one pass over the data (a bootstrap of the same mean costs ``n_bootstrap`` passes and gives the
    same interval to within its Monte Carlo error for the sample sizes of a validation study). With
    very few observations or events the interval can be too narrow.

    References
    ----------
    .. [1] Brier GW. Verification of forecasts expressed in terms of probability. Mon Weather Rev.
       1950;78(1):1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [2] Bradley AA, Schwartz SS, Hashino T. Sampling uncertainty and confidence intervals for the
       Brier score and Brier skill score. Weather Forecast. 2008;23(5):992-1006.
       doi:10.1175/2007WAF2007049.1

    Examples
    --------
    >>> e = brier_score([0, 1, 0, 1], [0.1, 0.9, 0.3, 0.7])
    >>> round(e.estimate, 4)
    0.05
    """
    y = np.asarray(y, dtype=float)
    prob = np.asarray(prob, dtype=float)
    return _mean_interval((prob - y) ** 2, alpha, 0.0, 1.0, "wald-mean", "the Brier score interval")


def brier_difference(y, prob_a, prob_b, *, alpha: float = 0.05) -> Estimate:
    """Paired difference of Brier scores ``Brier(a) - Brier(b)`` on the same patients, with its interval.

    Parameters
    ----------
    y : array_like of {0, 1}
        Observed outcomes.
    prob_a, prob_b : array_like of float in [0, 1]
        The two models' predicted probabilities for the same patients, in the same order.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Estimate
        Mean of the per-patient differences ``d = (a - y)^2 - (b - y)^2`` with ``mean ± z · sd(d) /
        sqrt(n)``, clipped to [-1, 1]; ``method`` ``"paired-wald-mean"``. Negative: ``a`` is better.

    Notes
    -----
    The paired per-patient differences keep the correlation between the two models' errors, as in
    Redelmeier et al.'s paired comparison of Brier scores; a normal approximation to the mean of the
    differences is used (their test statistic is the same z).

    References
    ----------
    .. [1] Redelmeier DA, Bloch DA, Hickam DH. Assessing predictive accuracy: how to compare Brier
       scores. J Clin Epidemiol. 1991;44(11):1141-1146. doi:10.1016/0895-4356(91)90146-Z

    Examples
    --------
    >>> round(brier_difference([0, 1], [0.2, 0.8], [0.4, 0.6]).estimate, 4)
    -0.12
    """
    y = np.asarray(y, dtype=float)
    a = np.asarray(prob_a, dtype=float)
    b = np.asarray(prob_b, dtype=float)
    return _mean_interval((a - y) ** 2 - (b - y) ** 2, alpha, -1.0, 1.0, "paired-wald-mean",
                          "the paired Brier difference")


# --------------------------------------------------------------------------------------------------
# One model's performance
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelResult:
    """Everything measured for one model on the analysis cohort.

    Attributes
    ----------
    role : str
        ``"candidate"`` or ``"baseline"``.
    binary : studylib.stats.BinaryMetrics
        2×2 table and the metrics at the operating threshold.
    auroc : Estimate
        AUROC with the DeLong interval.
    auprc : Estimate
        Average precision with a stratified bootstrap interval (``analysis.n_bootstrap``, ``seed``).
    brier : Estimate
        Brier score with its normal-approximation interval (:func:`brier_score`).
    calibration : studylib.stats.Calibration
        CITL, slope, O/E, E-statistics, Spiegelhalter test.
    """

    role: str
    binary: stats.BinaryMetrics
    auroc: Estimate
    auprc: Estimate
    brier: Estimate
    calibration: stats.Calibration

    def estimates(self) -> dict[str, Estimate]:
        """Every metric an acceptance criterion may name (:data:`studylib.plan.METRICS`), plus the
        likelihood ratios and the prevalence."""
        out = {name: getattr(self.binary, name) for name in PROPORTION_METRICS}
        out |= {"auroc": self.auroc, "auprc": self.auprc, "calibration_slope": self.calibration.slope,
                "calibration_in_the_large": self.calibration.citl, "brier": self.brier,
                "oe_ratio": self.calibration.oe_ratio, "lr_pos": self.binary.lr_pos, "lr_neg": self.binary.lr_neg,
                "prevalence": self.binary.prevalence}
        return out


def evaluate_model(y, score, study: Study, *, role: str = "candidate") -> ModelResult:
    """Performance of one model at the plan's threshold, discrimination and calibration."""
    analysis = study.analysis
    binary = stats.binary_metrics(y, score, analysis.threshold, alpha=analysis.alpha, method=analysis.ci_method)
    auroc = stats.auroc(y, score, alpha=analysis.alpha)
    auprc = stats.auprc(y, score, alpha=analysis.alpha, n_resamples=analysis.n_bootstrap, seed=analysis.seed)
    try:
        calibration = stats.calibration(y, score, alpha=analysis.alpha)
    except ValueError as exc:
        raise EvaluationInputError(f"calibration of the {role} model: {exc}") from None
    brier = brier_score(y, score, alpha=analysis.alpha)
    return ModelResult(role, binary, auroc, auprc, brier, calibration)


def metric_estimates(y, score, study: Study, *, model: str = "candidate") -> dict[str, Estimate]:
    """Every metric an acceptance criterion may name, each as an :class:`Estimate` with its interval."""
    return evaluate_model(y, score, study, role=model).estimates()


# --------------------------------------------------------------------------------------------------
# Paired comparison with the locked baseline
# --------------------------------------------------------------------------------------------------


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
        """Candidate − baseline for every metric with a paired comparison (:data:`PAIRED_METRICS`)."""
        t = self.auroc
        auroc = Estimate(t.diff, t.lower, t.upper, t.se, t.method, t.reason)
        return {"auroc": auroc, "sensitivity": self.sensitivity.difference,
                "specificity": self.specificity.difference, "accuracy": self.accuracy.difference,
                "brier": self.brier}

    def p_values(self) -> dict[str, float]:
        """Two-sided p-values of "no difference" (DeLong z test, McNemar tests, paired Brier z test)."""
        b = self.brier
        z = b.estimate / b.se if b.defined and b.se > 0 else math.nan
        from scipy.special import ndtr

        return {"auroc": self.auroc.p_value, "sensitivity": self.sensitivity.p_value,
                "specificity": self.specificity.p_value, "accuracy": self.accuracy.p_value,
                "brier": float(2 * ndtr(-abs(z))) if math.isfinite(z) else math.nan}

    def tests(self) -> dict[str, str]:
        """The name of the test behind each difference."""
        mc = f"McNemar ({self.sensitivity.method}), Newcombe paired interval"
        return {"auroc": "paired DeLong", "sensitivity": mc + " among positives",
                "specificity": mc + " among negatives", "accuracy": mc, "brier": "paired mean difference (z)"}


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


# --------------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------------


def _num(x: float, signed: bool = False) -> str:
    if not math.isfinite(x):
        return "undefined"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _interval(e: Estimate, level: str, signed: bool = False) -> str:
    return f"{_num(e.estimate, signed)} ({level} CI {_num(e.lower, signed)} to {_num(e.upper, signed)})"


def plain_sentence(criterion: Criterion, estimate: Estimate, verdict: str, *, alpha: float = 0.05) -> str:
    """One sentence a reviewer can read without statistics training, saying what was found and why it
    gives this verdict."""
    level = f"{100 * (1 - alpha):g}%"
    name = METRIC_NAMES.get(criterion.metric, criterion.metric)
    passed = verdict == gates.PASS
    if verdict == gates.INSUFFICIENT:
        reason = estimate.reason or "the quantity could not be estimated on these data"
        return f"{criterion.id} cannot be judged: the {name} could not be estimated ({reason})."
    if criterion.versus is not None:
        m = criterion.non_inferiority_margin
        head = f"The candidate's {name} minus the baseline's is {_interval(estimate, level, signed=True)}"
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
    head = f"The candidate's {name} is {_interval(estimate, level)}"
    if criterion.interval_within is not None:
        low, high = criterion.interval_within
        if passed:
            return f"{head}; the whole interval lies inside the required range [{low:g}, {high:g}]."
        outside = []
        if not estimate.lower >= low:
            outside.append(f"the lower end {_num(estimate.lower)} is below {low:g}")
        if not estimate.upper <= high:
            outside.append(f"the upper end {_num(estimate.upper)} is above {high:g}")
        return f"{head}; it does not lie inside the required range [{low:g}, {high:g}]: " + " and ".join(outside) + "."
    bound, target, op = gates.one_sided_rule(criterion)
    need = "at least" if op == ">=" else "at most"
    value = gates.bound_value(estimate, bound)
    which = "the point estimate" if bound == "estimate" else f"the {bound} bound"
    if passed:
        even = "even " if (bound == "lower" and need == "at least") or (bound == "upper" and need == "at most") else ""
        return f"{head}; {even}{which} ({_num(value)}) is {need} {target:g}, as required."
    return f"{head}; {which} ({_num(value)}) is not {need} {target:g}, so the requirement is not shown to be met."


def judge_acceptance(study: Study, estimates: dict[str, dict[str, Estimate]],
                     differences: dict[str, Estimate]) -> list[gates.Gate]:
    """Judge every acceptance criterion of the plan (PASS / FAIL / INSUFFICIENT_EVIDENCE).

    ``estimates`` maps model role → metric → Estimate; criteria are judged on the candidate's, or on
    ``differences`` (candidate − baseline) for ``versus: baseline``. Each gate carries the rule, the
    estimate with its interval and a plain-language sentence (:func:`plain_sentence`).
    """
    judged = []
    alpha = study.analysis.alpha
    for criterion in study.acceptance:
        name = METRIC_NAMES.get(criterion.metric, criterion.metric)
        if criterion.versus == "baseline":
            estimate = differences.get(criterion.metric) or Estimate.undefined(
                f"no paired comparison with the baseline for {criterion.metric}")
            subject = f"{name}: candidate − baseline"
        else:
            estimate = estimates["candidate"][criterion.metric]
            subject = f"{name} (candidate)"
        if criterion.label:
            subject = f"{criterion.label} — {subject}"
        gate = gates.judge(criterion, estimate, stage="evaluation", subject=subject, alpha=alpha)
        judged.append(replace(gate, sentence=plain_sentence(criterion, estimate, gate.verdict, alpha=alpha)))
    return judged


# --------------------------------------------------------------------------------------------------
# Exploratory threshold table, decision curve, calibration points
# --------------------------------------------------------------------------------------------------


def threshold_table(y, score, study: Study) -> pd.DataFrame:
    """EXPLORATORY: sensitivity, specificity, PPV and NPV (with intervals) at each threshold of the plan's
    ``analysis.threshold_grid`` and at the operating threshold.

    These are not pre-specified operating points: reading a better threshold off this table and
    reporting its performance as a result is optimistic (STARD 2015 item 12b). Columns: ``threshold``,
    ``operating`` (True for the pre-specified threshold), ``flagged`` (number called positive),
    ``flagged_share``, then ``<metric>``, ``<metric>_lower``, ``<metric>_upper`` for each metric.
    """
    analysis = study.analysis
    grid = sorted(set(analysis.threshold_grid) | {analysis.threshold})
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.UndefinedMetricWarning)  # NaN with reason; shown as undefined
        for t in grid:
            m = stats.binary_metrics(y, score, t, alpha=analysis.alpha, method=analysis.ci_method)
            row = {"threshold": float(t), "operating": bool(t == analysis.threshold), "flagged": m.tp + m.fp,
                   "flagged_share": (m.tp + m.fp) / m.n if m.n else math.nan}
            for name in ("sensitivity", "specificity", "ppv", "npv"):
                e = getattr(m, name)
                row |= {name: e.estimate, f"{name}_lower": e.lower, f"{name}_upper": e.upper}
            rows.append(row)
    return pd.DataFrame(rows)


def decision_thresholds(study: Study) -> np.ndarray:
    """The threshold probabilities of the decision curve: the declared range ``analysis.decision_curve``
    in steps of 0.01 (0.005 or 0.001 when the range is narrow), plus the operating threshold when it
    lies in the range."""
    low, high = study.analysis.decision_curve
    for step in (0.01, 0.005, 0.001):
        grid = np.round(np.arange(low, high + step / 2, step), 6)
        if grid.size >= 20:
            break
    grid = grid[(grid >= low) & (grid <= high)]
    if low <= study.analysis.threshold <= high:
        grid = np.union1d(grid, [study.analysis.threshold])
    return grid


def decision_curve(y, scores: dict[str, np.ndarray], study: Study) -> pd.DataFrame:
    """Net benefit of each model, of treating all and of treating none over the declared threshold range.

    Columns ``threshold``, ``net_benefit_<role>`` for each model, ``net_benefit_all``,
    ``net_benefit_none``. See :func:`studylib.stats.net_benefit` (Vickers & Elkin 2006).
    """
    t = decision_thresholds(study)
    out = None
    for role, score in scores.items():
        nb = stats.net_benefit(y, score, t)
        if out is None:
            out = nb[["threshold"]].copy()
        out[f"net_benefit_{role}"] = nb["net_benefit_model"].to_numpy()
        out["net_benefit_all"] = nb["net_benefit_all"].to_numpy()
        out["net_benefit_none"] = nb["net_benefit_none"].to_numpy()
    return out


def calibration_deciles(y, prob, study: Study) -> pd.DataFrame:
    """Observed event rate (Wilson interval) against mean predicted risk in tenths of predicted risk."""
    return stats.calibration_curve(y, prob, method="quantile-bins", n_bins=10, alpha=study.analysis.alpha)


# --------------------------------------------------------------------------------------------------
# The whole stage
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """The evaluation stage's results (see :func:`evaluate`).

    Attributes
    ----------
    data : AnalysisData
        The analysed rows, outcome and scores.
    models : dict of str to ModelResult
        Per model role.
    comparison : Comparison or None
        Candidate − baseline (None without a baseline).
    gates : tuple of studylib.gates.Gate
        One per acceptance criterion, in the plan's order.
    thresholds : pandas.DataFrame
        EXPLORATORY threshold table of the candidate (:func:`threshold_table`).
    decision_curve : pandas.DataFrame
        Net benefit over the declared range (:func:`decision_curve`).
    calibration_deciles : dict of str to pandas.DataFrame
        Per model role (:func:`calibration_deciles`).
    errors : studylib.error_analysis.ErrorAnalysis
        False negatives and false positives of the candidate.
    """

    data: AnalysisData
    models: dict
    comparison: Comparison | None
    gates: tuple
    thresholds: pd.DataFrame
    decision_curve: pd.DataFrame
    calibration_deciles: dict
    errors: object

    @property
    def verdict(self) -> str:
        """PASS, FAIL or INSUFFICIENT_EVIDENCE over the acceptance criteria (:func:`gates.overall`)."""
        return gates.overall(self.gates)

    def estimates(self) -> dict[str, dict[str, Estimate]]:
        """Model role → metric → Estimate."""
        return {role: result.estimates() for role, result in self.models.items()}

    def differences(self) -> dict[str, Estimate]:
        """Candidate − baseline per paired metric (empty without a baseline)."""
        return self.comparison.differences() if self.comparison is not None else {}


def evaluate(frame: pd.DataFrame, study: Study) -> Evaluation:
    """Run the whole evaluation stage on the analysis rows (see :func:`analysis_rows`).

    Raises
    ------
    EvaluationInputError
        Missing outcomes or scores (see :func:`prepare`), or probabilities outside [0, 1].
    """
    from studylib.stages.evaluation import error_analysis

    data = prepare(frame, study)
    models = {role: evaluate_model(data.y, score, study, role=role) for role, score in data.scores.items()}
    comparison = None
    if "baseline" in data.scores:
        comparison = compare_with_baseline(data.y, data.scores["candidate"], data.scores["baseline"], study)
    estimates = {role: result.estimates() for role, result in models.items()}
    judged = judge_acceptance(study, estimates, comparison.differences() if comparison else {})
    return Evaluation(
        data=data, models=models, comparison=comparison, gates=tuple(judged),
        thresholds=threshold_table(data.y, data.scores["candidate"], study),
        decision_curve=decision_curve(data.y, data.scores, study),
        calibration_deciles={role: calibration_deciles(data.y, s, study) for role, s in data.scores.items()},
        errors=error_analysis.analyse(data.frame, data.y, data.scores, study),
    )


def metric_roles(study: Study) -> dict[str, str]:
    """Metric → "primary", "secondary" or "supportive", as the plan declares."""
    roles = {m: "supportive" for m in (*METRICS, "lr_pos", "lr_neg", "prevalence")}
    roles |= {m: "secondary" for m in study.analysis.secondary_metrics}
    roles |= {m: "primary" for m in study.analysis.primary_metrics}
    return roles


def results(ev: Evaluation, study: Study) -> dict:
    """The stage's machine-readable results (for :func:`studylib.evidence.record`): deterministic, no
    paths or times. ``gates`` is the verdict table; ``plan_sha256`` the parameter file's hash."""
    comparison = None
    if ev.comparison is not None:
        c = ev.comparison
        comparison = {"auroc": c.auroc, "sensitivity": c.sensitivity, "specificity": c.specificity,
                      "accuracy": c.accuracy, "brier": c.brier, "p_values": c.p_values(), "tests": c.tests()}
    return {
        "plan_sha256": study.sha256,
        "study_id": study.study.id,
        "verdict": ev.verdict,
        "gates": list(ev.gates),
        "criteria": [c.model_dump(mode="json", exclude_none=True) for c in study.acceptance],
        "models": model_identity(study),
        "analysis": study.analysis.model_dump(mode="json"),
        "metric_roles": metric_roles(study),
        "n": ev.data.n,
        "positives": ev.data.positives,
        "excluded": {"count": len(ev.data.excluded), "rows": ev.data.excluded},
        "operating_point": {role: m.binary for role, m in ev.models.items()},
        "estimates": ev.estimates(),
        "calibration": {role: m.calibration for role, m in ev.models.items()},
        "calibration_deciles": ev.calibration_deciles,
        "comparison": comparison,
        "differences": ev.differences(),
        "decision_curve": ev.decision_curve,
        "thresholds_exploratory": ev.thresholds,
        "error_analysis": ev.errors.to_results(),
    }


# --------------------------------------------------------------------------------------------------
# Curves for the figures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curves:
    """The curves the figures draw: ROC and precision-recall per model, and the smoothed calibration
    curve (with its pointwise band) of the models in ``calibration``."""

    roc: dict
    pr: dict
    calibration: dict


def curves(data: AnalysisData, study: Study, *, calibration_of: tuple[str, ...] = ("candidate",)) -> Curves:
    """ROC (:func:`stats.roc_curve`) and precision-recall curves of every model, and the lowess
    calibration curve (:func:`stats.calibration_curve`, 50 points) of the models in ``calibration_of``
    (the candidate by default: at 10^6 patients each smoothed curve costs a few seconds)."""
    roc = {role: stats.roc_curve(data.y, s) for role, s in data.scores.items()}
    pr = {role: stats.precision_recall_curve(data.y, s) for role, s in data.scores.items()}
    cal = {role: stats.calibration_curve(data.y, data.scores[role], method="lowess", alpha=study.analysis.alpha)
           for role in calibration_of if role in data.scores}
    return Curves(roc, pr, cal)


def model_labels(study: Study) -> dict[str, str]:
    """Role → "candidate flc-risk 2.0.0" for legends."""
    out = {}
    for role in ("candidate", "baseline"):
        model = getattr(study.models, role)
        if model is not None:
            out[role] = f"{role} {model.name} {model.version}"
    return out
