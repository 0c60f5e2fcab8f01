"""Error-case analysis of the candidate at the operating threshold: how many false negatives (missed
cases) and false positives (false alarms) it makes, in whom (by the plan's declared variables), and
which patients it misses most confidently, listed by pseudonymous id for clinical review.

Counts shown to reviewers follow the study's one small-cell rule (:mod:`studylib.judge.suppression`,
``study.small_cell_threshold``): a count from 1 to threshold − 1 is withheld as a small cell, and
further counts are withheld (complementary suppression, :func:`studylib.judge.suppression.protect`)
so that no hidden count can be worked out from the row (missed = with the outcome − caught) or from the
totals of the levels of a variable (the whole analysis cohort's counts, shown above the table). Zero is
shown. A numeric variable that the plan also declares as a banded subgroup variable uses the declared
bands (so both pages show the same groups), else quartile bands. Per-patient characteristics are never
listed next to an id: the listing gives the id, the two models' predicted risks and the baseline's call
only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from studylib import stats
from studylib.judge import suppression
from studylib.plan import Study
from studylib.stages.subgroups.groups import levels as subgroup_levels

CALLS = ("TP", "FN", "FP", "TN")
CALL_NAMES = {"TP": "true positive (case flagged)", "FN": "false negative (case missed)",
              "FP": "false positive (false alarm)", "TN": "true negative (correctly not flagged)"}
#: numeric variables with more distinct values than this are shown in quartile bands
MAX_NUMERIC_LEVELS = 10
_BY_VARIABLE = ["variable", "level", "positives", "missed", "miss_rate", "miss_rate_lower", "miss_rate_upper",
                "negatives", "false_alarms", "false_alarm_rate", "false_alarm_rate_lower", "false_alarm_rate_upper",
                "small_cells"]
_COUNTS = ("positives", "missed", "negatives", "false_alarms")


def classify(y, score, threshold: float) -> np.ndarray:
    """The call of each patient: ``"TP"``, ``"FN"``, ``"FP"`` or ``"TN"`` (positive iff score >= threshold)."""
    y = np.asarray(y).astype(bool)
    flagged = np.asarray(score, dtype=float) >= threshold
    return np.where(y, np.where(flagged, "TP", "FN"), np.where(flagged, "FP", "TN"))


def level_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer level of each row and the level names (see :func:`levels`), without building strings
    per row (fast at 10^6 rows)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
            and values.nunique(dropna=True) > MAX_NUMERIC_LEVELS:
        numbers = values.to_numpy(dtype=float)
        edges = np.unique(np.nanquantile(numbers, [0, 0.25, 0.5, 0.75, 1]))
        names = [f"{a:g}–{b:g}" for a, b in zip(edges, edges[1:])]
        # first band [e0, e1], then (e_i, e_i+1], as pandas.cut(include_lowest=True)
        codes = np.clip(np.searchsorted(edges, numbers, side="left") - 1, 0, len(names) - 1)
        missing = np.isnan(numbers)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        names = [str(u) for u in uniques]
        missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(names), codes)
        names = [*names, "missing"]
    return codes.astype(np.intp), names


def declared_bands(frame: pd.DataFrame, variable) -> tuple[np.ndarray, list[str]]:
    """Level codes and names of a numeric column in the bands a subgroup variable declares
    (:func:`studylib.stages.subgroups.groups.levels`); rows with no band (missing, or outside the cut
    points) are the level ``"missing"``."""
    banded = subgroup_levels(frame, variable)
    codes = banded.cat.codes.to_numpy(dtype=np.intp)
    names = [str(c) for c in banded.cat.categories]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names = [*names, "missing"]
    return codes, names


def levels(values: pd.Series) -> pd.Series:
    """Levels of a variable for the error tables: categories as text; a numeric column with more than
    :data:`MAX_NUMERIC_LEVELS` distinct values in quartile bands ``"a–b"`` (edges from the analysed
    rows; the first band includes its lower edge); missing values as ``"missing"``."""
    codes, names = level_codes(values)
    return pd.Series(np.asarray(names, dtype=object)[codes], index=values.index, dtype="string")


def suppression_mask(counts: pd.DataFrame, groups: pd.Series, threshold: int) -> pd.DataFrame:
    """Which counts to hide, one variable at a time (:func:`studylib.judge.suppression.protect`).

    Parameters
    ----------
    counts : pandas.DataFrame
        Integer counts with columns ``positives``, ``missed``, ``negatives``, ``false_alarms``, one row
        per (variable, level).
    groups : pandas.Series
        The variable of each row; the levels of one variable add up to the cohort's totals.
    threshold : int
        The study's small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        Booleans of the shape of ``counts``: True where the count must not be shown.

    Notes
    -----
    Three linked tables of two columns, each with published row and column totals, are protected in
    turn: (positives, negatives) per level; (missed, caught) per level, whose row totals are the
    positives; (false alarms, correctly not flagged) per level, whose row totals are the negatives. A
    level whose positives and negatives are withheld has its missed cases and false alarms withheld too.

    References
    ----------
    .. [1] Hundepool A, Domingo-Ferrer J, Franconi L, et al. Statistical Disclosure Control. Wiley;
       2012. doi:10.1002/9781118348239
    """
    pos, fn = counts["positives"].to_numpy(dtype=float), counts["missed"].to_numpy(dtype=float)
    neg, fp = counts["negatives"].to_numpy(dtype=float), counts["false_alarms"].to_numpy(dtype=float)
    hide = pd.DataFrame(False, index=counts.index, columns=counts.columns)
    keys = groups.to_numpy()
    for key in pd.unique(keys):
        rows = np.flatnonzero(keys == key)
        sizes = suppression.protect(np.column_stack([pos[rows], neg[rows]]), threshold)
        level_hidden = sizes.any(axis=1)
        both = np.column_stack([level_hidden, level_hidden])
        missed = suppression.protect(np.column_stack([fn[rows], pos[rows] - fn[rows]]), threshold, hidden=both)
        alarms = suppression.protect(np.column_stack([fp[rows], neg[rows] - fp[rows]]), threshold, hidden=both)
        for column, mask in (("positives", sizes[:, 0]), ("negatives", sizes[:, 1]),
                             ("missed", missed.any(axis=1)), ("false_alarms", alarms.any(axis=1))):
            hide.iloc[rows, hide.columns.get_loc(column)] = mask
    return hide


@dataclass(frozen=True)
class ErrorAnalysis:
    """Errors of the candidate at the operating threshold.

    Attributes
    ----------
    counts : pandas.DataFrame
        One row per call (TP, FN, FP, TN): ``call``, ``meaning``, ``n``, ``share`` (of the positives
        for TP/FN, of the negatives for FP/TN).
    by_variable : pandas.DataFrame
        Per declared variable and level: positives, missed (FN), miss rate (FN / positives) with its
        interval, negatives, false alarms (FP), false-alarm rate (FP / negatives) with its interval.
        Suppressed counts are missing (``<NA>``) and the rates built on them NaN; ``small_cells`` lists
        the counts of the row withheld as small cells themselves (the other withheld counts are
        complementary: withheld so that a small cell cannot be worked out).
    misses : pandas.DataFrame
        The most confident errors: ``kind`` (FN or FP), ``rank``, ``id``, ``candidate_risk``,
        ``baseline_risk``, ``baseline_call``. FN are ordered by increasing candidate risk (the cases
        the candidate considered safest), FP by decreasing risk; ties by id.
    small_cell_threshold : int
        The threshold applied to ``by_variable``.
    """

    counts: pd.DataFrame
    by_variable: pd.DataFrame
    misses: pd.DataFrame
    small_cell_threshold: int

    def to_results(self) -> dict:
        """Plain values for the results JSON (suppressed counts stay suppressed: null)."""
        return {"counts": self.counts, "by_variable": self.by_variable.astype(object).where(
            self.by_variable.notna(), None), "misses": self.misses, "small_cell_threshold": self.small_cell_threshold}


def _rate(x: pd.Series, n: pd.Series, study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = x.to_numpy(dtype=float)
    n = n.to_numpy(dtype=float)
    rate = np.full(x.shape, np.nan)
    lower, upper = rate.copy(), rate.copy()
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    if ok.any():
        lo, hi = stats.proportion_ci(x[ok].astype(int), n[ok].astype(int), study.analysis.alpha,
                                     study.analysis.ci_method)
        rate[ok] = x[ok] / n[ok]
        lower[ok], upper[ok] = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return rate, lower, upper


def by_variable(frame: pd.DataFrame, calls: np.ndarray, study: Study) -> pd.DataFrame:
    """Miss rate and false-alarm rate by level of each declared error-analysis variable, suppressed."""
    variables = study.analysis.error_analysis.variables
    parts = []
    call_code = np.searchsorted(np.array(sorted(CALLS)), calls)  # calls are from CALLS
    order = [sorted(CALLS).index(c) for c in CALLS]
    declared = {v.column: v for v in study.subgroups.variables if v.cut is not None} if study.subgroups else {}
    for column in variables:
        codes, names = declared_bands(frame, declared[column]) if column in declared else level_codes(frame[column])
        table = np.bincount(codes * 4 + call_code, minlength=4 * len(names)).reshape(len(names), 4)[:, order]
        tp, fn, fp, tn = table.T
        part = pd.DataFrame({"variable": column, "level": np.asarray(names, dtype=object).astype(str),
                             "positives": tp + fn, "missed": fn, "negatives": fp + tn, "false_alarms": fp})
        if column in declared:  # the declared bands in cut order, "missing" last
            pass
        elif not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].nunique() <= MAX_NUMERIC_LEVELS:
            part = part.sort_values("level", kind="stable")
        else:  # bands in numeric order, "missing" last
            part["_order"] = [math.inf if lvl == "missing" else float(lvl.split("–")[0]) for lvl in part["level"]]
            part = part.sort_values("_order", kind="stable").drop(columns="_order")
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=_BY_VARIABLE)
    out = pd.concat(parts, ignore_index=True)
    threshold = study.study.small_cell_threshold
    hide = suppression_mask(out[list(_COUNTS)], out["variable"], threshold)
    true = {"positives": out["positives"], "missed": out["missed"], "negatives": out["negatives"],
            "false_alarms": out["false_alarms"], "caught": out["positives"] - out["missed"],
            "correct": out["negatives"] - out["false_alarms"]}
    # why each hidden count is hidden: a small cell itself ("small"), else complementary suppression
    out["small_cells"] = [[c for c in _COUNTS if hide.at[i, c] and suppression.is_small(true[c][i], threshold)]
                          for i in out.index]
    for column in _COUNTS:
        out[column] = out[column].astype("Int64").mask(hide[column])
    miss = _rate(out["missed"], out["positives"], study)
    alarm = _rate(out["false_alarms"], out["negatives"], study)
    out["miss_rate"], out["miss_rate_lower"], out["miss_rate_upper"] = miss
    out["false_alarm_rate"], out["false_alarm_rate_lower"], out["false_alarm_rate_upper"] = alarm
    return out[_BY_VARIABLE]


def most_confident_errors(frame: pd.DataFrame, calls: np.ndarray, scores: dict, study: Study) -> pd.DataFrame:
    """The ``analysis.error_analysis.list_misses`` most confident false negatives and false positives."""
    k = study.analysis.error_analysis.list_misses
    ids = frame[study.data.id].to_numpy()
    candidate = scores["candidate"]
    baseline = scores.get("baseline")
    rows = []
    for kind, descending in (("FN", False), ("FP", True)):
        where = np.flatnonzero(calls == kind)
        key = -candidate[where] if descending else candidate[where]
        if where.size > k:  # keep every patient tied with the k-th before ordering by id
            cut = np.partition(key, k - 1)[k - 1] if k else -np.inf
            keep = key <= cut
            where, key = where[keep], key[keep]
        order = where[np.lexsort((ids[where].astype(str), key))][:k]
        for rank, i in enumerate(order, start=1):
            row = {"kind": kind, "rank": rank, "id": str(ids[i]), "candidate_risk": float(candidate[i])}
            if baseline is not None:
                row["baseline_risk"] = float(baseline[i])
                row["baseline_call"] = "flagged" if baseline[i] >= study.analysis.threshold else "not flagged"
            rows.append(row)
    columns = ["kind", "rank", "id", "candidate_risk"] + (["baseline_risk", "baseline_call"] if baseline is not None
                                                          else [])
    return pd.DataFrame(rows, columns=columns)


def analyse(frame: pd.DataFrame, y, scores: dict, study: Study) -> ErrorAnalysis:
    """Error-case analysis of the candidate at the plan's operating threshold.

    Parameters
    ----------
    frame : pandas.DataFrame
        The analysed rows (same order as ``y`` and the scores).
    y : array_like of {0, 1}
        The outcome.
    scores : dict of str to numpy.ndarray
        Model role → predicted risk; ``"candidate"`` is analysed, ``"baseline"`` is shown beside it.
    study : Study
        The plan (threshold, error-analysis variables, list length, small-cell threshold).
    """
    y = np.asarray(y).astype(bool)
    calls = classify(y, scores["candidate"], study.analysis.threshold)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    counts = pd.DataFrame({"call": list(CALLS), "meaning": [CALL_NAMES[c] for c in CALLS],
                           "n": [int(np.count_nonzero(calls == c)) for c in CALLS]})
    denominators = np.array([n_pos, n_pos, n_neg, n_neg], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        counts["share"] = np.where(denominators > 0, counts["n"] / np.maximum(denominators, 1), np.nan)
    return ErrorAnalysis(counts, by_variable(frame, calls, study), most_confident_errors(frame, calls, scores, study),
                         study.study.small_cell_threshold)
