"""Performance across sites: the candidate's estimates per site and their random-effects synthesis.

When the plan names a site column (``data.site``), each site gets AUROC (DeLong), calibration slope, O/E
and sensitivity/specificity at the threshold, each with its interval; each measure is then pooled by a
random-effects meta-analysis on a scale where it is roughly normal (AUROC, sensitivity and specificity on
the logit scale, O/E on the log scale, the slope as it is; :func:`studylib.stats.meta_analysis.random_effects`
with the plan's ``sites.method`` and ``sites.test``) into a pooled estimate, τ², I² and the 95 % prediction
interval of the true value at a new site, back-transformed. Fewer than 3 sites: the pooled estimate is
shown and the prediction interval is INSUFFICIENT_EVIDENCE with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from studylib import formatting
from studylib.judge import gates
from studylib.plan import Study
from studylib.stats.binary import binary_metrics
from studylib.stats.calibration import logistic_recalibration, oe_ratio
from studylib.stats.meta_analysis import random_effects
from studylib.stats.roc import auroc

#: the measures synthesised across sites, with their analysis scale
MEASURES = {"auroc": "logit", "calibration_slope": "identity", "oe_ratio": "log", "sensitivity": "logit",
            "specificity": "logit"}
LABELS = {"auroc": "AUROC", "calibration_slope": "Calibration slope", "oe_ratio": "O/E",
          "sensitivity": "Sensitivity", "specificity": "Specificity"}
SITE_COLUMNS = ["site", "n", "positives", "measure", "estimate", "lower", "upper", "method", "reason"]
POOLED_COLUMNS = ["measure", "k", "estimate", "lower", "upper", "pi_lower", "pi_upper", "tau2", "i2", "q_p_value",
                  "scale", "method", "pi_reason"]


@dataclass(frozen=True)
class SiteAnalysis:
    """Per-site estimates (``per_site``, tidy: one row per site and measure) and their synthesis (``pooled``)."""

    column: str
    per_site: pd.DataFrame = field(repr=False)
    pooled: pd.DataFrame = field(repr=False)
    gates: tuple = ()

    def results(self) -> dict:
        return {"stage": "sites", "column": self.column, "per_site": self.per_site, "pooled": self.pooled,
                "gates": list(self.gates)}


def _to_scale(value: float, scale: str) -> float:
    if not math.isfinite(value):
        return math.nan
    if scale == "logit":
        return float(logit(value)) if 0 < value < 1 else math.nan
    if scale == "log":
        return math.log(value) if value > 0 else math.nan
    return value


def _from_scale(value: float, scale: str) -> float:
    if not math.isfinite(value):
        return math.nan
    return float(expit(value)) if scale == "logit" else math.exp(value) if scale == "log" else value


def _site_rows(site: str, y: np.ndarray, score: np.ndarray, study: Study) -> list[dict]:
    """The five measures of one site with their estimates and their analysis-scale value and variance."""
    alpha = study.analysis.alpha
    n, positives = int(y.size), int(y.sum())
    rows = []

    def add(measure, est, value, variance):
        rows.append({"site": site, "n": n, "positives": positives, "measure": measure, "estimate": est.estimate,
                     "lower": est.lower, "upper": est.upper, "method": est.method, "reason": est.reason,
                     "_y": value, "_v": variance})

    a = auroc(y, score, alpha=alpha)
    add("auroc", a, _to_scale(a.estimate, "logit"),
        a.se ** 2 / (a.estimate * (1 - a.estimate)) ** 2 if a.defined and 0 < a.estimate < 1 else math.nan)
    slope = logistic_recalibration(y, score, alpha=alpha)[1]
    add("calibration_slope", slope, slope.estimate, slope.se ** 2 if slope.defined else math.nan)
    # the O/E interval of the evaluation (study.analysis.oe_interval); the variance of ln(O/E) is the one of
    # that interval, (se / (O/E))^2 by the delta method: sum p(1 - p) / O^2 (delta-log) or 1 / O (Poisson)
    oe = oe_ratio(positives, float(np.sum(score)), alpha=alpha, variance=float(np.dot(score, 1 - score)),
                  method=study.analysis.oe_interval)
    add("oe_ratio", oe, _to_scale(oe.estimate, "log"),
        (oe.se / oe.estimate) ** 2 if oe.defined and oe.estimate > 0 else math.nan)
    metrics = binary_metrics(y, score, study.analysis.threshold, alpha=alpha, method=study.analysis.ci_method)
    for measure, x, total in (("sensitivity", metrics.tp, metrics.tp + metrics.fn),
                              ("specificity", metrics.tn, metrics.tn + metrics.fp)):
        est = getattr(metrics, measure)
        if total > 0:
            xc, tc = (x + 0.5, total + 1.0) if x in (0, total) else (x, total)   # continuity correction at 0 / all
            add(measure, est, float(logit(xc / tc)), 1 / xc + 1 / (tc - xc))
        else:
            add(measure, est, math.nan, math.nan)
    return rows


def analyse_sites(frame: pd.DataFrame, y: np.ndarray, score: np.ndarray, study: Study) -> SiteAnalysis | None:
    """Per-site estimates of the candidate and their random-effects synthesis; None without ``data.site``.

    Parameters
    ----------
    frame : DataFrame
        The analysed rows (holding the site column), aligned with ``y`` and ``score``.
    y, score : ndarray
        The outcome (0/1) and the candidate's predicted risk.
    study : Study
        The plan (``data.site``, ``sites.method``, ``sites.test``, ``sites.gates``).
    """
    column = study.data.site
    if column is None:
        return None
    method = study.sites.method if study.sites is not None else "reml"
    test = study.sites.test if study.sites is not None else "knha"
    sites = frame[column].astype("string")
    rows = []
    for site in sorted(sites.dropna().unique()):
        mask = (sites == site).to_numpy(dtype=bool)
        rows += _site_rows(str(site), y[mask], score[mask], study)
    table = pd.DataFrame(rows)
    pooled = []
    for measure, scale in MEASURES.items():
        part = table[table.measure == measure] if len(table) else table
        meta = random_effects(part["_y"].to_numpy(float) if len(part) else [], part["_v"].to_numpy(float)
                              if len(part) else [], method=method, test=test, alpha=study.analysis.alpha)
        back = (lambda v: _from_scale(v, scale))
        pooled.append({"measure": measure, "k": meta.k, "estimate": back(meta.estimate), "lower": back(meta.lower),
                       "upper": back(meta.upper), "pi_lower": back(meta.pi_lower), "pi_upper": back(meta.pi_upper),
                       "tau2": meta.tau2, "i2": meta.i2, "q_p_value": meta.q_p_value, "scale": scale,
                       "method": f"{meta.method}, {meta.test}", "pi_reason": meta.pi_reason or meta.reason})
    per_site = table.drop(columns=["_y", "_v"]) if len(table) else pd.DataFrame(columns=SITE_COLUMNS)
    pooled = pd.DataFrame(pooled, columns=POOLED_COLUMNS)
    judged = tuple(judge_site_gate(g, pooled, study) for g in (study.sites.gates if study.sites is not None else ()))
    return SiteAnalysis(column, per_site.reset_index(drop=True), pooled, judged)


def judge_site_gate(gate, pooled: pd.DataFrame, study: Study) -> gates.Gate:
    """A site gate: a bound of the pooled interval or of the prediction interval against a value.

    The prediction interval's bound, when undefined (fewer than 3 sites), is INSUFFICIENT_EVIDENCE with
    the reason; never PASS.
    """
    row = pooled.set_index("measure").loc[gate.metric]
    column = {"prediction_lower": "pi_lower", "prediction_upper": "pi_upper", "lower": "lower",
              "upper": "upper", "estimate": "estimate"}[gate.bound]
    value = float(row[column])
    label = {"prediction_lower": "lower bound of the 95% prediction interval for a new site",
             "prediction_upper": "upper bound of the 95% prediction interval for a new site",
             "lower": "lower bound of the pooled interval", "upper": "upper bound of the pooled interval",
             "estimate": "pooled estimate"}[gate.bound]
    required, op = (gate.at_least, ">=") if gate.at_least is not None else (gate.at_most, "<=")
    rule = f"{label} {op} {required:g}"
    subject = f"{LABELS[gate.metric]} across sites"
    prediction = gate.bound.startswith("prediction")
    common = dict(id=gate.id, stage="evaluation", subject=subject, estimate=float(row["estimate"]),
                  lower=float(row["pi_lower" if prediction else "lower"]),
                  upper=float(row["pi_upper" if prediction else "upper"]), rule=rule)
    if not math.isfinite(value):
        reason = row["pi_reason"] or "the pooled estimate could not be computed"
        return gates.Gate(verdict=gates.INSUFFICIENT, sentence=f"{subject} could not be judged: {reason}.", **common)
    passed = value >= required if op == ">=" else value <= required
    wording = "meets" if passed else "does not meet"
    return gates.Gate(verdict=gates.PASS if passed else gates.FAIL,
                      sentence=f"The {label} of {subject} ({formatting.number(value)}) {wording} the required {op} {required:g}.",
                      **common)
