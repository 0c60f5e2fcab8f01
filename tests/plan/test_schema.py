"""The models, and their JSON Schema: it accepts what validation accepts."""

import copy
import json
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml

from studylib import plan
from tests.conftest import tiny_params

PARAMS = Path(__file__).resolve().parents[2] / "params"
TINY = tiny_params("sha256:" + "a" * 64, "b" * 64)


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def validator():
    schema = plan.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(data) -> bool:
    try:
        plan.Study.model_validate(data)
    except pydantic.ValidationError:
        return False
    return True


def test_parameters_are_frozen(tiny_project):
    study = plan.load(tiny_project)
    with pytest.raises(pydantic.ValidationError) as err:
        study.analysis.threshold = 0.9
    assert [e["type"] for e in err.value.errors()] == ["frozen_instance"]
    assert study.analysis.threshold == 0.3


def test_between_is_another_spelling_of_interval_within(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["acceptance"].append({"id": "AC-9", "metric": "calibration_slope", "between": [0.8, 1.2]})
    _write(tiny_project, data)
    study = plan.load(tiny_project)
    assert study.acceptance[-1].interval_within == (0.8, 1.2)


# --- JSON Schema ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo.yaml", "breast_external.yaml", "demo_monitoring.yaml"])
def test_study_parameter_files_fit_the_exported_schema(validator, name):
    data = yaml.safe_load((PARAMS / name).read_text())
    validator.validate(data)


def test_between_fits_the_schema(validator):
    data = copy.deepcopy(TINY)
    data["acceptance"].append({"id": "AC-9", "metric": "calibration_slope", "between": [0.8, 1.2]})
    data["subgroups"]["gates"].append({"id": "SG-9", "metric": "calibration_slope", "between": [0.5, 1.5]})
    validator.validate(data)
    assert _valid(data)


@pytest.mark.parametrize("where", [(), ("analysis",), ("models", "candidate"), ("acceptance", 0),
                                   ("drift", "triggers", 0), ("cohort", 0, "keep")])
def test_an_unknown_key_fails_the_schema(validator, where):
    data = copy.deepcopy(TINY)
    node = data
    for part in where:
        node = node[part]
    node["treshold"] = 0.2
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(data)
    assert not _valid(data)


def test_schema_is_strict_json():
    text = json.dumps(plan.json_schema(), allow_nan=False)
    assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _fields(schema):
    """(model, key, property) of every key of every model in the schema."""
    for name, definition in schema["$defs"].items():
        for key, prop in definition["properties"].items():
            yield name, key, prop
    for key, prop in schema["properties"].items():
        yield "Study", key, prop


def test_every_key_has_a_description_and_an_example():
    schema = plan.json_schema()
    missing = [f"{model}.{key}" for model, key, prop in _fields(schema)
               if not prop.get("description") or not prop.get("examples")]
    assert not missing, f"keys without description or example: {missing}"
    undocumented = [name for name, definition in schema["$defs"].items() if not definition.get("description")]
    assert not undocumented, f"models without a docstring: {undocumented}"


def test_examples_fit_the_schema():
    schema = plan.json_schema()
    for model, key, prop in _fields(schema):
        sub = {**prop, "$defs": schema["$defs"]}
        sub.pop("examples")
        for example in prop["examples"]:
            jsonschema.Draft202012Validator(sub).validate(example)


@pytest.mark.parametrize("vocabulary, model, key", [
    (plan.OPERATORS, "Condition", "op"), (plan.METRICS, "Criterion", "metric"),
    (plan.METRICS, "AnalysisSection", "primary_metrics"), (plan.CI_METHODS, "AnalysisSection", "ci_method"),
    (plan.TRIGGER_STATISTICS, "Trigger", "statistic"), (plan.ACTIONS, "Trigger", "action"),
    (plan.PERIODS, "WindowSelector", "period"), (plan.SUBGROUP_GATE_METRICS, "SubgroupGate", "metric"),
    (plan.SUBGROUP_METRICS, "SubgroupsSection", "heterogeneity_metrics"),
])
def test_closed_vocabularies_are_enums(vocabulary, model, key):
    prop = json.dumps(plan.json_schema()["$defs"][model]["properties"][key])
    assert json.dumps(list(vocabulary)) in prop


# A corpus of forms around every rule that ties keys together: validation and the schema must agree
# on each (accepting or rejecting), which is what "the schema describes what validation accepts" means.
_CONDITIONS = [
    {"column": "a", "op": "==", "value": 1}, {"column": "a", "op": "in", "value": [1]},
    {"column": "a", "op": "in", "value": []}, {"column": "a", "op": "between", "value": [1, 2]},
    {"column": "a", "op": "between", "value": [1, 2, 3]}, {"column": "a", "op": "is null"},
    {"column": "a", "op": "not null", "value": None}, {"column": "a", "op": "is null", "value": 1},
    {"column": "a", "op": "==", "value": [1]}, {"column": "a", "op": "=="}, {"column": "a"},
    {"column": "a", "op": "=~", "value": 1}, {"all": [{"column": "a", "op": "==", "value": 1}]}, {"any": []},
    {"all": [], "any": []}, {"column": "a", "all": []}, {"op": "==", "value": 1}, {},
    {"column": None, "any": [{"column": "a", "op": "is null"}]}, {"column": "a", "op": "<", "value": {"x": 1}},
    {"all": [{"any": [{"column": "b", "op": "not in", "value": ["x", 1]}]}, {"column": "c", "op": ">="}]},
]
_CRITERIA = [
    {"bound": "lower", "at_least": 0.5}, {"at_least": 0.5}, {"at_most": 0.5, "at_least": 0.4},
    {"interval_within": [0.1, 0.9]}, {"between": [0.1, 0.9]}, {"interval_within": [0.1, 0.9], "between": [0.1, 0.9]},
    {"between": [1.5, 2]}, {"between": [-2, -1]}, {"interval_within": [0.1, 0.9], "bound": "lower"},
    {"versus": "baseline", "non_inferiority_margin": 0.02}, {"versus": "baseline"},
    {"versus": "baseline", "non_inferiority_margin": 1.5}, {"versus": "baseline", "non_inferiority_margin": 0.02,
                                                             "at_least": 0.1},
    {}, {"bound": "lower"}, {"at_least": 1.5}, {"at_least": -0.5}, {"at_most": 2},
    {"relative_to": "overall", "max_below": 0.05}, {"relative_to": "overall", "max_above": 0.05},
    {"relative_to": "overall"}, {"max_below": 0.05}, {"relative_to": "overall", "max_below": 0.05, "max_above": 0.05},
    {"relative_to": "overall", "max_below": 0.05, "bound": "lower"},
    {"relative_to": "overall", "max_below": 0.05, "at_least": 0.1}, {"interval_within": [-3, -1]},
]
_METRICS = ["sensitivity", "auroc", "brier", "calibration_slope", "oe_ratio", "auprc"]
_WINDOWS = [
    {"column": "y"}, {"column": "y", "values": [1]}, {"column": "y", "values": []}, {"column": "y", "between": [1, 3]},
    {"column": "y", "values": [1], "between": [1, 2]}, {"column": "y", "each": 2},
    {"column": "y", "period": "month", "between": ["2024-01", "2024-12"]},
    {"column": "y", "period": "month", "values": ["2024-13"]}, {"column": "y", "period": "quarter", "values": ["2024-Q1"]},
    {"column": "y", "period": "year", "values": [2024, "2025"]}, {"column": "y", "period": "year", "values": [2024.5]},
    {"column": "y", "format": "%Y"}, {"column": "y", "period": "month", "format": "%d/%m/%Y", "values": ["2024-01"]},
]
_TRIGGERS = [
    {"statistic": "psi", "above": 0.1}, {"statistic": "psi", "above": 0.1, "below": 0.2}, {"statistic": "psi"},
    {"statistic": "psi", "above": 0.1, "bound": "lower"}, {"statistic": "auroc", "below": 0.7, "bound": "lower"},
    {"statistic": "auroc", "of": "age", "below": 0.7}, {"statistic": "missing_rate", "of": "age", "above": 0.1},
    {"statistic": "missing_rate", "above": 0.1}, {"statistic": "ks", "interval_excludes": 0.1},
    {"statistic": "oe_ratio", "interval_excludes": 1.0, "in": "consecutive_windows", "count": 2},
    {"statistic": "psi", "above": 0.1, "in_": "consecutive_windows"},
    {"statistic": "psi", "above": 0.1, "in": "any_window", "in_": "any_window"},
    {"statistic": "auroc", "below": 0.7, "bound": "lower", "accept_imprecision": True},
    {"statistic": "auroc", "below": 0.7, "bound": "lower", "accept_imprecision": False},
    {"statistic": "auroc", "below": 0.7, "bound": "upper"}, {"statistic": "auroc", "above": 0.9, "bound": "upper"},
    {"statistic": "auroc", "above": 0.9, "bound": "lower"}, {"statistic": "auroc", "below": 0.7, "accept_imprecision": True},
]
_VARIABLES = [
    {"name": "v", "column": "c", "cut": [1]}, {"name": "v", "column": "c", "cut": [1, 2, 3], "labels": ["a", "b"]},
    {"name": "v", "column": "c", "cut": [1, 2, 3], "labels": ["a", "a"]}, {"name": "v", "column": "c", "labels": ["a"]},
    {"name": "v", "column": "c", "reference": 3}, {"name": "v", "column": "c", "reference": True},
    {"name": "v", "column": "c", "cut": [float("-inf"), 0, float("inf")]},
]
_TABLE_ONE = [
    {"continuous": ["age"], "categorical": ["sex"]}, {"categorical": [{"column": "sex", "summary": "mean_sd"}]},
    {"continuous": [""]}, {"continuous": [3]}, {"continuous": "age"}, {"smd_between": ["a", "a"]},
    {"continuous": [{"column": "age", "summary": "mean_sd"}]},
]


def _corpus_cases():
    """(document, the top-level key the case changes) for every form; the key is None when a rule of
    the whole study is at stake."""
    def case(name, key, change):
        data = copy.deepcopy(TINY)
        change(data)
        return pytest.param(data, key, id=name)

    for i, condition in enumerate(_CONDITIONS):
        yield case(f"condition{i}", "cohort",
                   lambda d, c=condition: d["cohort"].append({"id": "Z", "label": "z", "keep": c}))
    yield case("keep-and-drop", "cohort", lambda d: d["cohort"].append(
        {"id": "Z", "label": "z", "keep": _CONDITIONS[0], "drop": _CONDITIONS[0]}))
    for i, form in enumerate(_CRITERIA):
        for metric in _METRICS:
            criterion = {"id": "Q", "metric": metric, **form}
            yield case(f"criterion{i}-{metric}", "acceptance", lambda d, c=criterion: d["acceptance"].append(c))
            yield case(f"gate{i}-{metric}", "subgroups", lambda d, c=criterion: d["subgroups"]["gates"].append(c))
    for i, window in enumerate(_WINDOWS):
        yield case(f"reference{i}", "drift", lambda d, w=window: d["drift"].update(reference=w))
        yield case(f"windows{i}", "drift", lambda d, w=window: d["drift"].update(windows=w))
    for i, trigger in enumerate(_TRIGGERS):
        yield case(f"trigger{i}", "drift", lambda d, t=trigger: d["drift"].update(features=["age"], triggers=[
            *d["drift"]["triggers"], {"id": "T9", "action": "investigate", **t}]))
    for i, variable in enumerate(_VARIABLES):
        yield case(f"variable{i}", "subgroups", lambda d, v=variable: d["subgroups"]["variables"].append(v))
    yield case("relative-to-reference-without-reference", "subgroups", lambda d: d["subgroups"]["gates"].append(
        {"id": "R", "metric": "auroc", "relative_to": "reference", "max_below": 0.1}))
    for i, section in enumerate(_TABLE_ONE):
        yield case(f"table_one{i}", "table_one", lambda d, t=section: d.update(table_one=t))
    for i, change in enumerate([{"label_time": "t"}, {"time": None, "label_time": "t"}, {"collection_window": [1]},
                                {"collection_window": [True, 1]}, {"collection_window": ["2020-01", "2021-01"]}]):
        yield case(f"data{i}", "data", lambda d, c=change: d["data"].update(c))
    yield case("versus-without-baseline", None, lambda d: d["models"].pop("baseline"))
    yield case("versus-in-a-gate-without-baseline", None, lambda d: (
        d["models"].pop("baseline"), d.update(acceptance=d["acceptance"][:1]),
        d["subgroups"]["gates"].append({"id": "G", "metric": "auroc", "versus": "baseline",
                                        "non_inferiority_margin": 0.1})))
    yield case("no-versus-no-baseline", None, lambda d: (d["models"].pop("baseline"),
                                                          d.update(acceptance=d["acceptance"][:1])))
    yield case("decision-curve-to-1", "analysis", lambda d: d["analysis"].update(decision_curve=[0.1, 1.0]))
    yield case("metric-twice", "analysis", lambda d: d["analysis"].update(primary_metrics=["auroc", "auroc"]))
    for i, grid in enumerate([[], [0.1], [0.1, 1.1]]):
        yield case(f"threshold-grid{i}", "analysis", lambda d, g=grid: d["analysis"].update(threshold_grid=g))
    yield case("intersection-of-one", "subgroups", lambda d: d["subgroups"].update(intersections=[["sex"]]))
    yield case("feature-twice", "drift", lambda d: d["drift"].update(features=["age", "age"]))


CORPUS = list(_corpus_cases())


@pytest.fixture(scope="module")
def section_validators(validator):
    """A validator of each top-level key's value. Validating only the key a case changes (the rest is
    the tiny study, which fits the schema) gives the verdict on the whole document, ~50x faster."""
    schema = validator.schema
    return {key: jsonschema.Draft202012Validator({**prop, "$defs": schema["$defs"]})
            for key, prop in schema["properties"].items()} | {None: validator}


def test_the_tiny_study_fits_the_schema(validator):
    validator.validate(TINY)
    assert _valid(TINY)


@pytest.mark.parametrize("data, key", CORPUS)
def test_schema_and_validation_agree(section_validators, data, key):
    assert section_validators[key].is_valid(data if key is None else data[key]) == _valid(data)


@pytest.mark.parametrize("key, change", [
    ("analysis", lambda d: d["analysis"].update(threshold_grid=[0.2, 0.1])),
    ("subgroups", lambda d: d["subgroups"]["variables"][1].update(cut=[70, 50])),
    ("subgroups", lambda d: d["subgroups"].update(intersections=[["sex", "nope"]])),
    ("acceptance", lambda d: d["acceptance"].append(dict(d["acceptance"][0]))),
    ("drift", lambda d: d["drift"]["triggers"][0].update(of="nope")),
])
def test_rules_only_validation_checks(section_validators, key, change):
    """The rules listed in VALIDATION_ONLY: the schema lets these through, validation does not."""
    data = copy.deepcopy(TINY)
    change(data)
    assert section_validators[key].is_valid(data[key])
    assert not _valid(data)


def test_the_corpus_has_both_outcomes():
    outcomes = [_valid(p.values[0]) for p in CORPUS]
    assert 0.2 < sum(outcomes) / len(outcomes) < 0.8
