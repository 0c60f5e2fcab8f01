"""Small-cell suppression: counts of people below the study's threshold are never shown to reviewers.

A count ``c`` with ``1 <= c < T`` (``T`` = ``study.small_cell_threshold``, default 5) is a *small cell*
and is shown as ``"<T"``. Zero is shown (it identifies nobody), and so is an estimate of 0/N or N/N: its
counts are published in the same row, and the residual group disclosure (every member of a group shares
the outcome or the call) is documented in the README's privacy section (decision of issue 14). Suppression is applied to every output a
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

4. *Across rows.* Where the rows of a table add up to totals that are published (the levels of one
   variable add up to the cohort), a count hidden in one row would be recovered by subtracting the
   other rows from the total. :func:`protect` hides further cells (complementary suppression, shown as
   ``"withheld"``, never as ``"<T"``, since they are not small) until every row and every column that
   holds a hidden cell holds at least two, taking the smallest cells first so as to hide no more than
   needed. For tables of two columns (a count and its complement, e.g. missed and caught cases) this
   makes every hidden cell impossible to recover exactly from the row and column totals.

Participant flow (STARD 2015 item 19, TRIPOD item 13a): the number of records at each step of the
cohort construction and the number each criterion excluded are shown exactly. Every later count of
the report rests on the analysis cohort's size, so hiding one step's exclusions would not protect it
(it is the difference of two published sizes), and the flow counts records removed by a declared
criterion, not people with an outcome or a characteristic crossed with the outcome. Counts of the
outcome per split in the flow diagram follow the rule.

The cells of a two-way intersection (sex × age band) add up to the marginal levels in both
directions; :func:`protect_crossed` protects both class tables together. Known limitation (stated in
every report that uses this module): the cells of an intersection of three or more variables are
protected as one list, and can still be derived from the published marginal tables; suppressing
enough cells of linked tables of any dimension is the general cell-suppression problem (Cox 1980),
which this module does not solve.

The rules are pure functions on counts, tables and plain JSON values; this module does no I/O.

References
----------
.. [1] Cox LH. Suppression methodology and statistical disclosure control. J Am Stat Assoc.
   1980;75(370):377-385. doi:10.1080/01621459.1980.10477481
.. [2] Hundepool A, Domingo-Ferrer J, Franconi L, et al. Statistical Disclosure Control. Wiley; 2012.
   doi:10.1002/9781118348239 (chapter 4, primary and secondary cell suppression).
.. [3] Centers for Medicare & Medicaid Services. CMS cell size suppression policy (cells of 1 to 10
   beneficiaries, and values from which they can be derived, are not displayed). 2020.
"""

from __future__ import annotations

import math
import re
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


def withheld_label(threshold: int) -> str:
    """How a withheld estimate reads beside its verdict: ``"withheld (<5)"`` (never a bare dash).

    Examples
    --------
    >>> withheld_label(5)
    'withheld (<5)'
    """
    return f"{formatting.WITHHELD} ({formatting.fewer_than(threshold)})"


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
                   other_counts: Iterable[str] = (), estimates: Iterable[str] = ESTIMATE_COLUMNS,
                   texts: Iterable[str] = ("reason", "sentence", "note")) -> pd.DataFrame:
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
    texts : column names
        Text columns (reasons, sentences) passed through :func:`suppress_text`.

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
        # rule 2 on the proportion's own counts: a numerator whose complement (denominator − numerator) is
        # small is shown as a bound, so that the withheld estimate cannot be recovered from them
        shown = [split_counts(n, x, n - x, threshold) if _as_int(x) is not None and _as_int(n) is not None
                 else ("", shown_count(x, threshold) if _as_int(x) is not None else "", "", False)
                 for x, n in zip(frame[numerator], frame[denominator])]
        out[numerator] = [s[1] for s in shown]
        out[denominator] = [s[0] if _as_int(n) is not None else "" for s, n in zip(shown, frame[denominator])]
    for column in other_counts:
        if column in out.columns:
            out[column] = [shown_count(x, threshold) for x in frame[column]]
    for column in estimates:
        if column in out.columns:
            out[column] = out[column].astype(float).where(~withheld, np.nan)
    for column in texts:
        if column in out.columns:
            out[column] = [suppress_text(t, threshold) for t in out[column]]
    out["withheld"] = withheld
    return out


