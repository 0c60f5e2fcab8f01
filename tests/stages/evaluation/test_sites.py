"""Synthesis across sites on the synthetic five-site snapshot: per-site table, pooled values against
stats.meta_analysis, prediction interval and site gates; two sites: prediction interval INSUFFICIENT_EVIDENCE."""

from __future__ import annotations

import math

import pytest
from scipy.special import logit

from studylib import plan
from studylib.data import synth
from studylib.evidence import workspace
from studylib.judge import gates
from studylib.stages.evaluation.inputs import analysis_rows, prepare
from studylib.stages.evaluation.sites import analyse_sites
from studylib.stats.meta_analysis import random_effects


@pytest.fixture(scope="module")
def synth_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    lock = synth.write_snapshot(folder / "snap", rows=20_000, seed=3)
    params = synth.study_params(folder / "snap", lock)
    params["sites"]["gates"].append({"id": "ST-2", "metric": "auroc", "bound": "prediction_lower", "at_least": 0.99})
    study = plan.Study.model_validate(params)
    study._root = folder
    data = prepare(analysis_rows(workspace.build_cohort(study).cohort, study), study)
    return study, data


def test_five_sites_table_pool_and_gates(synth_study):
    study, data = synth_study
    sites = analyse_sites(data.frame, data.y, data.scores["candidate"], study)
    assert sorted(sites.per_site.site.unique()) == list(synth.SITES)
    auroc = sites.per_site[sites.per_site.measure == "auroc"]
    assert (auroc.lower <= auroc.estimate).all() and (auroc.estimate <= auroc.upper).all()
    se = (auroc.upper - auroc.lower) / (2 * 1.959963984540054)
    expected = random_effects(logit(auroc.estimate), (se / (auroc.estimate * (1 - auroc.estimate))) ** 2)
    pooled = sites.pooled.set_index("measure").loc["auroc"]
    assert pooled.k == 5 and math.isfinite(pooled.pi_lower) and pooled.pi_lower <= pooled.lower
    assert logit(pooled.estimate) == pytest.approx(expected.estimate, abs=1e-6)
    verdicts = {g.id: g.verdict for g in sites.gates}
    assert verdicts == {"ST-1": gates.PASS, "ST-2": gates.FAIL}


def test_two_sites_prediction_interval_is_insufficient(synth_study):
    study, data = synth_study
    keep = data.frame["site"].isin(["S1", "S2"]).to_numpy()
    sites = analyse_sites(data.frame[keep].reset_index(drop=True), data.y[keep], data.scores["candidate"][keep], study)
    pooled = sites.pooled.set_index("measure").loc["auroc"]
    assert pooled.k == 2 and math.isfinite(pooled.estimate) and math.isnan(pooled.pi_lower)
    st1 = next(g for g in sites.gates if g.id == "ST-1")
    assert st1.verdict == gates.INSUFFICIENT and "at least 3 sites" in st1.sentence


def test_no_site_column_no_analysis(synth_study):
    study, data = synth_study
    no_site = study.model_copy(update={"data": study.data.model_copy(update={"site": None}), "sites": None})
    assert analyse_sites(data.frame, data.y, data.scores["candidate"], no_site) is None
