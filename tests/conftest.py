"""Shared fixtures: a small locked project (snapshot + parameter file) built on the fly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from studylib.data import snapshot

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def tiny_frame(rows: int = 1200, seed: int = 7) -> pd.DataFrame:
    """A small cohort with the demo's columns: ids, split, year, age, sex, outcome and two scores."""
    rng = np.random.default_rng(seed)
    age = rng.integers(50, 95, rows)
    sex = rng.choice(["F", "M"], rows)
    year = rng.choice([1995, 1996, 1997, 1998, 1999], rows, p=[0.2, 0.3, 0.2, 0.15, 0.15])
    risk = 1 / (1 + np.exp(-(-6 + 0.07 * age + 0.3 * (sex == "M"))))
    outcome = (rng.random(rows) < risk).astype(float)
    noise = rng.normal(0, 0.6, rows)
    logit = np.log(risk / (1 - risk))
    split = np.where(year >= 1998, "monitoring", np.where(rng.random(rows) < 0.4, "development", "validation"))
    return pd.DataFrame({
        "person_id": [f"T-{i:05d}" for i in rng.permutation(rows)],
        "sample_year": year.astype("int64"),
        "age": age.astype("int64"),
        "sex": sex,
        "mgus": (rng.random(rows) < 0.02).astype("int64"),
        "death_5y": outcome,
        "split": split,
        "p_v1": 1 / (1 + np.exp(-(logit + rng.normal(0, 1.0, rows)))),
        "p_v2": 1 / (1 + np.exp(-(logit + noise))),
    })


def write_snapshot(folder: Path, frame: pd.DataFrame) -> tuple[str, str]:
    """Write and lock a snapshot; returns (lock hash, model artifact sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "data.parquet", index=False)
    (folder / "card.yaml").write_text("name: tiny test snapshot\nsource: SYNTHETIC test data\n")
    artifact = folder / "model.json"
    artifact.write_text(json.dumps({"name": "tiny", "coefficients": [1, 2]}))
    return snapshot.lock(folder), hashlib.sha256(artifact.read_bytes()).hexdigest()


def tiny_params(lock: str, artifact: str) -> dict:
    return {
        "study": {"id": "tiny", "title": "Tiny test study", "intended_use": "tests only"},
        "snapshot": {"path": "snapshots/tiny", "lock": lock},
        "data": {"id": "person_id", "outcome": "death_5y", "split": "split", "time": "sample_year"},
        "models": {
            "candidate": {"score": "p_v2", "name": "tiny", "version": "2", "artifact_sha256": artifact},
            "baseline": {"score": "p_v1", "name": "tiny", "version": "1", "artifact_sha256": artifact},
        },
        "cohort": [
            {"id": "I1", "label": "Not development", "keep": {"column": "split", "op": "!=", "value": "development"}},
            {"id": "E1", "label": "MGUS", "drop": {"column": "mgus", "op": "==", "value": 1}},
        ],
        "analysis": {"threshold": 0.3, "split": "validation", "seed": 1, "n_bootstrap": 200},
        "acceptance": [
            {"id": "AC-1", "metric": "auroc", "bound": "lower", "at_least": 0.5},
            {"id": "AC-2", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05},
        ],
        "subgroups": {"variables": [{"name": "sex", "column": "sex"},
                                    {"name": "age_band", "column": "age", "cut": [50, 70, 120]}],
                      "min_positives": 5, "min_negatives": 5,
                      "gates": [{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.5}]},
        "drift": {"reference": {"column": "sample_year", "values": [1995, 1996, 1997]},
                  "windows": {"column": "sample_year", "each": 1},
                  "triggers": [{"id": "TR-1", "statistic": "psi", "of": "score", "above": 0.25, "in": "any_window",
                                "action": "investigate"}]},
    }


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    """A project folder with params/tiny.yaml and a locked snapshots/tiny; returns the params file."""
    lock, artifact = write_snapshot(tmp_path / "snapshots" / "tiny", tiny_frame())
    (tmp_path / "params").mkdir()
    params_file = tmp_path / "params" / "tiny.yaml"
    params_file.write_text(yaml.safe_dump(tiny_params(lock, artifact), sort_keys=False))
    return params_file