def suppress_counts(value, threshold: int, keys: frozenset[str] = COUNT_KEYS):
    """Safety net for results JSON: every small integer under a count key (``n``, ``positives``, ...)
    becomes ``"<T"``, and every string passes through :func:`suppress_text`, recursively through dicts
    and lists.

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
        if isinstance(node, str):
            return suppress_text(node, threshold)
        return node

    return walk(value)


def small_counts(value, threshold: int, keys: frozenset[str] = COUNT_KEYS, path: str = "") -> list[str]:
    """Paths (``metrics[3].positives``) of every small count left under a count key or in a string (with
    the phrase); empty when safe."""
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
    elif isinstance(value, str) and (phrases := small_numbers_in_text(value, threshold)):
        found.append(f"{path}: {', '.join(phrases)}")
    return found


def protect(counts, threshold: int, *, hidden=None) -> np.ndarray:
    """Which cells of a table to withhold so that no small cell can be recovered from published totals.

    Parameters
    ----------
    counts : array_like of int, shape (rows, columns)
        A table whose row totals and column totals are published (e.g. the levels of one variable by
        missed and caught cases: the row totals are the levels' positives, the column totals the
        cohort's missed and caught cases).
    threshold : int
        The small-cell threshold ``T``.
    hidden : array_like of bool, optional
        Cells already withheld for another reason (e.g. by a linked table).

    Returns
    -------
    numpy.ndarray of bool
        True where the cell is withheld: every small cell (primary), and complementary cells until every
        row and every column holding a withheld cell holds at least two (rule 4 of the module docstring).
        A complementary cell is the smallest not yet withheld cell of that row (or column), non-zero
        cells first; a column with no other cell to hide (a one-row table) is left as it is.

    Notes
    -----
    With two columns, every withheld row has both cells withheld, and at least two rows are: each
    hidden cell then lies on a cycle of hidden cells, so the totals admit more than one solution for
    it (Cox 1980). With more columns the rule is the usual greedy heuristic (Hundepool et al. 2012).

    Examples
    --------
    >>> protect([[25, 1], [44, 7], [26, 54]], 5).tolist()
    [[True, True], [False, False], [True, True]]
    >>> protect([[25, 10], [44, 7]], 5).any()
    np.False_
    """
    values = np.asarray(counts, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"protect takes a two-dimensional table of counts; got shape {values.shape}")
    small = (values >= 1) & (values < threshold)
    hide = small | (np.zeros(values.shape, dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool))

    def line_cells(axis: int, line: int) -> list[tuple[int, int]]:
        return [(line, j) for j in range(values.shape[1])] if axis == 1 else [(i, line) for i in range(values.shape[0])]

    def lonely() -> tuple[int, list[tuple[int, int]]] | None:
        """The first row (then column) holding exactly one withheld cell and a cell left to withhold."""
        for axis in (1, 0):  # axis 1: rows (counted over columns) first
            for line in np.flatnonzero(hide.sum(axis=axis) == 1):
                free = [c for c in line_cells(axis, int(line)) if not hide[c]]
                if free:
                    return axis, free
        return None

    while (found := lonely()) is not None:
        axis, free = found
        # first a cell whose crossing line holds one withheld cell (completing it costs nothing more),
        # then the smallest non-zero cell
        cross = hide.sum(axis=0) if axis == 1 else hide.sum(axis=1)
        hide[min(free, key=lambda c: (cross[c[1] if axis == 1 else c[0]] != 1, values[c] == 0, values[c], c))] = True
    return hide


_NUMBER = r"\d[\d,]*"
#: "3 positive cases", "1 negative case", "4 events", "2 patients"
_COUNTED = re.compile(r"\b(" + _NUMBER + r")(?= (?:positive |negative |predicted positive "
                      r"|predicted negative )?(?:cases?|positives?|negatives?|events?|non-events?|patients?|people|"
                      r"persons?|rows?|records?|alerts?|observations?)\b)")
#: "n = 4", "events = 2", "tp = 1"
_EQUALS = re.compile(r"\b((?:n|events|non-events|positives|negatives|tp|fp|tn|fn|labelled) = )(" + _NUMBER + r")\b")
#: "9/10": a count out of a count
_FRACTION = re.compile(r"\b(" + _NUMBER + r")/(" + _NUMBER + r")\b")


def suppress_text(text: str, threshold: int) -> str:
    """A reviewer-facing sentence (a reason, a gate sentence) with its small counts spelled ``"<T"``.

    The safety net for text built from counts by code that does not know the small-cell rule (e.g. the
    reason of an undefined statistic: "found 1 positive case"): a count followed by what it counts
    ("3 positive cases", "4 events"), a count after ``n =`` (or ``events =``, ``tp =``), and a fraction
    ``x/n`` whose numerator, complement or denominator is small (shown as ``"withheld"``). A number in
    a rule ("at least 2 positive cases") is left as it is.

    Examples
    --------
    >>> suppress_text("AUROC needs at least 2 positive and 2 negative cases; found 1 positive case", 5)
    'AUROC needs at least 2 positive and 2 negative cases; found <5 positive case'
    >>> suppress_text("n = 4; sensitivity 9/10; 0 events; 12 patients", 5)
    'n = <5; sensitivity withheld; 0 events; 12 patients'
    """
    if not isinstance(text, str) or not text:
        return text

    def count(match, group=1):
        value = int(match.group(group).replace(",", ""))
        hide = is_small(value, threshold) and not _in_a_rule(match)
        return formatting.fewer_than(threshold) if hide else match.group(group)

    text = _FRACTION.sub(lambda m: formatting.WITHHELD if fraction_disclosive(
        int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), threshold) else m.group(0), text)
    text = _EQUALS.sub(lambda m: m.group(1) + count(m, 2), text)
    return _COUNTED.sub(count, text)


def _in_a_rule(match) -> bool:
    """Whether a number is part of a requirement ("needs at least 2 positive and 2 negative cases"):
    the clause before it (since the last ";", "." or ":") says "at least", "needs" or "requires"."""
    clause = re.split(r"[;.:]", match.string[:match.start()])[-1]
    return bool(re.search(r"\b(at least|needs?|requires?|minimum)\b", clause))


def small_numbers_in_text(text: str, threshold: int) -> list[str]:
    """The phrases of ``text`` that :func:`suppress_text` would change: empty when the text is safe."""
    if not isinstance(text, str):
        return []
    found = [text[max(0, m.start() - 20):m.end() + 20] for m in _COUNTED.finditer(text)
             if is_small(int(m.group(1).replace(",", "")), threshold) and not _in_a_rule(m)]
    found += [m.group(0) for m in _EQUALS.finditer(text) if is_small(int(m.group(2).replace(",", "")), threshold)]
    found += [m.group(0) for m in _FRACTION.finditer(text)
              if fraction_disclosive(int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), threshold)]
    return found


def protect_levels(frame: pd.DataFrame, threshold: int, *, by: str = "variable",
                   counts: tuple[str, str] = ("positives", "negatives")) -> pd.DataFrame:
    """:func:`protect` applied to the levels of each variable of a tidy table (one row per level), whose
    counts add up to published totals (e.g. the positives and negatives of every site add up to the
    cohort's). Returns booleans with the columns ``counts`` and the index of ``frame``."""
    hide = pd.DataFrame(False, index=frame.index, columns=list(counts))
    for _, rows in frame.groupby(by, sort=False).groups.items():
        mask = protect(frame.loc[rows, list(counts)].to_numpy(dtype=float), threshold)
        hide.loc[rows, list(counts)] = mask
    return hide


def protect_crossed(positives, negatives, threshold: int) -> np.ndarray:
    """Which cells of a two-way intersection (levels of A × levels of B) to withhold, given that the
    marginal levels' positives and negatives and every cell's n are published.

    Each class is a table whose row and column totals are the marginal levels' counts, so each is
    protected with :func:`protect`; a cell withheld in one class is withheld in the other (its n is
    shown, so one class count gives the other), one class after the other until nothing changes. Both
    orders are tried and the pattern withholding fewer cells (then fewer patients) is kept. Returns
    booleans of the tables' shape.

    Examples
    --------
    >>> protect_crossed([[30, 40], [9, 20]], [[50, 60], [1, 30]], 5).tolist()
    [[True, True], [True, True]]
    """
    pos, neg = np.asarray(positives, dtype=float), np.asarray(negatives, dtype=float)
    small = ((pos >= 1) & (pos < threshold)) | ((neg >= 1) & (neg < threshold))

    def grow(first, second) -> np.ndarray:
        hide = small
        while True:
            grown = protect(second, threshold, hidden=protect(first, threshold, hidden=hide))
            if (grown == hide).all():
                return hide
            hide = grown

    # either class first; keep the pattern that withholds fewer cells, then fewer patients
    options = [grow(pos, neg), grow(neg, pos)]
    return min(options, key=lambda h: (int(h.sum()), float((pos + neg)[h].sum())))
