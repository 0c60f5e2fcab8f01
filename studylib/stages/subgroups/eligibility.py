"""Who can be judged: the plan's minimum numbers of positives and negatives, small cells, and how many
more patients a subgroup below the minimum would need (Buderer's sample size).

Eligibility is per metric (:func:`metric_reason`, the rule of :mod:`studylib.judge.eligibility`): a gate
on sensitivity needs the plan's minimum of positives, on specificity of negatives, on PPV/NPV of
flagged/unflagged patients, on AUROC, calibration and candidate − baseline of both classes. A gate
whose metric's counts fall short is INSUFFICIENT_EVIDENCE with the reason and a sample-size hint
(:func:`sample_size_table`). :func:`eligibility` is the subgroup as a whole (both classes): the
subgroup table's ``judged`` column and the heterogeneity tests use it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.judge import eligibility as rules
from studylib.judge import suppression
from studylib.plan import Study
from studylib.stages.subgroups.groups import OVERALL

#: how intersection variables and levels are named (:mod:`.groups`): "sex × age_band", "M & 50–59"
VARIABLE_JOIN, LEVEL_JOIN = " × ", " & "
from studylib.stats.sample_size import sample_size


def eligibility(n: int, positives: int, negatives: int, study: Study) -> str:
    """Why a subgroup cannot be judged (empty when it can): no patients, fewer positives or negatives
    than the plan's minimum, or a class count below the small-cell threshold. Counts in the reason are
    small-cell suppressed."""
    plan, threshold = study.subgroups, study.study.small_cell_threshold
    if n == 0:
        return "no patients in this subgroup"
    if positives < plan.min_positives or negatives < plan.min_negatives:
        _, shown_pos, shown_neg, _ = suppression.split_counts(n, positives, negatives, threshold)
        return (f"{shown_pos} positives and {shown_neg} negatives; the plan requires at least "
                f"{plan.min_positives} positives and {plan.min_negatives} negatives")
    if suppression.is_small(positives, threshold) or suppression.is_small(negatives, threshold):
        return (f"a class has fewer than {threshold} patients (the small-cell threshold): it cannot be "
                "judged without disclosing the count")
    return ""


def metric_counts(table: pd.DataFrame) -> dict[tuple[str, str], rules.Counts]:
    """(variable, level) → the counts a metric may use: positives, negatives, flagged (the PPV's
    denominator) and unflagged (the NPV's denominator)."""
    out = {}
    for (variable, level), part in table.groupby(["variable", "level"], sort=False):
        denominators = part.set_index("metric")["denominator"]
        first = part.iloc[0]

        def count(metric: str) -> int:
            value = denominators.get(metric, 0)
            return int(value) if value == value else 0

        out[(variable, level)] = rules.Counts(int(first.positives), int(first.negatives), count("ppv"), count("npv"))
    return out


def metric_reason(counts: rules.Counts, metric: str, study: Study) -> str:
    """Why a gate on ``metric`` cannot be judged in a subgroup with these counts (empty when it can);
    ``auroc_vs_baseline`` (candidate − baseline) needs both classes. Counts are small-cell suppressed."""
    plan = study.subgroups
    versus = metric == "auroc_vs_baseline"
    why = rules.reason("auroc" if versus else metric, counts, min_positives=plan.min_positives,
                       min_negatives=plan.min_negatives, threshold=study.study.small_cell_threshold, versus=versus)
    return "no patients in this subgroup" if why == "no patients" else why


def subgroup_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """One row per subgroup: variable, level, n, positives, negatives, judged (bool) and reason."""
    first = table.drop_duplicates(["variable", "level"])
    rows = []
    for row in first.itertuples(index=False):
        reason = eligibility(row.n, row.positives, row.negatives, study)
        rows.append({"variable": row.variable, "level": row.level, "n": int(row.n), "positives": int(row.positives),
                     "negatives": int(row.negatives), "judged": not reason, "reason": reason})
    return pd.DataFrame(rows, columns=["variable", "level", "n", "positives", "negatives", "judged", "reason"])


def withheld_levels(groups: pd.DataFrame, threshold: int) -> set[tuple[str, str]]:
    """(variable, level) of every subgroup whose counts are withheld: a class count below the small-cell
    threshold, or a level withheld so that such a count cannot be worked out from the variable's totals
    (complementary suppression: :func:`studylib.judge.suppression.protect_levels` for the levels of one
    variable, which add up to the cohort; :func:`studylib.judge.suppression.protect_crossed` for the cells
    of a two-way intersection, which add up to the marginal levels). Their estimates are withheld too.
    ``groups``: :func:`subgroup_table` (the overall row is left out). An intersection of three or more
    variables is protected as one list of levels (its cells can still be derived from the marginal
    tables: the limitation stated in :mod:`studylib.judge.suppression`)."""
    out = set()
    levels = groups[groups.variable != OVERALL]
    for variable, rows in levels.groupby("variable", sort=False):
        parts = [level.split(LEVEL_JOIN) for level in rows.level]
        if VARIABLE_JOIN in variable and len(variable.split(VARIABLE_JOIN)) == 2 and all(len(p) == 2 for p in parts):
            # a two-way intersection: its cells add up to the published marginal levels in both directions
            first, second = list(dict.fromkeys(p[0] for p in parts)), list(dict.fromkeys(p[1] for p in parts))
            shape = (len(first), len(second))
            pos, neg = np.zeros(shape), np.zeros(shape)
            for (a, b), p, n in zip(parts, rows.positives, rows.negatives):
                pos[first.index(a), second.index(b)], neg[first.index(a), second.index(b)] = p, n
            hide = suppression.protect_crossed(pos, neg, threshold)
            hidden = [hide[first.index(a), second.index(b)] for a, b in parts]
        else:
            hidden = suppression.protect_levels(rows, threshold).any(axis=1).tolist()
        out |= {(variable, level) for level, h in zip(rows.level, hidden) if h}
    return out


def sample_size_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """For every subgroup that cannot be judged: how many more positives, negatives and patients it needs.

    Needed positives = max(minimum positives, :func:`studylib.stats.sample_size.sample_size` at the
    overall sensitivity for the plan's ``interval_width``); needed negatives likewise with the overall
    specificity (0.5 when the overall estimate is undefined). More patients = the larger of more
    positives / prevalence and more negatives / (1 − prevalence), at the subgroup's prevalence when both
    its classes have at least the small-cell threshold of patients, else at the overall prevalence. A
    class count below the small-cell threshold is counted as none (so the hint does not disclose it; it
    is then slightly conservative).
    """
    plan, alpha, threshold = study.subgroups, study.analysis.alpha, study.study.small_cell_threshold
    overall = table[table.variable == OVERALL].set_index("metric")
    planning = {}
    for metric in ("sensitivity", "specificity", "prevalence"):
        value = overall["estimate"].get(metric, math.nan) if len(overall) else math.nan
        planning[metric] = float(value) if value == value else math.nan
    need_pos = max(plan.min_positives, sample_size(_or_half(planning["sensitivity"]), plan.interval_width, alpha))
    need_neg = max(plan.min_negatives, sample_size(_or_half(planning["specificity"]), plan.interval_width, alpha))
    rows = []
    for group in subgroup_table(table, study).itertuples(index=False):
        if group.judged or group.variable == OVERALL:
            continue
        pos = 0 if suppression.is_small(group.positives, threshold) else group.positives
        neg = 0 if suppression.is_small(group.negatives, threshold) else group.negatives
        more_pos, more_neg = max(0, need_pos - pos), max(0, need_neg - neg)
        own = pos >= threshold and neg >= threshold
        prevalence = group.positives / group.n if own else planning["prevalence"]
        basis = "this subgroup's" if own else "the overall"
        if prevalence == prevalence and 0 < prevalence < 1:
            more = int(math.ceil(max(more_pos / prevalence, more_neg / (1 - prevalence)) - 1e-9))
        else:
            more, basis = -1, "unknown (prevalence undefined)"
        rows.append({"variable": group.variable, "level": group.level, "n": group.n, "positives": group.positives,
                     "negatives": group.negatives, "needed_positives": need_pos, "needed_negatives": need_neg,
                     "more_positives": more_pos, "more_negatives": more_neg,
                     "more_patients": more if more >= 0 else None, "prevalence_basis": basis,
                     "reason": group.reason})
    columns = ["variable", "level", "n", "positives", "negatives", "needed_positives", "needed_negatives",
               "more_positives", "more_negatives", "more_patients", "prevalence_basis", "reason"]
    return pd.DataFrame(rows, columns=columns)


def _or_half(p: float) -> float:
    return p if p == p else 0.5


def sample_size_sentence(row, study: Study) -> str:
    """One sentence for a subgroup that cannot be judged: what is missing and how much more is needed."""
    level = formatting.confidence_level(study.analysis.alpha)
    width = study.subgroups.interval_width
    count = formatting.count
    patients = (f"about {count(row.more_patients)} more patients at {row.prevalence_basis} prevalence"
                if row.more_patients is not None and row.more_patients == row.more_patients else "more patients")
    return (f"Needs {count(row.needed_positives)} positives and {count(row.needed_negatives)} negatives (the plan's "
            f"minimum, or enough for {level} intervals of sensitivity and specificity of width {width:g}): "
            f"{count(row.more_positives)} more positives and {count(row.more_negatives)} more negatives, {patients}.")
