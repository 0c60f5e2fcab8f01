"""The reviewer view: small counts as "<T" in every table, disclosive estimates withheld (also in the
level − reference differences), and nothing suppressed at threshold 1."""

from __future__ import annotations

import math

import numpy as np

from studylib.evidence.results import to_jsonable
from studylib.judge import suppression
from studylib.stages.subgroups import analysis as subgroups
from studylib.stages.subgroups import reviewer
from tests.stages.subgroups.helpers import constructed, gate_study


def _analysis():
    frame = constructed()
    frame.loc[frame.index[frame.site == "tiny"][8:], "site"] = "good"  # 'tiny': 8 positives, no negatives
    frame.loc[frame.index[frame.site == "tiny"][:5], "death_5y"] = 0.0  # now 3 positives, 5 negatives
    study = gate_study([{"id": "SG-1", "metric": "auroc", "bound": "lower", "at_least": 0.5}])
    return subgroups.analyse(frame, study)


def test_reviewer_view_suppresses_small_counts_and_withholds_estimates():
    analysis = _analysis()
    view = reviewer.reviewer_view(analysis, 5)
    tiny = view.subgroups.set_index("level").loc["tiny"]
    assert (tiny.n, tiny.positives, tiny.negatives) == ("8", "<5", "≥4")
    metrics = view.metrics[view.metrics.level == "tiny"]
    assert metrics.withheld.all() and metrics.estimate.isna().all()
    refs = view.versus_reference[view.versus_reference.level == "tiny"]
    assert refs.withheld.all() and refs.estimate.isna().all()
    # one more site is withheld (complementary suppression), so that tiny's positives cannot be worked out
    # as the cohort's positives minus the other sites'; its estimates are withheld, the other sites' are not
    sites = view.subgroups[(view.subgroups.variable == "site") & (view.subgroups.level != "tiny")]
    (other,) = sites.level[sites.positives == "withheld"]
    assert (sites.negatives == "withheld").sum() == 1 and sites.withheld.sum() == 1
    assert view.metrics[view.metrics.level == other].estimate.isna().all()
    shown = view.metrics[(view.metrics.variable == "site") & ~view.metrics.level.isin(["tiny", other])]
    assert not shown.withheld.any()
    assert view.n == f"{int(analysis.subgroups.n.iloc[0]):,}"
    assert suppression.small_counts(to_jsonable(analysis.results()), 5) != []  # the restricted version has them
    assert suppression.small_counts(to_jsonable(view.results()), 5) == []


def test_threshold_one_suppresses_nothing():
    analysis = _analysis()
    view = reviewer.reviewer_view(analysis, 1)
    assert not view.metrics.withheld.any()
    np.testing.assert_array_equal(view.metrics.estimate.to_numpy(dtype=float),
                                  analysis.metrics.estimate.to_numpy(dtype=float))
    assert view.subgroups.positives.tolist() == [f"{p:,}" for p in analysis.subgroups.positives]


def test_results_keys_of_both_versions():
    analysis = _analysis()
    view = reviewer.reviewer_view(analysis, 5)
    shared = {"n", "positives", "subgroups", "unassigned", "metrics", "heterogeneity", "versus_reference",
              "sample_size", "gates"}
    assert set(view.results()) == shared
    assert set(analysis.results()) == shared | {"version"} and analysis.results()["version"] == "restricted"
    assert view.gates == analysis.gates
    assert all(math.isnan(g.estimate) for g in view.gates if "tiny" in g.id)
