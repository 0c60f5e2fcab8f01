"""The subgroup figures on a small analysis: each returns a Figure with one row or curve per subgroup,
labels with suppressed counts, withheld and unjudged subgroups not drawn, gate lines where declared."""

from __future__ import annotations

import base64
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from studylib.report.plots import subgroups as plots
from studylib.stages.subgroups import analysis as subgroups
from studylib.stages.subgroups import reviewer
from tests.stages.subgroups.helpers import constructed, study

GATES = [{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.75},
         {"id": "SG-2", "metric": "sensitivity", "relative_to": "overall", "max_below": 0.1}]


@pytest.fixture(scope="module")
def small():
    """Sites good and bad (2,000 each) and 'tiny' (3 positives, 5 negatives: suppressed, not judged), and an
    arm A/B of every patient; minimum 20 positives and negatives."""
    frame = constructed()
    frame.loc[frame.index[frame.site == "tiny"][8:], "site"] = "good"
    frame.loc[frame.index[frame.site == "tiny"][:5], "death_5y"] = 0.0
    frame["arm"] = np.random.default_rng(2).choice(["A", "B"], len(frame))
    plan = study({"variables": [{"name": "site", "column": "site"}, {"name": "arm", "column": "arm"}],
                  "min_positives": 20, "min_negatives": 20, "gates": GATES})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = subgroups.analyse(frame, plan)
    return frame, plan, analysis, reviewer.reviewer_view(analysis, plan.study.small_cell_threshold)


def _markers(ax):
    """Estimates drawn as markers (lines without a line style, one point per estimate)."""
    return [point for line in ax.lines if line.get_linestyle() == "None" and line.get_marker() in ("s", "D", "o")
            for point in line.get_xdata()]


def _row_texts(fig):
    """The rows' labels (right-aligned, left of the plot) and estimates (left-aligned, right of it), top down."""
    texts = sorted(fig.texts, key=lambda t: -t.get_position()[1])
    return ([t.get_text() for t in texts if t.get_horizontalalignment() == "right"],
            [t.get_text() for t in texts if t.get_horizontalalignment() == "left"])


def _vlines(ax, style):
    return [line.get_xdata()[0] for line in ax.lines
            if line.get_linestyle() == style and len(set(line.get_xdata())) == 1]


def test_forest_draws_one_row_per_subgroup_and_writes_withheld_ones(small):
    frame, plan, analysis, view = small
    fig, caption = plots.forest(view, "auroc", plan)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels, right = _row_texts(fig)
    sizes = analysis.subgroups.set_index("level")
    expected = [f"{level} · n {sizes.n[level]:,} · pos. {sizes.positives[level]:,}" for level in ("good", "A", "B")]
    # bad: withheld so that tiny's positives are not the cohort's minus the other sites' (complementary)
    bad = f"bad · n {sizes.n['bad']:,} · pos. withheld"
    assert labels == ["site", bad, expected[0], "tiny · n 8 · pos. <5", "arm", *expected[1:]]
    assert len(_markers(ax)) == 3  # tiny's and bad's estimates are withheld: written, not drawn
    # the variables' header rows have no estimate: bad, good, tiny, A, B
    assert right[0].startswith("withheld (<5)") and right[2].startswith("withheld (<5)") and len(right) == 5
    assert not any(label.endswith("pos. 3") for label in labels)
    assert "2 estimate(s) are withheld" in caption and "read \"<5\"" in caption
    assert ax.get_title(loc="left") == "AUROC by subgroup, 95% intervals"


def test_forest_marks_the_declared_gate_and_the_overall_estimate(small):
    frame, plan, analysis, view = small
    fig, caption = plots.forest(view, "auroc", plan)
    ax = fig.axes[0]
    assert _vlines(ax, ":") == [0.75]  # SG-1: lower bound >= 0.75
    overall = analysis.metrics.set_index(["variable", "metric"]).loc[("overall", "auroc")].estimate
    assert _vlines(ax, "--") == [pytest.approx(overall)]
    assert "SG-1: lower bound ≥ 0.75" in caption
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "SG-1: lower bound ≥ 0.75" in legend and "PASS" in legend and "FAIL" in legend
    # a relative gate: the line sits at overall − margin
    sensitivity = analysis.metrics.set_index(["variable", "metric"]).loc[("overall", "sensitivity")].estimate
    fig, _ = plots.forest(view, "sensitivity", plan)
    assert _vlines(fig.axes[0], ":") == [pytest.approx(sensitivity - 0.1)]
    # no gate on the Brier score: no gate line
    fig, caption = plots.forest(view, "brier", plan)
    assert _vlines(fig.axes[0], ":") == [] and "Dotted red lines" not in caption


def test_forest_of_the_difference_metric_has_a_zero_line(small):
    frame, plan, analysis, view = small
    fig, _ = plots.forest(view, "auroc_vs_baseline", plan)
    assert 0.0 in _vlines(fig.axes[0], "-")


def test_forest_plots_one_per_metric(small):
    frame, plan, analysis, view = small
    figures = plots.forest_plots(view, plan)
    assert len(figures) == len(set(view.metrics.metric))
    assert all(isinstance(fig, Figure) and caption.startswith("**") and "Figure" not in caption for fig, caption in figures)


def test_roc_by_subgroup_draws_judged_subgroups_only(small):
    frame, plan, analysis, view = small
    fig, caption = plots.roc_by_subgroup(frame, analysis, view, plan)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == ["site", "arm"]
    site_curves = [t.get_text() for t in panels[0].get_legend().get_texts()]
    # good only: tiny is below the minimum n, bad's counts are withheld (its curve's steps would give them)
    assert site_curves[0] == "chance" and len(site_curves) == 1 + 1
    assert site_curves[1].startswith("good (AUROC 0.") and not any("tiny" in t or "bad" in t for t in site_curves)
    assert len(panels[1].get_legend().get_texts()) == 1 + 2
    assert "(2 subgroup(s) are not)" in caption
    assert panels[0].get_xlabel() == "1 − specificity (false-positive rate)"


