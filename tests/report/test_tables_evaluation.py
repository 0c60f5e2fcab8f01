"""The evaluation stage's reviewer tables render from an evaluated example study."""

from __future__ import annotations

import pytest

from studylib import formatting, stats
from studylib.report.tables import evaluation as tables
from tests.stages.evaluation.test_analysis import example

@pytest.fixture(scope="module")
def evaluated():
    return example()


def test_formatted_tables_render(evaluated):
    study, frame, y, p, base, ev = evaluated
    html = tables.verdict_table(ev, study).to_html()
    assert "AC-2" in html and "#d8f0d8" in html  # PASS coloured
    assert "one-sided" in html  # the test each rule is, beside its verdict (issue 13 item 9)
    for styler in (tables.identity_table(study), tables.plan_table(study), tables.two_by_two(ev, study),
                   tables.performance_table(ev.estimates(), study), tables.calibration_table(ev, study),
                   tables.comparison_table(ev, study), tables.discordance_table(ev), tables.decision_table(ev, study),
                   tables.error_counts(ev), tables.error_by_variable(ev, study), tables.misses_table(ev, "FN")):
        assert "<table" in styler.to_html()
    assert formatting.estimate(stats.Estimate(0.8, 0.75, 0.84)) == "0.800 (0.750–0.840)"
    assert formatting.estimate(stats.Estimate(0.03, -0.09, 0.15)) == "0.030 (-0.090 to 0.150)"
    assert formatting.number(-0.0002, signed=True) == "-0.0002"
    assert formatting.estimate(stats.Estimate.undefined("no positive cases")) == "— (no positive cases)"
    performance = tables.performance_table(ev.estimates(), study).data.set_index("Metric")
    assert performance.loc["AUROC", "Candidate (95% CI)"] == formatting.estimate(ev.estimates()["candidate"]["auroc"])
    assert tables.summary(ev, study).startswith("**3,000 patients analysed**")


def test_threshold_table_is_marked_exploratory(evaluated):
    study, frame, y, p, base, ev = evaluated
    assert "EXPLORATORY" in tables.threshold_table(ev, study).to_html()


def test_plan_table_labels_defaults_and_names_the_paired_methods(evaluated):
    """Issue 13 item 11: a value the parameter file did not set is labelled "(default)"."""
    study, frame, y, p, base, ev = evaluated
    plan = tables.plan_table(study).data.set_index("Plan item")["Value"]
    assert plan["Intervals of proportions"] == "wilson (default)"  # not in the example's analysis section
    assert plan["AUPRC interval"] == "stratified bootstrap, 200 resamples, seed 1"  # set
    assert plan["Paired tests against the baseline"].startswith("DeLong (AUROC); McNemar mid-p test (p-values)")
    assert plan["Paired tests against the baseline"].endswith("(default)")
    assert plan["Observed/expected interval"].startswith("log scale") and plan["Operating threshold (pre-specified)"][-9:] != "(default)"
    comparison = tables.comparison_table(ev, study).data.set_index("Metric")
    assert comparison["Test"].str.contains("interval: Newcombe paired score; p: McNemar mid-p test").sum() == 3


def test_calibration_table_does_not_read_a_large_spiegelhalter_p_as_calibration(evaluated):
    study, frame, y, p, base, ev = evaluated
    table = tables.calibration_table(ev, study).data.set_index("Measure")
    ideal = table.loc["Spiegelhalter z (p-value)", "Perfect calibration"]
    assert "p large" not in ideal and "not evidence of calibration" in ideal
    assert not any("exactly 0 or 1" in m for m in table.index)  # no such rows in the example


def test_metrics_no_criterion_uses_are_collapsed(evaluated):
    """Issue 14: the performance metrics an acceptance criterion judges come first, open; the others and the
    exploratory thresholds sit in collapsed sections (printed open)."""
    study, frame, y, p, base, ev = evaluated
    sections = tables.performance_sections(ev.estimates(), study)
    gated = {tables.METRIC_NAMES[c.metric] for c in study.acceptance} & set(tables.METRIC_NAMES.values())
    first = set(sections[0].data["Metric"])
    assert first and first <= gated
    assert sections[-1].data.startswith('<details class="sl-ungated"><summary>Metrics no criterion uses (')
    assert tables.threshold_section(ev, study).data.startswith('<details class="sl-ungated">')
    verdict = tables.verdict_table(ev, study).data
    assert list(verdict.columns[6:8]) == ["Blocks", "Can block"]
