"""Subgroup analysis: per-subgroup metrics against direct computation on the filtered rows, verdict logic
on constructed data, heterogeneity and multiplicity against scipy/statsmodels, and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import chi2_contingency
from sklearn.metrics import roc_auc_score
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from studylib import stats
from studylib.judge import gates
from studylib import plan
from studylib.run import preflight
from studylib.data import snapshot
from studylib.stages.subgroups import analysis as subgroups
from studylib.errors import ParameterError
from studylib.plan import Study
from studylib.stats import Estimate
from tests.conftest import tiny_frame, tiny_params, write_snapshot

warnings.filterwarnings("ignore", category=stats.UndefinedMetricWarning)


def _study(subgroup_plan: dict, *, threshold: float = 0.3, baseline: bool = True, **study_keys) -> Study:
    data = tiny_params("sha256:" + "0" * 64, "0" * 64)
    data["subgroups"] = subgroup_plan
    data["analysis"]["threshold"] = threshold
    data["study"].update(study_keys)
    if not baseline:
        del data["models"]["baseline"]
        data["acceptance"] = [a for a in data["acceptance"] if "versus" not in a]
    return Study.model_validate(data)


def _frame(rows: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Validation-like rows with ties in the scores (rounded to 2 decimals) and a few subgroup columns."""
    rng = np.random.default_rng(seed)
    frame = tiny_frame(rows, seed)
    frame["p_v2"] = frame["p_v2"].round(2)
    frame["site"] = rng.choice(["A", "B", "C"], rows, p=[0.5, 0.4, 0.1])
    frame["grade"] = rng.choice([1.0, 2.0, 3.0, np.nan], rows, p=[0.2, 0.4, 0.35, 0.05])
    return frame


PLAN = {"variables": [{"name": "sex", "column": "sex"},
                      {"name": "age_band", "column": "age", "cut": [50, 65, 80, 95]},
                      {"name": "site", "column": "site", "reference": "A"},
                      {"name": "grade", "column": "grade"}],
        "intersections": [["sex", "site"]], "min_positives": 10, "min_negatives": 10}


# --------------------------------------------------------------------------------------------------
# Levels and subgroups
# --------------------------------------------------------------------------------------------------


def test_levels_bands_labels_and_missing():
    frame = pd.DataFrame({"age": [49, 50, 59.9, 60, 89, 90, 120, np.nan]})
    banded = subgroups.levels(frame, plan.SubgroupVariable(name="a", column="age", cut=(50, 60, 90, float("inf"))))
    assert list(banded.cat.categories) == ["[50, 60)", "[60, 90)", "≥ 90"]
    assert banded.astype(object).where(banded.notna(), None).tolist() == [
        None, "[50, 60)", "[50, 60)", "[60, 90)", "[60, 90)", "≥ 90", "≥ 90", None]
    labelled = subgroups.levels(frame, plan.SubgroupVariable(name="a", column="age", cut=(50, 60, 90),
                                                               labels=("50-59", "60-89")))
    assert list(labelled.cat.categories) == ["50-59", "60-89"]


def test_levels_of_whole_number_floats_read_as_integers():
    frame = pd.DataFrame({"grade": [3.0, 1.0, np.nan, 2.0]})
    values = subgroups.levels(frame, plan.SubgroupVariable(name="g", column="grade"))
    assert list(values.cat.categories) == ["1", "2", "3"]


def test_subgroups_include_empty_intersection_cells():
    frame = _frame()
    frame.loc[(frame.sex == "M") & (frame.site == "C"), "site"] = "A"  # no M at site C
    study = _study(PLAN)
    groups = subgroups.subgroups(frame, study)
    names = [(g.variable, g.level) for g in groups]
    assert names[0] == ("overall", "all")
    assert ("sex × site", "M & C") in names
    empty = next(g for g in groups if (g.variable, g.level) == ("sex × site", "M & C"))
    assert empty.n == 0
    # every level of a variable is a disjoint subset; together they cover the rows that have a level
    sexes = [g for g in groups if g.variable == "sex"]
    assert sum(g.n for g in sexes) == len(frame)
    grades = [g for g in groups if g.variable == "grade"]
    assert sum(g.n for g in grades) == int(frame.grade.notna().sum())


# --------------------------------------------------------------------------------------------------
# Metrics equal a direct computation on the filtered rows
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def computed():
    frame = _frame()
    study = _study(PLAN)
    groups = subgroups.subgroups(frame, study)
    return frame, study, groups, subgroups.metric_table(frame, study, groups=groups)


