"""The small figures of the summary: drawn from recorded gates and calibration, axes scaled to the data."""

from studylib.report.plots import summary

ROWS = [{"subject": "sex = F: sensitivity", "estimate": 0.73, "lower": 0.67, "upper": 0.78, "verdict": "PASS"},
        {"subject": "age = 60–69: sensitivity", "estimate": 0.35, "lower": 0.25, "upper": 0.47, "verdict": "FAIL"},
        {"subject": "age = 50–59: sensitivity", "estimate": None, "lower": None, "upper": None, "verdict": "FAIL",
         "sentence": "its estimate is withheld because it would disclose a count below 5"},
        {"subject": "age = 90+: sensitivity", "estimate": None, "lower": None, "upper": None,
         "verdict": "INSUFFICIENT_EVIDENCE", "sentence": "could not be judged"}]


def test_forest_shows_every_subgroup_and_the_threshold_on_a_scaled_axis():
    fig = summary.forest(ROWS, metric="sensitivity", threshold=0.5)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["age = 90+", "age = 50–59", "age = 60–69", "sex = F"]
    low, high = ax.get_xlim()
    assert 0.2 < low < 0.25 and 0.78 < high < 0.85  # scaled to the intervals and the threshold, not [0, 1]
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["withheld (small cell)", "insufficient evidence"]
    assert any(list(line.get_xdata()) == [0.5, 0.5] for line in ax.lines)  # the threshold


def test_calibration_draws_the_accepted_slope_band_with_axes_scaled_to_the_data():
    deciles = [{"predicted": p, "observed": p * 1.1, "lower": p * 0.8, "upper": p * 1.3} for p in (0.02, 0.1, 0.3)]
    fig = summary.calibration(deciles, slope={"estimate": 0.9, "lower": 0.8, "upper": 1.0}, accepted=(0.8, 1.2))
    ax = fig.axes[0]
    assert ax.get_xlim() == ax.get_ylim() and 0.39 <= ax.get_xlim()[1] <= 0.45
    labels = ax.get_legend_handles_labels()[1]
    assert "accepted slope 0.8–1.2" in labels and "slope 0.900 (0.800–1.000)" in labels
