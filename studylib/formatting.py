"""How numbers read in studylib: one formatter for every page, table, figure, sentence and JSON text.

A foundation module like :mod:`studylib.errors`: standard library only, imported by every layer that
writes text for people (``judge`` for gate sentences, ``stages`` for the text of their results,
``report`` for tables, figures and pages). The small-cell rule itself lives in
:mod:`studylib.judge.suppression`; this module only spells what it decided (:func:`fewer_than`,
:func:`at_least`, :data:`WITHHELD`). No other module defines a number formatter or builds the
confidence-level string (``tests/test_formatting.py`` checks the package source).

Conventions
-----------
- Fixed decimals per quantity (3 for probabilities, AUROC, Brier and differences; 2 for subgroup
  tables, SMDs and PSI on plots); a non-zero value smaller than the last decimal shown (below
  ``10**-digits`` in magnitude) is shown with one significant digit (``0.0004``) instead of ``0.000``.
- Undefined values (None, NaN, ±inf) print as :data:`UNDEFINED` unless the caller names another text;
  an undefined estimate with a known cause reads ``— (no positive cases)`` (:func:`estimate`).
- Negative numbers carry the ASCII hyphen-minus (``-0.090``), as Python prints them.
- Intervals read ``0.749 (0.704–0.789)``; when a bound is negative or the value is signed, ``to``
  replaces the dash (``-0.09–0.15`` would read as a range of negative numbers); an estimate whose
  interval is undefined reads ``0.500 (interval undefined)``.
- p-values print ``<0.001`` below 0.001 and with three decimals otherwise.
- Counts carry thousands separators; a small cell reads ``<5`` and the complement of one ``≥626``.
- The confidence level of ``1 − alpha`` intervals reads ``95%`` (:func:`confidence_level`).

Text written into results JSON and ``verdict.json`` (gate rules and sentences) is frozen: those
callers pass the arguments that keep it byte-identical (``tiny=0``, ``undefined="undefined"``, ...).
"""

from __future__ import annotations

import math
import numbers

#: the one marker of an undefined (missing, NaN or infinite) value in tables, figures and pages
UNDEFINED = "—"
#: an estimate not shown because it would disclose a small cell
WITHHELD = "withheld"
#: appended to an estimate whose interval is undefined
NO_INTERVAL = " (interval undefined)"


