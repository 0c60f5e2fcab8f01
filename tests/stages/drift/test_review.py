"""Drift review: histogram path against direct computation, windows, triggers, false alarms, bad input."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from studylib import stats
from studylib.stages.drift import review as drift
from studylib.data import scan as drift_scan
from studylib.report.tables import drift as drift_tables
from studylib.judge import gates
from studylib import plan
from studylib.errors import ParameterError
from studylib.plan import DriftSection, Study
from tests.conftest import tiny_frame, tiny_params, write_snapshot

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def _study(drift_section: dict, threshold: float = 0.3, multiplicity: str = "holm") -> Study:
    raw = tiny_params("sha256:" + "0" * 64, "0" * 64)
    raw["analysis"]["threshold"] = threshold
    raw["analysis"]["multiplicity"] = multiplicity
    raw["drift"] = drift_section
    return Study.model_validate(raw)


def _stream(rng, n_per_month: int = 400, *, shift_from: int | None = None, score_shift: float = 0.0,
            feature_shift: float = 0.0, miscalibrate: float = 0.0, auc_loss: float = 0.0,
            months=MONTHS) -> pd.DataFrame:
    """A monitoring stream: months × rows, two continuous and one categorical feature, score and outcome.

    From month index ``shift_from`` on: ``feature_shift`` moves x1, ``score_shift`` moves the score's
    logit, ``miscalibrate`` multiplies the true log-odds' slope, ``auc_loss`` mixes noise into the score.
    """
    frames = []
    for i, month in enumerate(months):
        late = shift_from is not None and i >= shift_from
        x1 = rng.normal(feature_shift if late else 0.0, 1.0, n_per_month)
        x2 = rng.integers(0, 30, n_per_month).astype(float)
        x2[rng.random(n_per_month) < 0.1] = np.nan
        cat = rng.choice(["a", "b", "c"], n_per_month, p=[0.5, 0.3, 0.2])
        logit = -1.5 + 1.2 * x1 + (score_shift if late else 0.0)
        truth = logit if not late else -1.5 + (1 + miscalibrate) * (logit + 1.5 - (score_shift if late else 0.0))
        y = (rng.random(n_per_month) < 1 / (1 + np.exp(-truth))).astype(float)
        noisy = logit + (rng.normal(0, 3.0, n_per_month) * auc_loss if late else 0.0)
        frames.append(pd.DataFrame({"person_id": [f"P{i}-{k}" for k in range(n_per_month)], "month": month,
                                    "x1": x1, "x2": x2, "cat": cat, "death_5y": y,
                                    "p_v2": 1 / (1 + np.exp(-noisy)), "p_v1": 0.2}))
    return pd.concat(frames, ignore_index=True)


MONTHLY = {"reference": {"column": "month", "period": "month", "between": ["2024-01", "2024-06"]},
           "windows": {"column": "month", "period": "month"},
           "features": ["x1", "x2"], "categorical": ["cat"]}


# --- histogram path equals the direct computation --------------------------------------------------

@pytest.mark.parametrize("kind", ["normal", "lognormal", "integers", "ties"])
def test_histogram_psi_and_ks_equal_direct_computation(kind):
    rng = np.random.default_rng(3)
    make = {"normal": lambda n, s: rng.normal(s, 1, n), "lognormal": lambda n, s: rng.lognormal(s, 1, n),
            "integers": lambda n, s: rng.integers(0, 40, n).astype(float) + round(10 * s),
            "ties": lambda n, s: np.round(rng.normal(s, 1, n), 1)}[kind]
    ref, cur = make(5000, 0.0), make(800, 0.3)
    frame = pd.DataFrame({"w": ["r"] * ref.size + ["c"] * cur.size, "x": np.concatenate((ref, cur))})
    psi_edges, fine = drift.bin_edges(ref, 10, 1000)  # 1000 bins: integer features are exact
    np.testing.assert_array_equal(psi_edges, stats.reference_edges(ref, 10))
    section = DriftSection.model_validate({"reference": {"column": "w", "values": ["r"]}, "windows": {"column": "w"}})
    with drift_scan.Scanner(frame) as scan:
        plan = scan.plan(section)
        np.testing.assert_array_equal(np.sort(scan.reference_values(plan, "x")), np.sort(ref))
        bins, _, sizes = scan.histograms(plan, {"x": fine})
    counts = [drift._fine_counts(drift._index_bins(bins), w, "x", fine.size + 1) for w in (0, 1)]
    found = drift.continuous_drift(counts[0], counts[1], fine, psi_edges)
    assert found["psi"] == pytest.approx(stats.psi(ref, cur), rel=1e-12, abs=1e-15)
    exact = stats.ks_test(ref, cur)
    assert found["statistic"] <= exact.statistic + 1e-12 <= found["ks_upper"] + 2e-12
    if kind in ("integers", "ties"):  # every fine bin holds one distinct value: D is exact
        assert found["statistic"] == pytest.approx(exact.statistic, abs=1e-12)
    else:
        assert exact.statistic - found["statistic"] < 0.01
    assert list(sizes["n"]) == [5000, 800]


def test_ks_p_value_is_scipy_asymptotic_of_the_edge_statistic():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(5)
    ref, cur = rng.integers(0, 20, 3000).astype(float), rng.integers(1, 21, 400).astype(float)
    _, fine = drift.bin_edges(ref, 10, 1000)
    r = drift.ks_from_counts(_right_closed_counts(ref, fine), _right_closed_counts(cur, fine))
    expected = ks_2samp(ref, cur, method="asymp")
    assert r.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert r.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def _right_closed_counts(x, edges):
    idx = np.searchsorted(edges, x, side="left")  # number of edges < x: bin (e_{k-1}, e_k]
    return np.bincount(idx, minlength=edges.size + 1)


def test_categorical_psi_and_chi2_equal_direct_computation():
    rng = np.random.default_rng(9)
    ref = pd.Series(rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2]))
    cur = pd.Series(rng.choice(["a", "b", "d"], 500, p=[0.4, 0.4, 0.2]))
    found = drift.categorical_drift(ref.value_counts(), cur.value_counts())
    direct = stats.chi2_test(ref, cur)
    assert found["statistic"] == pytest.approx(direct.statistic, rel=1e-12)
    assert found["p_value"] == pytest.approx(direct.p_value, rel=1e-9)
    table = direct.table
    assert found["psi"] == pytest.approx(stats.psi_from_counts(table["reference"], table["current"]), rel=1e-12)


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
    gate = drift.judge_triggers(review, study)[0]
    assert gate.verdict == gates.PASS and "2024-08" in gate.sentence
    quarters = _study({**study.drift.model_dump(by_alias=True), "windows": {"column": "t", "period": "quarter"}})
    assert drift.review(frame, quarters).monitoring_labels == ["2024-Q2", "2024-Q3", "2024-Q4"]


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


def test_period_range():
    assert drift_scan.period_range("2023-11", "2024-02", "month") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert drift_scan.period_range("2023-Q4", "2024-Q2", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert drift_scan.period_range("2022", "2024", "year") == ["2022", "2023", "2024"]


# --- triggers: each type fires on a planted shift and stays quiet on a stationary stream ------------

TRIGGERS = {
    "psi": {"id": "T-psi", "statistic": "psi", "of": "score", "above": 0.25, "action": "investigate"},
    "feature": {"id": "T-feat", "statistic": "psi", "of": "x1", "above": 0.25, "action": "investigate"},
    "adjusted": {"id": "T-adj", "statistic": "p_adjusted", "of": "any_feature", "below": 0.05,
                 "action": "investigate"},
    "slope": {"id": "T-slope", "statistic": "calibration_slope", "interval_excludes": 1.0, "in": "consecutive_windows",
              "count": 2, "action": "revalidate"},
    "auroc": {"id": "T-auc", "statistic": "auroc", "bound": "lower", "below": 0.70, "action": "suspend"},
    "mean": {"id": "T-mean", "statistic": "mean_score", "bound": "upper", "below": 0.15, "in": "consecutive_windows",
             "count": 3, "action": "clinical_review"},
    "missing": {"id": "T-miss", "statistic": "missing_change", "of": "x2", "bound": "lower", "above": 0.05,
                "action": "investigate"},
}
PLANTED = {
    "psi": dict(score_shift=1.5), "feature": dict(feature_shift=1.0), "adjusted": dict(feature_shift=0.5),
    "slope": dict(miscalibrate=-0.6), "auroc": dict(auc_loss=1.0), "mean": dict(score_shift=-1.5),
    "missing": dict(),
}


def _judge(frame, trigger):
    study = _study({**MONTHLY, "triggers": [trigger]})
    return drift.judge_triggers(drift.review(frame, study), study)[0]


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_trigger_fires_on_planted_shift_and_is_quiet_on_stationary_data(name):
    trigger = TRIGGERS[name]
    quiet = _judge(_stream(np.random.default_rng(21), 1500), trigger)
    assert quiet.verdict == gates.PASS, quiet.sentence
    shifted = _stream(np.random.default_rng(22), 1500, shift_from=8, **PLANTED[name])
    if name == "missing":
        late = shifted.month >= "2024-09"
        shifted.loc[late & (np.random.default_rng(1).random(len(shifted)) < 0.3), "x2"] = np.nan
    fired = _judge(shifted, trigger)
    assert fired.verdict == gates.FAIL, fired.sentence
    assert fired.blocks == (trigger["action"] in ("revalidate", "suspend"))
    assert "2024-09" in fired.sentence and trigger["action"].replace("_", " ") in fired.sentence
    assert not any(m in fired.sentence.split("FIRED")[1].split(")")[0] for m in ("2024-07", "2024-08"))


def test_consecutive_trigger_needs_a_run_and_an_undefined_window_breaks_it():
    trigger = drift.Trigger.model_validate(TRIGGERS["slope"])
    assert drift._fired(trigger, [True, False, True, False]) == []
    assert drift._fired(trigger, [False, True, True, False]) == [1, 2]
    assert drift._fired(trigger, [True, None, True]) == []
    any_two = drift.Trigger.model_validate({**TRIGGERS["psi"], "count": 2})
    assert drift._fired(any_two, [True, False, True]) == [0, 2]


def test_trigger_that_cannot_be_judged_is_insufficient_and_does_not_block():
    frame = _stream(np.random.default_rng(3), 200).assign(death_5y=np.nan)
    gate = _judge(frame, TRIGGERS["auroc"])
    assert gate.verdict == gates.INSUFFICIENT and not gate.blocks


def test_triggers_table_names_the_action():
    frame = _stream(np.random.default_rng(22), 800, shift_from=8, score_shift=1.5)
    study = _study({**MONTHLY, "triggers": [TRIGGERS["psi"], TRIGGERS["auroc"]]})
    judged = drift.judge_triggers(drift.review(frame, study), study)
    table = drift.triggers_table(judged, study)
    assert table.loc["T-psi", "status"] == "FIRED" and table.loc["T-psi", "action"] == "investigate"
    assert table.loc["T-psi", "blocks release"] == "no"


# --- false alarms of the adjusted feature tests ------------------------------------------------------

def _false_alarm_rate(runs: int, n_per_month: int, method: str, seed: int) -> float:
    study = _study({**MONTHLY, "triggers": [TRIGGERS["adjusted"]]}, multiplicity=method)
    alarms = 0
    for run in range(runs):
        frame = _stream(np.random.default_rng([seed, run]), n_per_month)
        review = drift.review(frame, study)
        alarms += bool((review.input[["p_adjusted", "missing_p_adjusted"]].to_numpy() < 0.05).any())
    return alarms / runs


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


# --- control limits and small pieces ------------------------------------------------------------------

def test_hanley_mcneil_se_matches_published_example():
    # Hanley & McNeil 1982, equation (1) with Q1 = A/(2-A), Q2 = 2A^2/(1+A), for A = 0.9 and 50 + 50 cases,
    # in exact fractions: se^2 = (9/100 + 49 (9/11 - 81/100) + 49 (81/95 - 81/100)) / 2500
    from fractions import Fraction

    var = (Fraction(9, 100) + 49 * (Fraction(9, 11) - Fraction(81, 100)) + 49 * (Fraction(81, 95) - Fraction(81, 100))) / 2500
    assert drift.hanley_mcneil_se(0.9, 50, 50) == pytest.approx(math.sqrt(var), rel=1e-12)
    # Q1, Q2 are exact for exponential scores: the SE is the sampling SD of the Mann-Whitney AUROC there
    rng = np.random.default_rng(12)
    positives, negatives = rng.exponential(9.0, (4000, 50)), rng.exponential(1.0, (4000, 50))  # P(pos > neg) = 0.9
    auc = (positives[:, :, None] > negatives[:, None, :]).mean(axis=(1, 2))
    assert auc.std(ddof=1) == pytest.approx(drift.hanley_mcneil_se(0.9, 50, 50), rel=0.05)
    assert math.isnan(drift.hanley_mcneil_se(0.9, 0, 50))


def test_control_limits_p_chart():
    lo, hi = drift.control_limits("specificity", 0.9, 10, 400)
    assert (lo, hi) == pytest.approx((0.9 - 3 * math.sqrt(0.09 / 400), 0.9 + 3 * math.sqrt(0.09 / 400)))
    assert all(math.isnan(v) for v in drift.control_limits("sensitivity", 0.9, 0, 400))
    with pytest.raises(ValueError, match="metric must be"):
        drift.control_limits("ppv", 0.9, 1, 1)


def test_missingness_change_newcombe_interval():
    out = drift.missingness_change(10, 100, 30, 100)
    change = out["missing_change"]
    assert change.estimate == pytest.approx(0.2)
    # Newcombe 1998 method 10 for 30/100 − 10/100: (0.0850, 0.3095)? computed from Wilson limits
    w1, w2 = stats.proportion(30, 100), stats.proportion(10, 100)
    assert change.lower == pytest.approx(0.2 - math.hypot(0.3 - w1.lower, w2.upper - 0.1))
    assert out["missing_p"] < 0.001
    assert math.isnan(drift.missingness_change(0, 50, 0, 60)["missing_p"])


def test_psi_band():
    assert [drift.psi_band(v) for v in (0.05, 0.1, 0.25, 0.3, float("nan"))] == [
        "stable", "moderate", "moderate", "significant", ""]


def test_reviewer_tables_format_intervals_and_suppress_small_counts():
    frame = _stream(np.random.default_rng(5), 200)
    study = _study(MONTHLY)
    review = drift.review(frame, study)
    perf = drift_tables.performance_drift(review.performance, 5)
    assert perf.loc["reference", "AUROC limits"] == "(centre line)"
    assert drift_tables.fmt_ci(0.8, 0.75, 0.84) == "0.800 (0.750–0.840)"
    assert drift_tables.fmt_count(3, 5) == "<5" and drift_tables.fmt_count(0, 5) == "0"
    assert drift_tables.fmt_p(0.0001) == "<0.001"
    assert set(drift_tables.input_drift(review.input, alpha=0.05).index.get_level_values(0)) == {"x1", "x2", "cat"}


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
     "neither 'score', 'any_feature' nor a declared drift feature"),
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


def test_demo_drift_plan_validates():
    study = plan.load("params/demo.yaml")
    assert [t.id for t in study.drift.triggers][:3] == ["TR-1", "TR-2", "TR-3"]


def test_estimates_that_would_disclose_a_small_cell_are_withheld():
    calibration = pd.DataFrame([
        {"window": "2002", "labelled": 45, "events": 1, "expected": 3.0, "oe_ratio": 0.33, "oe_ratio_lower": 0.01,
         "oe_ratio_upper": 1.8, "calibration_in_the_large": -1.2, "calibration_in_the_large_lower": -3.3,
         "calibration_in_the_large_upper": 0.8, "calibration_slope": 2.0, "calibration_slope_lower": -0.5,
         "calibration_slope_upper": 4.6, "reason": ""},
        {"window": "2003", "labelled": 202, "events": 10, "expected": 7.3, "oe_ratio": 1.37, "oe_ratio_lower": 0.66,
         "oe_ratio_upper": 2.5, "calibration_in_the_large": 0.35, "calibration_in_the_large_lower": -0.3,
         "calibration_in_the_large_upper": 1.0, "calibration_slope": 1.1, "calibration_slope_lower": 0.4,
         "calibration_slope_upper": 1.9, "reason": ""},
    ])
    shown = drift_tables.calibration_drift(calibration, 5)
    assert shown.loc["2002", "observed events"] == "<5"
    assert (shown.loc["2002", ["O/E ratio", "calibration-in-the-large", "calibration slope"]] == "withheld").all()
    assert shown.loc["2003", "O/E ratio"].startswith("1.370")


def test_figures_get_small_cell_estimates_withheld():
    frame = _stream(np.random.default_rng(5), 200)
    review = drift.review(frame, _study(MONTHLY))
    shown = drift_tables.suppressed(review, 10_000)  # every count is "small": every disclosive estimate goes
    assert shown.calibration["oe_ratio"].isna().all() and shown.performance["auroc"].isna().all()
    assert shown.output["alert_rate"].isna().all()
    assert not review.calibration["oe_ratio"].isna().all()  # the review itself is untouched
    kept = drift_tables.suppressed(review, 1)  # a threshold of 1 suppresses nothing
    pd.testing.assert_frame_equal(kept.calibration, review.calibration, check_dtype=False)
