import numpy as np
import pandas as pd
import pytest

from studylib import cohort
from studylib.params import CohortStep, Condition

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


def test_all_and_any():
    both = cond(all=[cond(column="sex", op="==", value="F"), cond(column="age", op=">", value=50)])
    either = cond(any=[cond(column="sex", op="==", value="M"), cond(column="age", op=">=", value=90)])
    assert cohort.evaluate(both, FRAME).astype(int).tolist() == [0, 1, 0, 0, 0, 1]
    assert cohort.evaluate(either, FRAME).astype(int).tolist() == [0, 0, 1, 1, 0, 1]


def test_step_counts_known_answer():
    steps = (
        CohortStep(id="I1", label="age known", keep=cond(column="age", op="not null")),
        CohortStep(id="E1", label="women under 60", drop=cond(all=[cond(column="sex", op="==", value="F"),
                                                                    cond(column="age", op="<", value=60)])),
    )
    result = cohort.apply(FRAME, steps, id_column="pid")
    table = result.table()
    assert table[["rows_before", "rows_excluded", "rows_after"]].values.tolist() == [[6, 1, 5], [5, 2, 3]]
    assert table[["patients_before", "patients_excluded", "patients_after"]].values.tolist() == [[5, 1, 4], [4, 1, 3]]
    assert sorted(result.cohort.pid) == ["b", "d", "e"]
    assert result.emptied_by is None


def test_empty_cohort_names_step():
    steps = (CohortStep(id="E9", label="everyone", drop=cond(column="pid", op="not null")),)
    result = cohort.apply(FRAME, steps, id_column="pid")
    assert result.emptied_by == "E9"
    gates = cohort.integrity_gates(FRAME, result, id_column="pid", split_column=None)
    empty = next(g for g in gates if g.id == "COH-EMPTY")
    assert empty.verdict == "FAIL" and "E9" in empty.sentence


def test_split_leakage_gate_fires_and_names_ids():
    frame = pd.DataFrame({"pid": ["a", "a", "b", "c"], "split": ["development", "validation", "validation", "development"],
                          "x": [1, 2, 3, 4]})
    result = cohort.apply(frame, (), id_column="pid")
    gates = {g.id: g for g in cohort.integrity_gates(frame, result, id_column="pid", split_column="split")}
    assert gates["LEAK-SPLIT"].verdict == "FAIL" and "1 patient(s)" in gates["LEAK-SPLIT"].sentence
    assert ": a." in gates["LEAK-SPLIT"].sentence
    assert gates["LEAK-DUP"].verdict == "PASS"
    clean = frame.drop(index=1)
    gates = {g.id: g for g in cohort.integrity_gates(clean, cohort.apply(clean, (), id_column="pid"),
                                                      id_column="pid", split_column="split")}
    assert gates["LEAK-SPLIT"].verdict == "PASS"


def test_duplicate_rows_gate():
    frame = pd.concat([FRAME, FRAME.iloc[[2]]])
    gates = {g.id: g for g in cohort.integrity_gates(frame, cohort.apply(frame, (), id_column="pid"),
                                                      id_column="pid", split_column=None)}
    assert gates["LEAK-DUP"].verdict == "FAIL"


def test_freeze_and_read_back(tmp_path):
    digest = cohort.freeze(FRAME, tmp_path)
    back = cohort.read_frozen(tmp_path, digest)
    pd.testing.assert_frame_equal(back, FRAME)
    with pytest.raises(RuntimeError, match="does not match the hash"):
        cohort.read_frozen(tmp_path, "0" * 64)
