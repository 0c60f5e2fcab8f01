"""Decision-curve analysis: net benefit of treating by the model against treat-all and treat-none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.stats._validate import as_labels, as_scores, same_length, warn_undefined

__all__ = ["net_benefit"]

_COLUMNS = ["threshold", "net_benefit_model", "net_benefit_all", "net_benefit_none"]


def _as_thresholds(thresholds) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"thresholds must be a number or a one-dimensional sequence; got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr >= 1)
    if bad.any():
        found = arr[bad][:5].tolist()
        raise ValueError(
            f"thresholds must be threshold probabilities in [0, 1); got {found} "
            "(at 1 the harm-to-benefit weight t / (1 - t) is infinite)"
        )
    return arr


def net_benefit(y, prob, thresholds) -> pd.DataFrame:
    """Net benefit of the model, of treating everyone and of treating no one, per threshold.

    Parameters
    ----------
    y : array_like of {0, 1} or bool
        Observed outcomes (1 = has the condition that treatment would benefit).
    prob : array_like of float in [0, 1]
        Predicted probabilities.
    thresholds : float or array_like of float in [0, 1)
        Threshold probabilities ``t``: the risk at which a patient would accept treatment.

    Returns
    -------
    pandas.DataFrame
        One row per threshold, in the order given, with columns ``threshold``,
        ``net_benefit_model``, ``net_benefit_all`` and ``net_benefit_none``.

    Raises
    ------
    ValueError
        Lengths differ, labels not binary, missing values, probabilities outside [0, 1], or a
        threshold outside [0, 1).

    Warns
    -----
    UndefinedMetricWarning
        When ``n = 0``; the net benefits are then NaN.

    Notes
    -----
    Rule: treat iff ``prob >= t`` (a probability tied with the threshold is treated). With ``n``
    patients, ``TP`` and ``FP`` the treated patients with and without the condition,
    ``net_benefit_model = TP/n - FP/n · t/(1 - t)``; treat-all is the same with everybody treated,
    ``prevalence - (1 - prevalence) · t/(1 - t)``; treat-none is 0. Net benefit is in units of true
    positives per patient. At ``t = 0`` everyone is treated and both the model and treat-all equal
    the prevalence; ``t = 1`` is rejected (infinite weight). The counts use one
    sort, so many thresholds cost little (about 0.1 s for 10^6 rows).

    References
    ----------
    .. [1] Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction
       models. Med Decis Making. 2006;26(6):565-574. doi:10.1177/0272989X06295361

    Examples
    --------
    Ten patients, 4 with the condition; at t = 0.2 the model treats 3 true and 1 false positive:
    net benefit ``3/10 - 1/10 · 0.25 = 0.275``.

    >>> y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    >>> p = [0.9, 0.8, 0.7, 0.1, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1]
    >>> net_benefit(y, p, [0.2])["net_benefit_model"].round(4).tolist()
    [0.275]
    """
    y = as_labels(y, "y")
    prob = as_scores(prob, "prob", probability=True)
    n = same_length(y=y, prob=prob)
    t = _as_thresholds(thresholds)
    if n == 0:
        warn_undefined("net_benefit: n = 0, no observations; net benefits are NaN")
        nan = np.full(t.shape, np.nan)
        return pd.DataFrame(dict(zip(_COLUMNS, (t, nan, nan, np.zeros_like(t)))))

    order = np.argsort(prob, kind="stable")
    sorted_prob = prob[order]
    # events among the i lowest probabilities, for i = 0..n
    cum_events = np.concatenate(([0], np.cumsum(y[order], dtype=np.int64)))
    first_treated = np.searchsorted(sorted_prob, t, side="left")  # prob >= t from here on
    treated = n - first_treated
    tp = cum_events[-1] - cum_events[first_treated]
    fp = treated - tp
    weight = t / (1 - t)
    prevalence = cum_events[-1] / n
    return pd.DataFrame({
        "threshold": t,
        "net_benefit_model": tp / n - fp / n * weight,
        "net_benefit_all": prevalence - (1 - prevalence) * weight,
        "net_benefit_none": np.zeros_like(t),
    })
