"""Heterogeneity tables (multiplicity as statsmodels, only judged levels) and level − reference differences."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from studylib.plan import Study
from studylib.stages.subgroups import comparisons
from studylib.stats.difference import mover_difference
from studylib.stats import Estimate


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_heterogeneity_p_values_adjusted_across_all_tests_as_statsmodels(computed, method):
    frame, study, _, table = computed
    data = study.model_dump(by_alias=True)
    data["analysis"]["multiplicity"] = method
    result = comparisons.heterogeneity_table(table, Study.model_validate(data))
    assert len(result) == 5 * 4  # 4 variables + 1 intersection, 4 metrics each
    p = result.p_value.to_numpy()
    present = ~np.isnan(p)
    expected = multipletests(p[present], method=method)[1]
    np.testing.assert_allclose(result.p_adjusted.to_numpy()[present], expected, rtol=1e-12, atol=0)


def test_heterogeneity_uses_only_judged_levels(computed):
    frame, study, _, table = computed
    data = study.model_dump(by_alias=True)
    data["subgroups"]["min_positives"] = 10_000
    result = comparisons.heterogeneity_table(table, Study.model_validate(data))
    assert result.p_value.isna().all() and (result.reason != "").all()


def test_reference_table_rows(computed):
    frame, study, _, table = computed
    refs = comparisons.reference_table(table, study)
    assert list(refs.columns) == list(comparisons.REFERENCE_COLUMNS)
    assert set(refs.variable) == {"site"} and set(refs.level) == {"B", "C"}
    row = refs[(refs.level == "B") & (refs.metric == "auroc")].iloc[0]
    at = table.set_index(["variable", "level", "metric"])
    expected = at.loc[("site", "B", "auroc")].estimate - at.loc[("site", "A", "auroc")].estimate
    assert row.estimate == pytest.approx(expected)
    b, a = at.loc[("site", "B", "sensitivity")], at.loc[("site", "A", "sensitivity")]
    mover = mover_difference(Estimate(b.estimate, b.lower, b.upper, b.se), Estimate(a.estimate, a.lower, a.upper, a.se))
    got = refs[(refs.level == "B") & (refs.metric == "sensitivity")].iloc[0]
    assert (got.lower, got.upper) == pytest.approx((mover.lower, mover.upper)) and got.method == "mover"
