"""The drift figures on a small review: a Figure each, one mark per window, control limits drawn from the
table, withheld (small-cell) estimates not plotted."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from studylib.report.plots import drift as plots
from studylib.report.tables import drift as drift_tables
from studylib.stages.drift import review as drift
from tests.stages.drift.streams import MONTHLY, stream, study

WITHHOLD_BELOW = 100  # small-cell threshold that withholds the alert rate of 2024-07 and 2024-08 (80, 81 alerts)


@pytest.fixture(scope="module")
def review():
    frame = stream(np.random.default_rng(3), 300, shift_from=8, score_shift=1.0)
    frame = frame[frame.month != "2024-10"]  # an empty monitoring window
    return drift.review(frame, study(MONTHLY))


def _errorbar_y(ax) -> list[np.ndarray]:
    """The plotted estimates of each errorbar series of an axis."""
    return [c.lines[0].get_ydata() for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _withheld(table, column) -> np.ndarray:
    return ~np.isfinite(table[column].to_numpy(dtype=float))


def test_heatmap_has_one_cell_per_feature_and_window(review):
    fig = plots.heatmap(review.input, review.output, alpha=0.05)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]  # the colour bar is the second axis
    assert ax.images[0].get_array().shape == (4, 6)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "cat", "score (output)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == review.monitoring_labels
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert len(cells) == 4 * 6
    empty = review.monitoring_labels.index("2024-10")
    assert all(cells[(row, empty)] == "empty" for row in range(4))
    x1 = review.input[review.input.feature == "x1"].set_index("window")
    for j, window in enumerate(review.monitoring_labels):
        if window != "2024-10":
            mark = "*" if x1.loc[window, "p_adjusted"] < 0.05 else ""
            assert cells[(0, j)].startswith(f"{x1.loc[window, 'psi']:.2f}") and cells[(0, j)].endswith(mark)
    assert plots.heatmap(review.input).axes[0].images[0].get_array().shape == (3, 6)  # without the score row


def test_score_distribution_draws_one_cdf_per_scored_window(review):
    fig = plots.score_distribution(review.score_cdf, threshold=0.3)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    cdfs = [line for line in ax.lines if not line.get_label().startswith("_")]
    scored = ["reference"] + [w for w in review.monitoring_labels if w != "2024-10"]
    assert [line.get_label() for line in cdfs] == scored  # the empty window has no curve
    assert cdfs[0].get_linewidth() > cdfs[1].get_linewidth()  # the reference stands out
    assert any(np.allclose(line.get_xdata(), 0.3) for line in ax.lines if line not in cdfs)  # the threshold
    reference = review.score_cdf[review.score_cdf.window == "reference"]
    np.testing.assert_array_equal(cdfs[0].get_ydata(), reference["cdf"].to_numpy())
    assert ax.get_xscale() == "log"


def test_output_drift_plots_each_window_and_not_withheld_alert_rates(review):
    shown = drift_tables.suppressed(review, WITHHOLD_BELOW)
    withheld = _withheld(shown.output, "alert_rate")
    assert withheld.sum() == 3  # 2024-07 and 2024-08 (small cells) and 2024-10 (empty)
    fig = plots.output_drift(shown.output, shown.calibration, threshold=0.3)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    mean, observed = _errorbar_y(fig.axes[0])
    [alert] = _errorbar_y(fig.axes[1])
    assert len(mean) == len(alert) == len(review.windows)  # one point per window, the reference first
    np.testing.assert_array_equal(np.isnan(alert), withheld)
    np.testing.assert_allclose(alert[~withheld], shown.output["alert_rate"].to_numpy(dtype=float)[~withheld])
    np.testing.assert_allclose(mean, shown.output["mean_score"].to_numpy(dtype=float))
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == list(review.windows["window"])


def test_calibration_curves_one_line_per_window_with_a_curve(review):
    fig = plots.calibration_curves(review.curves)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels[0] == "perfect calibration"
    assert labels[1:] == list(dict.fromkeys(review.curves["window"]))
    assert "2024-10" not in labels
    empty = plots.calibration_curves(review.curves.iloc[:0])
    assert [line.get_label() for line in empty.axes[0].lines] == ["perfect calibration"]


def test_calibration_drift_three_panels_and_withheld_estimates_not_plotted(review):
    shown = drift_tables.suppressed(review, 75)  # withholds windows with fewer than 75 events or non-events
    fig = plots.calibration_drift(shown.calibration)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["Observed / expected events (ideal 1)",
                                                    "Calibration-in-the-large (ideal 0)", "Calibration slope (ideal 1)"]
    for ax, name in zip(fig.axes, ("oe_ratio", "calibration_in_the_large", "calibration_slope")):
        [y] = _errorbar_y(ax)
        withheld = _withheld(shown.calibration, name)
        assert 0 < withheld.sum() < len(withheld)
        np.testing.assert_array_equal(np.isnan(y), withheld)
        np.testing.assert_allclose(y[~withheld], review.calibration[name].to_numpy(dtype=float)[~withheld])


def test_control_chart_draws_the_limits_of_each_window_and_circles_signals(review):
    table = review.performance
    fig = plots.control_chart(table)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    monitoring = table.iloc[1:]
    for ax, name in zip(fig.axes, ("auroc", "sensitivity", "specificity")):
        lines = {line.get_label(): line for line in ax.lines}
        centre = lines["reference value"]
        assert np.allclose(centre.get_ydata(), table.loc[0, name])
        limits = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(limits) == 2  # lower and upper steps
        lower, upper = (line.get_ydata()[:len(monitoring)] for line in limits)
        np.testing.assert_array_equal(lower, monitoring[f"{name}_cl_lower"].to_numpy(dtype=float))
        np.testing.assert_array_equal(upper, monitoring[f"{name}_cl_upper"].to_numpy(dtype=float))
        [points] = _errorbar_y(ax)
        assert len(points) == len(monitoring)  # monitoring windows only; the reference is the centre line
        signals = monitoring[f"{name}_signal"].to_numpy(dtype=bool)
        if signals.any():
            np.testing.assert_allclose(lines["outside the limits"].get_ydata(), monitoring[name].to_numpy()[signals])
        else:
            assert "outside the limits" not in lines
    assert any(monitoring["sensitivity_signal"])  # the planted score shift is a signal


def test_control_chart_does_not_plot_withheld_estimates(review):
    shown = drift_tables.suppressed(review, 75)
    fig = plots.control_chart(shown.performance)
    for ax, name in zip(fig.axes, ("auroc", "sensitivity", "specificity")):
        [points] = _errorbar_y(ax)
        withheld = _withheld(shown.performance.iloc[1:], name)
        assert withheld.any()
        np.testing.assert_array_equal(np.isnan(points), withheld)
