"""Cohort criteria as data: every operator, step counts on a hand-built frame, reference rows, split counts."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from studylib.stages.cohort import build as cohort
from studylib.plan import CohortStep, Condition, Study

FRAME = pd.DataFrame({
    "pid": ["a", "a", "b", "c", "d", "e"],
    "age": [50, 51, 65, np.nan, 80, 90],
    "sex": ["F", "F", "M", "M", None, "F"],
})


def cond(**kw):
    return Condition(**kw)


@pytest.mark.parametrize("op, value, expected", [
    ("==", "F", [1, 1, 0, 0, 0, 1]),
    ("!=", "F", [0, 0, 1, 1, 0, 0]),  # missing never matches
    ("<", 65, [1, 1, 0, 0, 0, 0]),
    ("<=", 65, [1, 1, 1, 0, 0, 0]),
    (">", 65, [0, 0, 0, 0, 1, 1]),
    (">=", 65, [0, 0, 1, 0, 1, 1]),
    ("in", ["M", "F"], [1, 1, 1, 1, 0, 1]),
    ("not in", ["M"], [1, 1, 0, 0, 0, 1]),
    ("between", [51, 80], [0, 1, 1, 0, 1, 0]),
    ("is null", None, [0, 0, 0, 1, 0, 0]),
    ("not null", None, [1, 1, 1, 0, 1, 1]),
])
def test_every_operator(op, value, expected):
    column = "sex" if op in ("==", "!=", "in", "not in") else "age"
    mask = cohort.evaluate(cond(column=column, op=op, value=value), FRAME)
    assert mask.astype(int).tolist() == expected


@pytest.mark.parametrize("op, value, expected", [
    ("==", "F", [1, 1, 0, 0, 0, 1]),
    ("!=", "F", [0, 0, 1, 1, 0, 0]),
    ("in", ["F"], [1, 1, 0, 0, 0, 1]),
    ("not in", ["F"], [0, 0, 1, 1, 0, 0]),
    ("is null", None, [0, 0, 0, 0, 1, 0]),
    ("not null", None, [1, 1, 1, 1, 0, 1]),
])
def test_text_operators_on_arrow_strings(op, value, expected):
    """Snapshots read from Parquet hold pyarrow-backed strings; missing values never match there either."""
    frame = FRAME.astype({"sex": "string[pyarrow]"})
    assert cohort.evaluate(cond(column="sex", op=op, value=value), frame).astype(int).tolist() == expected


@pytest.mark.parametrize("op, value, expected", [
    ("<", dt.date(2024, 2, 1), [1, 0, 0, 0]),
    (">=", "2024-02-01", [0, 1, 1, 0]),
    ("between", [dt.date(2024, 1, 15), dt.datetime(2024, 3, 1)], [0, 1, 1, 0]),
    ("is null", None, [0, 0, 0, 1]),
])
def test_operators_on_dates(op, value, expected):
    """YAML dates compare with datetime columns (and with ISO text columns as text)."""
    when = pd.to_datetime(pd.Series(["2024-01-10", "2024-02-01", "2024-03-01", None]))
    frame = pd.DataFrame({"when": when, "iso": when.dt.strftime("%Y-%m-%d")})
    assert cohort.evaluate(cond(column="when", op=op, value=value), frame).astype(int).tolist() == expected
    if op != "between" or all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in value):
        assert cohort.evaluate(cond(column="iso", op=op, value=value), frame).astype(int).tolist() == expected


def test_timezone_aware_column_compares_with_naive_date():
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-01T12:00", "2024-03-01T12:00"]).tz_localize("UTC")})
    mask = cohort.evaluate(cond(column="when", op=">", value=dt.date(2024, 2, 1)), frame)
    assert mask.tolist() == [False, True]


def test_all_and_any():
    both = cond(all=[cond(column="sex", op="==", value="F"), cond(column="age", op=">", value=50)])
    either = cond(any=[cond(column="sex", op="==", value="M"), cond(column="age", op=">=", value=90)])
    nested = cond(any=[both, cond(column="age", op="is null")])
    assert cohort.evaluate(both, FRAME).astype(int).tolist() == [0, 1, 0, 0, 0, 1]
    assert cohort.evaluate(either, FRAME).astype(int).tolist() == [0, 0, 1, 1, 0, 1]
    assert cohort.evaluate(nested, FRAME).astype(int).tolist() == [0, 1, 0, 1, 0, 1]


def test_values_are_data_not_code():
    """A value that looks like code is only ever compared as text."""
    frame = pd.DataFrame({"pid": ["a", "b"], "note": ["__import__('os').system('x')", "ok"]})
    mask = cohort.evaluate(cond(column="note", op="==", value="__import__('os').system('x')"), frame)
    assert mask.tolist() == [True, False]


def test_describe_condition_in_words():
    c = cond(any=[cond(column="age", op="<", value=50), cond(column="age", op="is null")])
    assert cohort.describe(c) == "(age < 50 or age is null)"
    assert cohort.describe(cond(column="age", op="between", value=[1, 2])) == "age between 1 and 2"


STEPS = (
    CohortStep(id="I1", label="age known", keep=cond(column="age", op="not null")),
    CohortStep(id="E1", label="women under 60", drop=cond(all=[cond(column="sex", op="==", value="F"),
                                                                cond(column="age", op="<", value=60)])),
)


def test_step_counts_known_answer():
    result = cohort.apply(FRAME, STEPS, id_column="pid")
    table = result.table()
    assert table[["rows_before", "rows_excluded", "rows_after"]].values.tolist() == [[6, 1, 5], [5, 2, 3]]
    assert table[["patients_before", "patients_excluded", "patients_after"]].values.tolist() == [[5, 1, 4], [4, 1, 3]]
    assert table["kind"].tolist() == ["keep", "drop"]
    assert table["condition"].tolist() == ["age not null", "(sex == 'F' and age < 60)"]
    assert sorted(result.cohort.pid) == ["b", "d", "e"]
    assert result.kept.tolist() == [False, False, True, False, True, True]
    assert result.emptied_by is None and result.patients == 3
    assert (result.source_rows, result.source_patients) == (6, 5)


def test_step_counts_equal_sequential_application():
    """Masks combined in order give the counts of filtering the remaining rows one step at a time."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"pid": rng.integers(0, 300, 1000).astype(str), "x": rng.normal(size=1000),
                          "k": rng.choice(["a", "b", None], 1000)})
    steps = (CohortStep(id="S1", label="x", keep=cond(column="x", op=">", value=-1)),
             CohortStep(id="S2", label="k", drop=cond(column="k", op="is null")),
             CohortStep(id="S3", label="b", drop=cond(any=[cond(column="k", op="==", value="b"),
                                                          cond(column="x", op=">", value=1.5)])))
    result = cohort.apply(frame, steps, id_column="pid")
    current = frame
    for step, count in zip(steps, result.steps):
        mask = cohort.evaluate(step.condition, current)
        after = current[mask] if step.keep else current[~mask]
        assert (count.rows_before, count.rows_after) == (len(current), len(after))
        assert (count.patients_before, count.patients_after) == (current.pid.nunique(), after.pid.nunique())
        current = after
    pd.testing.assert_frame_equal(result.cohort, current.reset_index(drop=True))