def test_calibration_by_subgroup_hides_small_bins(small):
    frame, plan, analysis, view = small
    fig, caption = plots.calibration_by_subgroup(frame, analysis, view, plan)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    site_lines = [line for line in panels[0].lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in site_lines] == ["good"]  # tiny below the minimum n, bad withheld
    assert all(1 <= line.get_xdata().size <= 10 for line in site_lines)
    assert "2 subgroup(s) below the minimum n, or whose counts are withheld, are not drawn" in caption
    # a threshold above every count withholds every subgroup and says so
    strict = reviewer.reviewer_view(analysis, 10_000)
    fig, caption = plots.calibration_by_subgroup(frame, analysis, strict, plan)
    drawn = [line for ax in fig.axes for line in ax.lines if not line.get_label().startswith("_")]
    assert all(line.get_xdata().size == 0 for line in drawn)
    assert "are not drawn" in caption


def test_svg_keeps_text_as_text(small):
    frame, plan, analysis, view = small
    fig, _ = plots.forest(view, "auroc", plan)
    fig, caption = plots.forest(view, "auroc", plan)
    image = plots.svg(fig, caption).data
    assert "alt='AUROC by subgroup'" in image and "src='data:image/svg+xml;base64," in image
    svg = base64.b64decode(image.split("base64,")[1].split("'")[0]).decode()
    assert "<text" in svg and "tiny · n 8 · pos. &lt;5" in svg


def _reshaped(view, keep: int, name=lambda level: level):
    """The view with the first ``keep`` subgroups of the variable 'site' only (repeated to reach ``keep``),
    renamed by ``name``: a fixed layout must hold for one row, for many, and for long labels."""
    import dataclasses

    import pandas as pd

    def rows(frame):
        site = frame[frame.variable == "site"]
        out = pd.concat([site] * (keep // len(site) + 1), ignore_index=True).iloc[:keep].copy()
        out["level"] = [name(f"{level}{i}") for i, level in enumerate(out.level)]
        return pd.concat([frame[frame.variable == "overall"], out], ignore_index=True)

    metrics = view.metrics[view.metrics.variable == "overall"]
    per_metric = [rows(view.metrics[view.metrics.metric == m]) for m in dict.fromkeys(view.metrics.metric)]
    metrics = pd.concat(per_metric, ignore_index=True)
    return dataclasses.replace(view, metrics=metrics, subgroups=rows(view.subgroups), gates=())


@pytest.mark.parametrize("keep, name", [(1, lambda s: s), (50, lambda s: s),
                                        (6, lambda s: f"{s}: a level name far longer than any the demo has " * 2)])
def test_forest_layout_keeps_every_text_inside_the_figure_and_off_the_plot(small, keep, name):
    """Drawn once with Agg: every text lies inside the figure, the row labels left of the plot, the estimates
    right of it, the legend below the x axis label, and no two rows' labels overlap."""
    frame, plan, analysis, view = small
    fig, _ = plots.forest(_reshaped(view, keep, name), "auroc", plan)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page, ax = fig.bbox, fig.axes[0]
    plot = ax.get_window_extent(renderer)
    labels = [t for t in fig.texts if t.get_horizontalalignment() == "right"]
    estimates = [t for t in fig.texts if t.get_horizontalalignment() == "left"]
    assert len(labels) == keep + 1 and len(estimates) == keep
    boxes = [t.get_window_extent(renderer) for t in fig.texts]
    boxes += [ax.title.get_window_extent(renderer), ax.xaxis.label.get_window_extent(renderer),
              fig.legends[0].get_window_extent(renderer)]
    boxes.append(ax.xaxis.get_tightbbox(renderer))  # the drawn ticks and their labels
    for box in boxes:
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
    assert all(t.get_window_extent(renderer).x1 < plot.x0 for t in labels)
    assert all(t.get_window_extent(renderer).x0 > plot.x1 for t in estimates)
    assert fig.legends[0].get_window_extent(renderer).y1 < ax.xaxis.label.get_window_extent(renderer).y0
    assert ax.title.get_window_extent(renderer).y0 >= plot.y1
    rows = sorted(
        (t.get_window_extent(renderer) for t in labels), key=lambda b: b.y0)
    assert all(lower.y1 < upper.y0 for lower, upper in zip(rows, rows[1:]))


def test_forest_svg_is_the_same_twice(small):
    frame, plan, analysis, view = small
    first = plots.svg(*plots.forest(view, "sensitivity", plan)).data
    assert first == plots.svg(*plots.forest(view, "sensitivity", plan)).data
    assert first.startswith("<figure") and "alt='Sensitivity by subgroup'" in first


@pytest.mark.parametrize("which", ["roc_by_subgroup", "calibration_by_subgroup"])
def test_panels_keep_their_texts_inside_the_figure_and_their_cell(small, which):
    frame, plan, analysis, view = small
    fig, _ = getattr(plots, which)(frame, analysis, view, plan)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    panels = [ax for ax in fig.axes if ax.get_visible()]
    boxes = [ax.get_tightbbox(renderer) for ax in panels] + [fig._suptitle.get_window_extent(renderer)]
    for box in boxes:
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
    first, second = (ax.get_tightbbox(renderer) for ax in panels[:2])
    assert first.x1 < second.x0  # side by side, not overlapping
    assert fig._suptitle.get_window_extent(renderer).y0 > max(b.y1 for b in boxes[:-1])
