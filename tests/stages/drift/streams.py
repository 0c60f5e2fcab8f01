"""Synthetic monitoring streams and drift plans shared by the drift-stage, trigger and drift-table tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.plan import Study
from tests.conftest import tiny_params

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]

MONTHLY = {"reference": {"column": "month", "period": "month", "between": ["2024-01", "2024-06"]},
           "windows": {"column": "month", "period": "month"},
           "features": ["x1", "x2"], "categorical": ["cat"]}

#: one trigger of each kind
TRIGGERS = {
    "psi": {"id": "T-psi", "statistic": "psi", "of": "score", "above": 0.25, "action": "investigate"},
    "feature": {"id": "T-feat", "statistic": "psi", "of": "x1", "above": 0.25, "action": "investigate"},
    "adjusted": {"id": "T-adj", "statistic": "p_adjusted", "of": "any_feature", "below": 0.05,
                 "action": "investigate"},
    "slope": {"id": "T-slope", "statistic": "calibration_slope", "interval_excludes": 1.0, "in": "consecutive_windows",
              "count": 2, "action": "revalidate"},
    "auroc": {"id": "T-auc", "statistic": "auroc", "bound": "upper", "below": 0.70, "action": "suspend"},
    "mean": {"id": "T-mean", "statistic": "mean_score", "bound": "upper", "below": 0.15, "in": "consecutive_windows",
             "count": 3, "action": "clinical_review"},
    "missing": {"id": "T-miss", "statistic": "missing_change", "of": "x2", "bound": "lower", "above": 0.05,
                "action": "investigate"},
}
#: the shift (arguments of :func:`stream`) that each trigger of TRIGGERS should detect
PLANTED = {
    "psi": dict(score_shift=1.5), "feature": dict(feature_shift=1.0), "adjusted": dict(feature_shift=0.5),
    "slope": dict(miscalibrate=-0.6), "auroc": dict(auc_loss=1.0), "mean": dict(score_shift=-1.5),
    "missing": dict(),
}


def study(drift_section: dict, threshold: float = 0.3, multiplicity: str = "holm") -> Study:
    """The tiny test study with ``drift_section`` as its drift plan."""
    raw = tiny_params("sha256:" + "0" * 64, "0" * 64)
    raw["analysis"]["threshold"] = threshold
    raw["analysis"]["multiplicity"] = multiplicity
    raw["drift"] = drift_section
    return Study.model_validate(raw)


def stream(rng, n_per_month: int = 400, *, shift_from: int | None = None, score_shift: float = 0.0,
           feature_shift: float = 0.0, miscalibrate: float = 0.0, auc_loss: float = 0.0,
           months=MONTHS) -> pd.DataFrame:
    """A monitoring stream: months × rows, two continuous and one categorical feature, score and outcome.

    From month index ``shift_from`` on: ``feature_shift`` moves x1, ``score_shift`` moves the score's
    logit, ``miscalibrate`` multiplies the true log-odds' slope, ``auc_loss`` mixes noise into the score.
    """
    frames = []
    for i, month in enumerate(months):
        late = shift_from is not None and i >= shift_from
        x1 = rng.normal(feature_shift if late else 0.0, 1.0, n_per_month)
        x2 = rng.integers(0, 30, n_per_month).astype(float)
        x2[rng.random(n_per_month) < 0.1] = np.nan
        cat = rng.choice(["a", "b", "c"], n_per_month, p=[0.5, 0.3, 0.2])
        logit = -1.5 + 1.2 * x1 + (score_shift if late else 0.0)
        truth = logit if not late else -1.5 + (1 + miscalibrate) * (logit + 1.5 - (score_shift if late else 0.0))
        y = (rng.random(n_per_month) < 1 / (1 + np.exp(-truth))).astype(float)
        noisy = logit + (rng.normal(0, 3.0, n_per_month) * auc_loss if late else 0.0)
        frames.append(pd.DataFrame({"person_id": [f"P{i}-{k}" for k in range(n_per_month)], "month": month,
                                    "x1": x1, "x2": x2, "cat": cat, "death_5y": y,
                                    "p_v2": 1 / (1 + np.exp(-noisy)), "p_v1": 0.2}))
    return pd.concat(frames, ignore_index=True)
