"""How numbers read in studylib: one formatter for every page, table, figure, sentence and JSON text.

A foundation module like :mod:`studylib.errors`: standard library only, imported by every layer that
writes text for people (``judge`` for gate sentences, ``stages`` for the text of their results,
``report`` for tables and pages). The small-cell rule itself lives in :mod:`studylib.judge.suppression`;
this module only spells what it decided (:data:`WITHHELD`).

Conventions
-----------
- Fixed decimals per quantity (3 for probabilities, AUROC, Brier and differences; 2 for SMDs and
  calibration slopes on plots); a value that would print as zero is shown with one significant digit.
- Undefined values (None, NaN, ±inf) print as :data:`UNDEFINED` unless the caller names another text.
- Intervals read ``0.749 (0.704–0.789)``; when a bound is negative or the value is signed, ``to``
  replaces the dash (``−0.09–0.15`` would read as a range of negative numbers).
- p-values print ``<0.001`` below 0.001 and with three decimals otherwise.
- Counts carry thousands separators.
"""

from __future__ import annotations

import math

UNDEFINED = "—"
WITHHELD = "withheld"


def _finite(x) -> float | None:
    """``x`` as a finite float, or None when it is missing, not a number or infinite."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def number(x, digits: int = 3, *, signed: bool = False, undefined: str = UNDEFINED, tiny: bool = True) -> str:
    """A number with ``digits`` decimals.

    Parameters
    ----------
    x : float or None
        The value.
    digits : int
        Decimals.
    signed : bool
        Always show the sign (differences).
    undefined : str
        Text for a missing or non-finite value.
    tiny : bool
        Show a non-zero value that would round to zero with one significant digit (``0.0004``)
        instead of ``0.000``.

    Examples
    --------
    >>> number(0.74912), number(0.0004), number(-0.02, signed=True), number(float("nan"))
    ('0.749', '0.0004', '-0.020', '—')
    """
    value = _finite(x)
    if value is None:
        return undefined
    if tiny and value != 0 and abs(value) < 0.5 * 10 ** -digits:
        return f"{value:+.1g}" if signed else f"{value:.1g}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def interval(estimate, lower, upper, digits: int = 3, *, signed: bool = False, undefined: str = UNDEFINED,
             no_interval: str = "") -> str:
    """An estimate with its interval: ``0.749 (0.704–0.789)``.

    Parameters
    ----------
    estimate, lower, upper : float or None
        The estimate and its bounds.
    digits : int
        Decimals of all three.
    signed : bool
        Show signs (differences); the bounds are then joined by ``to``.
    undefined : str
        Text when the estimate is undefined.
    no_interval : str
        Appended to the estimate when the interval is undefined (e.g. ``" (interval undefined)"``).

    Examples
    --------
    >>> interval(0.749, 0.704, 0.789), interval(0.03, -0.09, 0.15), interval(0.5, float("nan"), 1)
    ('0.749 (0.704–0.789)', '0.030 (-0.090 to 0.150)', '0.500')
    """
    if _finite(estimate) is None:
        return undefined
    shown = number(estimate, digits, signed=signed)
    low, high = _finite(lower), _finite(upper)
    if low is None or high is None:
        return shown + no_interval
    joint = " to " if signed or low < 0 or high < 0 else "–"
    return f"{shown} ({number(low, digits, signed=signed)}{joint}{number(high, digits, signed=signed)})"


def p_value(p, *, undefined: str = UNDEFINED) -> str:
    """A p-value: ``<0.001`` below 0.001, else three decimals.

    Examples
    --------
    >>> p_value(0.0002), p_value(0.0312), p_value(None)
    ('<0.001', '0.031', '—')
    """
    value = _finite(p)
    if value is None:
        return undefined
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def percent(fraction, digits: int = 1, *, undefined: str = UNDEFINED) -> str:
    """A fraction as a percentage: ``0.1234`` → ``12.3%``.

    Examples
    --------
    >>> percent(0.1234), percent(1), percent(None)
    ('12.3%', '100.0%', '—')
    """
    value = _finite(fraction)
    return undefined if value is None else f"{100 * value:.{digits}f}%"


def count(n, *, undefined: str = UNDEFINED) -> str:
    """A count with thousands separators.

    Examples
    --------
    >>> count(7874), count(0), count(None)
    ('7,874', '0', '—')
    """
    value = _finite(n)
    if value is None or value != int(value):
        return undefined
    return f"{int(value):,}"


def confidence_level(alpha: float) -> str:
    """The confidence level of two-sided intervals at ``alpha``: ``0.05`` → ``95%``.

    Examples
    --------
    >>> confidence_level(0.05), confidence_level(0.1), confidence_level(0.001)
    ('95%', '90%', '99.9%')
    """
    return f"{100 * (1 - alpha):g}%"
