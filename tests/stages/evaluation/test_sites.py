"""Synthesis across sites on the synthetic five-site snapshot: per-site table, pooled values against
stats.meta_analysis, prediction interval and site gates; two sites: prediction interval INSUFFICIENT_EVIDENCE."""

from __future__ import annotations

import math

import numpy as np
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


def _old_log_oe_variance(y, p, method):
    """The variance of ln(O/E) as sites.py computed it beside oe_ratio before it came from the estimate."""
    o = y.sum()
    return float(np.dot(p, 1 - p)) / o ** 2 if method == "delta-log" else 1 / o


@pytest.mark.parametrize("method", ["delta-log", "poisson-exact"])
def test_site_oe_variance_comes_from_the_estimate_unchanged(synth_study, method):
    """The pooled O/E uses the variance of ln(O/E) of oe_ratio's own interval: the same to 1e-12 as the
    formula sites.py used to keep beside it, for both declared interval methods."""
    study, data = synth_study
    study = study.model_copy(update={"analysis": study.analysis.model_copy(update={"oe_interval": method})})
    y, p = data.y, data.scores["candidate"]
    sites = analyse_sites(data.frame, y, p, study)
    column = data.frame["site"].astype("string").to_numpy()
    names = sorted(set(column))
    logs = [math.log(y[column == s].sum() / p[column == s].sum()) for s in names]
    variances = [_old_log_oe_variance(y[column == s], p[column == s], method) for s in names]
    expected = random_effects(logs, variances, method=study.sites.method, test=study.sites.test)
    pooled = sites.pooled.set_index("measure").loc["oe_ratio"]
    for got, want in ((pooled.estimate, expected.estimate), (pooled.lower, expected.lower),
                      (pooled.pi_upper, expected.pi_upper)):
        assert math.log(got) == pytest.approx(want, abs=1e-12)
    assert pooled.tau2 == pytest.approx(expected.tau2, abs=1e-12)


def test_site_oe_variance_follows_the_interval_actually_used(synth_study):
    """A site whose risks are all 0 or 1 has no delta-log interval (sum p(1-p) = 0): oe_ratio returns the exact
    Poisson interval, and the site's weight follows it (variance 1/O), not a zero variance that would give
    the site all the weight."""
    study, data = synth_study
    column = data.frame["site"].astype("string")
    y, p = data.y.copy(), data.scores["candidate"].copy()
    s1 = (column == "S1").to_numpy()
    p[s1] = np.where(y[s1] == 1, 1.0, 0.0)
    p[s1 & (np.arange(len(p)) % 7 == 0)] = 1 - p[s1 & (np.arange(len(p)) % 7 == 0)]   # not a perfect model
    sites = analyse_sites(data.frame, y, p, study)
    row = sites.per_site.query("site == 'S1' and measure == 'oe_ratio'").iloc[0]
    assert row.method == "poisson-exact"
    names = sorted(set(column))
    logs, variances = [], []
    for s in names:
        m = (column == s).to_numpy()
        logs.append(math.log(y[m].sum() / p[m].sum()))
        variances.append(1 / y[m].sum() if s == "S1" else float(np.dot(p[m], 1 - p[m])) / y[m].sum() ** 2)
    expected = random_effects(logs, variances, method=study.sites.method, test=study.sites.test)
    pooled = sites.pooled.set_index("measure").loc["oe_ratio"]
    assert math.log(pooled.estimate) == pytest.approx(expected.estimate, abs=1e-12)
