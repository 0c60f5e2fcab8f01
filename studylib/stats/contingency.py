"""Pearson's chi-square test of a contingency table: the one chi-square path of the drift statistics.

:func:`studylib.stats.drift.chi2_test` (category labels of two samples), the count-based
:func:`studylib.stats.drift.chi2_from_counts` and the missingness test of
:func:`studylib.stats.drift.missingness_change` all end here. (Subgroup heterogeneity keeps its own
``contingency_test`` in :mod:`studylib.stats.heterogeneity`.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["PearsonChi2", "pearson_chi2"]


@dataclass(frozen=True)
class PearsonChi2:
    """Pearson's chi-square test of independence (homogeneity) of an r × c table.

    Attributes
    ----------
    statistic : float
        Pearson's ``X^2 = sum (O - E)^2 / E`` (with Yates' correction when asked for and the table is 2 × 2).
    dof : int
        ``(rows - 1)(columns - 1)`` of the table without empty rows and columns.
    p_value : float
        Upper tail of the chi-square distribution with ``dof`` degrees of freedom.
    """

    statistic: float
    dof: int
    p_value: float


def pearson_chi2(table, *, correction: bool = False) -> PearsonChi2:
    """Pearson's chi-square test that the rows of a contingency table share one distribution over the columns.

    Parameters
    ----------
    table : array_like, shape (r, c)
        Non-negative counts (integers, or floats holding integers).
    correction : bool, default False
        Yates' continuity correction, applied (by scipy) only when the table is 2 × 2 after empty rows
        and columns are dropped. Off by default: the plain Pearson statistic is the usual drift measure
        and the correction is conservative.

    Returns
    -------
    PearsonChi2
        Statistic, degrees of freedom and p-value.

    Raises
    ------
    ValueError
        The table is not two-dimensional, or holds negative or non-finite counts.

    Notes
    -----
    Rows and columns whose total is 0 are dropped first (their expected counts are 0: they carry no
    information and the statistic is undefined with them). When fewer than two rows or two columns
    remain nothing can differ: statistic 0, dof 0, p-value 1. Otherwise the result is scipy
    ``chi2_contingency(table, correction=correction)`` on the remaining table. Expected counts below 5
    make the chi-square approximation unreliable; merge rare categories first.

    References
    ----------
    .. [1] Pearson K. On the criterion that a given system of deviations from the probable in the
       case of a correlated system of variables is such that it can be reasonably supposed to have
       arisen from random sampling. Philos Mag. 1900;50(302):157-175.
       doi:10.1080/14786440009463897
    .. [2] Yates F. Contingency tables involving small numbers and the chi-square test. Suppl J R
       Stat Soc. 1934;1(2):217-235. doi:10.2307/2983604

    Examples
    --------
    Reference 50/50 against current 30/70 (expected 40/60 in both rows):
    ``X^2 = 2 (10^2/40 + 10^2/60) = 8.3333`` with 1 degree of freedom.

    >>> r = pearson_chi2([[50, 50], [30, 70]])
    >>> round(r.statistic, 4), r.dof, round(r.p_value, 4)
    (8.3333, 1, 0.0039)
    """
    counts = np.asarray(table)
    if counts.ndim != 2:
        raise ValueError(f"table must be two-dimensional (rows × columns of counts); got shape {counts.shape}")
    bad = ~np.isfinite(counts.astype(float)) | (counts < 0)
    if bad.any():
        raise ValueError(f"table must hold non-negative finite counts; got {counts[bad][:5].tolist()} "
                         f"at {np.argwhere(bad)[:5].tolist()}")
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if min(counts.shape) < 2:
        return PearsonChi2(0.0, 0, 1.0)
    res = sps.chi2_contingency(counts, correction=correction)
    return PearsonChi2(float(res.statistic), int(res.dof), float(res.pvalue))
