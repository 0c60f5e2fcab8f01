import pytest
import yaml

from studylib import plan
from studylib.errors import ParameterError


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_tiny_project_loads(tiny_project):
    study = plan.load(tiny_project)
    assert study.study.id == "tiny"
    assert study.root == tiny_project.parent.parent
    assert study.snapshot_path == tiny_project.parent.parent / "snapshots" / "tiny"
    assert study.score_columns == {"candidate": "p_v2", "baseline": "p_v1"}
    assert len(study.sha256) == 64


def test_parameters_are_frozen(tiny_project):
    study = plan.load(tiny_project)
    with pytest.raises(Exception):
        study.analysis.threshold = 0.9


def test_unknown_key_names_key_line_and_suggestion(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["analysis"]["treshold"] = 0.2
    _write(tiny_project, data)
    with pytest.raises(ParameterError) as err:
        plan.load(tiny_project)
    message = str(err.value)
    assert "analysis.treshold: unknown key; did you mean 'threshold'?" in message
    assert f"{tiny_project}:" in message


def test_unknown_top_level_section(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroup"] = {}
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match=r"subgroup: unknown key; did you mean 'subgroups'\?"):
        plan.load(tiny_project)


@pytest.mark.parametrize("key, value, expected", [
    (("analysis", "threshold"), 1.5, "analysis.threshold: Input should be less than or equal to 1; got 1.5"),
    (("analysis", "threshold"), "high", "analysis.threshold: Input should be a valid number"),
    (("analysis", "ci_method"), "wald", "analysis.ci_method: Input should be 'wilson'"),
    (("analysis", "alpha"), 0, "analysis.alpha: Input should be greater than 0"),
    (("snapshot", "lock"), "abc", "snapshot.lock: String should match pattern"),
    (("study", "small_cell_threshold"), 0, "study.small_cell_threshold: Input should be greater than or equal to 1"),
])
def test_wrong_type_or_range_names_key_and_expectation(tiny_project, key, value, expected):
    data = yaml.safe_load(tiny_project.read_text())
    data[key[0]][key[1]] = value
    _write(tiny_project, data)
    with pytest.raises(ParameterError) as err:
        plan.load(tiny_project)
    assert expected in str(err.value)


def test_missing_required_key(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    del data["data"]["outcome"]
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match=r"data.outcome: required key is missing"):
        plan.load(tiny_project)


def test_malformed_yaml_gives_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("study:\n  id: x\n  title: [unclosed\nsnapshot: {}\n")
    with pytest.raises(ParameterError, match=r"bad.yaml:\d+: not valid YAML"):
        plan.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="parameter file not found"):
        plan.load(tmp_path / "nope.yaml")


@pytest.mark.parametrize("step, message", [
    ({"id": "X", "label": "x", "keep": {"column": "age", "op": "=~", "value": 3}}, "unknown operator '=~'"),
    ({"id": "X", "label": "x", "keep": {"column": "age", "op": "between", "value": 3}}, "op 'between' needs a value [low, high]"),
    ({"id": "X", "label": "x", "keep": {"column": "age", "op": "in", "value": 3}}, "op 'in' needs a non-empty list"),
    ({"id": "X", "label": "x"}, "needs exactly one of keep: or drop:"),
    ({"id": "X", "label": "x", "keep": {"column": "age", "op": "is null", "value": 3}}, "op 'is null' takes no value"),
])
def test_bad_cohort_steps(tiny_project, step, message):
    data = yaml.safe_load(tiny_project.read_text())
    data["cohort"].append(step)
    _write(tiny_project, data)
    with pytest.raises(ParameterError) as err:
        plan.load(tiny_project)
    assert message in str(err.value)
    assert "cohort[2]" in str(err.value)


def test_impossible_acceptance_bound(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"].append({"id": "AC-9", "metric": "sensitivity", "bound": "lower", "at_least": 1.3})
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match="criterion AC-9: at_least for sensitivity must be in"):
        plan.load(tiny_project)


def test_cut_points_must_increase(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"][1]["cut"] = [50, 40, 120]
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match="cut points must be strictly increasing"):
        plan.load(tiny_project)


def test_duplicate_ids(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["cohort"].append(dict(data["cohort"][0]))
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match="cohort step ids must be unique; repeated: I1"):
        plan.load(tiny_project)


def test_between_is_another_spelling_of_interval_within(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"].append({"id": "AC-9", "metric": "calibration_slope", "between": [0.8, 1.2]})
    _write(tiny_project, data)
    study = plan.load(tiny_project)
    assert study.acceptance[-1].interval_within == (0.8, 1.2)
