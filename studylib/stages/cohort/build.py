"""Cohort construction: inclusion and exclusion criteria declared as data, applied step by step.

Conditions come from the parameter file as column / operator / value (combinable with ``all`` and
``any``) and are evaluated with pandas comparisons: no ``eval`` and no query strings. A missing value
never satisfies a comparison (``NaN < 5`` is False, ``NaN != "F"`` is False); use ``is null`` /
``not null`` to select on missingness explicitly.

The counts of every step (rows and patients before, excluded and after) are kept as
:class:`StepCount` records; the step table, the participant flow diagram and the results JSON are all
drawn from these same records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.plan import CohortStep, Condition, Study


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


def coerce_value(value, series: pd.Series):
    """A parameter value in the form that compares with ``series``.

    YAML gives dates as :class:`datetime.date`; a datetime column compares with :class:`pandas.Timestamp`
    (in the column's time zone), and a text column holding ISO dates compares with the ISO text.
    Lists are coerced element by element; other values are returned unchanged.
    """
    if isinstance(value, (list, tuple)):
        return [coerce_value(v, series) for v in value]
    if value is None:
        return value
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamp = pd.Timestamp(value)
        tz = getattr(series.dtype, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        return stamp
    if isinstance(value, (dt.date, dt.datetime)) and (pd.api.types.is_string_dtype(series.dtype)
                                                       or series.dtype == object):
        return value.isoformat()
    return value


def evaluate(condition: Condition, frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that satisfy ``condition`` (missing values never match).

    Parameters
    ----------
    condition
        A comparison ``column op value`` or ``all``/``any`` of nested conditions.
    frame
        The rows to test; every column the condition names must exist.

    Returns
    -------
    numpy.ndarray
        One boolean per row of ``frame``.
    """
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
    series = frame[condition.column]
    result = _COMPARE[condition.op](series, coerce_value(condition.value, series))
    if hasattr(result, "fillna"):
        result = result.fillna(False)
    return np.asarray(result, dtype=bool)


def describe(condition: Condition) -> str:
    """The condition in words, e.g. ``split == 'development'`` or ``(age < 50 or age is null)``."""
    if condition.all is not None or condition.any is not None:
        joiner = " and " if condition.all is not None else " or "
        return "(" + joiner.join(describe(c) for c in (condition.all or condition.any)) + ")"
    if condition.op in ("is null", "not null"):
        return f"{condition.column} {condition.op}"
    value = condition.value
    if condition.op == "between":
        return f"{condition.column} between {value[0]!r} and {value[1]!r}"
    return f"{condition.column} {condition.op} {value!r}"


@dataclass(frozen=True)
class StepCount:
    """Rows and patients before and after one cohort step."""

    id: str
    label: str
    kind: str  # "keep" (inclusion) or "drop" (exclusion)
    condition: str  # the condition in words
    rows_before: int
    rows_excluded: int
    rows_after: int
    patients_before: int
    patients_excluded: int
    patients_after: int


@dataclass(frozen=True)
class CohortResult:
    """The analysis cohort and the step-by-step counts that produced it.

    ``kept`` is the boolean mask of the source rows that remain after every step (same order as the
    source frame), so that checks can relate the cohort back to the snapshot.
    """

    cohort: pd.DataFrame = field(repr=False)
    steps: tuple[StepCount, ...]
    source_rows: int
    source_patients: int
    kept: np.ndarray = field(repr=False, default=None)

    @property
    def emptied_by(self) -> str | None:
        """Id of the first step that left no rows, or None (also None when the source itself is empty)."""
        return next((s.id for s in self.steps if s.rows_after == 0), None)

    @property
    def patients(self) -> int:
        """Patients in the analysis cohort."""
        return self.steps[-1].patients_after if self.steps else self.source_patients

    def table(self) -> pd.DataFrame:
        """The step counts as a DataFrame (one row per step), for the results JSON."""
        columns = [f.name for f in StepCount.__dataclass_fields__.values()]
        return pd.DataFrame([s.__dict__ for s in self.steps], columns=columns)


def apply(frame: pd.DataFrame, steps: tuple[CohortStep, ...], *, id_column: str) -> CohortResult:
    """Apply the cohort steps in order and count what each one removes.

    A ``keep`` step retains the rows that satisfy its condition; a ``drop`` step removes them.
    Conditions are evaluated row by row, so each is evaluated once on the whole frame and the masks are
    combined in order; the counts are those of applying the steps one after the other.

    Parameters
    ----------
    frame
        The snapshot rows.
    steps
        The study's cohort steps, in order.
    id_column
        The pseudonymous patient-id column (patients are counted as distinct ids).

    Returns
    -------
    CohortResult
        The remaining rows (index reset) and one :class:`StepCount` per step.

    Examples
    --------
    >>> frame = pd.DataFrame({"pid": ["a", "b", "c"], "age": [40, 60, 70]})
    >>> step = CohortStep(id="I1", label="adults 50+", keep=Condition(column="age", op=">=", value=50))
    >>> apply(frame, (step,), id_column="pid").steps[0].rows_excluded
    1
    """
    codes, uniques = pd.factorize(frame[id_column], use_na_sentinel=False)
    one_row_each = len(uniques) == len(frame)

    def patients(mask: np.ndarray) -> int:
        if one_row_each:
            return int(mask.sum())
        return int(np.count_nonzero(np.bincount(codes[mask], minlength=len(uniques))))

    kept = np.ones(len(frame), dtype=bool)
    rows_before, patients_before = len(frame), len(uniques)
    counts = []
    for step in steps:
        mask = evaluate(step.condition, frame)
        kept &= mask if step.keep is not None else ~mask
        rows_after = int(kept.sum())
        patients_after = patients(kept)
        counts.append(StepCount(
            id=step.id, label=step.label, kind="keep" if step.keep is not None else "drop",
            condition=describe(step.condition),
            rows_before=rows_before, rows_excluded=rows_before - rows_after, rows_after=rows_after,
            patients_before=patients_before, patients_excluded=patients_before - patients_after,
            patients_after=patients_after,
        ))
        rows_before, patients_before = rows_after, patients_after
    cohort = frame[kept].reset_index(drop=True) if steps else frame.reset_index(drop=True)
    return CohortResult(cohort, tuple(counts), len(frame), len(uniques), kept)


def reference_rows(frame: pd.DataFrame, steps: tuple[CohortStep, ...], *, split_column: str, split: str,
                   id_column: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The rows of one split that the cohort steps exclude, made comparable with the cohort.

    Table 1 compares the validation data with the development data, but a study usually excludes the
    development split from its analysis cohort. This gives the snapshot's rows of ``split`` after every
    cohort step that does *not* read ``split_column`` (so that the same eligibility criteria apply),
    and the ids of the steps that were skipped because they select on the split.

    Returns
    -------
    tuple
        ``(rows, skipped_step_ids)``; ``rows`` is empty when the split has no rows.
    """
    rows = frame[frame[split_column] == split]
    eligibility = tuple(s for s in steps if split_column not in s.condition.columns())
    skipped = tuple(s.id for s in steps if split_column in s.condition.columns())
    return apply(rows, eligibility, id_column=id_column).cohort, skipped


@dataclass(frozen=True)
class Comparison:
    """The rows Table 1 and the missingness report describe by split: the analysis cohort, plus
    reference rows for each compared split (``table_one.smd_between``) that the cohort excluded."""

    frame: pd.DataFrame = field(repr=False)
    reference: tuple[str, ...]
    notes: tuple[str, ...]


def comparison_rows(source: pd.DataFrame, result: CohortResult, study: Study) -> Comparison:
    """The analysis cohort plus reference rows for the compared splits missing from it.

    A split named in ``table_one.smd_between`` (default development and validation) that has no row
    in the analysis cohort (usually the development split, excluded by a cohort step) is taken from the
    snapshot through :func:`reference_rows`, and marked as reference data.
    """
    split = study.data.split
    if split is None:
        return Comparison(result.cohort, (), ())
    between = study.table_one.smd_between if study.table_one else ("development", "validation")
    present = set(result.cohort[split].dropna().unique())
    parts, reference, notes = [result.cohort], [], []
    for value in between:
        if value in present:
            continue
        rows, skipped = reference_rows(source, study.cohort, split_column=split, split=value, id_column=study.data.id)
        if rows.empty:
            continue
        parts.append(rows)
        reference.append(value)
        applied = [s.id for s in study.cohort if s.id not in skipped]
        notes.append(
            f"{value} (reference): the snapshot's {formatting.count(len(rows))} {value} rows, "
            "not in the analysis cohort, "
            + (f"after cohort steps {', '.join(applied)}" if applied else "without cohort steps")
            + (f" ({', '.join(skipped)} {'selects' if len(skipped) == 1 else 'select'} on {split} and "
               f"{'was' if len(skipped) == 1 else 'were'} skipped)." if skipped else "."))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else result.cohort
    return Comparison(frame, tuple(reference), tuple(notes))


def split_counts(cohort: pd.DataFrame, *, id_column: str, outcome: str, split_column: str | None,
                 order=()) -> pd.DataFrame:
    """Rows, patients and reference-standard results of the analysis cohort per split.

    Returns one row per split (or one row ``"analysis cohort"`` without a split column): ``split``,
    ``rows``, ``patients``, ``positive`` (outcome 1), ``negative`` (outcome 0), ``unknown`` (missing).
    Splits named in ``order`` come first, in that order; the others follow sorted.
    """
    columns = ["split", "rows", "patients", "positive", "negative", "unknown"]
    if split_column is None:
        keys = pd.Series("analysis cohort", index=cohort.index)
    else:
        keys = cohort[split_column].astype(object).where(cohort[split_column].notna(), "(no split)")
    rows = []
    for split, block in cohort.groupby(keys, sort=True):
        y = block[outcome]
        rows.append({"split": split, "rows": len(block), "patients": int(block[id_column].nunique()),
                     "positive": int((y == 1).sum()), "negative": int((y == 0).sum()), "unknown": int(y.isna().sum())})
    rank = {split: i for i, split in enumerate(order)}
    rows.sort(key=lambda r: (rank.get(r["split"], len(rank)), str(r["split"])))
    return pd.DataFrame(rows, columns=columns)
