"""A monitoring source: field predictions in a locked folder of Parquet files, checked before a run.

The folder is locked like a snapshot (:func:`studylib.data.snapshot.lock`: every file's SHA-256, size,
rows and schema, computed once at lock time) and verified against the plan's ``monitoring.lock``
before anything runs. ``monitoring.path`` is the folder, or a glob below it (``data/site=*/…``): the
locked folder is then the part of the path before the first wildcard. Hive-style partition folders
(``site=A/month=2024-01/part.parquet``) are columns of the source, named by the folder keys.

:func:`problems` checks the plan's columns against the source without an engine (the manifest's
schemas and the partition keys) and the scores' range with one DuckDB aggregate (the locked files are
local, whatever engine reviews them).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from studylib import formatting
from studylib.data import snapshot
from studylib.errors import SnapshotError, did_you_mean

GLOB_CHARACTERS = "*?["


def locked_folder(path: str | os.PathLike) -> Path:
    """The folder that holds the manifest: ``path`` itself, or its part before the first wildcard."""
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if any(c in part for c in GLOB_CHARACTERS):
            return Path(*parts[:i]) if i else Path(".")
    return Path(path)


def verify(path: str | os.PathLike, lock: str) -> snapshot.Snapshot:
    """Verify the locked folder of a monitoring source against its lock (every file re-hashed).

    Raises
    ------
    SnapshotError
        The folder or its manifest is missing, a file changed, is missing or was added after locking, or the
        lock does not match; the message names the file and both hashes.
    """
    folder = locked_folder(path)
    try:
        return snapshot.verify(folder, lock)
    except SnapshotError as exc:
        raise SnapshotError(f"monitoring source: {exc}") from None


def open_table(connected, path: str | os.PathLike):
    """An Ibis table over the source's Parquet files on a connected engine (hive partitions as columns)."""
    return connected.read_parquet(str(path))


def data_files(path: str | os.PathLike, locked: snapshot.Snapshot) -> list[Path]:
    """The Parquet files of the source: every locked Parquet file, or those the glob matches."""
    if not any(c in str(path) for c in GLOB_CHARACTERS):
        return locked.parquet_files
    matched = {Path(p).resolve() for p in glob.glob(str(path), recursive=True)}
    return [p for p in locked.parquet_files if p.resolve() in matched]


def partition_columns(files: list[Path], folder: Path) -> dict[str, set[str]]:
    """Hive partition keys of the files below ``folder`` and the values each takes (``site=A`` → site: {A})."""
    keys: dict[str, set[str]] = {}
    for f in files:
        for part in f.relative_to(folder).parts[:-1]:
            if "=" in part:
                key, _, value = part.partition("=")
                keys.setdefault(key, set()).add(value)
    return keys


def columns(locked: snapshot.Snapshot, files: list[Path]) -> dict[str, str]:
    """Column → Arrow type (``partition`` for hive keys) of the source, from the manifest."""
    wanted = {p.resolve() for p in files}
    out: dict[str, str] = {}
    for entry in locked.manifest["files"]:
        if "columns" in entry and (locked.path / entry["path"]).resolve() in wanted:
            for c in entry["columns"]:
                out.setdefault(c["name"], c["type"])
    for key in partition_columns(files, locked.path):
        out.setdefault(key, "partition")
    return out


def problems(study, locked: snapshot.Snapshot) -> list[str]:
    """Every way the plan's ``monitoring`` and ``drift`` sections do not fit the source (empty: they fit).

    Checks: the source has Parquet files; every declared column exists (the score, shadow and outcome
    columns, time, site, the drift features and the windows' column); scores lie in [0, 1]; a declared
    shadow column is not missing on every row; the outcome holds only 0, 1 or missing.
    """
    mon, drift = study.monitoring, study.drift
    where = f"{study.source}: monitoring"
    files = data_files(study.monitoring_path, locked)
    if not files:
        return [f"{where}.path: no locked Parquet file matches '{mon.path}'"]
    have = columns(locked, files)
    out = []
    named = [("columns.deployed", mon.columns.deployed), ("columns.shadow", mon.columns.shadow),
             ("columns.outcome", mon.columns.outcome), ("columns.time", mon.columns.time),
             ("columns.site", mon.columns.site)]
    named += [(f"drift.features ({f})", f) for f in (*drift.features, *drift.categorical)]
    named += [("drift.windows.column", drift.windows.column)]
    for key, column in named:
        if column is not None and column not in have:
            out.append(f"{where}: {key}: the source has no column or partition '{column}'"
                       f"{did_you_mean(column, have)} (it has: {', '.join(sorted(have))})")
    if out:
        return out
    out += _value_problems(study, files, where)
    return out


def _value_problems(study, files: list[Path], where: str) -> list[str]:
    import duckdb

    mon = study.monitoring
    scores = [("deployed", mon.columns.deployed)] + ([("shadow", mon.columns.shadow)] if mon.columns.shadow else [])
    listing = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB"})
    try:
        def q(c):
            return '"' + c.replace('"', '""') + '"'

        def num(c):
            return f"CASE WHEN isnan(TRY_CAST({q(c)} AS DOUBLE)) THEN NULL ELSE TRY_CAST({q(c)} AS DOUBLE) END"

        parts = ["count(*)"]
        for _, c in scores:
            parts += [f"count({q(c)}) - count({num(c)})", f"count({num(c)})",
                      f"count(*) FILTER (WHERE {num(c)} < 0 OR {num(c)} > 1)", f"min({num(c)})", f"max({num(c)})"]
        y = num(mon.columns.outcome)
        parts += [f"count(*) FILTER (WHERE {y} IS NOT NULL AND {y} NOT IN (0, 1))",
                  f"count({q(mon.columns.outcome)}) - count({y})"]
        row = con.execute(f"SELECT {', '.join(parts)} FROM read_parquet({listing}, hive_partitioning = true, "
                          "union_by_name = true)").fetchone()
    finally:
        con.close()
    total, out, k = int(row[0]), [], 1
    for role, c in scores:
        not_number, present, outside, low, high = row[k:k + 5]
        k += 5
        if not_number:
            out.append(f"{where}: columns.{role}: column '{c}' has {formatting.count(not_number)} value(s) that are "
                       "not numbers; expected probabilities in [0, 1]")
        if present == 0:
            out.append(f"{where}: columns.{role}: column '{c}' is missing on every one of the "
                       f"{formatting.count(total)} rows" + ("; remove monitoring.columns.shadow or score the shadow "
                                                             "candidate" if role == "shadow" else ""))
        elif outside:
            out.append(f"{where}: columns.{role}: {formatting.count(outside)} score(s) of '{c}' lie outside [0, 1] "
                       f"(range {low:g} to {high:g}); expected probabilities")
    bad_y, text_y = row[k:k + 2]
    if bad_y or text_y:
        out.append(f"{where}: columns.outcome: column '{mon.columns.outcome}' has "
                   f"{formatting.count(int(bad_y) + int(text_y))} value(s) other than 0, 1 or missing")
    return out
