"""The subgroup stage's reviewer tables and text: number formats, suppressed counts, withheld cells,
verdict counts, and HTML-escaped Stylers."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from studylib import formatting
from studylib.judge import gates
from studylib.report.tables import subgroups as tables
from studylib.stages.subgroups import analysis as subgroups
from studylib.stages.subgroups import reviewer
from tests.stages.subgroups.helpers import constructed, gate_study


@pytest.fixture(scope="module")
def small():
    frame = constructed()
    frame.loc[frame.index[frame.site == "tiny"][8:], "site"] = "good"
    frame.loc[frame.index[frame.site == "tiny"][:5], "death_5y"] = 0.0  # 'tiny': 3 positives, 5 negatives
    frame.loc[frame.site == "tiny", "site"] = "<b>tiny</b>"  # a level with markup
    plan = gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.75}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = subgroups.analyse(frame, plan)
    return plan, analysis, reviewer.reviewer_view(analysis, plan.study.small_cell_threshold)


def test_display_table_formats_intervals_and_withholds_small_cells(small):
    plan, analysis, view = small
    shown = tables.display_table(view, ("sensitivity", "auroc", "brier"))
    assert list(shown.columns) == ["n", "Positives", "Judged", "Sensitivity", "AUROC", "Brier score"]
    assert shown.index.names == ["Variable", "Level"]
    tiny = shown.loc[("site", "<b>tiny</b>")]
    assert (tiny.n, tiny.Positives, tiny.Judged, tiny.AUROC) == ("8", "<5", "no", "withheld")
    good = shown.loc[("site", "good")]
    row = analysis.metrics.set_index(["level", "metric"]).loc[("good", "brier")]
    assert good["Brier score"] == formatting.interval(row.estimate, row.lower, row.upper, 3)


def test_estimates_and_p_values_read_as_formatting_writes_them(small):
    plan, analysis, view = small
    shown = tables.display_table(view, ("sensitivity",))
    r = view.metrics.set_index(["variable", "level", "metric"]).loc[("site", "good", "sensitivity")]
    cell = shown.loc[("site", "good"), "Sensitivity"]
    assert cell == formatting.interval(r.estimate, r.lower, r.upper, 3) and re.fullmatch(r"[01]\.\d{3} \(.+–.+\)", cell)
    het = tables.heterogeneity_display(view, plan)
    assert het.p.tolist() == [formatting.p_value(p) for p in view.heterogeneity.p_value]
    differences = tables.reference_display(view)["Difference (interval)"]
    assert not differences.str.contains("−").any()  # one minus sign: the hyphen-minus of formatting
    assert all(d == formatting.WITHHELD or " to " in d or "–" in d or d == formatting.UNDEFINED for d in differences)


def test_size_table_and_sample_size_display(small):
    plan, analysis, view = small
    sizes = tables.size_table(view)
    assert sizes.loc[("site", "<b>tiny</b>"), ["Positives", "Negatives", "Judged"]].tolist() == ["<5", "≥4", "no"]
    assert "the plan requires at least 20 positives" in sizes.loc[("site", "<b>tiny</b>"), "Why not"]
    needed = tables.sample_size_display(view, plan)
    assert list(needed.index) == [("site", "<b>tiny</b>")] and needed["Positives"].iloc[0] == "<5"


def test_gate_summary_and_gates_display(small):
    plan, analysis, view = small
    summary = tables.gate_summary(view)
    assert list(summary.columns) == [gates.PASS, gates.FAIL, gates.INSUFFICIENT, "blocking"]
    assert summary.loc["SG-1"].tolist() == [1, 1, 1, 2]
    shown = tables.gates_display(view)
    assert shown.loc["SG-1[site=<b>tiny</b>]", "Verdict"] == "INSUFFICIENT EVIDENCE"
    assert shown.loc["SG-1[site=bad]", "Blocks"] == "yes"
    assert shown.loc["SG-1[site=bad]", "Test"] == "one-sided test at 2.5%"  # issue 13 item 9
    empty = tables.gate_summary(reviewer.ReviewerView(5, *[pd.DataFrame()] * 6))
    assert empty.empty and list(empty.columns) == [gates.PASS, gates.FAIL, gates.INSUFFICIENT, "blocking"]


def test_heterogeneity_and_reference_displays(small):
    plan, analysis, view = small
    shown = tables.heterogeneity_display(view, plan)
    assert "p adjusted (Holm)" in shown.columns
    assert set(shown.p) <= {"—", "<0.001"} | {f"{p:.3f}" for p in np.round(view.heterogeneity.p_value.dropna(), 3)}
    assert tables.reference_display(view).index.names == ["Variable", "Comparison", "Metric"]
    withheld = tables.reference_display(view).xs("<b>tiny</b> − good", level="Comparison")
    assert (withheld["Difference (interval)"] == "withheld").all()


def test_markdown_texts(small):
    plan, analysis, view = small
    overview = tables.overview_markdown(view, plan)
    assert overview.startswith(f"**{view.n} patients** analysed") and "**3 subgroups**" in overview
    assert "`subgroups.reviewer.json`" in tables.versions_markdown(plan)
    verdict = tables.verdict_markdown(view, plan)
    assert verdict.startswith("**Stage verdict: FAIL.** 3 subgroup judgements: 1 PASS, 1 FAIL, 1 INSUFFICIENT_EVIDENCE")
    # issue 13 item 11: a FAIL of a lower-bound rule does not show that the subgroup misses the criterion
    assert "A FAIL means the interval does not show that the subgroup meets the criterion" in verdict
    assert "shows the subgroup misses" not in verdict


def test_styled_escapes_markup(small):
    plan, analysis, view = small
    html = tables.styled(tables.size_table(view), text=("Why not",)).to_html()
    assert "&lt;b&gt;tiny&lt;/b&gt;" in html and "<b>tiny</b>" not in html


def test_gated_metrics_come_first_and_the_others_are_collapsed(small):
    """Issue 14: metrics no gate uses go into a collapsed section; gated metrics first, failures first."""
    plan, analysis, view = small
    sections = tables.metric_sections(view, plan, ("sensitivity", "auroc", "brier"))
    assert len(sections) == 2
    assert list(sections[0].data.columns) == ["n", "Positives", "Judged", "AUROC"]
    assert sections[1].data.startswith('<details class="sl-ungated"><summary>Metrics no gate uses (Sensitivity, Brier')
    assert "<table" in sections[1].data and "<details open" not in sections[1].data
    only_gated = tables.metric_sections(view, plan, ("auroc",))
    assert len(only_gated) == 1
    verdicts = tables.gates_display(view)["Verdict"].tolist()
    assert verdicts == sorted(verdicts, key=lambda v: {"FAIL": 0, "INSUFFICIENT EVIDENCE": 1}.get(v, 2))
