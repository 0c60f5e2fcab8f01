"""Shared data of the subgroup-stage tests: a plan, validation-like rows with ties, and constructed sites."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.plan import Study
from tests.conftest import tiny_frame, tiny_params


def study(subgroup_plan: dict, *, threshold: float = 0.3, baseline: bool = True, **study_keys) -> Study:
    data = tiny_params("sha256:" + "0" * 64, "0" * 64)
    data["subgroups"] = subgroup_plan
    data["analysis"]["threshold"] = threshold
    data["study"].update(study_keys)
    if not baseline:
        del data["models"]["baseline"]
        data["acceptance"] = [a for a in data["acceptance"] if "versus" not in a]
    return Study.model_validate(data)


def frame(rows: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Validation-like rows with ties in the scores (rounded to 2 decimals) and a few subgroup columns."""
    rng = np.random.default_rng(seed)
    out = tiny_frame(rows, seed)
    out["p_v2"] = out["p_v2"].round(2)
    out["site"] = rng.choice(["A", "B", "C"], rows, p=[0.5, 0.4, 0.1])
    out["grade"] = rng.choice([1.0, 2.0, 3.0, np.nan], rows, p=[0.2, 0.4, 0.35, 0.05])
    return out


PLAN = {"variables": [{"name": "sex", "column": "sex"},
                      {"name": "age_band", "column": "age", "cut": [50, 65, 80, 95]},
                      {"name": "site", "column": "site", "reference": "A"},
                      {"name": "grade", "column": "grade"}],
        "intersections": [["sex", "site"]], "min_positives": 10, "min_negatives": 10}


def constructed(seed: int = 11) -> pd.DataFrame:
    """Three sites: 'good' (strong model, large), 'bad' (score unrelated to outcome, large), 'tiny' (8 positives)."""
    rng = np.random.default_rng(seed)
    parts = []
    for site, n, strength, prevalence in (("good", 2000, 3.0, 0.3), ("bad", 2000, 0.0, 0.3), ("tiny", 200, 3.0, 0.04)):
        y = (rng.random(n) < prevalence).astype(float)
        logit = -1 + strength * (y - 0.5) + rng.normal(0, 1, n)
        p = 1 / (1 + np.exp(-logit))
        parts.append(pd.DataFrame({"site": site, "death_5y": y, "p_v2": p, "p_v1": np.clip(p + rng.normal(0, 0.05, n), 0, 1)}))
    out = pd.concat(parts, ignore_index=True)
    out["person_id"] = [f"C-{i:05d}" for i in range(len(out))]
    out.loc[out.site == "tiny", "death_5y"] = 0.0
    tiny = out.index[out.site == "tiny"][:8]
    out.loc[tiny, "death_5y"] = 1.0
    return out


def gate_study(gate_list, **plan):
    return study({"variables": [{"name": "site", "column": "site", "reference": "good"}], "min_positives": 20,
                  "min_negatives": 20, "gates": gate_list, **plan}, threshold=0.3)
