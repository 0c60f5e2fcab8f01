"""Drift review: the DuckDB histogram path against direct computation, windows, false alarms, bad input.

The statistics are tested in tests/stats (test_drift, test_control, test_contingency), the triggers in
tests/judge/test_triggers.py, the reviewer tables in tests/report/test_tables_drift.py.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from studylib import stats
from studylib.stages.drift import review as drift
from studylib.stages.drift import histograms
from studylib.stats import drift as drift_stats
from studylib.data import scan as drift_scan
from studylib.judge import gates, triggers
from studylib import plan
from studylib.errors import ParameterError
from studylib.plan import DriftSection, Study
from tests.conftest import tiny_frame, tiny_params, write_snapshot
from tests.stages.drift.streams import MONTHLY, TRIGGERS, stream as _stream, study as _study


# --- histogram path equals the direct computation --------------------------------------------------

@pytest.mark.parametrize("kind", ["normal", "lognormal", "integers", "ties"])
def test_histogram_psi_and_ks_equal_direct_computation(kind):
    rng = np.random.default_rng(3)
    make = {"normal": lambda n, s: rng.normal(s, 1, n), "lognormal": lambda n, s: rng.lognormal(s, 1, n),
            "integers": lambda n, s: rng.integers(0, 40, n).astype(float) + round(10 * s),
            "ties": lambda n, s: np.round(rng.normal(s, 1, n), 1)}[kind]
    ref, cur = make(5000, 0.0), make(800, 0.3)
    frame = pd.DataFrame({"w": ["r"] * ref.size + ["c"] * cur.size, "x": np.concatenate((ref, cur))})
    psi_edges, fine = drift_stats.bin_edges(ref, 10, 1000)  # 1000 bins: integer features are exact
    np.testing.assert_array_equal(psi_edges, stats.reference_edges(ref, 10))
    section = DriftSection.model_validate({"reference": {"column": "w", "values": ["r"]}, "windows": {"column": "w"}})
    with drift_scan.Scanner(frame) as scan:
        plan = scan.plan(section)
        np.testing.assert_array_equal(np.sort(scan.reference_values(plan, "x")), np.sort(ref))
        bins, _, sizes = scan.histograms(plan, {"x": fine})
    counts = [histograms.fine_counts(histograms.index_bins(bins), w, "x", fine.size + 1) for w in (0, 1)]
    found = drift_stats.continuous_drift(counts[0], counts[1], fine, psi_edges)
    assert found.psi == pytest.approx(stats.psi(ref, cur), rel=1e-12, abs=1e-15)
    exact = stats.ks_test(ref, cur)
    assert found.statistic <= exact.statistic + 1e-12 <= found.ks_upper + 2e-12
    if kind in ("integers", "ties"):  # every fine bin holds one distinct value: D is exact
        assert found.statistic == pytest.approx(exact.statistic, abs=1e-12)
    else:
        assert exact.statistic - found.statistic < 0.01
    assert list(sizes["n"]) == [5000, 800]


def test_review_tables_match_direct_computation_per_window():
    rng = np.random.default_rng(11)
    frame = _stream(rng, 300, shift_from=8, feature_shift=0.5)
    study = _study(MONTHLY)
    review = drift.review(frame, study)
    ref = frame[frame.month <= "2024-06"]
    for month in ("2024-07", "2024-12"):
        cur = frame[frame.month == month]
        row = review.input[(review.input.feature == "x1") & (review.input.window == month)].iloc[0]
        assert row.psi == pytest.approx(stats.psi(ref.x1, cur.x1), rel=1e-12)
        row2 = review.input[(review.input.feature == "x2") & (review.input.window == month)].iloc[0]
        assert row2.missing_rate == pytest.approx(cur.x2.isna().mean())
        assert row2.psi == pytest.approx(stats.psi(ref.x2.dropna(), cur.x2.dropna()), rel=1e-12)
        out = review.output.set_index("window").loc[month]
        assert out.psi == pytest.approx(stats.psi(ref.p_v2, cur.p_v2), rel=1e-12)
        assert out.mean_score == pytest.approx(cur.p_v2.mean(), rel=1e-12)
        assert out.alert_rate == pytest.approx((cur.p_v2 >= 0.3).mean())
        perf = review.performance.set_index("window").loc[month]
        assert perf.auroc == pytest.approx(stats.auroc(cur.death_5y, cur.p_v2).estimate, rel=1e-12)
        cal = review.calibration.set_index("window").loc[month]
        full = stats.calibration(cur.death_5y, cur.p_v2)
        for name, est in (("calibration_slope", full.slope), ("calibration_in_the_large", full.citl),
                          ("oe_ratio", full.oe_ratio)):
            assert (cal[name], cal[f"{name}_lower"], cal[f"{name}_upper"]) == pytest.approx(
                (est.estimate, est.lower, est.upper), rel=1e-12)
    family = review.input[["p_value", "missing_p"]].to_numpy().T.ravel()
    np.testing.assert_allclose(np.r_[review.input.p_adjusted, review.input.missing_p_adjusted],
                               stats.adjust_pvalues(family, "holm"), equal_nan=True)


def test_parquet_source_gives_the_same_review_as_a_dataframe(tmp_path):
    frame = _stream(np.random.default_rng(2), 200, shift_from=9, score_shift=1.0)
    path = tmp_path / "cohort.parquet"
    frame.to_parquet(path, index=False)
    study = _study(MONTHLY)
    a, b = drift.review(frame, study), drift.review(path, study)
    pd.testing.assert_frame_equal(a.input, b.input)
    pd.testing.assert_frame_equal(a.output, b.output)
    pd.testing.assert_frame_equal(a.performance, b.performance)


# --- windows ---------------------------------------------------------------------------------------

def test_calendar_periods_from_a_timestamp_column_and_empty_windows():
    rng = np.random.default_rng(4)
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, 3000), unit="D")
    frame = pd.DataFrame({"t": days, "x": rng.normal(size=3000), "p_v2": rng.random(3000),
                          "death_5y": (rng.random(3000) < 0.3).astype(float)})
    frame = frame[~((frame.t >= "2024-08-01") & (frame.t < "2024-09-01"))]  # August has no rows
    study = _study({"reference": {"column": "t", "period": "quarter", "values": ["2024-Q1"]},
                    "windows": {"column": "t", "period": "month"}, "features": ["x"],
                    "triggers": [{"id": "T", "statistic": "psi", "above": 0.25, "action": "investigate"}]})
    review = drift.review(frame, study)
    assert review.monitoring_labels == [f"2024-{m:02d}" for m in range(4, 13)]
    august = review.windows.set_index("window").loc["2024-08"]
    assert august["n"] == 0 and august["empty"]
    row = review.input.set_index("window").loc["2024-08"]
    assert math.isnan(row.psi) and row.reason == "empty window"
    assert math.isnan(review.performance.set_index("window").loc["2024-08", "auroc"])
    gate = triggers.judge_triggers(review.statistics, review.monitoring_labels, study)[0]
    assert gate.verdict == gates.INSUFFICIENT and "2024-08 (empty window)" in gate.sentence  # never "not fired"
    quarters = _study({**study.drift.model_dump(by_alias=True), "windows": {"column": "t", "period": "quarter"}})
    assert drift.review(frame, quarters).monitoring_labels == ["2024-Q2", "2024-Q3", "2024-Q4"]


def test_windows_with_too_few_events_or_rows_are_not_judged():
    """Issue 13 item 1: below drift.min_events / min_non_events the statistics that need them are not
    judged in that window (reason in the long table and the table notes), and a PSI below
    drift.min_rows gets no band and is not judged; the trigger is INSUFFICIENT_EVIDENCE, never FIRED."""
    frame = _stream(np.random.default_rng(31), 400)
    june = frame.month == "2024-07"
    keep = ~june | (frame.death_5y == 0) | (np.cumsum(june & (frame.death_5y == 1)) <= 6)  # 6 events in July
    frame = frame[keep & ~((frame.month == "2024-09") & (frame.index % 400 >= 60))]  # 60 rows in September
    study = _study({**MONTHLY, "min_events": 8, "triggers": [
        {"id": "T-auc", "statistic": "auroc", "bound": "lower", "below": 0.99, "accept_imprecision": True,
         "action": "suspend"},
        {"id": "T-spec", "statistic": "specificity", "bound": "lower", "below": 0.99, "accept_imprecision": True,
         "action": "investigate"},
        {"id": "T-psi", "statistic": "psi", "above": 0.0, "action": "investigate"}]})
    review = drift.review(frame, study)
    stats_ = review.statistics.set_index(["window", "of", "statistic"])
    assert stats_.loc[("2024-07", "score", "auroc"), "reason"] == "fewer than 8 events (drift.min_events)"
    assert stats_.loc[("2024-07", "score", "sensitivity"), "reason"] == "fewer than 8 events (drift.min_events)"
    assert stats_.loc[("2024-07", "score", "specificity"), "reason"] == ""  # needs non-events only
    assert stats_.loc[("2024-07", "score", "calibration_slope"), "reason"] != ""
    assert stats_.loc[("2024-08", "score", "auroc"), "reason"] == ""
    assert stats_.loc[("2024-09", "x1", "psi"), "reason"] == "fewer than 100 values (drift.min_rows)"
    assert stats_.loc[("2024-09", "x1", "p_value"), "reason"] == ""  # the KS test is valid at any size
    note = review.performance.set_index("window").loc["2024-07", "reason"]
    assert "auroc, sensitivity not judged: fewer than 8 events" in note
    assert review.input.set_index(["feature", "window"]).loc[("x1", "2024-09"), "psi_band"] == "too few rows"
    assert review.settings["min_events"] == 8 and review.settings["min_rows"] == 100
    auc, spec, psi_gate = triggers.judge_triggers(review.statistics, review.monitoring_labels, study)
    # lower bound < 0.99 holds everywhere it is judged: it fires in the judged windows, and names July as not judged
    assert auc.verdict == gates.FAIL and "2024-07" not in auc.sentence.split(" (")[0]
    assert "Not judged in window(s) 2024-07 (fewer than 8 events (drift.min_events))" in auc.sentence
    assert spec.verdict == gates.FAIL and "2024-07" in spec.sentence.split(" (")[0]
    assert psi_gate.verdict == gates.FAIL and "2024-09" not in psi_gate.sentence.split(" (")[0]


def test_windows_by_site_and_declared_values_without_rows():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"year": rng.choice([2020, 2021], 2000), "site": rng.choice(["S1", "S2", "S3"], 2000),
                          "x": rng.normal(size=2000), "p_v2": rng.random(2000), "death_5y": 0.0})
    study = _study({"reference": {"column": "year", "values": [2020]},
                    "windows": {"column": "site", "values": ["S1", "S2", "S3", "S9"]}, "features": ["x"]})
    review = drift.review(frame, study)
    assert review.monitoring_labels == ["S1", "S2", "S3", "S9"]
    sizes = review.windows.set_index("window")["n"]
    assert sizes["S9"] == 0 and sizes["S1"] == ((frame.year == 2021) & (frame.site == "S1")).sum()
    # no events at all: performance and calibration are undefined, not a crash
    assert review.performance["auroc"].isna().all()


def test_each_groups_consecutive_periods():
    frame = _stream(np.random.default_rng(1), 50)
    study = _study({**MONTHLY, "windows": {"column": "month", "period": "month", "each": 3}})
    assert drift.review(frame, study).monitoring_labels == ["2024-07–2024-09", "2024-10–2024-12"]


def test_timestamp_that_does_not_parse_names_bad_values():
    frame = pd.DataFrame({"t": ["2024-01-03", "2024-02-10", "yesterday", "03/13/2024", None],
                          "x": [1.0, 2, 3, 4, 5], "p_v2": 0.5, "death_5y": 0.0})
    study = _study({"reference": {"column": "t", "period": "month", "values": ["2024-01"]},
                    "windows": {"column": "t", "period": "month"}, "features": ["x"]})
    with pytest.raises(drift_scan.TimestampParseError, match=r"2 of 4 .*'03/13/2024', 'yesterday'"):
        drift.review(frame, study)
    fmt = _study({"reference": {"column": "t", "period": "month", "format": "%d.%m.%Y", "values": ["2024-01"]},
                  "windows": {"column": "t", "period": "month", "format": "%d.%m.%Y"}, "features": ["x"]})
    dotted = frame.assign(t=["03.01.2024", "10.02.2024", "11.02.2024", "01.03.2024", None])
    assert drift.review(dotted, fmt).monitoring_labels == ["2024-02", "2024-03"]


def test_empty_reference_is_an_error_not_a_crash():
    frame = _stream(np.random.default_rng(1), 20)
    study = _study({**MONTHLY, "reference": {"column": "month", "period": "month", "values": ["2023-01"]}})
    with pytest.raises(ValueError, match="reference window .* has no rows"):
        drift.review(frame, study)


# --- false alarms of the adjusted feature tests ------------------------------------------------------

def _false_alarm_rate(runs: int, n_per_month: int, method: str, seed: int) -> float:
    study = _study({**MONTHLY, "triggers": [TRIGGERS["adjusted"]]}, multiplicity=method)
    alarms = 0
    for run in range(runs):
        frame = _stream(np.random.default_rng([seed, run]), n_per_month)
        review = drift.review(frame, study)
        alarms += bool((review.input[["p_adjusted", "missing_p_adjusted"]].to_numpy() < 0.05).any())
    return alarms / runs


@pytest.mark.slow  # 20 reviews (~40 s): the 400-run check below is the real one
def test_false_alarm_rate_of_adjusted_feature_tests_small():
    # 3 features × 6 windows × 2 tests per run; Holm controls the family-wise error at 5 %
    runs = 20
    rate = _false_alarm_rate(runs, 150, "holm", seed=1)
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / runs)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_false_alarm_rate_of_adjusted_feature_tests(method):
    """Under no drift at all, any rejection is a false alarm: FWER (Holm) and FDR (BH, = FWER under the
    global null) must be at most 5 % (upper 99 % Monte-Carlo margin)."""
    runs = 400
    rate = _false_alarm_rate(runs, 300, method, seed=2)
    assert rate <= 0.05 + 2.58 * math.sqrt(0.05 * 0.95 / runs)


def test_review_results_are_deterministic():
    frame = _stream(np.random.default_rng(6), 300, shift_from=8, score_shift=0.5)
    study = _study(MONTHLY)
    from studylib.evidence import results as evidence

    assert evidence.dumps(drift.review(frame, study).results()) == evidence.dumps(drift.review(frame, study).results())


# --- parameters and preflight ----------------------------------------------------------------------

@pytest.mark.parametrize("section, message", [
    ({"reference": {"column": "y"}, "windows": {"column": "y"}}, "reference needs values"),
    ({"reference": {"column": "t", "period": "month", "values": ["2024-1"]}, "windows": {"column": "t"}},
     "YYYY-MM"),
    ({"reference": {"column": "y", "values": [1]}, "windows": {"column": "y", "format": "%Y"}}, "format: applies"),
    ({"reference": {"column": "y", "values": [1]}, "windows": {"column": "y"}, "features": ["a"],
      "triggers": [{"id": "T", "statistic": "psi", "of": "b", "above": 0.2, "action": "investigate"}]},
     "neither 'score', 'any_feature', 'shadow' nor a declared drift feature"),
    ({"reference": {"column": "y", "values": [1]}, "windows": {"column": "y"}, "features": ["a"],
      "triggers": [{"id": "T", "statistic": "auroc", "of": "a", "below": 0.7, "action": "suspend"}]},
     "auroc is not computed for input feature 'a'"),
    ({"reference": {"column": "y", "values": [1]}, "windows": {"column": "y"},
      "triggers": [{"id": "T", "statistic": "psi", "interval_excludes": 0, "action": "investigate"}]},
     "psi has no confidence interval"),
    ({"reference": {"column": "y", "values": [1]}, "windows": {"column": "y"}, "features": ["a"],
      "categorical": ["a"]}, "both continuous and categorical"),
])
def test_bad_drift_parameters_are_rejected(section, message):
    raw = tiny_params("sha256:" + "0" * 64, "0" * 64)
    raw["drift"] = section
    with pytest.raises(Exception, match=message):
        Study.model_validate(raw)


def _project(tmp_path, frame, drift_section):
    lock, artifact = write_snapshot(tmp_path / "snapshots" / "tiny", frame)
    raw = tiny_params(lock, artifact)
    raw["drift"] = drift_section
    (tmp_path / "params").mkdir()
    path = tmp_path / "params" / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_preflight_names_a_missing_drift_feature(tmp_path):
    from studylib.run import runner

    path = _project(tmp_path, tiny_frame(), {"reference": {"column": "sample_year", "values": [1995]},
                                             "windows": {"column": "sample_year"}, "features": ["age", "kapa"]})
    with pytest.raises(ParameterError, match=r"drift.features: unknown column 'kapa'"):
        runner.prepare(path)


def test_preflight_rejects_a_timestamp_column_that_does_not_parse(tmp_path):
    from studylib.run import runner

    frame = tiny_frame()
    frame["visit"] = np.where(frame.index % 97 == 0, "13/31/1999", "1998-06-01")
    path = _project(tmp_path, frame, {"reference": {"column": "visit", "period": "year", "values": ["1998"]},
                                      "windows": {"column": "visit", "period": "month"}, "features": ["age"]})
    with pytest.raises(ParameterError, match=r"'visit' does not parse as a timestamp in 13 of 1,200 .*'13/31/1999'"):
        runner.prepare(path)


def test_preflight_rejects_text_feature_as_continuous_and_numeric_period(tmp_path):
    from studylib.run import runner

    path = _project(tmp_path, tiny_frame(), {"reference": {"column": "sample_year", "period": "year",
                                                           "values": ["1995"]},
                                             "windows": {"column": "sample_year"}, "features": ["sex"]})
    with pytest.raises(ParameterError) as err:
        runner.prepare(path)
    assert re.search(r"'sex' is \w*string, not numeric; list it under drift.categorical", str(err.value))
    assert "period: year needs a date, timestamp or text column" in str(err.value)


def test_a_window_value_that_never_occurs_is_an_exit_2_error_naming_the_values_that_exist(tmp_path):
    """Issue 13 item 10: a typo in a declared window value is caught by params check (exit 2), not
    turned into an empty window that silently passes."""
    from click.testing import CliRunner

    from studylib.cli import main

    path = _project(tmp_path, tiny_frame(), {"reference": {"column": "sample_year", "values": [1995, 1996]},
                                             "windows": {"column": "sample_year", "values": [1998, 2999]}})
    result = CliRunner().invoke(main, ["params", "check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "drift.windows.values: 2999 never occurs in column 'sample_year'" in result.output
    assert "values that exist: 1995, 1996, 1997, 1998" in result.output
    raw = yaml.safe_load(path.read_text())
    raw["drift"]["windows"]["values"] = [1998]
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert CliRunner().invoke(main, ["params", "check", str(path)]).exit_code == 0


def _params_check(path):
    from click.testing import CliRunner

    from studylib.cli import main

    result = CliRunner().invoke(main, ["params", "check", str(path)])
    assert "Traceback" not in result.output, result.output
    return result


def test_a_between_range_with_no_rows_is_an_exit_2_error_naming_what_the_data_cover(tmp_path):
    """Issue 13: a between: window range that selects no row (a typo such as 2099 for 1999) is refused by
    params check, naming the key, the range and what the column covers; a range that overlaps passes."""
    path = _project(tmp_path, tiny_frame(), {"reference": {"column": "sample_year", "values": [1995, 1996]},
                                             "windows": {"column": "sample_year", "between": [2098, 2099]}})
    result = _params_check(path)
    assert result.exit_code == 2, result.output
    assert ("drift.windows.between: [2098, 2099] selects no row of column 'sample_year' (a window that can never "
            "be judged); the data cover 1995 to 1999 (5 values, 1,200 rows)") in " ".join(result.output.split())
    raw = yaml.safe_load(path.read_text())
    raw["drift"]["windows"]["between"] = [1998, 2003]
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert _params_check(path).exit_code == 0


def test_a_declared_period_with_no_rows_is_an_exit_2_error(tmp_path):
    """A reference period (period: year on a text date column) and a monitoring between: range of months that
    hold no row are refused before anything runs."""
    frame = tiny_frame()
    frame["sampled"] = frame["sample_year"].astype(str) + "-0" + (frame.index % 9 + 1).astype(str) + "-15"
    path = _project(tmp_path, frame, {
        "reference": {"column": "sampled", "period": "year", "values": ["1995", "1996", "2005"]},
        "windows": {"column": "sampled", "period": "month", "between": ["2001-01", "2001-12"]}})
    result = _params_check(path)
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert ("drift.reference.values: '2005' has no row in column 'sampled' by year (a window that can never be "
            "judged); the data cover 1995 to 1999 (5 years, 1,200 rows)") in output
    assert ("drift.windows.between: ['2001-01', '2001-12'] selects no row of column 'sampled' by month") in output
    assert "the data cover 1995-01 to 1999-09 (45 months, 1,200 rows)" in output
    raw = yaml.safe_load(path.read_text())
    raw["drift"]["reference"]["values"] = ["1995", "1996"]
    raw["drift"]["windows"]["between"] = ["1998-06", "2001-12"]
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert _params_check(path).exit_code == 0, _params_check(path).output


def test_demo_drift_plan_validates():
    study = plan.load("params/demo.yaml")
    assert [t.id for t in study.drift.triggers][:3] == ["TR-1", "TR-2", "TR-3"]
    tr3 = study.drift.triggers[2]
    assert (tr3.statistic, tr3.bound, tr3.below, tr3.accept_imprecision) == ("auroc", "upper", 0.70, False)


@pytest.mark.parametrize("rule, other", [({"bound": "lower", "below": 0.7}, "bound: upper, below: 0.7"),
                                         ({"bound": "upper", "above": 0.2}, "bound: lower, above: 0.2")])
def test_a_trigger_that_fires_on_imprecision_is_rejected_by_params_check(tmp_path, rule, other):
    """'below' on a lower bound (or 'above' on an upper one) fires on wide intervals without drift:
    params check exits 2, says why and what to write; accept_imprecision: true keeps it."""
    from click.testing import CliRunner

    from studylib.cli import main

    statistic = "auroc" if "below" in rule else "alert_rate"
    trigger = {"id": "TR-9", "statistic": statistic, **rule, "action": "suspend"}
    section = {"reference": {"column": "sample_year", "values": [1995]}, "windows": {"column": "sample_year"},
               "triggers": [trigger]}
    path = _project(tmp_path, tiny_frame(), section)
    result = CliRunner().invoke(main, ["params", "check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    for fragment in ("drift.triggers[0]", "TR-9", "fires on imprecision, not on drift", other, "accept_imprecision: true"):
        assert fragment in result.output, result.output
    raw = yaml.safe_load(path.read_text())
    raw["drift"]["triggers"][0]["accept_imprecision"] = True
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    result = CliRunner().invoke(main, ["params", "check", str(path)])
    assert result.exit_code == 0, result.output
