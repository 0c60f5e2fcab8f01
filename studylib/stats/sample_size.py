"""Sample size for estimating a proportion to a given precision (sensitivity, specificity)."""

from __future__ import annotations

import math

from scipy.special import ndtri

__all__ = ["sample_size"]


def sample_size(p: float, width: float, alpha: float = 0.05) -> int:
    """Cases needed for a proportion ``p`` to have a ``1 − alpha`` Wald interval of total width ``width``.

    Parameters
    ----------
    p : float in [0, 1]
        The anticipated proportion (e.g. the expected sensitivity).
    width : float in (0, 1]
        Total width of the interval (twice the margin of error).
    alpha : float, default 0.05
        The interval has coverage ``1 − alpha``.

    Returns
    -------
    int
        ``n = z² p (1 − p) / (width / 2)²``, rounded up: the number of *positives* needed to estimate
        a sensitivity ``p`` (of negatives for a specificity), Buderer (1996). Dividing by the
        prevalence gives the number of patients.

    Raises
    ------
    ValueError
        If ``width`` is not in (0, 1] or ``p`` not in [0, 1].

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