def _finite(x) -> float | None:
    """``x`` as a finite float, or None when it is missing, not a number or infinite."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def number(x, digits: int = 3, *, signed: bool = False, undefined: str = UNDEFINED, tiny: int = 1) -> str:
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
    tiny : int
        Significant digits of a non-zero value smaller than ``10**-digits`` in magnitude (``0.0004``
        rather than ``0.000``); 0 (or False) shows it with ``digits`` decimals like any other value.

    Examples
    --------
    >>> number(0.74912), number(0.0004), number(-0.02, signed=True), number(float("nan"))
    ('0.749', '0.0004', '-0.020', '—')
    >>> number(0.0004, tiny=0), number(0.000123456, tiny=3), number(None, undefined="undefined")
    ('0.000', '0.000123', 'undefined')
    """
    value = _finite(x)
    if value is None:
        return undefined
    if tiny and value != 0 and abs(value) < 10 ** -digits:
        return f"{value:+.{tiny}g}" if signed else f"{value:.{tiny}g}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def interval(estimate, lower, upper, digits: int = 3, *, signed: bool = False, undefined: str = UNDEFINED,
             no_interval: str = NO_INTERVAL) -> str:
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
        Appended to the estimate when the interval is undefined.

    Examples
    --------
    >>> interval(0.749, 0.704, 0.789), interval(0.03, -0.09, 0.15), interval(0.5, float("nan"), 1)
    ('0.749 (0.704–0.789)', '0.030 (-0.090 to 0.150)', '0.500 (interval undefined)')
    """
    if _finite(estimate) is None:
        return undefined
    shown = number(estimate, digits, signed=signed)
    low, high = _finite(lower), _finite(upper)
    if low is None or high is None:
        return shown + no_interval
    joint = " to " if signed or low < 0 or high < 0 else "–"
    return f"{shown} ({number(low, digits, signed=signed)}{joint}{number(high, digits, signed=signed)})"


def estimate(e, digits: int = 3, *, signed: bool = False) -> str:
    """An estimate object (anything with ``estimate``, ``lower``, ``upper`` and optionally ``reason``,
    e.g. :class:`studylib.stats.Estimate`) as :func:`interval`; undefined with its cause when known.

    Examples
    --------
    >>> from types import SimpleNamespace as E
    >>> estimate(E(estimate=0.8, lower=0.75, upper=0.84)), estimate(E(estimate=None, lower=None, upper=None,
    ...                                                                  reason="no positive cases"))
    ('0.800 (0.750–0.840)', '— (no positive cases)')
    """
    reason = getattr(e, "reason", "")
    return interval(e.estimate, e.lower, e.upper, digits, signed=signed,
                    undefined=f"{UNDEFINED} ({reason})" if reason else UNDEFINED)


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
    """A count with thousands separators (integers exactly, however large).

    Examples
    --------
    >>> count(7874), count(0), count(None), count(12.0), count(12.5)
    ('7,874', '0', '—', '12', '—')
    """
    if isinstance(n, numbers.Integral) and not isinstance(n, bool):
        return f"{int(n):,}"
    value = _finite(n)
    if value is None or value != int(value):
        return undefined
    return f"{int(value):,}"


def fewer_than(threshold) -> str:
    """A small cell: a count below ``threshold``, not shown (``<5``); the rule is
    :func:`studylib.judge.suppression.is_small`.

    Examples
    --------
    >>> fewer_than(5), fewer_than(10)
    ('<5', '<10')
    """
    return f"<{count(threshold)}"


def at_least(n) -> str:
    """A count shown only as a lower bound (``≥626``), e.g. the complement of a small cell.

    Examples
    --------
    >>> at_least(626), at_least(1234)
    ('≥626', '≥1,234')
    """
    return f"≥{count(n)}"


#: decimals of each metric and statistic wherever it is shown (summary, stage tables, gate sentences, figure
#: labels): the one mapping of the formatter audit. Estimates on the probability or ratio scale (AUROC, rates as
#: fractions, calibration, O/E, Brier, PSI, differences) keep 3 so that a gate's estimate reads the same on the
#: summary, on its stage page and in its frozen JSON sentence; net benefit 4 (values near 0.01); z and SMD 2.
#: Rates shown as shares use :func:`percent` (1 decimal), counts :func:`count`, p-values :func:`p_value`.
DECIMALS = {"sensitivity": 3, "specificity": 3, "ppv": 3, "npv": 3, "accuracy": 3, "prevalence": 3, "auroc": 3,
            "auprc": 3, "calibration_slope": 3, "calibration_in_the_large": 3, "brier": 3, "oe_ratio": 3,
            "auroc_vs_baseline": 3, "psi": 3, "ks": 3, "net_benefit": 4, "z": 2, "smd": 2}


def decimals(metric: str) -> int:
    """Decimals of a metric or statistic (:data:`DECIMALS`; 3 for one not listed).

    Examples
    --------
    >>> decimals("auroc"), decimals("net_benefit"), decimals("smd")
    (3, 4, 2)
    """
    return DECIMALS.get(metric, 3)


def is_difference(subject: str) -> bool:
    """Whether a gate's subject is a difference (``candidate − baseline``), whose numbers carry their sign.

    Examples
    --------
    >>> is_difference("AUROC: candidate − baseline"), is_difference("sensitivity (candidate)")
    (True, False)
    """
    return " − " in subject


def confidence_level(alpha: float) -> str:
    """The confidence level of two-sided intervals at ``alpha``: ``0.05`` → ``95%``.

    Examples
    --------
    >>> confidence_level(0.05), confidence_level(0.1), confidence_level(0.001)
    ('95%', '90%', '99.9%')
    """
    return f"{100 * (1 - alpha):g}%"
