"""One model's performance on the analysed rows: the 2×2 table and its metrics at the plan's operating
threshold, discrimination (AUROC, AUPRC), calibration and the Brier score, each with its interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from studylib import stats
from studylib.plan import Study
from studylib.stats import Estimate
from studylib.stats.brier import brier_score
from studylib.stages.evaluation.inputs import EvaluationInputError

#: metrics judged on the interval of a proportion from the 2×2 table
PROPORTION_METRICS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")


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
        Brier score with its normal-approximation interval (:func:`studylib.stats.brier.brier_score`).
    calibration : studylib.stats.Calibration
        CITL, slope (rows at risk exactly 0 or 1 left out and counted), O/E (interval
        ``analysis.oe_interval``), E-statistics, Spiegelhalter test.
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
        calibration = stats.calibration(y, score, alpha=analysis.alpha, oe_method=analysis.oe_interval)
    except ValueError as exc:
        raise EvaluationInputError(f"calibration of the {role} model: {exc}") from None
    brier = brier_score(y, score, alpha=analysis.alpha)
    return ModelResult(role, binary, auroc, auprc, brier, calibration)


def metric_estimates(y, score, study: Study, *, model: str = "candidate") -> dict[str, Estimate]:
    """Every metric an acceptance criterion may name, each as an :class:`Estimate` with its interval."""
    return evaluate_model(y, score, study, role=model).estimates()
