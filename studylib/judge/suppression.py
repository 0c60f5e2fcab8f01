"""Small-cell suppression: counts of people below the study's threshold are never shown to reviewers.

A count ``c`` with ``1 <= c < T`` (``T`` = ``study.small_cell_threshold``, default 5) is a *small cell*
and is shown as ``"<T"``. Zero is shown (it identifies nobody). Suppression is applied to every output a
reviewer sees: tables, plot labels, gate sentences, the rendered reviewer HTML and the reviewer version
of a stage's results JSON (``results/<stage>.reviewer.json``, written by
:func:`studylib.evidence.results.record_reviewer` through the safety net :func:`suppress_counts`).

Rules, applied row by row (one subgroup or one row of a table):

1. *Primary.* A small count is shown as ``"<T"``.
2. *Complement.* When a row shows a total and one of its two parts is small, the other part is shown
   as a bound (``"≥ n − T + 1"``), so that the small part cannot be recovered by subtraction. When the
   total itself is small, every count of the row is ``"<T"`` (zeros stay 0).
3. *Derived values.* An estimate that would let a reader recover a small count is withheld: every
   estimate of a row whose total or class counts are small, and a proportion whose numerator or
   denominator − numerator is small (e.g. a sensitivity of 2/25 would reveal 2 true positives).

Known limitation (stated in every report that uses this module): there is no *secondary* suppression
across rows. A small intersection cell can still be derived by subtracting published counts of other
rows (e.g. a marginal level minus the other cells of the intersection). Suppressing enough other cells
to prevent this is the cell-suppression problem (Cox 1980), which this module does not solve.

The rules are pure functions on counts, tables and plain JSON values; this module does no I/O.

References
----------
.. [1] Cox LH. Suppression methodology and statistical disclosure control. J Am Stat Assoc.
   1980;75(370):377-385. doi:10.1080/01621459.1980.10477481
.. [2] Centers for Medicare & Medicaid Services. CMS cell size suppression policy (cells of 1 to 10
   beneficiaries, and values from which they can be derived, are not displayed). 2020.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from studylib import formatting

#: keys of results JSON whose integer values count people (the safety net of :func:`suppress_counts`)
COUNT_KEYS = frozenset({
    "n", "positives", "negatives", "numerator", "denominator", "events", "non_events", "tp", "fp", "tn", "fn",
    "missing", "rows", "count",
})
#: estimate-like columns withheld when a row's counts would be disclosed by them
ESTIMATE_COLUMNS = ("estimate", "lower", "upper", "se")


def _as_int(count) -> int | None:
    """The count as an int, or None when it is missing / not a whole number."""
    if count is None or isinstance(count, bool):
        return None
    if isinstance(count, str):
        return None
    try:
        value = float(count)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def is_small(count, threshold: int) -> bool:
    """True for a count ``1 <= count < threshold`` (a small cell); False for 0, missing or larger counts."""
    value = _as_int(count)
    return value is not None and 1 <= value < threshold


def shown_count(count, threshold: int) -> str:
    """A count as reviewers see it: ``"<5"`` for a small cell, else the number with thousands separators
    (spelled by :func:`studylib.formatting.fewer_than` and :func:`studylib.formatting.count`).

    Examples
    --------
    >>> shown_count(3, 5), shown_count(0, 5), shown_count(1234, 5), shown_count(None, 5)
    ('<5', '0', '1,234', '—')
    """
    value = _as_int(count)
    return formatting.fewer_than(threshold) if is_small(value, threshold) else formatting.count(value)


def split_counts(total, part_a, part_b, threshold: int) -> tuple[str, str, str, bool]:
    """Display strings of a total and its two parts (e.g. n, positives, negatives) and whether any is small.

    Returns ``(total, part_a, part_b, small)``. A small part is ``"<T"`` and its complement is shown as
    the bound ``"≥ total − T + 1"`` (rule 2 of the module docstring); a small total makes every
    non-zero count ``"<T"``.

    Examples
    --------
    >>> split_counts(630, 3, 627, 5)
    ('630', '<5', '≥626', True)
    >>> split_counts(4, 1, 3, 5)
    ('<5', '<5', '<5', True)
    >>> split_counts(630, 25, 605, 5)
    ('630', '25', '605', False)
    """
    total_i, a, b = _as_int(total), _as_int(part_a), _as_int(part_b)
    if is_small(total_i, threshold):
        return (formatting.fewer_than(threshold), shown_count(a, threshold), shown_count(b, threshold), True)
    a_small, b_small = is_small(a, threshold), is_small(b, threshold)
    shown_a, shown_b = shown_count(a, threshold), shown_count(b, threshold)
    if a_small and not b_small and total_i is not None:
        shown_b = formatting.at_least(total_i - threshold + 1)
    if b_small and not a_small and total_i is not None:
        shown_a = formatting.at_least(total_i - threshold + 1)
    return shown_count(total_i, threshold), shown_a, shown_b, a_small or b_small


def fraction_disclosive(numerator, denominator, threshold: int) -> bool:
    """True when ``numerator / denominator`` would reveal a small cell: the numerator or the
    complement ``denominator − numerator`` is small, or the denominator is."""
    x, n = _as_int(numerator), _as_int(denominator)
    if x is None or n is None:
        return False
    return is_small(x, threshold) or is_small(n - x, threshold) or is_small(n, threshold)


def suppress_table(frame: pd.DataFrame, threshold: int, *, counts: tuple[str, str, str] | None = ("n", "positives", "negatives"),
                   fraction: tuple[str, str] | None = ("numerator", "denominator"),
                   other_counts: Iterable[str] = (), estimates: Iterable[str] = ESTIMATE_COLUMNS) -> pd.DataFrame:
    """The reviewer version of a tidy table: small counts as ``"<T"``, disclosive estimates withheld.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit (e.g. subgroup × metric).
    threshold : int
        The study's small-cell threshold ``T``.
    counts : (total, part_a, part_b) column names, optional
        A total and its two parts (rule 2). Columns absent from ``frame`` are ignored.
    fraction : (numerator, denominator) column names, optional
        The counts behind a proportion estimate of the row (rule 3); NaN where the row is no proportion.
    other_counts : column names
        Further count columns, each suppressed on its own (rule 1).
    estimates : column names
        Columns set to NaN when the row is withheld.

    Returns
    -------
    pandas.DataFrame
        A copy with count columns as text (``"1,234"``, ``"<5"``, ``"≥626"``), withheld estimates NaN and a
        boolean column ``withheld``.
    """
    out = frame.copy()
    withheld = np.zeros(len(out), dtype=bool)
    if counts is not None and all(c in out.columns for c in counts):
        total, a, b = counts
        shown = [split_counts(t, x, y, threshold) for t, x, y in zip(out[total], out[a], out[b])]
        for position, column in enumerate(counts):
            out[column] = [s[position] for s in shown]
        withheld |= np.array([s[3] for s in shown], dtype=bool)
    if fraction is not None and all(c in frame.columns for c in fraction):
        numerator, denominator = fraction
        disclosive = [fraction_disclosive(x, n, threshold) for x, n in zip(frame[numerator], frame[denominator])]
        withheld |= np.array(disclosive, dtype=bool)
        out[numerator] = [shown_count(x, threshold) if _as_int(x) is not None else "" for x in frame[numerator]]
        out[denominator] = [shown_count(x, threshold) if _as_int(x) is not None else "" for x in frame[denominator]]
    for column in other_counts:
        if column in out.columns:
            out[column] = [shown_count(x, threshold) for x in frame[column]]
    for column in estimates:
        if column in out.columns:
            out[column] = out[column].astype(float).where(~withheld, np.nan)
    out["withheld"] = withheld
    return out


def suppress_counts(value, threshold: int, keys: frozenset[str] = COUNT_KEYS):
    """Safety net for results JSON: every small integer under a count key (``n``, ``positives``, ...)
    becomes ``"<T"``, recursively through dicts and lists.

    ``value`` holds plain JSON values only (dicts, lists, strings, numbers, booleans, None), e.g. the
    output of :func:`studylib.evidence.results.to_jsonable`; anything else (a DataFrame, a dataclass)
    raises ``TypeError``, so that no count can slip through unexamined. Returns a new value.
    """
    def walk(node, key=None):
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if node is not None and not isinstance(node, (str, int, float, bool)):
            raise TypeError(f"suppress_counts takes plain JSON values; found {type(node).__name__} under "
                            f"'{key}' (convert with studylib.evidence.results.to_jsonable first)")
        if key in keys and isinstance(node, (int, float)) and not isinstance(node, bool) and is_small(node, threshold):
            return formatting.fewer_than(threshold)
        return node

    return walk(value)


def small_counts(value, threshold: int, keys: frozenset[str] = COUNT_KEYS, path: str = "") -> list[str]:
    """Paths (``metrics[3].positives``) of every small count left under a count key; empty when safe."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if k in keys and isinstance(v, (int, float)) and not isinstance(v, bool) and is_small(v, threshold):
                found.append(sub)
            else:
                found += small_counts(v, threshold, keys, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += small_counts(v, threshold, keys, f"{path}[{i}]")
    return found
