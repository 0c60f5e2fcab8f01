"""The metric table: every subgroup's metrics equal a direct computation on the filtered rows
(stats.binary_metrics, stats.auroc, sklearn, stats.delong_test, stats.calibration), row-order
invariance, and undefined metrics in one-class and empty subgroups."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from studylib import plan, stats
from studylib.judge import gates
from studylib.stages.subgroups import judging, metrics
from tests.stages.subgroups import helpers

warnings.filterwarnings("ignore", category=stats.UndefinedMetricWarning)


def test_metric_table_shape(computed):
    frame, study, groups, table = computed
    assert list(table.columns) == list(metrics.COLUMNS)
    assert len(table) == len(groups) * len(plan.SUBGROUP_METRICS)
    assert set(table.metric) == set(plan.SUBGROUP_METRICS)


def test_every_subgroup_equals_direct_computation(computed):
    frame, study, groups, table = computed
    indexed = table.set_index(["variable", "level", "metric"])
    for group in groups:
        part = frame.iloc[group.rows]
        y = part.death_5y.to_numpy(dtype=int)
        s2, s1 = part.p_v2.to_numpy(), part.p_v1.to_numpy()
        row = lambda metric: indexed.loc[(group.variable, group.level, metric)]  # noqa: E731
        assert row("prevalence").n == len(part) and row("prevalence").positives == y.sum()
        if len(part) == 0:
            assert math.isnan(row("sensitivity").estimate)
            continue
        binary = stats.binary_metrics(y, s2, study.analysis.threshold)
        for metric in ("sensitivity", "specificity", "ppv", "npv", "prevalence"):
            expected, got = getattr(binary, metric), row(metric)
            for field in ("estimate", "lower", "upper"):
                assert got[field] == pytest.approx(getattr(expected, field), abs=1e-12, nan_ok=True), (group, metric)
        assert row("sensitivity").numerator == binary.tp and row("sensitivity").denominator == binary.tp + binary.fn
        auc = stats.auroc(y, s2)
        for field in ("estimate", "lower", "upper", "se"):
            assert row("auroc")[field] == pytest.approx(getattr(auc, field), abs=1e-12, nan_ok=True)
        if auc.defined:
            assert row("auroc").estimate == pytest.approx(roc_auc_score(y, s2), abs=1e-12)  # independent
            test = stats.delong_test(y, s2, s1)
            got = row("auroc_vs_baseline")
            assert got.estimate == pytest.approx(test.diff, abs=1e-12)
            assert got.se == pytest.approx(test.se, rel=1e-9)
            assert got.lower == pytest.approx(test.lower, abs=1e-10)
        if 0 < y.sum() < len(y):
            cal = stats.calibration(y, s2)
            for metric, expected in (("calibration_in_the_large", cal.citl), ("calibration_slope", cal.slope)):
                assert row(metric).estimate == pytest.approx(expected.estimate, abs=1e-7)
                assert row(metric).se == pytest.approx(expected.se, rel=1e-6)
            assert row("brier").estimate == pytest.approx(cal.brier, abs=1e-12)
            sq = (s2 - y) ** 2
            assert row("brier").se == pytest.approx(np.std(sq, ddof=1) / math.sqrt(len(sq)), rel=1e-9)


def test_metrics_do_not_depend_on_row_order(computed):
    frame, study, _, table = computed
    shuffled = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    again = metrics.metric_table(shuffled, study)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), again.reset_index(drop=True), atol=1e-12, rtol=0)


def test_one_class_and_empty_subgroups_are_undefined_not_errors():
    frame = helpers.frame(600)
    frame.loc[frame.site == "C", "death_5y"] = 0.0  # site C: no positives
    study = helpers.study(helpers.PLAN | {"min_positives": 0, "min_negatives": 0})
    table = metrics.metric_table(frame, study)
    c = table[(table.variable == "site") & (table.level == "C")].set_index("metric")
    assert c.loc["sensitivity"].reason.startswith("sensitivity: no positive cases")
    assert "at least 2 positive" in c.loc["auroc"].reason
    assert "single class" in c.loc["calibration_slope"].reason
    judged = judging.judge_gates(table, helpers.study(helpers.PLAN | {"min_positives": 0, "min_negatives": 0, "gates": [
        {"id": "G", "metric": "auroc", "bound": "lower", "at_least": 0.5}]}))
    at_c = next(g for g in judged if g.id == "G[site=C]")
    assert at_c.verdict == gates.INSUFFICIENT and "at least 2 positive" in at_c.sentence


def test_without_a_baseline_there_is_no_difference_metric():
    frame = helpers.frame(800)
    table = metrics.metric_table(frame, helpers.study(helpers.PLAN, baseline=False))
    assert "auroc_vs_baseline" not in set(table.metric)
    assert set(table.metric) == set(plan.SUBGROUP_METRICS) - {"auroc_vs_baseline"}
