"""The rows the evaluation analyses, their outcome and each model's score, under the plan's rules for
missing values; and the models as the plan declares them.

Bad inputs stop the stage with :class:`EvaluationInputError`, naming the column, the count and the
pseudonymous ids of the rows concerned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib.plan import Study


class EvaluationInputError(ValueError):
    """The analysis cohort cannot be evaluated as planned (missing scores, probabilities outside [0, 1])."""


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


def model_labels(study: Study) -> dict[str, str]:
    """Role → "candidate flc-risk 2.0.0" for legends."""
    out = {}
    for role in ("candidate", "baseline"):
        model = getattr(study.models, role)
        if model is not None:
            out[role] = f"{role} {model.name} {model.version}"
    return out