def test_metric_table_shape(computed):
    frame, study, groups, table = computed
    assert list(table.columns) == list(subgroups.COLUMNS)
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
    again = subgroups.metric_table(shuffled, study)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), again.reset_index(drop=True), atol=1e-12, rtol=0)


def test_one_class_and_empty_subgroups_are_undefined_not_errors():
    frame = _frame(600)
    frame.loc[frame.site == "C", "death_5y"] = 0.0  # site C: no positives
    study = _study(PLAN | {"min_positives": 0, "min_negatives": 0})
    table = subgroups.metric_table(frame, study)
    c = table[(table.variable == "site") & (table.level == "C")].set_index("metric")
    assert c.loc["sensitivity"].reason.startswith("sensitivity: no positive cases")
    assert "at least 2 positive" in c.loc["auroc"].reason
    assert "single class" in c.loc["calibration_slope"].reason
    judged = subgroups.judge_gates(table, _study(PLAN | {"min_positives": 0, "min_negatives": 0, "gates": [
        {"id": "G", "metric": "auroc", "bound": "lower", "at_least": 0.5}]}))
    at_c = next(g for g in judged if g.id == "G[site=C]")
    assert at_c.verdict == gates.INSUFFICIENT and "at least 2 positive" in at_c.sentence


# --------------------------------------------------------------------------------------------------
# Verdicts on constructed data
# --------------------------------------------------------------------------------------------------


def _constructed(seed: int = 11) -> pd.DataFrame:
    """Three sites: 'good' (strong model, large), 'bad' (score unrelated to outcome, large), 'tiny' (8 positives)."""
    rng = np.random.default_rng(seed)
    parts = []
    for site, n, strength, prevalence in (("good", 2000, 3.0, 0.3), ("bad", 2000, 0.0, 0.3), ("tiny", 200, 3.0, 0.04)):
        y = (rng.random(n) < prevalence).astype(float)
        logit = -1 + strength * (y - 0.5) + rng.normal(0, 1, n)
        p = 1 / (1 + np.exp(-logit))
        parts.append(pd.DataFrame({"site": site, "death_5y": y, "p_v2": p, "p_v1": np.clip(p + rng.normal(0, 0.05, n), 0, 1)}))
    frame = pd.concat(parts, ignore_index=True)
    frame["person_id"] = [f"C-{i:05d}" for i in range(len(frame))]
    frame.loc[frame.site == "tiny", "death_5y"] = 0.0
    tiny = frame.index[frame.site == "tiny"][:8]
    frame.loc[tiny, "death_5y"] = 1.0
    return frame


def _gate_study(gate_list, **plan):
    return _study({"variables": [{"name": "site", "column": "site", "reference": "good"}], "min_positives": 20,
                   "min_negatives": 20, "gates": gate_list, **plan}, threshold=0.3)


def test_pass_fail_and_insufficient_evidence():
    study = _gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.75}])
    analysis = subgroups.analyse(_constructed(), study)
    verdicts = {g.id: g for g in analysis.gates}
    assert verdicts["SG-1[site=good]"].verdict == gates.PASS
    assert verdicts["SG-1[site=bad]"].verdict == gates.FAIL
    tiny = verdicts["SG-1[site=tiny]"]
    assert tiny.verdict == gates.INSUFFICIENT and tiny.blocks
    assert "8 positives" in tiny.sentence and "at least 20 positives" in tiny.sentence
    assert "more positives" in tiny.sentence and "Blocks the release" in tiny.sentence
    assert math.isnan(tiny.estimate)
    for gate in analysis.gates:  # never a NaN in a PASS or FAIL
        if gate.verdict != gates.INSUFFICIENT:
            assert all(math.isfinite(v) for v in (gate.estimate, gate.lower, gate.upper))
    assert gates.overall(analysis.gates) == gates.FAIL


def test_insufficient_evidence_need_not_block():
    study = _gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.5,
                          "insufficient_evidence_blocks": False}])
    judged = subgroups.analyse(_constructed(), study).gates
    tiny = next(g for g in judged if g.id == "SG-1[site=tiny]")
    assert tiny.verdict == gates.INSUFFICIENT and not tiny.blocks and "Does not block" in tiny.sentence
    assert not tiny.blocking_failure


