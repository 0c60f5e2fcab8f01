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


def _mask(**columns):
    counts = pd.DataFrame(columns)
    return error_analysis.suppression_mask(counts, pd.Series(["a"] * len(counts)), threshold=5)


def test_suppression_hides_the_complement_in_the_row_and_another_level():
    # the demo's age 50-59 row: 26 with the outcome, 25 missed -> 1 caught (a small cell that is never
    # shown, but 26 - 25 would give it): missed is withheld there and in one more level
    hide = _mask(positives=[26, 51, 80], missed=[25, 44, 26], negatives=[840, 746, 697], false_alarms=[20, 30, 321])
    assert hide["missed"].tolist() == [True, False, True]  # the other level with the smallest missed count
    assert not hide[["positives", "negatives", "false_alarms"]].to_numpy().any()
    # a small false-alarm count: it and the smallest other false-alarm count (not every other one)
    hide = _mask(positives=[30, 30, 30], missed=[10, 10, 10], negatives=[100, 100, 100], false_alarms=[2, 9, 12])
    assert hide["false_alarms"].tolist() == [True, True, False]
    # a small level: its positives and negatives, and those of one more level; its errors too
    hide = _mask(positives=[3, 40, 50], missed=[1, 10, 12], negatives=[20, 200, 300], false_alarms=[5, 50, 60])
    assert hide["positives"].tolist() == [True, True, False] and hide["negatives"].tolist() == [True, True, False]
    assert hide["missed"].tolist()[0] and hide["false_alarms"].tolist()[0]
    # zeros are shown and nothing is hidden without a small cell
    hide = _mask(positives=[0, 40], missed=[0, 10], negatives=[20, 200], false_alarms=[5, 50])
    assert not hide.to_numpy().any()


def test_suppressed_cells_cannot_be_recovered_from_rows_or_totals():
    """Brute force: for random tables, every withheld missed count has another solution consistent with
    everything shown (the row's positives when shown, the column totals of missed and caught cases)."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        k = int(rng.integers(2, 5))
        pos = rng.integers(0, 30, k)
        fn = np.array([rng.integers(0, p + 1) for p in pos])
        neg = rng.integers(5, 60, k)
        fp = np.array([rng.integers(0, n + 1) for n in neg])
        hide = _mask(positives=pos, missed=fn, negatives=neg, false_alarms=fp)
        hidden = np.flatnonzero(hide["missed"].to_numpy())
        shown_small = [i for i in range(k) if not hide["missed"][i] and (0 < fn[i] < 5 or 0 < pos[i] - fn[i] < 5)
                       and not hide["positives"][i]]
        assert not shown_small, (pos, fn)  # a shown missed count never reveals a small caught count
        if hidden.size:
            assert hidden.size >= 2  # with the column total, a single hidden cell would be recovered
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
    # age is a declared banded subgroup variable: the error table uses the same bands as the subgroup page
    from studylib.stages.subgroups.groups import levels as subgroup_levels

    (age_variable,) = [v for v in study.subgroups.variables if v.column == "age"]
    declared = [str(c) for c in subgroup_levels(frame, age_variable).cat.categories]
    assert table[table.variable == "age"]["level"].tolist() == declared[:len(table[table.variable == "age"])]
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
