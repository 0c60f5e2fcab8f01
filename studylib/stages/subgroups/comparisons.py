"""Comparisons across levels: heterogeneity tests per variable and metric, and level − reference differences.

The tests and intervals are :func:`studylib.stats.heterogeneity.contingency_test`,
:func:`~studylib.stats.heterogeneity.cochran_q` and :func:`studylib.stats.difference.mover_difference`;
this module chooses which levels take part and lays the results out as tidy tables.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import stats
from studylib.plan import Study
from studylib.stages.subgroups.eligibility import metric_counts, metric_reason, subgroup_table
from studylib.stages.subgroups.groups import intersection_name
from studylib.stages.subgroups.metrics import PROPORTION_METRICS
from studylib.stats import Estimate
from studylib.stats.difference import mover_difference
from studylib.stats.heterogeneity import cochran_q, contingency_test

HETEROGENEITY_COLUMNS = ("variable", "metric", "test", "statistic", "df", "p_value", "p_adjusted", "levels",
                         "levels_excluded", "reason")
REFERENCE_COLUMNS = ("variable", "level", "reference", "metric", "estimate", "lower", "upper", "method", "reason")


def heterogeneity_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """For each variable (and intersection) and each metric of the plan: is the metric equal across levels?

    Proportions: the plan's ``heterogeneity_test`` (Pearson chi-square or G-test) on the levels' k × 2
    table of numerator and denominator − numerator. Other metrics (AUROC, calibration, Brier, candidate −
    baseline): Cochran's Q on the levels' estimates and standard errors (levels are disjoint, hence
    independent). Only levels that meet the minimum n and whose metric is defined (with se > 0) take
    part; with fewer than 2 such levels the test is not performed (p NaN, with the reason). The p-values
    of all tests are adjusted together by the plan's ``analysis.multiplicity`` (Holm by default,
    Benjamini–Hochberg with ``fdr_bh``) through :func:`studylib.stats.adjust_pvalues`.
    """
    plan = study.subgroups
    if plan.heterogeneity_test == "none":
        return pd.DataFrame(columns=list(HETEROGENEITY_COLUMNS))
    judged = subgroup_table(table, study).set_index(["variable", "level"])["judged"]
    names = [v.name for v in plan.variables] + [intersection_name(c) for c in plan.intersections]
    rows = []
    for name in names:
        for metric in plan.heterogeneity_metrics:
            part = table[(table.variable == name) & (table.metric == metric)]
            if part.empty:
                continue
            ok = np.array([bool(judged.get((name, lv), False)) for lv in part.level]) & np.isfinite(part.estimate.to_numpy())
            if metric in PROPORTION_METRICS:
                test = plan.heterogeneity_test
                ok &= part.denominator.to_numpy(dtype=float) > 0
            else:
                test = "cochran-q"
                ok &= part.se.to_numpy(dtype=float) > 0
            used, excluded = part[ok], part[~ok]
            row = {"variable": name, "metric": metric, "test": test, "levels": ", ".join(used.level),
                   "levels_excluded": ", ".join(excluded.level), "reason": ""}
            if len(used) < 2:
                row |= {"statistic": math.nan, "df": 0, "p_value": math.nan,
                        "reason": "fewer than 2 levels meet the minimum n with a defined estimate"}
            elif test == "cochran-q":
                statistic, df, p = cochran_q(used.estimate, used.se)
                row |= {"statistic": statistic, "df": df, "p_value": p}
            else:
                statistic, df, p = contingency_test(used.numerator, used.denominator, test=test)
                row |= {"statistic": statistic, "df": df, "p_value": p}
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(HETEROGENEITY_COLUMNS))
    out["p_adjusted"] = stats.adjust_pvalues(out["p_value"].to_numpy(dtype=float), method=study.analysis.multiplicity) \
        if len(out) else np.array([], dtype=float)
    return out


def reference_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Each level − the variable's declared reference level, for every metric (MOVER intervals).

    Only variables with a ``reference`` take part; a comparison where either level lacks the counts the
    metric uses (:func:`~studylib.stages.subgroups.eligibility.metric_reason`), or a metric is undefined,
    is undefined with the reason.
    """
    counts = metric_counts(table)
    rows = []
    for variable in study.subgroups.variables:
        if variable.reference is None:
            continue
        part = table[table.variable == variable.name]
        if variable.reference not in set(part.level):
            raise ValueError(f"subgroup variable {variable.name}: reference level '{variable.reference}' does not "
                             f"occur in the analysed rows (levels: {', '.join(dict.fromkeys(part.level))})")
        ref = part[part.level == variable.reference].set_index("metric")
        for row in part[part.level != variable.reference].itertuples(index=False):
            short = [(level, why) for level in (row.level, variable.reference)
                     if (why := metric_reason(counts[(variable.name, level)], row.metric, study))]
            r = ref.loc[row.metric]
            if short:
                who, why = short[0]
                e = Estimate.undefined(f"level {who} does not meet the minimum n for {row.metric} ({why})", "mover")
            else:
                e = mover_difference(Estimate(row.estimate, row.lower, row.upper, row.se, row.method, row.reason),
                                     Estimate(r.estimate, r.lower, r.upper, r.se, r.method, r.reason))
            rows.append({"variable": variable.name, "level": row.level, "reference": variable.reference,
                         "metric": row.metric, "estimate": e.estimate, "lower": e.lower, "upper": e.upper,
                         "method": e.method, "reason": e.reason})
    return pd.DataFrame(rows, columns=list(REFERENCE_COLUMNS))
