"""The closed vocabularies of a parameter file: the words a study may use, and what each one implies.

Every closed choice of the schema (:mod:`studylib.plan.schema`) is one tuple here; the schema turns
each into a ``Literal`` type, so validation, the exported JSON Schema and the generated reference
(``docs/params.md``) list the same words. The other layers import these tuples to know, for
instance, which metrics have a paired comparison or where smaller is better.
"""

from __future__ import annotations

# --- cohort conditions ----------------------------------------------------------------------------

#: comparison operators of a cohort condition ``column op value``
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "not null")
#: operators that take no value
NULL_OPERATORS = ("is null", "not null")
#: operators whose value is a non-empty list
LIST_OPERATORS = ("in", "not in")

# --- analysis -------------------------------------------------------------------------------------

#: confidence-interval methods of a proportion
CI_METHODS = ("wilson", "clopper-pearson", "agresti-coull", "jeffreys")
#: adjustments of p-values for multiple testing (Holm; Benjamini–Hochberg false discovery rate)
MULTIPLICITY_METHODS = ("holm", "fdr_bh")
#: McNemar test variants of paired sensitivity, specificity and accuracy (mid-p: Fagerland et al. 2013)
MCNEMAR_METHODS = ("mid-p", "exact", "chi2", "chi2-corrected")
#: intervals of the observed/expected ratio: delta method on the log scale with the Bernoulli variance
#: sum p(1 - p) (Debray et al. 2017), or the exact Poisson interval of the observed count (rare events)
OE_INTERVALS = ("delta-log", "poisson-exact")
#: what to do with rows of the analysis cohort whose score is missing
MISSING_SCORE_RULES = ("error", "exclude")
#: summaries of a continuous Table 1 variable: mean ± SD, or median [IQR]
SUMMARIES = ("mean_sd", "median_iqr")

# --- metrics and criteria -------------------------------------------------------------------------

#: metrics an acceptance criterion or gate may name; each maps to a number the evaluation computes
METRICS = (
    "sensitivity", "specificity", "ppv", "npv", "accuracy", "auroc", "auprc",
    "calibration_slope", "calibration_in_the_large", "brier", "oe_ratio",
)
#: the range each metric can take; a criterion whose bound lies outside it can never be met
METRIC_RANGE = {name: (0.0, 1.0) for name in METRICS} | {
    "calibration_slope": (-float("inf"), float("inf")), "calibration_in_the_large": (-float("inf"), float("inf")),
    "oe_ratio": (0.0, float("inf")),
}
#: metrics with a paired comparison candidate − baseline on the same patients (``versus: baseline``):
#: AUROC by paired DeLong, sensitivity / specificity / accuracy by McNemar with Newcombe's paired
#: interval, Brier by the paired mean difference
PAIRED_METRICS = ("auroc", "sensitivity", "specificity", "accuracy", "brier")
#: metrics where smaller is better: non-inferiority is judged on the upper bound of candidate − baseline
LOWER_IS_BETTER = ("brier",)
#: which part of a metric's interval a one-sided criterion or trigger judges
BOUNDS = ("lower", "upper", "estimate")
#: what a criterion may compare the candidate with
COMPARATORS = ("baseline",)

# --- subgroups ------------------------------------------------------------------------------------

#: metrics computed in every subgroup (``auroc_vs_baseline``: candidate − baseline, paired DeLong)
SUBGROUP_METRICS = ("prevalence", "sensitivity", "specificity", "ppv", "npv", "auroc", "calibration_in_the_large",
                    "calibration_slope", "brier", "auroc_vs_baseline")
#: metrics a subgroup gate may judge (Criterion.metric names; ``versus: baseline`` judges auroc_vs_baseline)
SUBGROUP_GATE_METRICS = ("sensitivity", "specificity", "ppv", "npv", "auroc", "calibration_in_the_large",
                         "calibration_slope", "brier")
#: what a relative subgroup gate compares each subgroup with
RELATIVE_TO = ("overall", "reference")
#: tests of equality across a variable's levels, for proportions
HETEROGENEITY_TESTS = ("chi2", "g-test", "none")

# --- drift ----------------------------------------------------------------------------------------

#: calendar periods a timestamp column can be grouped by
PERIODS = ("month", "quarter", "year")
#: how each period is written in ``values``/``between``: a regular expression and its description
PERIOD_LABELS = {"month": (r"^\d{4}-(0[1-9]|1[0-2])$", "YYYY-MM, e.g. 2024-03"),
                 "quarter": (r"^\d{4}-Q[1-4]$", "YYYY-Qn, e.g. 2024-Q1"),
                 "year": (r"^\d{4}$", "YYYY, e.g. 2024")}
