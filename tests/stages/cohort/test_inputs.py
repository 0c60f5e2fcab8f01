"""Bad cohort-stage input is stopped before execution (exit 2) with a message naming step, key and column."""

import pydantic
import pytest
import yaml
from click.testing import CliRunner

from studylib import plan
from studylib.cli import main
from studylib.run.preflight import closest_columns


def _check(params_file):
    return CliRunner().invoke(main, ["params", "check", str(params_file)])


def _edit(params_file, change):
    data = yaml.safe_load(params_file.read_text())
    change(data)
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))


def _fails(params_file, *fragments):
    result = _check(params_file)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


def test_tiny_project_passes(tiny_project):
    assert _check(tiny_project).exit_code == 0


def test_unknown_operator(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"][1]["drop"].update(op="equals"))
    _fails(tiny_project, "cohort[1].drop.op: unknown operator 'equals'", "expected one of ==, !=, <, <=, >, >=, in, "
           "not in, between, is null, not null")


def test_unknown_column_lists_existing_columns_closest_first(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"][1]["drop"].update(column="mgu"))
    out = _fails(tiny_project, "cohort step E1: unknown column 'mgu'; columns that exist (closest first): mgus, ")
    listed = out.split("closest first): ")[1].split()[0:9]
    assert len(listed) == 9  # every column is listed, the likely one first


def test_unknown_column_inside_all_any(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"].append(
        {"id": "E2", "label": "old men", "drop": {"all": [{"column": "sexx", "op": "==", "value": "M"},
                                                          {"any": [{"column": "age", "op": ">", "value": 90}]}]}}))
    _fails(tiny_project, "cohort step E2: unknown column 'sexx'; columns that exist (closest first): sex")


@pytest.mark.parametrize("step, message", [
    ({"column": "mgus", "op": "==", "value": "one"}, "column 'mgus' is numeric (int64); value 'one' is not a number"),
    ({"column": "split", "op": "==", "value": 1}, "column 'split' holds text ("),
    ({"column": "age", "op": "in", "value": [50, "sixty"]}, "column 'age' is numeric (int64); value 'sixty' is not"),
    ({"column": "age", "op": "between", "value": [True, 50]}, "column 'age' is numeric (int64); value True is not"),
])
def test_value_must_fit_the_column(tiny_project, step, message):
    _edit(tiny_project, lambda d: d["cohort"][1].update(drop=step))
    _fails(tiny_project, "cohort step E1: " + message)


def test_between_needs_low_not_above_high(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"][1].update(drop={"column": "age", "op": "between", "value": [80, 50]}))
    _fails(tiny_project, "cohort[1].drop: op 'between' needs low <= high; got [80, 50]")


@pytest.mark.parametrize("key, role", [("id", "pseudonymous patient-id column"), ("split", "column naming the data split")])
def test_snapshot_without_the_declared_id_or_split_column(tiny_project, key, role):
    _edit(tiny_project, lambda d: d["data"].update({key: "pid" if key == "id" else "splits"}))
    wrong, closest = ("pid", "person_id") if key == "id" else ("splits", "split")
    _fails(tiny_project, f"data.{key}: the snapshot has no column '{wrong}' (the {role}); "
                         f"columns that exist (closest first): {closest}, ")


def test_all_problems_are_reported_together(tiny_project):
    def change(d):
        d["data"]["id"] = "PERSON_ID"
        d["cohort"][1]["drop"]["column"] = "mgu"
        d["data"]["post_outcome"] = ["chapter"]
    _edit(tiny_project, change)
    _fails(tiny_project, "data.id: the snapshot has no column 'PERSON_ID'", "(closest first): person_id, ", "cohort step E1: unknown column 'mgu'",
           "data.post_outcome: unknown column 'chapter'")


def test_collection_window(tiny_project):
    _edit(tiny_project, lambda d: d["data"].update(collection_window=[1995, "1999"]))
    _fails(tiny_project, "data.collection_window: column 'sample_year' is numeric (int64); value '1999' is not a number")
    _edit(tiny_project, lambda d: d["data"].update(collection_window=[1999, 1995]))
    _fails(tiny_project, "data: collection_window must be [first, last] with first <= last; got [1999, 1995]")
    _edit(tiny_project, lambda d: (d["data"].update(collection_window=[1995, 1999]), d["data"].pop("time")))
    _fails(tiny_project, "data: data.collection_window needs data.time")


def test_label_time_must_compare_with_time(tiny_project):
    _edit(tiny_project, lambda d: d["data"].update(label_time="sex"))
    _fails(tiny_project, "data.label_time: 'sex' (", "cannot be compared with data.time 'sample_year' (int64)")
    _edit(tiny_project, lambda d: d["data"].update(label_time="sample_year", encounter="visit"))
    _fails(tiny_project, "data.encounter: unknown column 'visit'")


@pytest.mark.parametrize("table_one, message", [
    ({"continuous": ["sex"]}, "table_one.continuous: 'sex' is "),
    ({"continuous": ["sex"]}, "not numeric; list it under table_one.categorical"),
    ({"categorical": ["sexe"]}, "table_one.categorical: unknown column 'sexe'; columns that exist (closest first): sex"),
    ({"categorical": [{"column": "sex", "summary": "mean_sd"}]},
     "table_one: table_one.categorical: 'sex' has a summary; summaries (mean_sd, median_iqr) apply to continuous"),
    ({"continuous": ["age"], "categorical": ["age"]}, "table_one: each column may appear once; repeated: age"),
    ({"smd_between": ["validation", "validation"]}, "table_one.smd_between needs two different split values"),
    ({"summary": "mean"}, "table_one.summary: Input should be 'mean_sd' or 'median_iqr'"),
    ({"continuous": [{"column": "age", "style": "mean_sd"}]}, "table_one.continuous[0].style: unknown key"),
])
def test_table_one_section(tiny_project, table_one, message):
    _edit(tiny_project, lambda d: d.update(table_one=table_one))
    _fails(tiny_project, message)


def test_missing_flag_percent_range(tiny_project):
    _edit(tiny_project, lambda d: d["data"].update(missing_flag_percent=150))
    _fails(tiny_project, "data.missing_flag_percent: Input should be less than or equal to 100")


def test_date_values_against_a_date_column(tmp_path):
    """A timestamp column takes YAML dates or ISO text; anything else is named."""
    import pandas as pd

    from tests.conftest import tiny_frame, tiny_params, write_snapshot

    frame = tiny_frame(200).assign(sampled=lambda f: pd.to_datetime(f.sample_year.astype(str) + "-06-01"))
    lock, artifact = write_snapshot(tmp_path / "snapshots" / "tiny", frame)
    (tmp_path / "params").mkdir()
    path = tmp_path / "params" / "tiny.yaml"
    data = tiny_params(lock, artifact)
    data["data"].update(time="sampled", collection_window=["1995-01-01", "1999-12-31"])
    data["cohort"].append({"id": "E2", "label": "late", "drop": {"column": "sampled", "op": ">", "value": "soon"}})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    _fails(path, "cohort step E2: column 'sampled' holds dates (timestamp", "value 'soon' is not a date")
    data["cohort"][-1]["drop"]["value"] = "1999-01-01"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert _check(path).exit_code == 0


def test_defaults_of_the_new_keys(tiny_project):
    study = plan.load(tiny_project)
    assert study.table_one is None
    assert (study.data.encounter, study.data.label_time, study.data.collection_window) == (None, None, None)
    assert study.data.post_outcome == () and study.data.missing_flag_percent == 10.0


def test_demo_declares_the_cohort_keys():
    study = plan.load("params/demo.yaml")
    assert study.data.collection_window == (1995, 2003)
    assert study.table_one.smd_between == ("development", "validation")
    with pytest.raises(pydantic.ValidationError, match="table_one.summary"):
        plan.Study.model_validate({**study.model_dump(), "table_one": {"summary": "mean"}})


@pytest.mark.parametrize("word, first", [("mgu", "mgus"), ("PERSON_ID", "person_id"), ("pid", "person_id"),
                                         ("AGE", "age"), ("sampleyear", "sample_year"), ("death", "death_5y"),
                                         ("splits", "split")])
def test_closest_columns_first(word, first):
    columns = ["person_id", "sample_year", "age", "sex", "mgus", "death_5y", "split", "p_v1", "p_v2"]
    ranked = closest_columns(word, columns)
    assert ranked[0] == first and sorted(ranked) == sorted(columns)
