"""Issue 15: a parameter file is read strictly before anything runs (exit 2, a message naming line and key).

Duplicate keys, alias bombs, oversized files, non-UTF-8 bytes, booleans or NaN where a number is
expected: each used to be accepted (or to hang) and is now refused with a short message.
"""

from __future__ import annotations

import time

import pytest
import yaml

from studylib import plan
from studylib.errors import ParameterError
from studylib.plan import loading, messages, schema


def _refused(path, *fragments) -> str:
    with pytest.raises(ParameterError) as err:
        plan.load(path)
    text = str(err.value)
    for fragment in fragments:
        assert fragment in text, text
    return text


def _edit(params_file, change):
    data = yaml.safe_load(params_file.read_text())
    change(data)
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_key_given_twice_names_both_lines(tiny_project):
    text = tiny_project.read_text()
    tiny_project.write_text(text.replace("study:\n", "study:\n  title: first\n", 1))
    _refused(tiny_project, "tiny.yaml:4: key 'title' is given twice in one mapping (lines 2 and 4)")


def test_a_key_given_twice_deep_in_a_list(tiny_project):
    text = tiny_project.read_text()
    tiny_project.write_text(text.replace("  label: MGUS\n", "  label: MGUS\n  label: other\n", 1))
    _refused(tiny_project, "key 'label' is given twice")


def test_an_alias_bomb_is_refused_at_once(tiny_project):
    bomb = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    bomb += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]  # 10^9 values
    text = tiny_project.read_text().replace("data:\n", "data:\n  features: *a8\n", 1)
    tiny_project.write_text("\n".join(bomb) + "\n" + text)
    started = time.process_time()
    _refused(tiny_project, f"expands to more than {loading.MAX_VALUES:,} values")
    assert time.process_time() - started < 30  # not a speed target: "does not hang" (it used to run for minutes)


def test_plain_aliases_of_small_values_still_load(tiny_project):
    # yaml.safe_dump writes a dict used twice as an anchor and an alias
    _edit(tiny_project, lambda d: d["cohort"].append({"id": "E2", "label": "again", "drop": d["cohort"][1]["drop"]}))
    assert "&id" in tiny_project.read_text()
    assert [s.id for s in plan.load(tiny_project).cohort] == ["I1", "E1", "E2"]


def test_a_file_over_the_size_limit_is_not_parsed(tiny_project):
    text = tiny_project.read_text()
    tiny_project.write_text(text.replace("data:\n", "data:\n  features: [" + ",".join(["age"] * 5_000_000) + "]\n", 1))
    _refused(tiny_project, "tiny.yaml: larger than 256 KiB")


def test_a_long_list_under_the_limit_is_refused_with_a_short_message(tiny_project):
    from studylib.run import runner

    text = tiny_project.read_text()
    tiny_project.write_text(text.replace("data:\n", "data:\n  features: [" +
                                         ",".join(f"c{i}" for i in range(20_000)) + "]\n", 1))
    with pytest.raises(ParameterError) as err:
        runner.prepare(tiny_project)
    lines = str(err.value).splitlines()
    assert len(lines) == messages.MAX_PROBLEMS + 1 and lines[-1] == "... and 19,950 more problems"


def test_a_byte_that_is_not_utf8_names_line_and_column(tiny_project):
    tiny_project.write_bytes(tiny_project.read_bytes().replace(b"Tiny test study", b"Tiny \xff study"))
    _refused(tiny_project, "tiny.yaml:3: byte 0xff at column 15 is not UTF-8")


def test_echoed_values_are_cut():
    assert messages.echo("x" * 5) == "'xxxxx'"
    long = messages.echo("x" * 5_000_000)
    assert len(long) < 120 and long.endswith("… (5,000,002 characters)")
    assert messages.echo(list(range(5_000_000))).endswith("(5,000,000 items)")


def test_a_huge_wrong_value_is_echoed_short(tiny_project):
    _edit(tiny_project, lambda d: d["analysis"].update(threshold="9" * 200_000))
    text = _refused(tiny_project, "analysis.threshold: Input should be a valid number")
    assert len(text) < 400


@pytest.mark.parametrize("key, value, expected", [
    (("study", "small_cell_threshold"), True, "study.small_cell_threshold: Input should be a valid number, not "
                                              "true/false; got True"),
    (("analysis", "threshold"), False, "analysis.threshold: Input should be a valid number, not true/false"),
    (("analysis", "n_bootstrap"), "2000", "analysis.n_bootstrap: Input should be a valid number, not text"),
    (("analysis", "threshold"), float("nan"), "analysis.threshold: Input should be a valid number, not NaN; got nan"),
    (("analysis", "alpha"), float("inf"), "analysis.alpha: Input should be a finite number"),
])
def test_numbers_are_strict(tiny_project, key, value, expected):
    _edit(tiny_project, lambda d: d[key[0]].update({key[1]: value}))
    _refused(tiny_project, expected)


@pytest.mark.parametrize("key", ["above", "below", "interval_excludes"])
def test_nan_in_a_trigger_threshold_is_refused(tiny_project, key):
    def change(d):
        trigger = d["drift"]["triggers"][0]
        trigger.pop("above")
        trigger[key] = float("nan")
    _edit(tiny_project, change)
    _refused(tiny_project, f"drift.triggers[0].{key}: Input should be a valid number, not NaN")


def test_nan_cut_point_is_refused_and_infinite_ones_allowed(tiny_project):
    _edit(tiny_project, lambda d: d["subgroups"]["variables"][1].update(cut=[50, float("nan"), 120]))
    _refused(tiny_project, "subgroups.variables[1].cut: item 2: Input should be a valid number, not NaN")
    _edit(tiny_project, lambda d: d["subgroups"]["variables"][1].update(cut=[float("-inf"), 70, float("inf")]))
    assert plan.load(tiny_project).subgroups.variables[1].cut == (float("-inf"), 70, float("inf"))


def test_booleans_are_not_numbers_or_words():
    for value in (1, "yes"):
        with pytest.raises(Exception, match="Input should be true or false"):
            schema._strict_value(bool | None, value)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_numeric_key_refuses_true_and_nan():
    """Walks every key of every section (including keys added later): a number is never true or NaN."""
    checked = set()
    for model in _subclasses(schema.Strict):
        for name, field in model.model_fields.items():
            items = schema._sequence_items(field.annotation)
            kinds, _ = schema._scalar_kinds(items[0] if items else field.annotation)
            if not kinds & {int, float} or kinds & {bool, object}:
                continue
            checked.add((model.__name__, name))
            for bad in (True, float("nan")) if float in kinds else (True,):
                with pytest.raises(Exception, match="Input should be a valid number"):
                    schema._strict_value(field.annotation, [bad] if items else bad)
    assert {("StudySection", "small_cell_threshold"), ("Trigger", "above"), ("SubgroupVariable", "cut"),
            ("AnalysisSection", "threshold_grid")} <= checked
