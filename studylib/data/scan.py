"""DuckDB scans for the drift review: windows, window × feature histograms and per-window sums.

The drift stage never needs all rows in pandas. Every statistic of :mod:`studylib.stages.drift` is
computed from aggregates that one SQL query per concern returns:

- the **window plan**: the distinct values (or calendar periods) of the window columns with their row
  counts, mapped in Python to the reference window and the monitoring windows;
- **histograms** per window × feature over fixed bins taken from the reference window (continuous
  features: DuckDB's ``histogram(x, edges)``, right-closed bins ``(e_{k-1}, e_k]`` as in
  :func:`studylib.stats.reference_edges`; categorical features: counts per category), with the count
  of missing values, in one query. A monitoring source is reduced by :func:`studylib.data.reduce.histograms`
  instead (DuckDB or Spark, through Ibis); on a study cohort that path was measured 3.5 times slower (Ibis
  compiles the 20-feature expression in about a second and converts its wide result in another), and
  ``tests/data/test_scan.py`` checks that both give the same tables;
- **sums** of the score per window (mean, alert count, events and expected events);
- the **labelled rows of one window** (outcome and score only) for calibration and discrimination.

Only the bin edges need the reference values themselves: they are the reference quantiles, computed
with numpy one column at a time (``numpy.quantile``, R type 7, the definition of
:func:`studylib.stats.reference_edges`, so that the histogram path gives exactly the PSI of the
direct computation; DuckDB's ``quantile_cont`` differs from numpy in the last bit and is several
times slower). The aggregation queries are plain SQL (``GROUP BY`` window) so that they can run on a
cluster engine unchanged.

Which rows are scanned: the drift stage scans the **frozen analysis cohort** that the cohort stage
wrote to the run folder (``cohort.parquet``, checked against its recorded SHA-256), not the
snapshot: the cohort criteria are then already applied, every stage analyses the same patients, and
that file is Parquet too, so DuckDB reads it directly, however large. A DataFrame can be scanned the
same way (DuckDB reads pandas frames in place), which tests and interactive use do.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from studylib import formatting
from studylib.plan import DriftSection, WindowSelector

REFERENCE = "reference"
#: more distinct values than this in a window column without ``period`` is an error (a raw timestamp?)
MAX_WINDOW_VALUES = 5000
_TIMESTAMP_TYPES = ("TIMESTAMP", "DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
_TEXT_TYPES = ("VARCHAR",)


def quote(name: str) -> str:
    """A column name as a SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def number(name: str) -> str:
    """A numeric column as DOUBLE with NaN read as missing (Parquet files may hold NaN, not null)."""
    return f"NULLIF(CAST({quote(name)} AS DOUBLE), 'NaN'::DOUBLE)"


