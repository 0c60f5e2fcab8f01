"""Adjustment of p-values for multiple comparisons (Holm; Benjamini–Hochberg)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["adjust_pvalues", "ADJUST_METHODS"]

ADJUST_METHODS = ("holm", "fdr_bh")


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of a non-empty array without NaN (the formulas of statsmodels' multipletests)."""
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        # step-down: max over k <= i of (m - k + 1) p_(k)
        adjusted = np.maximum.accumulate(ranked * np.arange(m, 0, -1))
    else:
        # step-up: min over k >= i of m p_(k) / k
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def adjust_pvalues(p, method: str = "holm"):
    """Adjusted p-values controlling the family-wise error rate (Holm) or the FDR (BH).

    Parameters
    ----------
    p : array_like of float in [0, 1]
        Unadjusted p-values of one family of tests. NaN marks a test that was not performed
        (e.g. a subgroup below the minimum n).
    method : {"holm", "fdr_bh"}, default "holm"
        ``"holm"``: Holm's step-down procedure, strong control of the family-wise error rate.
        ``"fdr_bh"``: Benjamini–Hochberg step-up, controls the false discovery rate (independent or
        positively dependent tests).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values, same shape and order as ``p`` (a Series with the same index if ``p`` is a
        Series), each in [0, 1] and never below its unadjusted value.

    Raises
    ------
    ValueError
        Unknown method, infinite values or values outside [0, 1], or ``p`` not one-dimensional.

    Notes
    -----
    NaN is passed through as NaN, and the family consists of the non-NaN p-values only: ``m`` is
    their count (a test not performed is not counted). Holm: with ``p_(1) <= ... <= p_(m)``,
    ``adj_(i) = min(1, max_{k <= i} (m - k + 1) p_(k))``; BH: ``adj_(i) = min(1, min_{k >= i} m p_(k) / k)``.
    These are the formulas of statsmodels ``multipletests`` (tested equal to it), computed directly
    because ``multipletests`` runs a garbage collection on every call (~50 ms), too slow for
    hundreds of subgroup families. Tied p-values get equal adjusted values; an empty input gives an
    empty output.

    References
    ----------
    .. [1] Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat.
       1979;6(2):65-70. (JSTOR 4615733; no DOI)
    .. [2] Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful
       approach to multiple testing. J R Stat Soc Series B. 1995;57(1):289-300.
       doi:10.1111/j.2517-6161.1995.tb02031.x

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, float("nan"), 0.03], method="holm").tolist()
    [0.03, 0.06, nan, 0.06]
    """
    if method not in ADJUST_METHODS:
        valid = ", ".join(repr(m) for m in ADJUST_METHODS)
        raise ValueError(f"method must be one of {valid}; got {method!r}")
    index = p.index if isinstance(p, pd.Series) else None
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"p must be one-dimensional; got shape {arr.shape}")
    present = ~np.isnan(arr)
    bad = present & ((arr < 0) | (arr > 1) | ~np.isfinite(arr))
    if bad.any():
        pos = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(f"p must hold p-values in [0, 1] (NaN allowed); got {arr[bad][:5].tolist()} at positions {pos}")
    out = np.full(arr.shape, np.nan)
    if present.any():
        out[present] = _adjust(arr[present], method)
    if index is not None:
        return pd.Series(out, index=index, name=getattr(p, "name", None))
    return out
