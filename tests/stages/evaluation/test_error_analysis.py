"""Error-case analysis: calls, suppression of small cells (primary and secondary), rates by level,
and the listing of the most confident errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from studylib import stats
from studylib.stages.evaluation import error_analysis
from tests.stages.evaluation.test_analysis import make_study


def test_classify_known_answer():
    calls = error_analysis.classify([1, 1, 0, 0, 1], [0.9, 0.1, 0.6, 0.2, 0.5], 0.5)
    assert calls.tolist() == ["TP", "FN", "FP", "TN", "TP"]  # a score equal to the threshold is flagged


def test_levels_bands_numeric_and_keeps_categories():
    age = pd.Series(np.arange(50, 90, dtype=float))
    age[3] = np.nan
    bands = error_analysis.levels(age)
    assert bands[3] == "missing" and bands[0].startswith("50–") and bands[39].endswith("–89")
    assert bands.nunique() == 5  # four quartile bands and missing
    assert error_analysis.levels(pd.Series(["F", "M", None])).tolist() == ["F", "M", "missing"]
    assert error_analysis.levels(pd.Series([1995, 1996, 1997])).tolist() == ["1995", "1996", "1997"]


def test_suppression_primary_and_secondary():
    counts = pd.DataFrame({"missed": [3, 40, 12, 0, 7]})
    groups = pd.Series(["sex", "sex", "site", "site", "site"])
    hide = error_analysis.suppression_mask(counts, groups, threshold=5)
    # sex: 3 hidden (primary) → 40 hidden too (the only other cell); site: 0 shown, 7 and 12 visible
    assert hide["missed"].tolist() == [True, True, False, False, False]
    counts = pd.DataFrame({"missed": [2, 30, 9, 4]})
    hide = error_analysis.suppression_mask(counts, pd.Series(["a"] * 4), threshold=5)
    assert hide["missed"].tolist() == [True, False, False, True]  # two primary cells: no secondary needed
    counts = pd.DataFrame({"missed": [2, 30, 9, 6]})
    hide = error_analysis.suppression_mask(counts, pd.Series(["a"] * 4), threshold=5)
    assert hide["missed"].tolist() == [True, False, False, True]  # secondary: the smallest other non-zero cell


def _data(n=400, seed=2):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    p = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, n), 0, 1)
    b = np.clip(p + rng.normal(0, 0.1, n), 0, 1)
    frame = pd.DataFrame({"person_id": [f"Q-{i:04d}" for i in range(n)],
                          "sex": rng.choice(["F", "M"], n), "site": np.where(np.arange(n) < 4, "tiny", "big"),
                          "age": rng.integers(50, 95, n)})
    return frame, y.astype(int), {"candidate": p, "baseline": b}


def test_by_variable_counts_rates_and_suppression():
    frame, y, scores = _data()
    study = make_study(threshold=0.4, error_analysis={"variables": ["sex", "site", "age"]})
    result = error_analysis.analyse(frame, y, scores, study)
    calls = error_analysis.classify(y, scores["candidate"], 0.4)
    table = result.by_variable
    female = table[(table.variable == "sex") & (table.level == "F")].iloc[0]
    mask = (frame.sex == "F").to_numpy()
    assert female["missed"] == np.sum(calls[mask] == "FN")
    assert female["positives"] == np.sum(y[mask])
    lower, upper = stats.proportion_ci(int(female["missed"]), int(female["positives"]), 0.05, "wilson")
    assert female["miss_rate_lower"] == pytest.approx(lower) and female["miss_rate_upper"] == pytest.approx(upper)
    tiny = table[(table.variable == "site") & (table.level == "tiny")].iloc[0]
    # 4 patients: every non-zero count is < 5 and hidden; the big site's counts are hidden too where the
    # tiny site's are (secondary suppression: else tiny = total − big)
    tiny_counts = [tiny[c] for c in ("positives", "missed", "negatives", "false_alarms")]
    assert all(pd.isna(v) or v == 0 for v in tiny_counts) and any(pd.isna(v) for v in tiny_counts)
    big = table[(table.variable == "site") & (table.level == "big")].iloc[0]
    for c in ("positives", "missed", "negatives", "false_alarms"):
        assert pd.isna(big[c]) == pd.isna(tiny[c])
    assert np.isnan(tiny["miss_rate"]) or tiny["positives"] == 0
    assert table[table.variable == "age"]["level"].tolist()[0].startswith("50")
    assert result.counts.set_index("call")["n"].to_dict() == {c: int(np.sum(calls == c)) for c in
                                                              ("TP", "FN", "FP", "TN")}
    from studylib.evidence import results as evidence

    rows = evidence.to_jsonable(result.to_results())["by_variable"]
    assert rows[0]["variable"] == "sex"
    hidden = [r for r in rows if r["variable"] == "site" and r["level"] == "tiny"][0]
    assert any(hidden[c] is None for c in ("positives", "missed", "negatives", "false_alarms"))


def test_most_confident_errors_listing():
    frame, y, scores = _data()
    study = make_study(threshold=0.4, error_analysis={"list_misses": 4})
    misses = error_analysis.analyse(frame, y, scores, study).misses
    calls = error_analysis.classify(y, scores["candidate"], 0.4)
    fn = misses[misses.kind == "FN"]
    assert fn["rank"].tolist() == [1, 2, 3, 4]
    lowest = np.sort(scores["candidate"][calls == "FN"])[:4]
    np.testing.assert_allclose(fn["candidate_risk"], lowest)
    fp = misses[misses.kind == "FP"]
    np.testing.assert_allclose(fp["candidate_risk"], np.sort(scores["candidate"][calls == "FP"])[::-1][:4])
    i = int(fn["id"].iloc[0].split("-")[1])
    assert fn["baseline_risk"].iloc[0] == scores["baseline"][i]
    assert fn["baseline_call"].iloc[0] == ("flagged" if scores["baseline"][i] >= 0.4 else "not flagged")
    assert set(misses.columns) == {"kind", "rank", "id", "candidate_risk", "baseline_risk", "baseline_call"}


def test_ties_are_listed_by_id_and_no_errors_gives_empty_listing():
    frame = pd.DataFrame({"person_id": ["B", "A", "C"]})
    study = make_study(threshold=0.5)
    m = error_analysis.most_confident_errors(frame, np.array(["FN", "FN", "TP"]),
                                             {"candidate": np.array([0.1, 0.1, 0.9])}, study)
    assert m["id"].tolist() == ["A", "B"] and "baseline_risk" not in m
    empty = error_analysis.analyse(frame, np.array([1, 0, 1]), {"candidate": np.array([0.9, 0.1, 0.9])}, study)
    assert empty.misses.empty and empty.by_variable.empty