def test_no_steps_keeps_everything():
    result = cohort.apply(FRAME, (), id_column="pid")
    assert len(result.cohort) == 6 and result.steps == () and result.patients == 5


def test_empty_cohort_names_step():
    steps = (*STEPS, CohortStep(id="E9", label="everyone", drop=cond(column="pid", op="not null")),
             CohortStep(id="E10", label="nobody left", drop=cond(column="age", op=">", value=0)))
    result = cohort.apply(FRAME, steps, id_column="pid")
    assert result.emptied_by == "E9" and len(result.cohort) == 0
    assert [s.rows_after for s in result.steps] == [5, 3, 0, 0]
    assert list(result.cohort.columns) == list(FRAME.columns)


SPLIT_FRAME = pd.DataFrame({
    "pid": list("abcdefgh"),
    "split": ["development"] * 4 + ["validation"] * 3 + ["monitoring"],
    "mgus": [0, 1, 0, 0, 0, 1, 0, 0],
    "y": [1, 0, np.nan, 0, 1, 0, 0, 1],
})
SPLIT_STEPS = (
    CohortStep(id="E1", label="development", drop=cond(column="split", op="==", value="development")),
    CohortStep(id="E2", label="mgus", drop=cond(column="mgus", op="==", value=1)),
    CohortStep(id="E3", label="unknown outcome", drop=cond(column="y", op="is null")),
)


def test_reference_rows_apply_the_steps_not_on_the_split():
    rows, skipped = cohort.reference_rows(SPLIT_FRAME, SPLIT_STEPS, split_column="split", split="development",
                                          id_column="pid")
    assert skipped == ("E1",)
    assert rows.pid.tolist() == ["a", "d"]  # b has mgus, c an unknown outcome


def _study(**table_one):
    data = {
        "study": {"id": "t", "title": "t", "intended_use": "t"},
        "snapshot": {"path": "x", "lock": "sha256:" + "0" * 64},
        "data": {"id": "pid", "outcome": "y", "split": "split"},
        "models": {"candidate": {"score": "p", "name": "m", "version": "1", "artifact_sha256": "0" * 64}},
        "cohort": [s.model_dump(exclude_none=True) for s in SPLIT_STEPS],
        "analysis": {"threshold": 0.5},
    }
    if table_one:
        data["table_one"] = table_one
    return Study.model_validate(data)


def test_comparison_rows_add_the_excluded_development_split():
    study = _study()
    result = cohort.apply(SPLIT_FRAME, study.cohort, id_column="pid")
    comparison = cohort.comparison_rows(SPLIT_FRAME, result, study)
    assert comparison.reference == ("development",)
    assert sorted(comparison.frame.pid) == ["a", "d", "e", "g", "h"]
    assert "after cohort steps E2, E3 (E1 selects on split and was skipped)" in comparison.notes[0]
    # a compared split already in the cohort is not duplicated
    kept = cohort.apply(SPLIT_FRAME, study.cohort[1:], id_column="pid")
    assert cohort.comparison_rows(SPLIT_FRAME, kept, study).reference == ()


def test_split_counts_in_declared_order():
    result = cohort.apply(SPLIT_FRAME, (), id_column="pid")
    counts = cohort.split_counts(result.cohort, id_column="pid", outcome="y", split_column="split",
                                 order=("validation", "development"))
    assert counts.split.tolist() == ["validation", "development", "monitoring"]
    assert counts.iloc[1][["rows", "patients", "positive", "negative", "unknown"]].tolist() == [4, 4, 1, 2, 1]
    whole = cohort.split_counts(result.cohort, id_column="pid", outcome="y", split_column=None)
    assert whole.split.tolist() == ["analysis cohort"] and whole.rows.item() == 8
