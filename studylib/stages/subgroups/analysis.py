"""Subgroup analysis: every metric in every declared subgroup, heterogeneity tests, and per-subgroup gates.

Subgroups are the levels of the plan's variables (a column's values, or bands ``[a, b)`` between cut
points) and of their declared intersections (e.g. sex × age band), plus the whole analysed cohort as the
``overall`` row. For each, :func:`metric_table` computes prevalence, sensitivity, specificity, PPV and
NPV at the operating threshold (intervals of the plan's method), AUROC with its DeLong interval,
calibration-in-the-large and slope (Wald), the Brier score (normal interval) and, when a baseline model
is declared, the candidate − baseline AUROC difference (paired DeLong), as one tidy table.

Speed. Each score is sorted once for the whole cohort (its distinct values and every row's *tie group*).
A subgroup is then a set of rows whose positives and negatives per tie group are counted with one
``bincount``; the AUROC, the DeLong structural components, the 2×2 table at the threshold, the Brier
score and the calibration fits (binomial likelihood on the distinct scores) all follow from those counts
without sorting again. About 1 s for 10^6 patients in 40 subgroups (``benchmarks/subgroups.py``). The
results equal :func:`studylib.stats.auroc`, :func:`~studylib.stats.delong_test`,
:func:`~studylib.stats.binary_metrics` and :func:`~studylib.stats.calibration` on the filtered rows
(tested).

Judging (:func:`judge_gates`). A subgroup is judged only when it has at least the plan's minimum number
of positives and negatives (and no class below the small-cell threshold); otherwise every gate gives
INSUFFICIENT_EVIDENCE with the reason and a sample-size hint (:func:`sample_size_table`). A metric that
cannot be estimated (one class, no predicted positives, separation) is INSUFFICIENT_EVIDENCE too, never
a NaN in a PASS.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import chi2 as chi2_distribution

from studylib import stats
from studylib.report import display
from studylib.judge import gates
from studylib.judge import suppression
from studylib.plan import SUBGROUP_METRICS, Study, SubgroupGate, SubgroupVariable
from studylib.stats import Estimate
from studylib.stats.calibration import clipped_logit

OVERALL, ALL = "overall", "all"
#: columns of the tidy metric table (one row per subgroup × metric)
COLUMNS = ("variable", "level", "metric", "estimate", "lower", "upper", "se", "n", "positives", "negatives",
           "numerator", "denominator", "method", "reason")
#: proportions from the 2×2 table at the operating threshold
PROPORTION_METRICS = ("prevalence", "sensitivity", "specificity", "ppv", "npv")
#: differences rather than levels (their natural reference line is 0)
DIFFERENCE_METRICS = ("auroc_vs_baseline",)
LABELS = {
    "prevalence": "Prevalence", "sensitivity": "Sensitivity", "specificity": "Specificity", "ppv": "PPV",
    "npv": "NPV", "auroc": "AUROC", "calibration_in_the_large": "Calibration-in-the-large",
    "calibration_slope": "Calibration slope", "brier": "Brier score", "auroc_vs_baseline": "AUROC candidate − baseline",
}
_MAX_ITER, _TOL = 100, 1e-10


# --------------------------------------------------------------------------------------------------
# Subgroups
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Subgroup:
    """One subgroup: its variable (``"sex"``, ``"sex × age_band"`` or ``"overall"``), level and rows."""

    variable: str
    level: str
    rows: np.ndarray = field(repr=False)  # positions in the analysed frame, ascending

    @property
    def n(self) -> int:
        return int(self.rows.size)


def levels(frame: pd.DataFrame, variable: SubgroupVariable) -> pd.Series:
    """The subgroup level of each row, as an ordered categorical Series.

    Without cut points: the column's values as text (whole-number floats without ``.0``), levels sorted.
    With cut points: the band ``[a, b)`` holding the value, named by ``labels`` or ``[a, b)`` by default,
    levels in cut order. Rows with a missing value, or outside the cut points, get a missing level and
    join no subgroup of this variable (counted by :func:`unassigned_table`).
    """
    column = frame[variable.column]
    if variable.cut is None:
        if pd.api.types.is_float_dtype(column):
            present = column.dropna()
            if len(present) and bool((present == np.floor(present)).all()):
                column = column.astype("Int64")
        values = column.astype("string")
        categories = sorted(values.dropna().unique())
        return pd.Series(pd.Categorical(values, categories=categories, ordered=True), index=frame.index,
                         name=variable.name)
    banded = pd.cut(column.astype(float), bins=list(variable.cut), right=False, labels=list(variable.band_labels))
    return pd.Series(banded, index=frame.index, name=variable.name)


def _codes(frame: pd.DataFrame, study: Study) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Variable name → (level code of every row, −1 for none; level names)."""
    out = {}
    for variable in study.subgroups.variables:
        values = levels(frame, variable)
        out[variable.name] = (values.cat.codes.to_numpy(dtype=np.int64), [str(c) for c in values.cat.categories])
    return out


def intersection_name(combo) -> str:
    """The variable name of an intersection, e.g. ``"sex × age_band"``."""
    return " × ".join(combo)


def subgroups(frame: pd.DataFrame, study: Study) -> list[Subgroup]:
    """The overall row, then every level of every variable, then every cell of every intersection.

    Intersection cells are all combinations of levels, including empty ones (n = 0), which are reported
    as INSUFFICIENT_EVIDENCE rather than silently left out.
    """
    out = [Subgroup(OVERALL, ALL, np.arange(len(frame)))]
    codes = _codes(frame, study)
    for variable in study.subgroups.variables:
        code, names = codes[variable.name]
        out += [Subgroup(variable.name, name, np.flatnonzero(code == k)) for k, name in enumerate(names)]
    for combo in study.subgroups.intersections:
        combined = np.zeros(len(frame), dtype=np.int64)
        missing = np.zeros(len(frame), dtype=bool)
        sizes = []
        for name in combo:
            code, names = codes[name]
            combined = combined * len(names) + code
            missing |= code < 0
            sizes.append(len(names))
        combined[missing] = -1
        for k, cell in enumerate(itertools.product(*(codes[name][1] for name in combo))):
            out.append(Subgroup(intersection_name(combo), " & ".join(cell), np.flatnonzero(combined == k)))
    return out


