"""Every parameter error names the file, the line, the key path, what was expected and what was found."""

import pytest
import yaml

from studylib import plan
from studylib.errors import ParameterError


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _error(tiny_project, change) -> str:
    data = yaml.safe_load(tiny_project.read_text())
    change(data)
    _write(tiny_project, data)
    with pytest.raises(ParameterError) as err:
        plan.load(tiny_project)
    return str(err.value)


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


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(tiny_project):
    message = _error(tiny_project, lambda d: d["models"]["candidate"].update(zzz=1))
    assert "models.candidate.zzz: unknown key (allowed here: score, name, version, artifact_sha256)" in message


def test_the_line_is_the_line_of_the_key(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["analysis"]["threshold"] = 1.5
    _write(tiny_project, data)
    line = next(i for i, text in enumerate(tiny_project.read_text().splitlines(), 1) if "threshold:" in text)
    with pytest.raises(ParameterError, match=rf"tiny.yaml:{line}: analysis.threshold: "):
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


@pytest.mark.parametrize("change, expected", [
    # a word of a closed vocabulary given as a number fails as a text field does
    (lambda d: d["cohort"][0]["keep"].update(op=3), "cohort[0].keep.op: Input should be a valid string; got 3"),
    (lambda d: d["acceptance"][0].update(metric=3), "acceptance[0].metric: Input should be a valid string; got 3"),
    (lambda d: d["analysis"].update(primary_metrics=["auroc", 3]),
     "analysis.primary_metrics[1]: Input should be a valid string; got 3"),
    # an unknown word names the vocabulary
    (lambda d: d["analysis"].update(primary_metrics=["auroc", "aucroc"]),
     "analysis.primary_metrics: unknown metric 'aucroc'; did you mean 'auroc'? (expected one of sensitivity, "),
    (lambda d: d["acceptance"][0].update(metric="sens"), "acceptance[0].metric: criterion AC-1: unknown metric 'sens'"),
])
def test_closed_vocabularies(tiny_project, change, expected):
    assert expected in _error(tiny_project, change)


def test_missing_required_key(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    del data["data"]["outcome"]
    _write(tiny_project, data)
    with pytest.raises(ParameterError, match=r"data.outcome: required key is missing"):
        plan.load(tiny_project)


def test_every_problem_is_one_line(tiny_project):
    def change(d):
        del d["data"]["outcome"]
        d["analysis"]["alpha"] = 0
    lines = _error(tiny_project, change).splitlines()
    assert len(lines) == 2
    assert any("data.outcome" in line for line in lines) and any("analysis.alpha" in line for line in lines)


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


def test_both_spellings_of_one_key(tiny_project):
    def change(d):
        d["acceptance"].append({"id": "AC-9", "metric": "calibration_slope", "interval_within": [0.8, 1.2],
                                "between": [0.8, 1.2]})
    assert "acceptance[2].between: unknown key" in _error(tiny_project, change)