def test_gate_relative_to_overall_and_reference():
    frame = _constructed()
    study = _gate_study([{"id": "R-1", "metric": "auroc", "relative_to": "overall", "max_below": 0.05},
                         {"id": "R-2", "metric": "auroc", "relative_to": "reference", "max_below": 0.05},
                         {"id": "R-3", "metric": "brier", "relative_to": "overall", "max_above": 0.5}])
    analysis = subgroups.analyse(frame, study)
    verdicts = {g.id: g for g in analysis.gates}
    overall = analysis.metrics.set_index(["variable", "metric"]).loc[("overall", "auroc")].estimate
    good = analysis.metrics.set_index(["variable", "level", "metric"]).loc[("site", "good", "auroc")]
    expected = gates.PASS if good.lower >= overall - 0.05 else gates.FAIL
    assert verdicts["R-1[site=good]"].verdict == expected
    assert verdicts["R-1[site=bad]"].verdict == gates.FAIL
    assert "overall" in verdicts["R-1[site=bad]"].rule
    assert "R-2[site=good]" not in verdicts  # the reference level is not compared with itself
    assert verdicts["R-2[site=bad]"].verdict == gates.FAIL
    assert verdicts["R-2[site=tiny]"].verdict == gates.INSUFFICIENT
    assert verdicts["R-3[site=good]"].verdict == gates.PASS  # generous margin on a lower-is-better metric


def test_versus_baseline_gate_per_subgroup():
    study = _gate_study([{"id": "NI", "metric": "auroc", "versus": "baseline", "non_inferiority_margin": 0.05}])
    verdicts = {g.id: g for g in subgroups.analyse(_constructed(), study).gates}
    assert verdicts["NI[site=good]"].verdict == gates.PASS
    assert "candidate − baseline" in verdicts["NI[site=good]"].subject


def test_small_cell_estimates_are_withheld_in_gates_but_verdict_stands():
    frame = _constructed()
    y = frame.death_5y.to_numpy()
    bad = (frame.site == "bad").to_numpy()
    flagged = np.flatnonzero(bad & (y == 1))
    frame.loc[bad, "p_v2"] = 0.01
    frame.loc[flagged[:3], "p_v2"] = 0.9  # exactly 3 true positives at site 'bad'
    study = _gate_study([{"id": "S", "metric": "sensitivity", "bound": "lower", "at_least": 0.5}])
    gate = next(g for g in subgroups.analyse(frame, study).gates if g.id == "S[site=bad]")
    assert gate.verdict == gates.FAIL and math.isnan(gate.estimate) and "withheld" in gate.sentence


# --------------------------------------------------------------------------------------------------
# Heterogeneity, multiplicity, comparisons, sample size
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("test, lambda_", [("chi2", None), ("g-test", "log-likelihood")])
def test_contingency_test_matches_scipy(test, lambda_):
    successes, totals = [12, 30, 7], [40, 70, 33]
    statistic, df, p = subgroups.contingency_test(successes, totals, test=test)
    table = np.column_stack([successes, np.subtract(totals, successes)])
    ref = chi2_contingency(table, correction=False, lambda_=lambda_)
    assert statistic == pytest.approx(ref.statistic, rel=1e-12) and df == ref.dof
    assert p == pytest.approx(ref.pvalue, rel=1e-10)


def test_contingency_test_with_identical_extreme_proportions():
    assert subgroups.contingency_test([10, 20], [10, 20]) == (0.0, 1, 1.0)


def test_cochran_q_matches_statsmodels_meta_analysis():
    est, se = np.array([0.80, 0.72, 0.77, 0.69]), np.array([0.02, 0.03, 0.025, 0.04])
    q, df, p = subgroups.cochran_q(est, se)
    reference = combine_effects(est, se ** 2)
    assert q == pytest.approx(reference.q, rel=1e-12) and df == 3


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_heterogeneity_p_values_adjusted_across_all_tests_as_statsmodels(computed, method):
    frame, study, _, table = computed
    data = study.model_dump(by_alias=True)
    data["analysis"]["multiplicity"] = method
    result = subgroups.heterogeneity_table(table, Study.model_validate(data))
    assert len(result) == 5 * 4  # 4 variables + 1 intersection, 4 metrics each
    p = result.p_value.to_numpy()
    present = ~np.isnan(p)
    expected = multipletests(p[present], method=method)[1]
    np.testing.assert_allclose(result.p_adjusted.to_numpy()[present], expected, rtol=1e-12, atol=0)


def test_heterogeneity_uses_only_judged_levels(computed):
    frame, study, _, table = computed
    data = study.model_dump(by_alias=True)
    data["subgroups"]["min_positives"] = 10_000
    result = subgroups.heterogeneity_table(table, Study.model_validate(data))
    assert result.p_value.isna().all() and (result.reason != "").all()


def test_mover_difference_of_proportions_is_newcombe_as_statsmodels():
    a, b = stats.proportion(45, 60), stats.proportion(30, 55)
    d = subgroups.mover_difference(a, b)
    low, high = confint_proportions_2indep(45, 60, 30, 55, method="newcomb", compare="diff")
    assert (d.lower, d.upper) == pytest.approx((low, high), abs=1e-10)


