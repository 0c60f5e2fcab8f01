"""The reviewer vocabulary: machine names become words, one meaning of "blocks"."""

import pytest

from studylib.plan import vocabulary as plan_vocabulary
from studylib.report import vocabulary


@pytest.mark.parametrize("text, expected", [
    ("p_adjusted of any_feature: estimate < 0.05", "any feature (adjusted p): estimate < 0.05"),
    ("oe_ratio of score: 95% interval excludes 1", "O/E ratio of score: 95% interval excludes 1"),
    ("calibration_slope (candidate)", "calibration slope (candidate)"),
    ("lower 95% bound >= 0.7", "lower 95% bound ≥ 0.7"),
    ("3 INSUFFICIENT_EVIDENCE", "3 insufficient evidence"),
    ("auroc of score", "AUROC of score"),
    ("age_band = 50–59: sensitivity", "age_band = 50–59: sensitivity"),  # declared names stay as declared
])
def test_readable_replaces_machine_names(text, expected):
    assert vocabulary.readable(text) == expected


def test_readable_names_the_outcome_by_its_declared_label():
    assert vocabulary.readable("positive: death_5y = 1", outcome="death_5y",
                               outcome_label="died within 5 years") == "positive: died within 5 years"
    assert vocabulary.readable("positive: death_5y = 1") == "positive: death_5y = 1"


def test_every_metric_and_statistic_of_the_plan_has_a_label():
    names = (*plan_vocabulary.METRICS, *plan_vocabulary.SUBGROUP_METRICS, *plan_vocabulary.TRIGGER_STATISTICS,
             *plan_vocabulary.TRIGGER_SUBJECTS)
    assert [n for n in names if n not in vocabulary.METRICS] == []
    assert all("_" not in vocabulary.METRICS[n] for n in names)
    assert all(a in vocabulary.ACTIONS for a in plan_vocabulary.ACTIONS)


def test_blocks_means_blocks_now_and_can_block_is_separate():
    assert vocabulary.blocks({"verdict": "FAIL", "blocks": True})
    assert vocabulary.blocks({"verdict": "INSUFFICIENT_EVIDENCE"})  # blocking unless declared otherwise
    assert vocabulary.blocks({"verdict": "NOT CHECKED", "blocks": True})
    assert not vocabulary.blocks({"verdict": "PASS", "blocks": True})
    assert vocabulary.can_block({"verdict": "PASS", "blocks": True})
    assert not vocabulary.blocks({"verdict": "FAIL", "blocks": False})
    assert not vocabulary.can_block({"verdict": "FAIL", "blocks": False})


def test_verdicts_read_as_words_with_a_mark():
    assert vocabulary.mark("INSUFFICIENT_EVIDENCE") == "? INSUFFICIENT EVIDENCE"
    assert vocabulary.mark("NOT CHECKED") == "– NOT CHECKED"
    assert vocabulary.mark("FIRED") == "⚑ FIRED"
    assert vocabulary.css_class("NOT CHECKED") == vocabulary.css_class("NOT_CHECKED") == "NOT_CHECKED"


def test_stage_notebooks_and_tables_use_the_one_blocking_vocabulary():
    """"Blocks" (holds the release back now) and "Can block" (declared blocking) are the only blocking words
    of the evaluation and drift notebooks and of the gate tables (no "blocks release", no "block(s) the release")."""
    import json
    import pathlib

    import studylib
    from studylib.report.tables import drift as drift_tables

    package = pathlib.Path(studylib.__file__).parent
    for name in ("02_evaluation.ipynb", "04_drift.ipynb"):
        cells = json.loads((package / "notebooks" / name).read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells)
        assert "blocks the release" not in text and "block(s) the release" not in text, name
        assert "can block" in text.lower(), name
    for module in ("evaluation", "subgroups", "drift"):
        source = (package / "report" / "tables" / f"{module}.py").read_text(encoding="utf-8")
        assert "blocks release" not in source.lower(), module
        assert "vocabulary.blocking_columns" in source, module
    assert drift_tables.fired_markdown([]) == "0 of 0 triggers fired. Blocks: none."
