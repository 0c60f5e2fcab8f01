"""Table 1: known answers, agreement with the tableone package, SMDs per variable, small-cell suppression.

The SMD formulas are tested in ``tests/stats/test_smd.py``; the text of the table in
``tests/report/test_tables_cohort.py``."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from studylib.stages.cohort import table_one as T
from studylib.plan import Study

AGE = T.Variable("age", "Age (years)", "continuous", "mean_sd")
CREAT = T.Variable("creat", "Creatinine", "continuous", "median_iqr")
SEX = T.Variable("sex", "Sex", "categorical")
Y = T.Variable("y", "Outcome", "categorical")


def _frame(n=400, seed=11):
    rng = np.random.default_rng(seed)
    split = rng.choice(["development", "validation"], n)
    creat = rng.lognormal(0, 0.3, n).round(2)
    creat[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "split": split,
        "age": rng.normal(65, 10, n) + 3 * (split == "validation"),
        "creat": creat,
        "sex": rng.choice(["F", "M"], n, p=[0.55, 0.45]),
        "grade": rng.choice(["I", "II", "III", "IV"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "y": rng.choice([0.0, 1.0], n, p=[0.85, 0.15]),
    })


def hand_built() -> T.TableOne:
    frame = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6,
                          "x": [1, 2, 3, 4, 5, 6, 10, 10, 10, 10, 10, np.nan],
                          "c": ["u"] * 5 + ["v"] + ["u"] * 6})
    return T.describe(frame, by="g", variables=(T.Variable("x", "X", "continuous", "median_iqr"),
                                                T.Variable("c", "C", "categorical")), threshold=1)


def test_known_answers_on_a_hand_built_frame():
    t = hand_built()
    cells = t.cells.set_index(["variable", "level", "group"])
    assert cells.loc[("x", "", "a"), ["count", "mean", "median", "q1", "q3"]].tolist() == [6, 3.5, 3.5, 2.25, 4.75]
    assert cells.loc[("x", "", "a"), "sd"] == pytest.approx(np.std([1, 2, 3, 4, 5, 6], ddof=1))
    assert cells.loc[("x", "missing", "b"), ["count", "denominator"]].tolist() == [1, 6]
    assert cells.loc[("c", "u", "a"), ["count", "percent"]].tolist() == [5, pytest.approx(500 / 6)]
    assert cells.loc[("c", "v", "b"), "count"] == 0


def test_agrees_with_tableone_package():
    """Means, SDs, medians, quartiles, counts, percents and SMDs against tableone 0.9.6 (same data)."""
    from tableone import TableOne

    frame = _frame().dropna(subset=["creat"])  # tableone's percents exclude missing values; ours include them
    variables = (AGE, CREAT, SEX, T.Variable("grade", "Grade", "categorical"))
    ours = T.describe(frame, by="split", variables=variables, smd_between=("development", "validation"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = TableOne(frame, columns=["age", "creat", "sex", "grade"], categorical=["sex", "grade"],
                        nonnormal=["creat"], groupby="split", smd=True, pval=False)
    cells = ours.cells.set_index(["variable", "level", "group"])
    for var in ("age", "creat"):
        for group in ("development", "validation"):
            row = cells.loc[(var, "", group)]
            for ours_name, peer_name in (("mean", "mean"), ("sd", "std"), ("median", "median"), ("q1", "q25"),
                                         ("q3", "q75"), ("count", "count")):
                assert row[ours_name] == pytest.approx(peer.cont_describe.loc[var, (peer_name, group)], rel=1e-12)
    for var, levels in (("sex", ["F", "M"]), ("grade", ["I", "II", "III", "IV"])):
        for group in ("development", "validation"):
            for level in levels:
                row = cells.loc[(var, level, group)]
                assert row["count"] == peer.cat_describe.loc[(var, level), ("freq", group)]
                assert row["percent"] == pytest.approx(peer.cat_describe.loc[(var, level), ("percent", group)],
                                                       rel=1e-12)
    smd = ours.smd.set_index("variable")["smd"]
    for var in ("age", "creat", "sex", "grade"):
        assert smd[var] == pytest.approx(abs(peer.smd_table.loc[var, "SMD (development,validation)"]), rel=1e-9)


def small_cells() -> T.TableOne:
    frame = pd.DataFrame({"g": ["a"] * 20 + ["b"] * 3,
                          "sex": ["F"] * 3 + ["M"] * 17 + ["F", "M", "M"],
                          "grade": ["I"] * 2 + ["II"] * 2 + ["III"] * 16 + ["I"] * 3,
                          "x": [1.0] * 20 + [2.0, 3.0, 4.0]})
    return T.describe(frame, by="g", variables=(SEX, T.Variable("grade", "Grade", "categorical"),
                                                T.Variable("x", "X", "continuous", "mean_sd")), threshold=5)


def test_small_cells_are_suppressed_with_a_complement():
    t = small_cells()
    shown = t.suppressed().set_index(["variable", "level", "group"])["shown"]
    assert shown[("sex", "F", "a")] == "primary"
    assert shown[("sex", "M", "a")] == "complement"  # 20 - 17 would give F away
    assert shown[("grade", "I", "a")] == shown[("grade", "II", "a")] == "primary"  # two primaries: no complement
    assert shown[("grade", "III", "a")] == "value"
    assert shown[("sex", "F", "b")] == "group"  # group below threshold
    results = t.to_results()
    assert results["groups"] == [{"group": "a", "n": 20, "reference": False}, {"group": "b", "n": None, "reference": False}]
    cells = results["cells"].set_index(["variable", "level", "group"])
    assert cells.loc[("sex", "F", "a"), ["count", "percent", "suppression"]].tolist() == [None, None, "primary"]
    assert cells.loc[("sex", "M", "a"), ["count", "suppression"]].tolist() == [None, "complement"]
    assert cells.loc[("grade", "III", "a"), "count"] == 16
    assert cells.loc[("x", "", "b"), "mean"] is None and cells.loc[("x", "", "a"), "mean"] == 1.0


def test_missing_rows_and_percent_of_the_group():
    frame = _frame()
    t = T.describe(frame, by="split", variables=(CREAT,), threshold=5)
    cells = t.cells.set_index(["variable", "level", "group"])
    missing = frame.groupby("split").creat.apply(lambda s: s.isna().sum())
    for group in ("development", "validation"):
        assert cells.loc[("creat", "missing", group), "count"] == missing[group]
        assert cells.loc[("creat", "missing", group), "denominator"] == (frame.split == group).sum()


def test_group_order_smd_and_reference_groups():
    frame = _frame()
    t = T.describe(frame, by="split", variables=(AGE, SEX, Y), order=["validation", "development"],
                   smd_between=("development", "validation"), reference=("development",), notes=("note.",))
    assert t.groups == ("validation", "development") and t.reference == ("development",) and t.notes == ("note.",)
    assert t.to_results()["groups"][1] == {"group": "development", "n": int((frame.split == "development").sum()),
                                           "reference": True}
    assert set(t.cells.loc[t.cells.variable == "y", "level"]) == {"0", "1", "missing"}  # 1.0 shown as 1
    assert 0.2 < t.smd.set_index("variable").loc["age", "smd"] < 0.5  # planted: +3 years in validation
    missing_group = T.describe(frame[frame.split == "validation"], by="split", variables=(AGE,),
                               smd_between=("development", "validation"))
    assert math.isnan(missing_group.smd["smd"].item())


def test_empty_frame():
    frame = _frame().iloc[:0]
    t = T.describe(frame, by="split", variables=(AGE, SEX), smd_between=("development", "validation"))
    assert t.groups == () and t.sizes == ()
    assert t.to_results()["groups"] == []


def _study(**extra):
    data = {
        "study": {"id": "t", "title": "t", "intended_use": "t", "small_cell_threshold": 3},
        "snapshot": {"path": "x", "lock": "sha256:" + "0" * 64},
        "data": {"id": "pid", "outcome": "y", "split": "split", "features": ["age", "sex", "creat"]},
        "models": {"candidate": {"score": "p", "name": "m", "version": "1", "artifact_sha256": "0" * 64}},
        "analysis": {"threshold": 0.5},
    }
    for key, value in extra.items():
        data.setdefault(key, {}).update(value) if isinstance(value, dict) and key in data else data.update({key: value})
    return Study.model_validate(data)


def test_study_variables_declared_and_default():
    study = _study(table_one={"summary": "mean_sd", "continuous": ["age", {"column": "creat", "summary": "median_iqr",
                                                                         "label": "Creatinine (mg/dL)"}],
                              "categorical": [{"column": "sex", "label": "Sex"}]})
    assert T.study_variables(study) == (T.Variable("age", "age", "continuous", "mean_sd"),
                                        T.Variable("creat", "Creatinine (mg/dL)", "continuous", "median_iqr"),
                                        T.Variable("sex", "Sex", "categorical"))
    default = T.study_variables(_study(), dtypes=_frame().dtypes)
    assert [(v.column, v.kind) for v in default] == [("age", "continuous"), ("sex", "categorical"),
                                                    ("creat", "continuous"), ("y", "categorical")]


def test_by_split_and_by_site():
    frame = _frame().assign(site=lambda f: np.where(f.index % 3 == 0, "S1", "S2"))
    study = _study()
    t = T.by_split(study, frame)
    assert t.groups == ("development", "validation") and t.threshold == 3 and t.smd_between is not None
    assert T.by_site(study, frame) is None
    sites = T.by_site(_study(data={"site": "site"}), frame)
    assert sites.groups == ("S1", "S2") and sites.smd_between is None
    assert T.by_split(_study(data={"split": None}), frame) is None
    assert T.split_order(_study(table_one={"smd_between": ["a", "b"]})) == ("a", "b")
