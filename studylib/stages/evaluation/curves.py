"""The curves of the evaluation's figures and calibration table: ROC and precision-recall curves of every
model, the smoothed (lowess) calibration curve with its band, and the calibration points by tenths of
predicted risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from studylib import stats
from studylib.plan import Study
from studylib.stages.evaluation.inputs import AnalysisData


def calibration_deciles(y, prob, study: Study) -> pd.DataFrame:
    """Observed event rate (Wilson interval) against mean predicted risk in tenths of predicted risk."""
    return stats.calibration_curve(y, prob, method="quantile-bins", n_bins=10, alpha=study.analysis.alpha)


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
