"""Differences of estimates from independent samples, with MOVER intervals built from each one's interval."""

from __future__ import annotations

import math

from studylib.stats._estimate import Estimate

__all__ = ["mover_difference"]


def mover_difference(a: Estimate, b: Estimate, method: str = "mover") -> Estimate:
    """``a − b`` for estimates from independent samples, with the MOVER interval of Zou & Donner.

    Parameters
    ----------
    a, b : Estimate
        Estimates of independent samples, each with its interval (of the same level).
    method : str, default "mover"
        The ``method`` of the result.

    Returns
    -------
    Estimate
        The difference, its interval, ``se = sqrt(se_a² + se_b²)`` (NaN when either is unknown);
        undefined, with the first reason found, when either estimate is undefined.

    Notes
    -----
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