#: every statistic a trigger may name
TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "missing_rate", "missing_change", "auroc",
                      "sensitivity", "specificity", "calibration_slope", "calibration_in_the_large", "oe_ratio",
                      "alert_rate", "mean_score", "auroc_difference", "flag_rate_difference", "discordance_rate",
                      "mcnemar_p")
#: statistics a trigger may name, by what it is "of": an input feature, or the candidate's score
FEATURE_TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "missing_rate", "missing_change")
SCORE_TRIGGER_STATISTICS = ("psi", "ks", "p_value", "p_adjusted", "mean_score", "alert_rate", "oe_ratio",
                            "calibration_in_the_large", "calibration_slope", "auroc", "sensitivity", "specificity")
#: statistics of the shadow candidate against the deployed model on the same cases (``of: shadow``, with a
#: ``monitoring`` source declaring a shadow score): paired AUROC difference shadow − deployed (DeLong),
#: alert-burden difference (flag rate shadow − deployed, Newcombe's paired interval), share of cases the
#: two flag differently, McNemar's mid-p of the flags, and the shadow's own calibration and AUROC
SHADOW_TRIGGER_STATISTICS = ("auroc_difference", "flag_rate_difference", "discordance_rate", "mcnemar_p", "auroc",
                             "oe_ratio", "calibration_slope", "calibration_in_the_large", "alert_rate")
#: trigger statistics that carry a confidence interval (``bound``/``interval_excludes`` apply to them)
INTERVAL_STATISTICS = ("mean_score", "alert_rate", "missing_rate", "missing_change", "oe_ratio",
                       "calibration_in_the_large", "calibration_slope", "auroc", "sensitivity", "specificity",
                       "auroc_difference", "flag_rate_difference", "discordance_rate")
#: trigger statistics with a Wald interval (estimate ± z·SE) that a trigger may compare with the reference
#: window's (``relative_to: reference``: a two-sample test of window − reference)
RELATIVE_STATISTICS = ("calibration_slope", "calibration_in_the_large", "auroc")
#: what a trigger may be "of" besides a declared drift feature (``shadow``: the shadow candidate of the
#: monitoring source against the deployed model)
TRIGGER_SUBJECTS = ("score", "any_feature", "shadow")
#: how often a trigger's rule must hold before it fires
TRIGGER_WINDOWS = ("any_window", "consecutive_windows")
#: actions declared in advance for a trigger that fires (``activate_shadow``: the shadow candidate is
#: eligible for activation under the change protocol; ``stop_shadow``: stop scoring the shadow candidate)
ACTIONS = ("investigate", "clinical_review", "revalidate", "suspend", "activate_shadow", "stop_shadow")
#: the gate ids of the cohort stage's built-in checks (stages/cohort/leakage.py); claims may name them
COHORT_CHECKS = ("COH-EMPTY", "LEAK-SPLIT", "LEAK-INPUTS", "LEAK-DUP", "LEAK-KEY", "LEAK-TIME", "LEAK-WINDOW",
                 "LEAK-OUTCOME")
#: the engines that reduce a monitoring source to aggregates (studylib.data.engine.ENGINES)
ENGINES = ("duckdb", "spark")
#: which of the study's models a monitoring source's deployed score is
DEPLOYED_MODELS = ("candidate", "baseline")


def band_labels(cut: tuple[float, ...]) -> tuple[str, ...]:
    """Default labels of the bands ``[a, b)`` between cut points.

    Parameters
    ----------
    cut : tuple of float
        Strictly increasing cut points; ``-inf``/``inf`` allowed at the ends.

    Returns
    -------
    tuple of str
        One label per band: ``[50, 60)``; ``< 50`` for a band starting at ``-inf``; ``≥ 90`` for one
        ending at ``inf``.

    Examples
    --------
    >>> band_labels((50, 60, float("inf")))
    ('[50, 60)', '≥ 60')
    """
    out = []
    for a, b in zip(cut, cut[1:]):
        if b == float("inf"):
            out.append(f"≥ {a:g}")
        elif a == float("-inf"):
            out.append(f"< {b:g}")
        else:
            out.append(f"[{a:g}, {b:g})")
    return tuple(out)