def unassigned_table(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Per variable: rows with no level (missing value or outside the cut points)."""
    rows = []
    for variable in study.subgroups.variables:
        values = levels(frame, variable)
        rows.append({"variable": variable.name, "column": variable.column, "missing": int(values.isna().sum())})
    return pd.DataFrame(rows, columns=["variable", "column", "missing"])


# --------------------------------------------------------------------------------------------------
# Metrics from tie-group counts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Ranked:
    """A score sorted once: its distinct values (ascending), their logits and each row's tie group."""

    values: np.ndarray
    logits: np.ndarray
    gid: np.ndarray

    @classmethod
    def of(cls, score: np.ndarray) -> "_Ranked":
        values, gid = np.unique(score, return_inverse=True)
        return cls(values, clipped_logit(values), gid.astype(np.intp))

    def counts(self, y: np.ndarray, rows: np.ndarray):
        """Tie groups present in ``rows`` (indices into ``values``) with their positives and negatives."""
        g = self.gid[rows]
        total = np.bincount(g, minlength=self.values.size)
        pos = np.bincount(g[y[rows]], minlength=self.values.size)
        present = np.flatnonzero(total)
        return present, pos[present], total[present] - pos[present]


def _class_reason(m: int, n: int, what: str) -> str:
    problems = [f"{k} {word} case{'s' if k != 1 else ''}" for k, word in ((m, "positive"), (n, "negative")) if k < 2]
    return f"{what} needs at least 2 positive and 2 negative cases; found " + " and ".join(problems) if problems else ""


def _delong(pos: np.ndarray, neg: np.ndarray):
    """AUROC, DeLong variance and structural components per tie group (ascending score).

    ``v10`` (per group, for positives): share of negatives below plus half the share tied; ``v01``
    (for negatives): share of positives above plus half tied (Sun & Xu 2014). Ties count 1/2.
    """
    m, n = int(pos.sum()), int(neg.sum())
    neg_below = np.cumsum(neg) - neg
    pos_above = m - np.cumsum(pos)
    auc = float(np.sum(pos * (2 * neg_below + neg))) / (2.0 * m * n)
    v10 = (neg_below + 0.5 * neg) / n
    v01 = (pos_above + 0.5 * pos) / m
    var = float(np.sum(pos * (v10 - auc) ** 2)) / (m - 1) / m + float(np.sum(neg * (v01 - auc) ** 2)) / (n - 1) / n
    return auc, var, v10, v01


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products without BLAS (a BLAS call costs more than it saves on a busy 2-core machine)."""
    return float(np.multiply(a, b).sum())


def _expit(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) for |x| <= 34.5 (clipped logits), faster than scipy's expit."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


_SAFE_STEP = 0.1  # a Newton step this small on a concave log-likelihood is taken without a line search


def _loglik(k: np.ndarray, t: np.ndarray, eta: np.ndarray) -> float:
    softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))  # log(1 + e^eta), stable
    return float(_dot(k, eta) - _dot(t, softplus))


def _fit_citl(k: np.ndarray, t: np.ndarray, offset: np.ndarray) -> tuple[float, float, str]:
    """Intercept of ``logit P = a + offset`` on binomial counts (k events of t) by Newton–Raphson."""
    a = 0.0
    events = float(k.sum())
    for _ in range(_MAX_ITER):
        mu = _expit(a + offset)
        info = float(_dot(t, mu * (1 - mu)))
        if not info > 0:
            break
        step = (events - float(_dot(t, mu))) / info
        if abs(step) > _SAFE_STEP:  # far from the optimum: step-halving keeps the log-likelihood non-decreasing
            ll = _loglik(k, t, a + offset)
            for _halving in range(30):
                new_ll = _loglik(k, t, a + step + offset)
                if new_ll >= ll - 1e-12 * abs(ll):
                    break
                step /= 2
        a += step
        if abs(step) < _TOL:
            mu = _expit(a + offset)
            return a, 1 / math.sqrt(float(_dot(t, mu * (1 - mu)))), ""
    return math.nan, math.nan, "the calibration-in-the-large model did not converge"


def _fit_slope(k: np.ndarray, t: np.ndarray, x: np.ndarray) -> tuple[float, float, str]:
    """Slope ``b`` of ``logit P = a + b x`` on binomial counts by Newton–Raphson; ``(b, se, reason)``."""
    if x.size < 2:
        return math.nan, math.nan, "prob has a single distinct value: the slope is not identifiable"
    beta = np.array([0.0, 1.0])
    for _ in range(_MAX_ITER):
        mu = _expit(beta[0] + beta[1] * x)
        w = t * mu * (1 - mu)
        r = k - t * mu
        wx = w * x
        hess = np.array([[w.sum(), wx.sum()], [wx.sum(), _dot(wx, x)]])
        try:
            step = np.linalg.solve(hess, np.array([r.sum(), _dot(r, x)]))
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        if np.max(np.abs(step)) > _SAFE_STEP:
            ll = _loglik(k, t, beta[0] + beta[1] * x)
            for _halving in range(30):
                new_ll = _loglik(k, t, (beta[0] + step[0]) + (beta[1] + step[1]) * x)
                if new_ll >= ll - 1e-12 * abs(ll):
                    break
                step = step / 2
        beta = beta + step
        if np.max(np.abs(step)) < _TOL * max(1.0, float(np.max(np.abs(beta)))):
            mu = _expit(beta[0] + beta[1] * x)
            w = t * mu * (1 - mu)
            wx = w * x
            hess = np.array([[w.sum(), wx.sum()], [wx.sum(), _dot(wx, x)]])
            try:
                cov = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                break
            return float(beta[1]), math.sqrt(float(cov[1, 1])), ""
    return math.nan, math.nan, "the calibration-slope model did not converge (prob may separate the classes)"


def _wald(value: float, se: float, z: float, method: str, clip: tuple[float, float] | None = None) -> Estimate:
    lower, upper = value - z * se, value + z * se
    if clip is not None:
        lower, upper = max(clip[0], lower), min(clip[1], upper)
    return Estimate(value, lower, upper, se, method)


def _group_metrics(y: np.ndarray, rows: np.ndarray, cand: _Ranked, base: _Ranked | None, study: Study) -> dict:
    """Every metric of one subgroup: ``{metric: (Estimate, numerator, denominator)}`` plus class counts."""
    analysis = study.analysis
    z = float(ndtri(1 - analysis.alpha / 2))
    present, pos, neg = cand.counts(y, rows)
    m, n0 = int(pos.sum()), int(neg.sum())
    size = m + n0
    out: dict = {"n": size, "positives": m, "negatives": n0}

    values = cand.values[present]
    first = int(np.searchsorted(values, analysis.threshold, side="left"))  # positive iff score >= threshold
    tp, fp = int(pos[first:].sum()), int(neg[first:].sum())
    fn, tn = m - tp, n0 - fp

    def proportion(x: int, total: int, name: str, what: str):
        if total == 0:
            return Estimate.undefined(f"{name}: {what}", analysis.ci_method), x, total
        return stats.proportion(x, total, analysis.alpha, analysis.ci_method), x, total

    out["prevalence"] = proportion(m, size, "prevalence", "no patients in this subgroup (n = 0)")
    out["sensitivity"] = proportion(tp, m, "sensitivity", "no positive cases (tp + fn = 0)")
    out["specificity"] = proportion(tn, n0, "specificity", "no negative cases (tn + fp = 0)")
    out["ppv"] = proportion(tp, tp + fp, "ppv", "no predicted positives (tp + fp = 0)")
    out["npv"] = proportion(tn, tn + fn, "npv", "no predicted negatives (tn + fn = 0)")

    reason = _class_reason(m, n0, "AUROC with a DeLong interval")
    v10 = v01 = None
    if reason:
        out["auroc"] = (Estimate.undefined(reason, "delong"), None, None)
    else:
        auc, var, v10, v01 = _delong(pos, neg)
        out["auroc"] = (_wald(auc, math.sqrt(max(var, 0.0)), z, "delong", (0.0, 1.0)), None, None)

    if m == 0 or n0 == 0:
        why = "y has a single class: the maximum likelihood estimate is infinite"
        out["calibration_in_the_large"] = (Estimate.undefined(f"citl: {why}", "wald"), None, None)
        out["calibration_slope"] = (Estimate.undefined(f"slope: {why}", "wald"), None, None)
    else:
        k, t, x = pos.astype(float), (pos + neg).astype(float), cand.logits[present]
        a, a_se, why = _fit_citl(k, t, x)
        out["calibration_in_the_large"] = (Estimate.undefined(f"citl: {why}", "wald") if why
                                           else _wald(a, a_se, z, "wald"), None, None)
        b, b_se, why = _fit_slope(k, t, x)
        out["calibration_slope"] = (Estimate.undefined(f"slope: {why}", "wald") if why
                                    else _wald(b, b_se, z, "wald"), None, None)

    if size < 2:
        out["brier"] = (Estimate.undefined("brier: an interval needs at least 2 patients", "normal-mean"), None, None)
    else:
        e2_pos, e2_neg = (1 - values) ** 2, values ** 2
        brier = (_dot(pos, e2_pos) + _dot(neg, e2_neg)) / size
        fourth = (_dot(pos, e2_pos ** 2) + _dot(neg, e2_neg ** 2)) / size
        se = math.sqrt(max(fourth - brier ** 2, 0.0) * size / (size - 1) / size)
        out["brier"] = (_wald(brier, se, z, "normal-mean", (0.0, 1.0)), None, None)

    if base is not None:
        auc_a = out["auroc"][0].estimate
        out["auroc_vs_baseline"] = (_paired_difference(y, rows, cand, base, present, auc_a, v10, v01, reason, z),
                                    None, None)
    return out


def _paired_difference(y, rows, cand: _Ranked, base: _Ranked, present, auc_a: float, v10, v01, reason: str,
                       z: float) -> Estimate:
    """Candidate − baseline AUROC on the subgroup's rows, paired DeLong (DeLong et al. 1988)."""
    if reason:
        return Estimate.undefined(reason.replace("AUROC with a DeLong interval", "The paired DeLong test"),
                                  "delong-paired")
    b_present, b_pos, b_neg = base.counts(y, rows)
    auc_b, _, b10, b01 = _delong(b_pos, b_neg)
    m, n0 = int(b_pos.sum()), int(b_neg.sum())
    local_a = np.empty(cand.values.size, dtype=np.intp)
    local_a[present] = np.arange(present.size)
    local_b = np.empty(base.values.size, dtype=np.intp)
    local_b[b_present] = np.arange(b_present.size)
    yy = y[rows]
    ga, gb = local_a[cand.gid[rows]], local_b[base.gid[rows]]
    d10 = v10[ga[yy]] - b10[gb[yy]]
    d01 = v01[ga[~yy]] - b01[gb[~yy]]
    diff = auc_a - auc_b
    var = float(np.var(d10, ddof=1)) / m + float(np.var(d01, ddof=1)) / n0
    se = math.sqrt(max(var, 0.0))
    if se == 0.0:
        return Estimate(diff, math.nan, math.nan, 0.0, "delong-paired",
                        "the DeLong variance of the difference is 0 (the two scores rank the cases identically)")
    return _wald(diff, se, z, "delong-paired", (-1.0, 1.0))


def labels_and_scores(frame: pd.DataFrame, study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Outcome (bool), candidate score and baseline score (or None) of the analysed rows."""
    from studylib.stages.evaluation import analysis as evaluation

    y, scores = evaluation.labels_and_scores(frame, study)
    return y.astype(bool), scores["candidate"], scores.get("baseline")


def metric_table(frame: pd.DataFrame, study: Study, *, groups: list[Subgroup] | None = None) -> pd.DataFrame:
    """Every metric of the candidate model in the overall cohort and in every subgroup: one tidy table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The analysed rows (outcome 0/1 and scores without missing values).
    study : Study
        The plan: threshold, alpha, interval method, subgroups, models.
    groups : list of Subgroup, optional
        The subgroups (default :func:`subgroups` of ``frame``), the overall row first.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: one row per subgroup × metric (:data:`studylib.plan.SUBGROUP_METRICS`;
        ``auroc_vs_baseline`` only with a baseline). ``numerator``/``denominator`` are the counts of a
        proportion (NaN for other metrics). Undefined metrics have NaN estimates and a ``reason``.

    Notes
    -----
    *Proportions* (prevalence, sensitivity, specificity, PPV, NPV): positive iff ``score >= threshold``;
    interval of ``analysis.ci_method`` (Wilson by default) from :func:`studylib.stats.proportion`.
    *AUROC*: Mann–Whitney with ties 1/2, DeLong variance via midranks (Sun & Xu 2014), Wald interval
    clipped to [0, 1]; undefined with fewer than 2 cases of a class. *Candidate − baseline*: paired
    DeLong on the subgroup's rows. *Calibration*: CITL is the intercept of a logistic model with
    ``logit(prob)`` as offset, the slope the coefficient of ``logit(prob)`` (Cox 1958), fitted by
    Newton–Raphson on the binomial counts of the distinct predicted values (the same likelihood as per
    row), Wald intervals; probabilities are clipped to [1e-15, 1 − 1e-15] for the logit.
    *Brier*: ``mean((prob − y)^2)`` with a normal interval from the standard error of a mean of the
    squared errors (Bradley et al. 2008); it differs from the evaluation stage's bootstrap interval by
    design (no resampling of 40 subgroups), and agrees with it closely for n in the hundreds or more.

    References
    ----------
    .. [1] DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more correlated
       receiver operating characteristic curves: a nonparametric approach. Biometrics.
       1988;44(3):837-845. doi:10.2307/2531595
    .. [2] Sun X, Xu W. Fast implementation of DeLong's algorithm for comparing the areas under
       correlated receiver operating characteristic curves. IEEE Signal Process Lett.
       2014;21(11):1389-1393. doi:10.1109/LSP.2014.2337313
    .. [3] Cox DR. Two further applications of a model for binary regression. Biometrika.
       1958;45(3-4):562-565. doi:10.1093/biomet/45.3-4.562
    .. [4] Bradley AA, Schwartz SS, Hashino T. Sampling uncertainty and confidence intervals for the
       Brier score and Brier skill score. Weather Forecast. 2008;23(5):992-1006.
       doi:10.1175/2007WAF2007049.1
    .. [5] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc. 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953

    Examples
    --------
    See ``tests/test_subgroups.py``: every row equals the metric computed directly on the filtered rows.
    """
    y, candidate, baseline = labels_and_scores(frame, study)
    groups = subgroups(frame, study) if groups is None else groups
    cand = _Ranked.of(candidate)
    base = _Ranked.of(baseline) if baseline is not None else None
    rows = []
    for group in groups:
        result = _group_metrics(y, group.rows, cand, base, study)
        counts = {"n": result["n"], "positives": result["positives"], "negatives": result["negatives"]}
        for metric in SUBGROUP_METRICS:
            if metric not in result:
                continue
            e, numerator, denominator = result[metric]
            rows.append({"variable": group.variable, "level": group.level, "metric": metric,
                         "estimate": e.estimate, "lower": e.lower, "upper": e.upper, "se": e.se, **counts,
                         "numerator": np.nan if numerator is None else numerator,
                         "denominator": np.nan if denominator is None else denominator,
                         "method": e.method, "reason": e.reason})
    return pd.DataFrame(rows, columns=list(COLUMNS))


# --------------------------------------------------------------------------------------------------
# Eligibility (minimum n) and sample-size hints
# --------------------------------------------------------------------------------------------------


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


def subgroup_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """One row per subgroup: variable, level, n, positives, negatives, judged (bool) and reason."""
    first = table.drop_duplicates(["variable", "level"])
    rows = []
    for row in first.itertuples(index=False):
        reason = eligibility(row.n, row.positives, row.negatives, study)
        rows.append({"variable": row.variable, "level": row.level, "n": int(row.n), "positives": int(row.positives),
                     "negatives": int(row.negatives), "judged": not reason, "reason": reason})
    return pd.DataFrame(rows, columns=["variable", "level", "n", "positives", "negatives", "judged", "reason"])


def sample_size(p: float, width: float, alpha: float = 0.05) -> int:
    """Cases needed for a proportion ``p`` to have a ``1 − alpha`` Wald interval of total width ``width``.

    ``n = z² p (1 − p) / (width / 2)²``, rounded up (Buderer 1996): the number of *positives* needed to
    estimate a sensitivity ``p`` (of negatives for a specificity).

    References
    ----------
    .. [1] Buderer NM. Statistical methodology: I. Incorporating the prevalence of disease into the
       sample size calculation for sensitivity and specificity. Acad Emerg Med. 1996;3(9):895-900.
       doi:10.1111/j.1553-2712.1996.tb03538.x

    Examples
    --------
    >>> sample_size(0.8, 0.2)
    62
    """
    if not 0 < width <= 1:
        raise ValueError(f"width must be in (0, 1]; got {width}")
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1]; got {p}")
    z = float(ndtri(1 - alpha / 2))
    return int(math.ceil(z * z * p * (1 - p) / (width / 2) ** 2 - 1e-9))


def sample_size_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """For every subgroup that cannot be judged: how many more positives, negatives and patients it needs.

    Needed positives = max(minimum positives, :func:`sample_size` at the overall sensitivity for the
    plan's ``interval_width``); needed negatives likewise with the overall specificity (0.5 when the
    overall estimate is undefined). More patients = the larger of more positives / prevalence and more
    negatives / (1 − prevalence), at the subgroup's prevalence when both its classes have at least the
    small-cell threshold of patients, else at the overall prevalence. A class count below the small-cell
    threshold is counted as none (so the hint does not disclose it; it is then slightly conservative).
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
    level = f"{100 * (1 - study.analysis.alpha):g}%"
    width = study.subgroups.interval_width
    patients = (f"about {row.more_patients:,} more patients at {row.prevalence_basis} prevalence"
                if row.more_patients is not None and row.more_patients == row.more_patients else "more patients")
    return (f"Needs {row.needed_positives:,} positives and {row.needed_negatives:,} negatives (the plan's minimum, "
            f"or enough for {level} intervals of sensitivity and specificity of width {width:g}): "
            f"{row.more_positives:,} more positives and {row.more_negatives:,} more negatives, {patients}.")


# --------------------------------------------------------------------------------------------------
# Heterogeneity and comparisons with a reference level
# --------------------------------------------------------------------------------------------------


HETEROGENEITY_COLUMNS = ("variable", "metric", "test", "statistic", "df", "p_value", "p_adjusted", "levels",
                         "levels_excluded", "reason")


def contingency_test(successes, totals, *, test: str = "chi2") -> tuple[float, int, float]:
    """Test of equal proportions across k groups (a k × 2 table): Pearson's chi-square or the G-test.

    Returns ``(statistic, df, p_value)`` with ``df = k − 1``. When every group has the same proportion
    0 or 1 (a column of the table is empty) the statistic is 0 and p = 1.

    References
    ----------
    .. [1] Pearson K. On the criterion that a given system of deviations from the probable in the case
       of a correlated system of variables is such that it can be reasonably supposed to have arisen
       from random sampling. Philos Mag. 1900;50(302):157-175. doi:10.1080/14786440009463897
    .. [2] Sokal RR, Rohlf FJ. Biometry. 4th ed. New York: W. H. Freeman; 2012. Chapter 17 (G-test).

    Examples
    --------
    >>> round(contingency_test([10, 20], [50, 50])[2], 4)
    0.0269
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    observed = np.column_stack([x, n - x])
    df = observed.shape[0] - 1
    col = observed.sum(axis=0)
    if df < 1 or np.any(col == 0):
        return 0.0, max(df, 0), 1.0
    expected = np.outer(n, col) / n.sum()
    if test == "chi2":
        statistic = float(np.sum((observed - expected) ** 2 / expected))
    elif test == "g-test":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        statistic = float(2 * terms.sum())
    else:
        raise ValueError(f"test must be 'chi2' or 'g-test'; got {test!r}")
    return statistic, df, float(chi2_distribution.sf(statistic, df))


def cochran_q(estimates, ses) -> tuple[float, int, float]:
    """Wald test that k independent estimates are equal: Cochran's Q with ``df = k − 1``.

    ``Q = sum w_i (theta_i − theta_w)^2`` with ``w_i = 1 / se_i^2`` and ``theta_w`` the inverse-variance
    weighted mean; under equality Q is approximately chi-square with k − 1 degrees of freedom.

    References
    ----------
    .. [1] Cochran WG. The combination of estimates from different experiments. Biometrics.
       1954;10(1):101-129. doi:10.2307/3001666

    Examples
    --------
    >>> q, df, p = cochran_q([0.80, 0.70], [0.02, 0.03])
    >>> round(q, 3), df, round(p, 4)
    (7.692, 1, 0.0055)
    """
    theta = np.asarray(estimates, dtype=float)
    w = 1.0 / np.asarray(ses, dtype=float) ** 2
    df = theta.size - 1
    if df < 1:
        return 0.0, 0, 1.0
    mean = float(np.sum(w * theta) / np.sum(w))
    q = float(np.sum(w * (theta - mean) ** 2))
    return q, df, float(chi2_distribution.sf(q, df))


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


def mover_difference(a: Estimate, b: Estimate, method: str = "mover") -> Estimate:
    """``a − b`` for estimates from independent samples, with the MOVER interval of Zou & Donner.

    ``L = d − sqrt((a − l_a)² + (u_b − b)²)``, ``U = d + sqrt((u_a − a)² + (b − l_b)²)``. With Wilson
    limits for two proportions this is Newcombe's hybrid score interval (method 10); with Wald limits
    it is the Wald interval ``d ± z sqrt(se_a² + se_b²)``.

    References
    ----------
    .. [1] Zou GY, Donner A. Construction of confidence limits about effect measures: a general
       approach. Stat Med. 2008;27(10):1693-1702. doi:10.1002/sim.3095
    .. [2] Newcombe RG. Interval estimation for the difference between independent proportions:
       comparison of eleven methods. Stat Med. 1998;17(8):873-890.
       doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Examples
    --------
    >>> d = mover_difference(Estimate(0.8, 0.7, 0.9), Estimate(0.6, 0.5, 0.7))
    >>> round(d.estimate, 3), round(d.lower, 4), round(d.upper, 4)
    (0.2, 0.0586, 0.3414)
    """
    if not (a.defined and b.defined):
        return Estimate.undefined(a.reason or b.reason or "an estimate is undefined", method)
    d = a.estimate - b.estimate
    lower = d - math.sqrt((a.estimate - a.lower) ** 2 + (b.upper - b.estimate) ** 2)
    upper = d + math.sqrt((a.upper - a.estimate) ** 2 + (b.estimate - b.lower) ** 2)
    se = math.sqrt(a.se ** 2 + b.se ** 2) if math.isfinite(a.se) and math.isfinite(b.se) else math.nan
    return Estimate(d, lower, upper, se, method)


REFERENCE_COLUMNS = ("variable", "level", "reference", "metric", "estimate", "lower", "upper", "method", "reason")


def reference_table(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Each level − the variable's declared reference level, for every metric (MOVER intervals).

    Only variables with a ``reference`` take part; a comparison where either level does not meet the
    minimum n, or a metric is undefined, is undefined with the reason.
    """
    judged = subgroup_table(table, study).set_index(["variable", "level"])
    rows = []
    for variable in study.subgroups.variables:
        if variable.reference is None:
            continue
        part = table[table.variable == variable.name]
        if variable.reference not in set(part.level):
            raise ValueError(f"subgroup variable {variable.name}: reference level '{variable.reference}' does not "
                             f"occur in the analysed rows (levels: {', '.join(dict.fromkeys(part.level))})")
        ref = part[part.level == variable.reference].set_index("metric")
        ref_ok = bool(judged.loc[(variable.name, variable.reference), "judged"])
        for row in part[part.level != variable.reference].itertuples(index=False):
            level_ok = bool(judged.loc[(variable.name, row.level), "judged"])
            r = ref.loc[row.metric]
            if not (level_ok and ref_ok):
                who = row.level if not level_ok else variable.reference
                e = Estimate.undefined(f"level {who} does not meet the minimum n", "mover")
            else:
                e = mover_difference(Estimate(row.estimate, row.lower, row.upper, row.se, row.method, row.reason),
                                     Estimate(r.estimate, r.lower, r.upper, r.se, r.method, r.reason))
            rows.append({"variable": variable.name, "level": row.level, "reference": variable.reference,
                         "metric": row.metric, "estimate": e.estimate, "lower": e.lower, "upper": e.upper,
                         "method": e.method, "reason": e.reason})
    return pd.DataFrame(rows, columns=list(REFERENCE_COLUMNS))


# --------------------------------------------------------------------------------------------------
# Gates
# --------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def judge_gates(table: pd.DataFrame, study: Study, references: pd.DataFrame | None = None) -> list[gates.Gate]:
    """Judge every subgroup gate in every subgroup (not the overall row): PASS, FAIL or INSUFFICIENT_EVIDENCE.

    A subgroup that does not meet the minimum n (:func:`eligibility`), or whose metric is undefined, is
    INSUFFICIENT_EVIDENCE with the reason and the sample-size hint; it blocks the release unless the gate
    says ``insufficient_evidence_blocks: false``. Gates are reviewer-facing (they feed the run's summary
    page): counts in sentences are small-cell suppressed, and an estimate that would disclose a small
    cell (e.g. a sensitivity of 2/25) is withheld (NaN) while the verdict stands.

    ``relative_to: overall`` treats the overall estimate as fixed. The subgroup is part of the overall
    cohort, so the variance of (subgroup − overall) is smaller than the subgroup's own variance: judging
    the subgroup's interval against a fixed overall value is conservative.
    """
    plan, alpha = study.subgroups, study.analysis.alpha
    threshold = study.study.small_cell_threshold
    level_text = f"{100 * (1 - alpha):g}%"
    groups = subgroup_table(table, study)
    hints = sample_size_table(table, study).set_index(["variable", "level"])
    indexed = table.set_index(["variable", "level", "metric"])
    withheld = suppression.suppress_table(table, threshold)["withheld"].to_numpy()
    withheld_at = dict(zip(zip(table.variable, table.level, table.metric), withheld))
    refs = references if references is not None else reference_table(table, study)
    ref_at = {(r.variable, r.level, r.metric): r for r in refs.itertuples(index=False)}
    variables = {v.name: v for v in plan.variables}
    judged = []
    for gate in plan.gates:
        metric = "auroc_vs_baseline" if gate.versus == "baseline" else gate.metric
        for group in groups.itertuples(index=False):
            if group.variable == OVERALL:
                continue
            if gate.relative_to == "reference":
                variable = variables.get(group.variable)
                if variable is None or variable.reference is None or group.level == variable.reference:
                    continue
            key = (group.variable, group.level, metric)
            if key not in indexed.index:
                continue
            row = indexed.loc[key]
            subject = f"{group.variable} = {group.level}: {LABELS[gate.metric].lower() if gate.metric != 'auroc' else 'AUROC'}"
            if gate.versus == "baseline":
                subject += " (candidate − baseline)"
            elif gate.relative_to == "reference":
                subject += f" − reference ({variables[group.variable].reference})"
            gate_id = f"{gate.id}[{group.variable}={group.level}]"
            verdict = _judge_one(gate, row, group, study, indexed, ref_at, subject, level_text)
            if verdict.verdict == gates.INSUFFICIENT and not group.judged and (group.variable, group.level) in hints.index:
                hint = sample_size_sentence(hints.loc[(group.variable, group.level)], study)
                verdict = _with(verdict, sentence=f"{verdict.sentence} {hint}")
            if verdict.verdict == gates.INSUFFICIENT:
                blocks = gate.insufficient_evidence_blocks
                note = ("Blocks the release (the plan says insufficient evidence blocks)." if blocks else
                        "Does not block the release (insufficient_evidence_blocks: false).")
                verdict = _with(verdict, blocks=blocks, sentence=f"{verdict.sentence} {note}")
            if withheld_at.get(key, False) and verdict.verdict != gates.INSUFFICIENT:
                wording = "meets" if verdict.verdict == gates.PASS else "does not meet"
                verdict = _with(verdict, estimate=math.nan, lower=math.nan, upper=math.nan,
                                sentence=f"{subject} {wording} the rule ({verdict.rule}); its estimate is withheld "
                                         f"because it would disclose a count below {threshold} (small-cell suppression).")
            judged.append(_with(verdict, id=gate_id))
    return judged


def _with(gate: gates.Gate, **changes) -> gates.Gate:
    return gates.Gate(**{**gate.__dict__, **changes})


def _judge_one(gate: SubgroupGate, row, group, study: Study, indexed, ref_at, subject: str, level_text: str) -> gates.Gate:
    alpha = study.analysis.alpha
    estimate = Estimate(row.estimate, row.lower, row.upper, row.se, row.method, row.reason)
    if not group.judged:
        estimate = Estimate.undefined(group.reason)
    if gate.relative_to is None:
        if not estimate.defined and not estimate.reason:
            estimate = Estimate.undefined("the interval could not be computed")
        return gates.judge(gate, estimate, stage="subgroups", subject=subject, alpha=alpha)
    below = gate.max_below is not None
    margin = gate.max_below if below else gate.max_above
    if gate.relative_to == "overall":
        overall = indexed.loc[(OVERALL, ALL, gate.metric)]
        reference_value, against = float(overall.estimate), f"overall {_fmt(float(overall.estimate))}"
        judged_estimate = estimate
        undefined_reason = (estimate.reason or "the quantity could not be estimated") if not estimate.defined else (
            "" if math.isfinite(reference_value) else "the overall estimate is undefined")
    else:
        r = ref_at.get((group.variable, group.level, gate.metric))
        judged_estimate = Estimate(r.estimate, r.lower, r.upper, math.nan, r.method, r.reason) if r is not None \
            else Estimate.undefined("no comparison with the reference level")
        if not group.judged:
            judged_estimate = estimate
        reference_value, against = 0.0, "0 (no difference from the reference)"
        undefined_reason = judged_estimate.reason if not judged_estimate.defined else ""
    common = dict(id=gate.id, stage="subgroups", subject=subject, estimate=judged_estimate.estimate,
                  lower=judged_estimate.lower, upper=judged_estimate.upper)
    if below:
        target = reference_value - margin
        rule = f"lower {level_text} bound >= {against} − {margin:g}"
        value, passed, op = judged_estimate.lower, judged_estimate.lower >= target, ">="
        name = f"lower {level_text} bound"
    else:
        target = reference_value + margin
        rule = f"upper {level_text} bound <= {against} + {margin:g}"
        value, passed, op = judged_estimate.upper, judged_estimate.upper <= target, "<="
        name = f"upper {level_text} bound"
    if undefined_reason or not judged_estimate.defined:
        reason = undefined_reason or "the quantity could not be estimated"
        return gates.Gate(rule=rule, verdict=gates.INSUFFICIENT, sentence=f"{subject} could not be judged: {reason}.",
                          **common)
    wording = "meets" if passed else "does not meet"
    sentence = f"The {name} of {subject} ({_fmt(value)}) {wording} the required {op} {_fmt(target)}."
    return gates.Gate(rule=rule, verdict=gates.PASS if passed else gates.FAIL, sentence=sentence, **common)


# --------------------------------------------------------------------------------------------------
# The whole analysis
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SubgroupAnalysis:
    """Everything the subgroup stage computes (unsuppressed; see :func:`reviewer_view`)."""

    groups: tuple[Subgroup, ...] = field(repr=False)
    metrics: pd.DataFrame = field(repr=False)
    subgroups: pd.DataFrame = field(repr=False)
    unassigned: pd.DataFrame = field(repr=False)
    heterogeneity: pd.DataFrame = field(repr=False)
    versus_reference: pd.DataFrame = field(repr=False)
    sample_size: pd.DataFrame = field(repr=False)
    gates: tuple[gates.Gate, ...] = ()

    def results(self) -> dict:
        """The restricted (unsuppressed) results for ``results/subgroups.json``; gates are reviewer-safe."""
        overall = self.subgroups[self.subgroups.variable == OVERALL].iloc[0]
        return {"version": "restricted", "n": int(overall.n), "positives": int(overall.positives),
                "subgroups": self.subgroups, "unassigned": self.unassigned, "metrics": self.metrics,
                "heterogeneity": self.heterogeneity, "versus_reference": self.versus_reference,
                "sample_size": self.sample_size, "gates": list(self.gates)}


def analyse(frame: pd.DataFrame, study: Study) -> SubgroupAnalysis:
    """Run the whole subgroup analysis of the plan on the analysed rows."""
    groups = subgroups(frame, study)
    table = metric_table(frame, study, groups=groups)
    references = reference_table(table, study)
    return SubgroupAnalysis(
        groups=tuple(groups), metrics=table, subgroups=subgroup_table(table, study),
        unassigned=unassigned_table(frame, study), heterogeneity=heterogeneity_table(table, study),
        versus_reference=references, sample_size=sample_size_table(table, study),
        gates=tuple(judge_gates(table, study, references)),
    )


# --------------------------------------------------------------------------------------------------
# Reviewer view (small-cell suppression) and display tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReviewerView:
    """The analysis as reviewers see it: counts below the threshold as "<T", disclosive estimates withheld."""

    threshold: int
    metrics: pd.DataFrame = field(repr=False)
    subgroups: pd.DataFrame = field(repr=False)
    unassigned: pd.DataFrame = field(repr=False)
    heterogeneity: pd.DataFrame = field(repr=False)
    versus_reference: pd.DataFrame = field(repr=False)
    sample_size: pd.DataFrame = field(repr=False)
    gates: tuple[gates.Gate, ...] = ()
    n: str = ""
    positives: str = ""

    def results(self) -> dict:
        """The reviewer results for ``results/subgroups.reviewer.json``."""
        return {"n": self.n, "positives": self.positives, "subgroups": self.subgroups, "unassigned": self.unassigned,
                "metrics": self.metrics, "heterogeneity": self.heterogeneity,
                "versus_reference": self.versus_reference, "sample_size": self.sample_size, "gates": list(self.gates)}


def reviewer_view(analysis: SubgroupAnalysis, threshold: int) -> ReviewerView:
    """Apply small-cell suppression (:mod:`studylib.suppression`) to every table of the analysis."""
    metrics = suppression.suppress_table(analysis.metrics, threshold)
    withheld = dict(zip(zip(metrics.variable, metrics.level, metrics.metric), metrics.withheld))
    refs = analysis.versus_reference.copy()
    if len(refs):
        hide = [withheld.get((r.variable, r.level, r.metric), False) or withheld.get((r.variable, r.reference, r.metric), False)
                for r in refs.itertuples(index=False)]
        hide = np.array(hide, dtype=bool)
        for column in ("estimate", "lower", "upper"):
            refs[column] = refs[column].astype(float).where(~hide, np.nan)
        refs["withheld"] = hide
    else:
        refs["withheld"] = pd.Series(dtype=bool)
    sizes = suppression.suppress_table(analysis.subgroups, threshold, fraction=None, estimates=())
    hints = suppression.suppress_table(analysis.sample_size, threshold, fraction=None, estimates=())
    unassigned = suppression.suppress_table(analysis.unassigned, threshold, counts=None, fraction=None,
                                            other_counts=("missing",), estimates=())
    overall = sizes[sizes.variable == OVERALL].iloc[0]
    return ReviewerView(threshold, metrics, sizes, unassigned, analysis.heterogeneity, refs, hints, analysis.gates,
                        n=overall.n, positives=overall.positives)


def _number(x: float, digits: int) -> str:
    text = f"{x:.{digits}f}"
    return "−" + text[1:] if text.startswith("-") else text


def format_interval(estimate: float, lower: float, upper: float, digits: int = 2) -> str:
    """``"0.80 (0.75–0.84)"``, or ``"0.03 (−0.09 to 0.15)"`` when a bound is negative; ``"—"`` when
    undefined; the estimate alone when only the interval is undefined."""
    if estimate != estimate:
        return "—"
    if lower != lower or upper != upper:
        return _number(estimate, digits)
    low, high = _number(lower, digits), _number(upper, digits)
    joint = " to " if (low.startswith("−") or high.startswith("−")) else "–"
    return f"{_number(estimate, digits)} ({low}{joint}{high})"


_DIGITS = {"brier": 3, "auroc_vs_baseline": 3}


def _cell(row) -> str:
    if row.withheld:
        return "withheld"
    return format_interval(row.estimate, row.lower, row.upper, _DIGITS.get(row.metric, 2))


def display_table(view: ReviewerView, metrics: tuple[str, ...]) -> pd.DataFrame:
    """A wide, formatted table for the report: one row per subgroup, one column per metric ("0.80 (0.75–0.84)").

    Built from the reviewer view, so counts are suppressed and withheld estimates read "withheld".
    """
    part = view.metrics[view.metrics.metric.isin(metrics)].copy()
    part["shown"] = [_cell(r) for r in part.itertuples(index=False)]
    wide = part.pivot_table(index=["variable", "level"], columns="metric", values="shown", aggfunc="first", sort=False)
    wide = wide[[m for m in metrics if m in wide.columns]].rename(columns=LABELS)
    sizes = view.subgroups.set_index(["variable", "level"])[["n", "positives", "judged"]]
    out = sizes.join(wide, how="right")
    out["judged"] = np.where(out["judged"].astype(bool), "yes", "no")
    out.index = out.index.set_names(["Variable", "Level"])
    return out.rename(columns={"n": "n", "positives": "Positives", "judged": "Judged"})


def gate_summary(view: ReviewerView) -> pd.DataFrame:
    """Counts of PASS / FAIL / INSUFFICIENT_EVIDENCE per gate id (the part before ``[``) and blocking count."""
    rows = []
    for gate in view.gates:
        rows.append({"gate": gate.id.split("[")[0], "verdict": gate.verdict, "blocks": gate.blocking_failure})
    frame = pd.DataFrame(rows, columns=["gate", "verdict", "blocks"])
    if frame.empty:
        return pd.DataFrame(columns=[gates.PASS, gates.FAIL, gates.INSUFFICIENT, "blocking"]).rename_axis("Gate")
    counts = frame.pivot_table(index="gate", columns="verdict", values="blocks", aggfunc="size", fill_value=0, sort=False)
    for verdict in gates.VERDICTS:
        if verdict not in counts.columns:
            counts[verdict] = 0
    counts = counts[list(gates.VERDICTS)]
    counts["blocking"] = frame.groupby("gate", sort=False)["blocks"].sum()
    counts.columns.name = None
    counts.index.name = "Gate"
    return counts


# --------------------------------------------------------------------------------------------------
# Report text and display tables (all from the reviewer view)
# --------------------------------------------------------------------------------------------------


def format_p(p: float) -> str:
    """A p-value for a table: ``"<0.001"``, three decimals, or ``"—"`` when the test was not performed."""
    if p != p:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def overview_markdown(view: ReviewerView, study: Study) -> str:
    """What was analysed and under which plan, in a few sentences."""
    plan = study.subgroups
    sizes = view.subgroups[view.subgroups.variable != OVERALL]
    per_variable = sizes.groupby("variable", sort=False).size()
    axes = ", ".join(f"{name} ({count} levels)" for name, count in per_variable.items())
    judged = int(sizes.judged.sum())
    split = study.analysis.split or "the whole frozen cohort"
    missing = [f"{r.variable}: {r.missing}" for r in view.unassigned.itertuples(index=False) if r.missing not in ("0", 0)]
    text = (f"**{view.n} patients** analysed ({split}), **{view.positives}** with the outcome. "
            f"**{len(sizes)} subgroups**: {axes}. **{judged}** meet the plan's minimum of {plan.min_positives} "
            f"positives and {plan.min_negatives} negatives and are judged; the other {len(sizes) - judged} are "
            f"reported as INSUFFICIENT_EVIDENCE with the number of patients they would need. Intervals are "
            f"{100 * (1 - study.analysis.alpha):g}% ({study.analysis.ci_method} for proportions, DeLong for AUROC, "
            f"Wald for calibration, normal for the Brier score); the operating threshold is "
            f"{study.analysis.threshold:g} (positive iff score ≥ threshold).")
    if missing:
        text += (" Rows without a level (missing value or outside the cut points) join no subgroup of that "
                 "variable: " + "; ".join(missing) + ".")
    return text


def versions_markdown(study: Study) -> str:
    """Which version of the numbers a reader is looking at (suppressed or restricted), and where each is."""
    t = study.study.small_cell_threshold
    return (f"**Which version of the numbers is this?** Counts of people below {t} are shown as \"<{t}\" in every "
            "table, figure label and gate sentence of this report, and estimates that would let a reader recover "
            f"such a count (e.g. a sensitivity of 2/25) are *withheld*; a class count beside a suppressed one is "
            "shown as a bound (\"≥626\"). This applies to the executed notebook and to both of its HTML renderings "
            "(reviewer and full), which show the same outputs. Machine-readable results come in two versions in "
            "the run folder's `results/`:\n\n"
            f"- `subgroups.reviewer.json` — the **reviewer version**, suppressed exactly as this page;\n"
            "- `subgroups.json` — the **restricted version** with the unsuppressed counts and estimates, for the "
            "study team and auditors only; do not forward it to reviewers.\n\n"
            "The gates of both files, and therefore the run's summary page and `verdict.json`, are the suppressed "
            "ones. Suppression is row by row: a small intersection cell may still be derivable by subtracting "
            "other published rows (no secondary suppression across rows).")


def styled(frame: pd.DataFrame, *, text: tuple[str, ...] = ()):
    """A pandas Styler for the report: numbers and intervals on one line, the ``text`` columns left-aligned
    and wrapped (the reviewer HTML shows every character; no "..." truncation)."""
    style = display.styler(frame).set_properties(**{"white-space": "nowrap", "text-align": "right"})
    style = style.set_table_styles([{"selector": "th.row_heading", "props": [("white-space", "nowrap")]}], overwrite=False)
    wrap = [c for c in text if c in frame.columns]
    if wrap:
        style = style.set_properties(subset=wrap, **{"white-space": "normal", "text-align": "left", "min-width": "16em"})
    return style


def size_table(view: ReviewerView) -> pd.DataFrame:
    """Subgroups with their counts (suppressed), prevalence and whether they are judged (with the reason)."""
    prevalence = view.metrics[view.metrics.metric == "prevalence"].set_index(["variable", "level"])
    rows = []
    for r in view.subgroups.itertuples(index=False):
        p = prevalence.loc[(r.variable, r.level)]
        rows.append({"Variable": r.variable, "Level": r.level, "n": r.n, "Positives": r.positives,
                     "Negatives": r.negatives, "Prevalence": _cell(p), "Judged": "yes" if r.judged else "no",
                     "Why not": r.reason})
    return pd.DataFrame(rows).set_index(["Variable", "Level"])


def heterogeneity_display(view: ReviewerView, study: Study) -> pd.DataFrame:
    """The heterogeneity tests, formatted: statistic, df, p and p adjusted by the plan's method."""
    method = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg"}[study.analysis.multiplicity]
    h = view.heterogeneity
    out = pd.DataFrame({
        "Variable": h.variable, "Metric": [LABELS[m] for m in h.metric], "Test": h.test,
        "Statistic": [f"{s:.2f}" if s == s else "—" for s in h.statistic], "df": h.df,
        "p": [format_p(p) for p in h.p_value], f"p adjusted ({method})": [format_p(p) for p in h.p_adjusted],
        "Levels left out": [e or "—" for e in h.levels_excluded], "Note": h.reason,
    })
    return out.set_index(["Variable", "Metric"])


def reference_display(view: ReviewerView) -> pd.DataFrame:
    """Level − reference differences, one row per level, one column per metric ("0.05 (0.01–0.09)")."""
    r = view.versus_reference
    if r.empty:
        return pd.DataFrame()
    shown = [("withheld" if w else format_interval(e, lo, hi, 3)) for e, lo, hi, w in
             zip(r.estimate, r.lower, r.upper, r.withheld)]
    out = pd.DataFrame({"Variable": r.variable, "Comparison": [f"{lv} − {ref}" for lv, ref in zip(r.level, r.reference)],
                        "Metric": [LABELS[m] for m in r.metric], "Difference (interval)": shown,
                        "Note": [x or "" for x in r.reason]})
    return out.set_index(["Variable", "Comparison", "Metric"])


def gates_display(view: ReviewerView) -> pd.DataFrame:
    """Every judged gate, indexed by its id (gate[subgroup]): metric, estimate with interval, rule, verdict,
    whether it blocks the release, and the sentence."""
    rows = [{"Id": g.id, "Metric": g.subject.split(": ", 1)[-1],
             "Estimate (interval)": format_interval(g.estimate, g.lower, g.upper, 3),
             "Rule": g.rule, "Verdict": g.verdict.replace("_", " "), "Blocks release": "yes" if g.blocking_failure else "no",
             "Why": g.sentence} for g in view.gates]
    columns = ["Id", "Metric", "Estimate (interval)", "Rule", "Verdict", "Blocks release", "Why"]
    return pd.DataFrame(rows, columns=columns).set_index("Id")


def sample_size_display(view: ReviewerView, study: Study) -> pd.DataFrame:
    """For subgroups below the minimum n: counts, what is needed and how many more patients."""
    s = view.sample_size
    if s.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "Variable": s.variable, "Level": s.level, "n": s.n, "Positives": s.positives, "Negatives": s.negatives,
        "Positives needed": s.needed_positives, "Negatives needed": s.needed_negatives,
        "More patients (about)": [f"{int(m):,}" if m == m and m is not None else "—" for m in s.more_patients],
        "Prevalence used": s.prevalence_basis, "Why": s.reason,
    }).set_index(["Variable", "Level"])


def verdict_markdown(view: ReviewerView, study: Study) -> str:
    """The stage's verdict in words: counts per verdict, what blocks, and the policy for insufficient evidence."""
    verdicts = [g.verdict for g in view.gates]
    if not verdicts:
        return "No subgroup gates are declared in the plan: this stage reports estimates only."
    count = {v: verdicts.count(v) for v in gates.VERDICTS}
    blocking = [g for g in view.gates if g.blocking_failure]
    overall = gates.overall(view.gates)
    policy = []
    for gate in study.subgroups.gates:
        policy.append(f"{gate.id}: insufficient evidence {'blocks' if gate.insufficient_evidence_blocks else 'does not block'}")
    text = (f"**Stage verdict: {overall}.** {len(verdicts)} subgroup judgements: {count[gates.PASS]} PASS, "
            f"{count[gates.FAIL]} FAIL, {count[gates.INSUFFICIENT]} INSUFFICIENT_EVIDENCE; {len(blocking)} block the "
            f"release. The plan says: {'; '.join(policy)}. A FAIL means the interval shows the subgroup misses the "
            "criterion; INSUFFICIENT_EVIDENCE means the data cannot tell (too few patients, or the metric is not "
            "estimable) — it is not a pass.")
    return text
