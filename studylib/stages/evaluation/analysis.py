"""Retrospective evaluation: performance at the operating point, discrimination, calibration, clinical
utility and the paired comparison with the locked baseline, judged against the pre-registered
acceptance criteria.

The stage maps the frozen analysis cohort and the study's plan to frozen results: :func:`evaluate` is
the one entry point and :func:`results` turns its :class:`Evaluation` into the stage's results JSON;
the notebook ``02_evaluation.ipynb`` displays them (``studylib.report.tables.evaluation``). The pieces
live in their own modules, public so that tests (and the subgroup stage) can call them on their own:

- :mod:`~studylib.stages.evaluation.inputs`: the analysed rows, outcome and scores; the models;
- :mod:`~studylib.stages.evaluation.metrics`: one model's performance;
- :mod:`~studylib.stages.evaluation.comparison`: candidate against the baseline on the same patients;
- :mod:`~studylib.stages.evaluation.thresholds`: the exploratory threshold table and the decision curve;
- :mod:`~studylib.stages.evaluation.curves`: calibration points and the curves of the figures;
- :mod:`~studylib.stages.evaluation.error_analysis`: who the candidate gets wrong;
- :mod:`studylib.judge.acceptance`: the verdict of each acceptance criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib.judge import eligibility, gates
from studylib.judge.acceptance import judge_acceptance
from studylib.plan import METRICS, Study
from studylib.stats import Estimate
from studylib.stages.evaluation import error_analysis
from studylib.stages.evaluation.comparison import Comparison, compare_with_baseline
from studylib.stages.evaluation.curves import calibration_deciles
from studylib.stages.evaluation.inputs import AnalysisData, model_identity, prepare
from studylib.stages.evaluation.metrics import evaluate_model
from studylib.stages.evaluation.thresholds import decision_curve, threshold_table


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
    gates : tuple of studylib.judge.gates.Gate
        One per acceptance criterion, in the plan's order (:func:`studylib.judge.acceptance.judge_acceptance`).
    thresholds : pandas.DataFrame
        EXPLORATORY threshold table of the candidate (:func:`~studylib.stages.evaluation.thresholds.threshold_table`).
    decision_curve : pandas.DataFrame
        Net benefit over the declared range (:func:`~studylib.stages.evaluation.thresholds.decision_curve`).
    calibration_deciles : dict of str to pandas.DataFrame
        Per model role (:func:`~studylib.stages.evaluation.curves.calibration_deciles`).
    errors : studylib.stages.evaluation.error_analysis.ErrorAnalysis
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
        Missing outcomes or scores (see :func:`~studylib.stages.evaluation.inputs.prepare`), or probabilities
        outside [0, 1].
    """
    data = prepare(frame, study)
    models = {role: evaluate_model(data.y, score, study, role=role) for role, score in data.scores.items()}
    comparison = None
    if "baseline" in data.scores:
        comparison = compare_with_baseline(data.y, data.scores["candidate"], data.scores["baseline"], study)
    estimates = {role: result.estimates() for role, result in models.items()}
    b = models["candidate"].binary
    counts = eligibility.Counts(positives=b.tp + b.fn, negatives=b.tn + b.fp, flagged=b.tp + b.fp,
                                unflagged=b.tn + b.fn)
    judged = judge_acceptance(study, estimates, comparison.differences() if comparison else {}, counts=counts,
                              levels=_other_levels(data, study))
    return Evaluation(
        data=data, models=models, comparison=comparison, gates=tuple(judged),
        thresholds=threshold_table(data.y, data.scores["candidate"], study),
        decision_curve=decision_curve(data.y, data.scores, study),
        calibration_deciles={role: calibration_deciles(data.y, s, study) for role, s in data.scores.items()},
        errors=error_analysis.analyse(data.frame, data.y, data.scores, study),
    )


def _other_levels(data: AnalysisData, study: Study) -> dict[float, tuple[dict, dict]]:
    """Estimates and differences at the interval level of each criterion that declares its own
    ``interval_level`` (alpha → (role → metric → Estimate, metric → Estimate))."""
    out = {}
    for criterion in study.acceptance:
        alpha = gates.interval_alpha(criterion, study.analysis.alpha)
        if alpha == study.analysis.alpha or alpha in out:
            continue
        at = study.at_alpha(alpha)
        estimates = {role: evaluate_model(data.y, s, at, role=role).estimates() for role, s in data.scores.items()}
        differences = {}
        if "baseline" in data.scores:
            differences = compare_with_baseline(data.y, data.scores["candidate"], data.scores["baseline"],
                                                at).differences()
        out[alpha] = (estimates, differences)
    return out


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
