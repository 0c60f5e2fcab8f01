"""Cohort construction: inclusion and exclusion criteria declared as data, applied step by step.

Conditions come from the parameter file as column / operator / value (combinable with ``all`` and
``any``) and are evaluated with pandas comparisons: no ``eval`` and no query strings. A missing value
never satisfies a comparison (``NaN < 5`` is False); use ``is null`` / ``not null`` to select on
missingness explicitly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from studylib.params import CohortStep, Condition

FROZEN_COHORT = "cohort.parquet"

_COMPARE = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: s.notna() & (s != v),
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
    "in": lambda s, v: s.isin(v),
    "not in": lambda s, v: s.notna() & ~s.isin(v),
    "between": lambda s, v: (s >= v[0]) & (s <= v[1]),
    "is null": lambda s, v: s.isna(),
    "not null": lambda s, v: s.notna(),
}


def evaluate(condition: Condition, frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that satisfy ``condition`` (missing values never match)."""
    if condition.all is not None:
        mask = np.ones(len(frame), dtype=bool)
        for sub in condition.all:
            mask &= evaluate(sub, frame)
        return mask
    if condition.any is not None:
        mask = np.zeros(len(frame), dtype=bool)
        for sub in condition.any:
            mask |= evaluate(sub, frame)
        return mask
    result = _COMPARE[condition.op](frame[condition.column], condition.value)
    return np.asarray(result.fillna(False) if hasattr(result, "fillna") else result, dtype=bool)


@dataclass(frozen=True)
class StepCount:
    """Rows and patients before and after one cohort step."""

    id: str
    label: str
    kind: str  # "keep" (inclusion) or "drop" (exclusion)
    rows_before: int
    rows_excluded: int
    rows_after: int
    patients_before: int
    patients_excluded: int
    patients_after: int


@dataclass(frozen=True)
class CohortResult:
    """The analysis cohort and the step-by-step counts that produced it."""

    cohort: pd.DataFrame
    steps: tuple[StepCount, ...]
    source_rows: int
    source_patients: int

    @property
    def emptied_by(self) -> str | None:
        """Id of the first step that left no rows, or None."""
        return next((s.id for s in self.steps if s.rows_after == 0), None)

    def table(self) -> pd.DataFrame:
        """The step counts as a DataFrame (one row per step), for display and the results JSON."""
        return pd.DataFrame([s.__dict__ for s in self.steps])


def apply(frame: pd.DataFrame, steps: tuple[CohortStep, ...], *, id_column: str) -> CohortResult:
    """Apply the cohort steps in order and count what each one removes.

    A ``keep`` step retains the rows that satisfy its condition; a ``drop`` step removes them.
    """
    current = frame
    counts = []
    for step in steps:
        mask = evaluate(step.condition, current)
        kept = current[mask] if step.keep is not None else current[~mask]
        before_p, after_p = current[id_column].nunique(), kept[id_column].nunique()
        counts.append(StepCount(
            id=step.id, label=step.label, kind="keep" if step.keep is not None else "drop",
            rows_before=len(current), rows_excluded=len(current) - len(kept), rows_after=len(kept),
            patients_before=before_p, patients_excluded=before_p - after_p, patients_after=after_p,
        ))
        current = kept
    return CohortResult(current.reset_index(drop=True), tuple(counts), len(frame), frame[id_column].nunique())


def freeze(cohort: pd.DataFrame, run_dir: str | Path) -> str:
    """Write the analysis cohort to ``run_dir/cohort.parquet`` and return its SHA-256 (hex)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(run_dir) / FROZEN_COHORT
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(cohort, preserve_index=False), path, compression="zstd")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_frozen(run_dir: str | Path, expected_sha256: str) -> pd.DataFrame:
    """Read the frozen cohort of a run, refusing it when its bytes differ from the recorded hash."""
    path = Path(run_dir) / FROZEN_COHORT
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected_sha256:
        raise RuntimeError(
            f"{path}: frozen cohort does not match the hash recorded by the cohort stage; expected "
            f"sha256:{expected_sha256}, got sha256:{actual}. Re-run the cohort stage."
        )
    return pd.read_parquet(path)


def _ids_shown(ids, limit: int = 5) -> str:
    ids = sorted(map(str, ids))
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def integrity_gates(source: pd.DataFrame, result: CohortResult, *, id_column: str, split_column: str | None):
    """Leakage and integrity gates on the snapshot and the analysis cohort.

    - the cohort is not empty (else: the step that emptied it);
    - no patient id appears in more than one split (development vs validation leakage);
    - no exact duplicate rows in the snapshot.
    """
    from studylib import gates

    out = []
    emptied = result.emptied_by
    out.append(gates.check(
        "COH-EMPTY", "cohort", "analysis cohort is not empty", emptied is None and len(result.cohort) > 0,
        rule="at least one row remains after all cohort steps",
        sentence=(f"Step {emptied} excluded every remaining row." if emptied else
                  f"{len(result.cohort):,} rows remain after {len(result.steps)} steps.")))
    if split_column is not None:
        splits_per_id = source.groupby(id_column, sort=False)[split_column].nunique()
        leaked = splits_per_id.index[splits_per_id > 1]
        out.append(gates.check(
            "LEAK-SPLIT", "cohort", "no patient in more than one split", len(leaked) == 0,
            rule=f"every {id_column} belongs to exactly one {split_column}",
            sentence=(f"{len(leaked)} patient(s) appear in more than one split: {_ids_shown(leaked)}." if len(leaked)
                      else "Every patient belongs to exactly one split.")))
    duplicated = int(source.duplicated().sum())
    out.append(gates.check(
        "LEAK-DUP", "cohort", "no exact duplicate rows", duplicated == 0, rule="no two snapshot rows are identical",
        sentence=f"{duplicated} exact duplicate row(s) in the snapshot." if duplicated else "No duplicate rows."))
    return out