def literal(value) -> str:
    """A Python value as a SQL literal (text, numbers, booleans, dates)."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"cannot select rows on a non-finite value {value!r}")
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Window:
    """One window: its label, the raw values (or periods) it groups, and its row count."""

    label: str
    keys: tuple = ()
    n: int = 0

    @property
    def empty(self) -> bool:
        return self.n == 0


@dataclass(frozen=True)
class WindowPlan:
    """The reference window and the monitoring windows (time order), and how rows map to them.

    Attributes
    ----------
    windows : tuple of Window
        ``windows[0]`` is the reference; the others are the monitoring windows in order.
    expression : str
        SQL expression giving each row's window index (0 = reference), NULL outside every window.
    outside : int
        Rows in no window (neither the reference nor a monitoring window).
    """

    windows: tuple[Window, ...]
    expression: str = field(repr=False)
    outside: int = 0

    @property
    def labels(self) -> list[str]:
        return [w.label for w in self.windows]

    @property
    def monitoring(self) -> tuple[Window, ...]:
        return self.windows[1:]


class TimestampParseError(ValueError):
    """A window column declared as a timestamp has values that do not parse."""

    def __init__(self, column: str, bad: int, examples: list[str], total: int):
        self.column, self.bad, self.examples, self.total = column, bad, examples, total
        shown = ", ".join(repr(e) for e in examples)
        super().__init__(f"column '{column}': {formatting.count(bad)} of {formatting.count(total)} non-missing values "
                         "do not parse as timestamps "
                         f"(e.g. {shown}); expected ISO dates/timestamps, 'YYYY-MM' or 'YYYY', or declare "
                         "format: (a strptime format such as '%d/%m/%Y')")


class Scanner:
    """A DuckDB connection over one source of rows: Parquet files or a DataFrame.

    Parameters
    ----------
    source : pandas.DataFrame, path or sequence of paths
        The rows to scan. Parquet files are read in place (never loaded whole).
    threads : int, optional
        DuckDB worker threads (default: DuckDB's, the number of cores).
    memory_limit : str, default "1GB"
        DuckDB's memory limit; larger aggregations spill to a temporary folder.

    Examples
    --------
    >>> with Scanner(pd.DataFrame({"x": [1.0, 2.0]})) as scan:  # doctest: +SKIP
    ...     scan.types["x"]
    'DOUBLE'
    """

    def __init__(self, source, *, threads: int | None = None, memory_limit: str = "1GB"):
        import duckdb

        self.con = duckdb.connect(config={"memory_limit": memory_limit})
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if isinstance(source, pd.DataFrame):
            self.con.register("drift_source_frame", source)
            self.con.execute("CREATE VIEW src AS SELECT * FROM drift_source_frame")
            self.description = f"DataFrame of {formatting.count(len(source))} rows"
        else:
            files = [Path(source)] if isinstance(source, (str, Path)) else [Path(p) for p in source]
            if not files:
                raise ValueError("no Parquet files to scan")
            missing = [str(p) for p in files if not p.is_file()]
            if missing:
                raise FileNotFoundError(f"Parquet file(s) not found: {', '.join(missing)}")
            listing = ", ".join(literal(str(p)) for p in files)
            self.con.execute(f"CREATE VIEW src AS SELECT * FROM read_parquet([{listing}])")
            self.description = f"{len(files)} Parquet file(s)"
        self.types = {row[0]: row[1] for row in self.con.execute("DESCRIBE src").fetchall()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.con.close()

    def sql(self, query: str, params=None) -> pd.DataFrame:
        """Run a query and return its (small) result as a DataFrame."""
        return self.con.execute(query, params or {}).df()

    # --- windows ------------------------------------------------------------------------------

    def _check_column(self, column: str) -> None:
        if column not in self.types:
            raise KeyError(f"column '{column}' is not in the scanned data (columns: {', '.join(self.types)})")

    def timestamp_expression(self, selector: WindowSelector) -> str:
        """SQL parsing the selector's column as a timestamp (NULL where it does not parse)."""
        self._check_column(selector.column)
        col = quote(selector.column)
        kind = self.types[selector.column]
        if kind.startswith(_TIMESTAMP_TYPES):
            return f"CAST({col} AS TIMESTAMP)"
        if kind not in _TEXT_TYPES:
            raise ValueError(f"column '{selector.column}' is {kind}; period: {selector.period} needs a date, timestamp "
                             "or text column (for a column of years or other values, omit period and select values)")
        if selector.format is not None:
            return f"TRY_STRPTIME({col}, {literal(selector.format)})"
        return (f"COALESCE(TRY_CAST({col} AS TIMESTAMP), TRY_STRPTIME({col}, '%Y-%m'), "
                f"TRY_STRPTIME({col}, '%Y'))")

    def unparseable(self, selector: WindowSelector, limit: int = 5) -> tuple[int, list[str], int]:
        """Count and examples of non-missing values of a timestamp window column that do not parse.

        Parsing runs on the distinct values only (a month or date column has few)."""
        ts = self.timestamp_expression(selector)
        col = quote(selector.column)
        distinct = f"(SELECT {col}, count(*) AS n FROM src WHERE {col} IS NOT NULL GROUP BY {col})"
        bad, total = self.con.execute(f"SELECT coalesce(sum(n) FILTER (WHERE {ts} IS NULL), 0), coalesce(sum(n), 0) "
                                      f"FROM {distinct}").fetchone()
        examples = []
        if bad:
            examples = [str(r[0]) for r in self.con.execute(
                f"SELECT CAST({col} AS VARCHAR) AS v FROM {distinct} WHERE {ts} IS NULL ORDER BY v LIMIT {int(limit)}"
            ).fetchall()]
        return int(bad), examples, int(total)

    def key_expression(self, selector: WindowSelector) -> str:
        """SQL giving a row's window key: the column's value, or its calendar period label."""
        self._check_column(selector.column)
        if selector.period is None:
            return quote(selector.column)
        ts = self.timestamp_expression(selector)
        return {"month": f"strftime({ts}, '%Y-%m')",
                "quarter": f"strftime({ts}, '%Y') || '-Q' || CAST(quarter({ts}) AS VARCHAR)",
                "year": f"strftime({ts}, '%Y')"}[selector.period]

    def key_counts(self, selector: WindowSelector) -> list[tuple[object, int]]:
        """The distinct window keys of ``selector``'s column (values, or calendar period labels) with their
        row counts, in order; rows whose key is missing (or does not parse) are left out."""
        key = self.key_expression(selector)
        rows = self.con.execute(f"SELECT {key} AS k, count(*) AS n FROM src WHERE {key} IS NOT NULL GROUP BY ALL"
                                ).fetchall()
        return sorted(((k, int(n)) for k, n in rows), key=lambda r: _sort_key(r[0]))

    def _by_raw_value(self, selector: WindowSelector) -> bool:
        # map the distinct raw values (cheap to match row by row) unless the column is a real timestamp,
        # whose distinct values can be as many as the rows: then compute the period per row
        return selector.period is None or not self.types[selector.column].startswith(_TIMESTAMP_TYPES)

    def _raw_keys(self, selector: WindowSelector) -> dict:
        """Raw value → window key (period label) for the distinct values of a text timestamp column."""
        col = quote(selector.column)
        rows = self.con.execute(f"SELECT {col} AS raw, {self.key_expression(selector)} AS key FROM "
                                f"(SELECT DISTINCT {col} FROM src WHERE {col} IS NOT NULL)").fetchall()
        return {raw: key for raw, key in rows}

    def plan(self, drift: DriftSection) -> WindowPlan:
        """Map rows to the reference window and the monitoring windows declared in ``drift``.

        Raises
        ------
        TimestampParseError
            A ``period`` column has values that do not parse (with examples).
        ValueError
            The reference window has no rows, or a window column without ``period`` has more than
            5,000 distinct values.
        """
        for selector in (drift.reference, drift.windows):
            if selector.period is not None:
                bad, examples, total = self.unparseable(selector)
                if bad:
                    raise TimestampParseError(selector.column, bad, examples, total)
        selectors = (drift.reference, drift.windows)
        groups = [quote(s.column) if self._by_raw_value(s) else self.key_expression(s) for s in selectors]
        counts = self.con.execute(f"SELECT {groups[0]} AS a, {groups[1]} AS b, count(*) AS n FROM src GROUP BY ALL"
                                  ).fetchall()
        # key of each group value (identity, or the period label of a raw text timestamp)
        keyers = []
        for selector in selectors:
            if selector.period is not None and self._by_raw_value(selector):
                mapping = self._raw_keys(selector)
                keyers.append(lambda v, m=mapping: m.get(v))
            else:
                keyers.append(lambda v: v)
        keyed = [(r[0], r[1], keyers[0](r[0]), keyers[1](r[1]), r[2]) for r in counts]
        ref_keys = _select(sorted({k[2] for k in keyed if k[2] is not None}, key=_sort_key), drift.reference)
        ref_set = set(ref_keys)
        in_ref = [k for k in keyed if k[2] in ref_set]
        if not in_ref:
            raise ValueError(f"the reference window ({_describe(drift.reference)}) has no rows in the data; "
                             "check drift.reference against the cohort")
        rest = [k for k in keyed if k[2] not in ref_set]
        win_values = sorted({k[3] for k in rest if k[3] is not None}, key=_sort_key)
        if drift.windows.period is None and len(win_values) > MAX_WINDOW_VALUES:
            raise ValueError(f"drift.windows.column '{drift.windows.column}' has {formatting.count(len(win_values))} "
                             "distinct values; "
                             "declare period: month, quarter or year for a timestamp column")
        keys = _select(win_values, drift.windows, fill=drift.windows.period)
        each = drift.windows.each or 1
        chunks = [tuple(keys[i:i + each]) for i in range(0, len(keys), each)]
        windows = [Window(REFERENCE, tuple(ref_keys), sum(k[4] for k in in_ref))]
        cases = [f"WHEN ({groups[0]}) IN ({', '.join(_literals({k[0] for k in in_ref}))}) THEN 0"]
        for index, chunk in enumerate(chunks, start=1):
            members = set(chunk)
            rows = [k for k in rest if k[3] in members]
            label = str(chunk[0]) if len(chunk) == 1 else f"{chunk[0]}–{chunk[-1]}"
            windows.append(Window(label, chunk, sum(k[4] for k in rows)))
            if rows:
                cases.append(f"WHEN ({groups[1]}) IN ({', '.join(_literals({k[1] for k in rows}))}) THEN {index}")
        outside = sum(k[4] for k in keyed) - sum(w.n for w in windows)
        return WindowPlan(tuple(windows), f"CASE {' '.join(cases)} END", outside)

    # --- aggregates ---------------------------------------------------------------------------

    def reference_values(self, plan: WindowPlan, column: str) -> np.ndarray:
        """The non-missing values of one column in the reference window (float, unsorted)."""
        self._check_column(column)
        x = number(column)
        out = self.con.execute(f"SELECT {x} AS x FROM src WHERE ({plan.expression}) = 0 "
                               f"AND {x} IS NOT NULL").fetchnumpy()["x"]
        return np.asarray(out, dtype=float)

    def reference_columns(self, plan: WindowPlan, columns: list[str]) -> dict[str, np.ndarray]:
        """The non-missing reference values of several columns, read in one scan."""
        for column in columns:
            self._check_column(column)
        select = ", ".join(f"{number(c)} AS c{i}" for i, c in enumerate(columns))
        arrays = self.con.execute(f"SELECT {select} FROM src WHERE ({plan.expression}) = 0").fetchnumpy()
        out = {}
        for i, column in enumerate(columns):
            values = arrays.pop(f"c{i}")
            data = np.ma.getdata(values).astype(float, copy=False)
            mask = np.ma.getmaskarray(values) | np.isnan(data)
            out[column] = data[~mask] if mask.any() else data
        return out

    def histograms(self, plan: WindowPlan, edges: dict[str, np.ndarray], categorical: tuple[str, ...] = ()
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Window × feature histograms in one scan.

        Parameters
        ----------
        plan : WindowPlan
        edges : dict of column → increasing edges
            Continuous features and their bin edges; bins are right-closed ``(e_{k-1}, e_k]`` with
            an overflow bin above the last edge.
        categorical : tuple of str
            Categorical features (counted per category, as text).

        Returns
        -------
        bins : DataFrame
            ``window, feature, bin, count``: ``bin`` k counts values in ``(e_{k-1}, e_k]``
            (``bin = len(edges)``: above the last edge); bins without values are absent.
        categories : DataFrame
            ``window, feature, category, count``.
        sizes : DataFrame
            ``window, feature, n, missing`` for every window index and feature (n = rows).
        """
        features = list(edges)
        for column in (*features, *categorical):
            self._check_column(column)
        select, params = [], {}
        for i, column in enumerate(features):
            # boundaries as a constant list literal (repr round-trips doubles exactly): DuckDB cannot
            # combine the parallel partial states of histograms whose boundaries are bound parameters
            listing = ", ".join(repr(float(e)) for e in edges[column])
            select.append(f"histogram({number(column)}, [{listing}]::DOUBLE[]) AS h{i}")
        for j, column in enumerate(categorical):
            select.append(f"histogram(CAST({quote(column)} AS VARCHAR)) AS c{j}")
        for k, column in enumerate(features):
            select.append(f"count({number(column)}) AS nn{k}")
        for k, column in enumerate(categorical, start=len(features)):
            select.append(f"count({quote(column)}) AS nn{k}")
        query = (f"SELECT w, count(*) AS n{''.join(', ' + s for s in select)} "
                 f"FROM (SELECT {plan.expression} AS w, * FROM src) WHERE w IS NOT NULL GROUP BY w ORDER BY w")
        result = self.con.execute(query, params).fetchall()
        names = ["w", "n", *[f"h{i}" for i in range(len(features))], *[f"c{j}" for j in range(len(categorical))],
                 *[f"nn{k}" for k in range(len(features) + len(categorical))]]
        rows = {int(r[0]): dict(zip(names, r)) for r in result}
        bins, cats, sizes = [], [], []
        for w in range(len(plan.windows)):
            row = rows.get(w)
            for k, column in enumerate((*features, *categorical)):
                n = int(row["n"]) if row else 0
                nonmissing = int(row[f"nn{k}"]) if row else 0
                sizes.append((w, column, n, n - nonmissing))
            if row is None:
                continue
            for i, column in enumerate(features):
                hist = row[f"h{i}"] or {}
                position = {float(e): b for b, e in enumerate(edges[column])}
                for upper, count in hist.items():
                    b = len(edges[column]) if math.isinf(upper) and upper > 0 else position[float(upper)]
                    bins.append((w, column, b, int(count)))
            for j, column in enumerate(categorical):
                for category, count in (row[f"c{j}"] or {}).items():
                    cats.append((w, column, str(category), int(count)))
        return (pd.DataFrame(bins, columns=["window", "feature", "bin", "count"]),
                pd.DataFrame(cats, columns=["window", "feature", "category", "count"]),
                pd.DataFrame(sizes, columns=["window", "feature", "n", "missing"]))

    def score_sums(self, plan: WindowPlan, score: str, outcome: str | None, threshold: float) -> pd.DataFrame:
        """Per window: rows, scored rows, sum and sum of squares of the score, alerts (score >= threshold),
        labelled rows, events and expected events (sum of the score over labelled rows)."""
        s = number(score)
        y = number(outcome) if outcome else "NULL"
        lab = f"{s} IS NOT NULL AND {y} IS NOT NULL"
        query = (f"SELECT w, count(*) AS n, count({s}) AS scored, sum({s}) AS total, "
                 f"sum({s} * {s}) AS squares, "
                 f"count(*) FILTER (WHERE {s} >= {literal(float(threshold))}) AS alerts, "
                 f"count(*) FILTER (WHERE {lab}) AS labelled, "
                 f"sum({y}) FILTER (WHERE {lab}) AS events, "
                 f"sum({s}) FILTER (WHERE {lab}) AS expected "
                 f"FROM (SELECT {plan.expression} AS w, * FROM src) WHERE w IS NOT NULL GROUP BY w")
        out = self.sql(query)
        full = pd.DataFrame({"w": range(len(plan.windows))}).merge(out, on="w", how="left")
        for column in ("n", "scored", "alerts", "labelled"):
            full[column] = full[column].fillna(0).astype("int64")
        for column in ("total", "squares", "events", "expected"):
            full[column] = full[column].astype(float).fillna(0.0)
        return full

    def labelled(self, plan: WindowPlan, score: str, outcome: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Outcome (0/1) and score of the labelled, scored rows of every window, in one scan.

        Returns window index → ``(y, p)``; rows keep the order of the source (DuckDB preserves
        insertion order), so the statistics computed from them are identical on every run.
        """
        s, y = number(score), number(outcome)
        arrays = self.con.execute(
            f"SELECT CAST(w AS SMALLINT) AS w, y, p FROM (SELECT {plan.expression} AS w, {y} AS y, {s} AS p FROM src) "
            "WHERE w IS NOT NULL AND p IS NOT NULL AND y IS NOT NULL").fetchnumpy()
        w = np.asarray(arrays["w"], dtype=np.int16)
        yy = np.asarray(arrays["y"], dtype=float)
        pp = np.asarray(arrays["p"], dtype=float)
        del arrays
        order = np.argsort(w, kind="stable")
        w, yy, pp = w[order], yy[order], pp[order]
        cuts = np.searchsorted(w, np.arange(len(plan.windows) + 1))
        return {i: (yy[a:b].copy(), pp[a:b].copy()) for i, (a, b) in enumerate(zip(cuts, cuts[1:])) if b > a}


def _literals(values) -> list[str]:
    return [literal(v) for v in sorted(values, key=_sort_key)]


def _sort_key(value):
    return (0, value) if isinstance(value, (int, float, np.integer, np.floating)) else (1, str(value))


def _describe(selector: WindowSelector) -> str:
    what = selector.values if selector.values is not None else selector.between
    period = f" {selector.period}" if selector.period else ""
    return f"{selector.column}{period} {list(what) if what is not None else 'all'}"


def _matches(key, wanted) -> bool:
    if isinstance(key, str) or isinstance(wanted, str):
        return str(key) == str(wanted)
    return key == wanted


def _select(keys: list, selector: WindowSelector, fill: str | None = None) -> list:
    """The keys a selector picks, in order: its declared ``values`` (every declared value, with or
    without rows), the keys within ``between``, or all keys; calendar periods are filled in so that a
    period without rows is an (empty) window of its own."""
    if selector.values is not None:
        picked = []
        for wanted in selector.values:
            found = next((k for k in keys if _matches(k, wanted)), None)
            picked.append(found if found is not None else (str(wanted) if selector.period else wanted))
        return picked
    if selector.between is not None:
        low, high = selector.between
        if selector.period:
            low, high = str(low), str(high)
            picked = [k for k in keys if low <= str(k) <= high]
            return period_range(low, high, selector.period) if fill else picked
        return [k for k in keys if in_range(k, low, high)]
    if fill and keys:
        return period_range(str(keys[0]), str(keys[-1]), fill)
    return list(keys)


def in_range(key, low, high) -> bool:
    try:
        return low <= key <= high
    except TypeError:
        return str(low) <= str(key) <= str(high)


def period_range(first: str, last: str, period: str) -> list[str]:
    """Every calendar period label from ``first`` to ``last`` inclusive (``2024-11``, ``2024-12``, ...)."""
    if period == "year":
        return [str(y) for y in range(int(first), int(last) + 1)]
    if period == "quarter":
        (y0, q0), (y1, q1) = [(int(p[:4]), int(p[-1])) for p in (first, last)]
        return [f"{i // 4}-Q{i % 4 + 1}" for i in range(y0 * 4 + q0 - 1, y1 * 4 + q1)]
    if period == "month":
        (y0, m0), (y1, m1) = [(int(p[:4]), int(p[5:7])) for p in (first, last)]
        return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(y0 * 12 + m0 - 1, y1 * 12 + m1)]
    raise ValueError(f"unknown period {period!r}")


