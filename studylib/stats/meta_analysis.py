"""Random-effects meta-analysis of per-site estimates: pooled estimate, τ², I² and a prediction interval.

Each site ``i`` gives an estimate ``y_i`` with within-site variance ``v_i`` on a scale where it is roughly
normal (AUROC and proportions on the logit scale, O/E on the log scale, the calibration slope as it is).
The model is ``y_i ~ N(μ, v_i + τ²)``; :func:`random_effects` estimates τ² by REML or DerSimonian–Laird,
μ by inverse-variance weights ``1/(v_i + τ²)``, its interval by the normal approximation or by
Hartung–Knapp (t with ``k − 1`` df and the weighted residual scale), and the ``1 − alpha`` prediction
interval of the true value at a new site, ``μ ± crit · sqrt(τ² + SE(μ)²)``, with ``crit`` the same
quantile as the interval (the convention of R metafor's ``predict()``, which the tests reproduce to 1e-6).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["MetaAnalysis", "random_effects", "TAU2_METHODS", "MIN_SITES_FOR_PREDICTION"]

#: estimators of the between-site variance τ²
TAU2_METHODS = ("reml", "dl")
#: a prediction interval for a new site needs τ² from at least this many sites
MIN_SITES_FOR_PREDICTION = 3


@dataclass(frozen=True)
class MetaAnalysis:
    """A random-effects meta-analysis on the analysis scale (back-transform with the caller's inverse link).

    Attributes
    ----------
    k : int
        Number of sites with a defined estimate.
    estimate, se, lower, upper : float
        Pooled estimate μ, its standard error (Hartung–Knapp scaled with ``test="knha"``) and ``1 − alpha``
        interval.
    tau2, i2, q, q_p_value : float
        Between-site variance, I² (in [0, 1]), Cochran's Q and its p-value (``k − 1`` df).
    pi_lower, pi_upper : float
        ``1 − alpha`` prediction interval of the true value at a new site; NaN with fewer than
        :data:`MIN_SITES_FOR_PREDICTION` sites (``pi_reason`` says why).
    method, test : str
        τ² estimator (``"reml"``/``"dl"``) and interval method (``"z"``/``"knha"``).
    pi_reason, reason : str
        Why the prediction interval, or everything, is undefined.
    """

    k: int
    estimate: float
    se: float
    lower: float
    upper: float
    tau2: float
    i2: float
    q: float
    q_p_value: float
    pi_lower: float
    pi_upper: float
    method: str
    test: str
    pi_reason: str = ""
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _reml_tau2(y: np.ndarray, v: np.ndarray, *, tol: float = 1e-12, max_iter: int = 1000) -> float:
    """REML τ² by Fisher scoring, truncated at 0 (Viechtbauer 2005, eq. 12)."""
    tau2 = max(0.0, _dl_tau2(y, v))
    for _ in range(max_iter):
        w = 1 / (v + tau2)
        mu = np.dot(w, y) / w.sum()
        # Fisher scoring step of the REML log-likelihood: (score) / (information)
        p_diag_resid = w * (y - mu)
        score = 0.5 * (np.dot(p_diag_resid, p_diag_resid) - (w.sum() - np.dot(w, w) / w.sum()))
        # trace(P P) with P = W - W 1 1' W / sum(w)
        sw, sw2, sw3 = w.sum(), np.dot(w, w), np.sum(w ** 3)
        trace_pp = sw2 - 2 * sw3 / sw + sw2 ** 2 / sw ** 2
        new = max(0.0, tau2 + score / (0.5 * trace_pp))
        if abs(new - tau2) < tol:
            return new
        tau2 = new
    return tau2


def _dl_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian–Laird τ², truncated at 0."""
    w = 1 / v
    mu = np.dot(w, y) / w.sum()
    q = float(np.dot(w, (y - mu) ** 2))
    c = w.sum() - np.dot(w, w) / w.sum()
    return max(0.0, (q - (len(y) - 1)) / c) if c > 0 else 0.0


def random_effects(estimates, variances, *, method: str = "reml", test: str = "knha",
                   alpha: float = 0.05) -> MetaAnalysis:
    """Random-effects meta-analysis of ``estimates`` with within-site ``variances``.

    Parameters
    ----------
    estimates, variances : array-like of shape (k,)
        Site estimates and their variances on the analysis scale; sites whose estimate or variance is not
        finite, or whose variance is not positive, are left out (``k`` counts the others).
    method : {"reml", "dl"}
        Estimator of τ²: restricted maximum likelihood (Fisher scoring), or DerSimonian–Laird.
    test : {"knha", "z"}
        Interval of μ: Hartung–Knapp (t with k − 1 df, SE scaled by the weighted residual variance, not
        truncated, as metafor's ``test="knha"``), or the normal approximation.
    alpha : float
        The interval and the prediction interval are ``1 − alpha``.

    Returns
    -------
    MetaAnalysis
        With one site: its estimate, no τ², no prediction interval. With none: undefined with the reason.
        With fewer than 3 sites the prediction interval is NaN with the reason (τ² rests on too few sites).

    Notes
    -----
    I² is metafor's ``100 τ² / (τ² + s²)`` with the typical within-site variance
    ``s² = (k − 1) Σw / ((Σw)² − Σw²)``, ``w = 1/v`` (Higgins and Thompson 2002), here as a fraction.

    References
    ----------
    .. [1] DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials. 1986;7(3):177-188.
       doi:10.1016/0197-2456(86)90046-2
    .. [2] Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects model.
       J Educ Behav Stat. 2005;30(3):261-293. doi:10.3102/10769986030003261
    .. [3] Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical trials with binary
       outcome. Stat Med. 2001;20(24):3875-3889. doi:10.1002/sim.1009
    .. [4] Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med.
       2002;21(11):1539-1558. doi:10.1002/sim.1186
    .. [5] Riley RD, Higgins JPT, Deeks JJ. Interpretation of random effects meta-analyses. BMJ.
       2011;342:d549. doi:10.1136/bmj.d549
    .. [6] Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw.
       2010;36(3):1-48. doi:10.18637/jss.v036.i03
    """
    if method not in TAU2_METHODS:
        raise ValueError(f"method must be one of {', '.join(TAU2_METHODS)}; got {method!r}")
    if test not in ("knha", "z"):
        raise ValueError(f"test must be 'knha' or 'z'; got {test!r}")
    y_all = np.asarray(estimates, dtype=float)
    v_all = np.asarray(variances, dtype=float)
    keep = np.isfinite(y_all) & np.isfinite(v_all) & (v_all > 0)
    y, v = y_all[keep], v_all[keep]
    k = int(len(y))
    nan = math.nan
    if k == 0:
        return MetaAnalysis(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, method, test,
                            "no site has a defined estimate", "no site has a defined estimate")
    if k == 1:
        se = math.sqrt(v[0])
        z = float(sps.norm.isf(alpha / 2))
        reason = "one site: nothing to pool, no between-site variance"
        return MetaAnalysis(1, float(y[0]), se, float(y[0] - z * se), float(y[0] + z * se), nan, nan, nan, nan,
                            nan, nan, method, "z", reason)
    tau2 = _reml_tau2(y, v) if method == "reml" else _dl_tau2(y, v)
    w = 1 / (v + tau2)
    mu = float(np.dot(w, y) / w.sum())
    fixed_w = 1 / v
    mu_fixed = np.dot(fixed_w, y) / fixed_w.sum()
    q = float(np.dot(fixed_w, (y - mu_fixed) ** 2))
    q_p = float(sps.chi2.sf(q, k - 1))
    s2 = (k - 1) * fixed_w.sum() / (fixed_w.sum() ** 2 - np.dot(fixed_w, fixed_w))
    i2 = tau2 / (tau2 + s2)
    if test == "knha":
        se = math.sqrt(float(np.dot(w, (y - mu) ** 2)) / ((k - 1) * w.sum()))
        crit = float(sps.t.isf(alpha / 2, k - 1))
    else:
        se = math.sqrt(1 / w.sum())
        crit = float(sps.norm.isf(alpha / 2))
    lower, upper = mu - crit * se, mu + crit * se
    if k < MIN_SITES_FOR_PREDICTION:
        pi_lower = pi_upper = nan
        pi_reason = (f"{k} sites: a prediction interval for a new site needs the between-site variance from at "
                     f"least {MIN_SITES_FOR_PREDICTION} sites")
    else:
        half = crit * math.sqrt(tau2 + se * se)
        pi_lower, pi_upper, pi_reason = mu - half, mu + half, ""
    return MetaAnalysis(k, mu, se, lower, upper, float(tau2), float(i2), q, q_p, pi_lower, pi_upper, method, test,
                        pi_reason)