def test_reference_table_rows(computed):
    frame, study, _, table = computed
    refs = subgroups.reference_table(table, study)
    assert set(refs.variable) == {"site"} and set(refs.level) == {"B", "C"}
    row = refs[(refs.level == "B") & (refs.metric == "auroc")].iloc[0]
    at = table.set_index(["variable", "level", "metric"])
    expected = at.loc[("site", "B", "auroc")].estimate - at.loc[("site", "A", "auroc")].estimate
    assert row.estimate == pytest.approx(expected)


def test_sample_size_known_answers():
    assert subgroups.sample_size(0.8, 0.2) == 62  # 1.96² · 0.16 / 0.1² = 61.5
    assert subgroups.sample_size(0.5, 0.1) == 385  # the classic 384.1
    with pytest.raises(ValueError, match="width must be in"):
        subgroups.sample_size(0.5, 0)


def test_sample_size_hint_for_small_subgroup():
    study = _gate_study([])
    table = subgroups.metric_table(_constructed(), study)
    hint = subgroups.sample_size_table(table, study)
    assert list(hint.level) == ["tiny"]
    row = hint.iloc[0]
    assert row.more_positives == row.needed_positives - 8 and row.more_patients > row.more_positives


# --------------------------------------------------------------------------------------------------
# Bad input: parameters and preflight
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 40]}]}, "cut points must be strictly increasing"),
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 60, 70], "labels": ["x"]}]}, "labels needs 2 entries"),
    ({"variables": [{"name": "a", "column": "age", "cut": [50, 60], "reference": "60+"}]}, "is not one of its bands"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auroc", "relative_to": "overall"}]},
     "exactly one of max_below"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auprc", "bound": "lower",
                                                                "at_least": 0.5}]}, "not computed per subgroup"),
    ({"variables": [{"name": "a", "column": "age"}], "gates": [{"id": "G", "metric": "auroc", "relative_to": "reference",
                                                                "max_below": 0.1}]}, "no subgroup variable declares"),
    ({"variables": [{"name": "a", "column": "age"}], "intersections": [["a", "b"]]}, "unknown variable 'b'"),
])
def test_bad_subgroup_parameters_are_rejected(tiny_project, change, message):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"] = change
    tiny_project.write_text(yaml.safe_dump(data))
    with pytest.raises(ParameterError, match=message):
        plan.load(tiny_project)


def test_integer_reference_may_be_unquoted():
    variable = plan.SubgroupVariable(name="grade", column="grade", reference=3)
    assert variable.reference == "3"


def test_missing_subgroup_column_is_exit_2_naming_the_variable(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"].append({"name": "vendor", "column": "scanner_vendor"})
    tiny_project.write_text(yaml.safe_dump(data))
    study = plan.load(tiny_project)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    with pytest.raises(ParameterError, match=r"subgroups variable vendor: unknown column 'scanner_vendor'"):
        preflight.check(study, snap)


def test_reference_level_absent_from_snapshot_is_exit_2(tiny_project):
    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"][0]["reference"] = "X"
    tiny_project.write_text(yaml.safe_dump(data))
    study = plan.load(tiny_project)
    snap = snapshot.verify(study.snapshot_path, study.snapshot.lock)
    with pytest.raises(ParameterError, match=r"reference level 'X' does not occur in column 'sex'; levels: F, M"):
        preflight.check(study, snap)


def test_cli_exit_2_for_missing_subgroup_column(tiny_project):
    from click.testing import CliRunner

    from studylib.cli import main

    data = yaml.safe_load(tiny_project.read_text())
    data["subgroups"]["variables"][1]["column"] = "agee"
    tiny_project.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["run", str(tiny_project)])
    assert result.exit_code == 2
    assert "subgroups variable age_band: unknown column 'agee'" in result.output


# --------------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------------


def test_format_interval():
    assert subgroups.format_interval(0.8, 0.75, 0.84) == "0.80 (0.75–0.84)"
    assert subgroups.format_interval(0.03, -0.09, 0.15) == "0.03 (−0.09 to 0.15)"
    assert subgroups.format_interval(float("nan"), 0, 1) == "—"
    assert subgroups.format_p(0.0004) == "<0.001" and subgroups.format_p(0.0123) == "0.012"


def test_mover_difference_undefined_side():
    d = subgroups.mover_difference(Estimate.undefined("no positives"), stats.proportion(3, 10))
    assert not d.defined and d.reason == "no positives"
