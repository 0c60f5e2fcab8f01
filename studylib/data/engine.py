"""The query engine that reduces monitoring rows to small aggregates: DuckDB (default) or Spark.

Both are reached through Ibis (``ibis-framework``), so the reduction in :mod:`studylib.data.reduce` is
written once as Ibis expressions and compiled to each engine's SQL. DuckDB is embedded and out of
core (it spills to disk past its memory limit): the default on one machine. Spark is for fleets
whose monitoring data already live on a cluster: ``local[*]`` by default, a master URL
(``spark://host:7077``, ``yarn``) or a Spark Connect address (``sc://host:15002``).

Why Ibis: one set of expressions for both engines, with each engine's own optimiser (a second,
hand-written Spark SQL copy of the DuckDB queries would drift from the first). Only aggregates come
back to Python (pyarrow/pandas); no row-level data is collected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from studylib.errors import StudyInputError

ENGINES = ("duckdb", "spark")


class EngineError(StudyInputError):
    """The engine cannot be started or reached (Java missing, master unreachable, package missing)."""


@dataclass(frozen=True)
class Engine:
    """A connected engine: its name, the Ibis backend and what it runs on (for the run record)."""

    name: str
    backend: object = field(repr=False)
    where: str = ""

    def read_parquet(self, path: str, *, hive: bool = True):
        """An Ibis table over a folder (or glob) of Parquet files, hive-style partitions as columns."""
        if self.name == "duckdb":
            pattern = path if any(c in path for c in "*?[") else os.path.join(path, "**", "*.parquet")
            return self.backend.read_parquet(pattern, hive_partitioning=hive)
        # only the Parquet files of the folder (a locked source also holds its card and manifest); Spark
        # discovers hive partitions from the folder names
        if hive:
            return self.backend.read_parquet(path, pathGlobFilter="*.parquet")
        return self.backend.read_parquet(path, recursiveFileLookup=True, pathGlobFilter="*.parquet")

    def table(self, frame, name: str = "monitoring"):
        """An Ibis table over a pandas DataFrame (tests and interactive use)."""
        # registered through each engine's own API: Ibis 12's create_table from a DataFrame fails on
        # DuckDB 2.0 ("DROP VIEW IF EXISTS" without a name)
        if self.name == "duckdb":
            self.backend.con.register(name, frame)
        else:
            self.backend._session.createDataFrame(frame).createOrReplaceTempView(name)
        return self.backend.table(name)

    def close(self) -> None:
        if self.name == "duckdb":
            self.backend.disconnect()


def _java_problem() -> str:
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if os.environ.get("JAVA_HOME") else None)
    if java is None:
        return ("Spark needs Java 17 or later and none was found (no `java` on PATH or in JAVA_HOME); install a JDK "
                "(e.g. `apt-get install openjdk-17-jre-headless`) or use engine: duckdb")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Spark needs Java 17 or later; `{java} -version` failed ({exc})"
    if out.returncode != 0:
        return f"Spark needs Java 17 or later; `{java} -version` failed: {out.stderr.strip()[:200]}"
    return ""


def check_reachable(name: str, master: str | None = None, *, timeout: float = 5.0) -> None:
    """Fail fast, without starting Spark, when an engine cannot work here (for preflight: exit 2).

    DuckDB: nothing to check. Spark: PySpark importable; Java 17+ for a local or classic master; a
    ``spark://host:port`` or ``sc://host:port`` master must accept a TCP connection within ``timeout``.

    Raises
    ------
    EngineError
        Unknown engine, PySpark missing, Java missing, or the master not reachable.
    """
    import importlib.util
    import socket
    from urllib.parse import urlsplit

    if name not in ENGINES:
        raise EngineError(f"engine '{name}' is not known; expected one of {', '.join(ENGINES)}")
    if name == "duckdb":
        return
    if importlib.util.find_spec("pyspark") is None:
        raise EngineError("engine: spark needs PySpark; install studylib with its 'spark' extra "
                          "(pip install 'studylib[spark]')")
    master = master or "local[*]"
    if not master.startswith("sc://"):
        problem = _java_problem()
        if problem:
            raise EngineError(problem)
    if master.startswith(("spark://", "sc://")):
        url = urlsplit(master.split(",")[0])
        host, port = url.hostname, url.port or (15002 if master.startswith("sc://") else 7077)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            raise EngineError(f"Spark master '{master}' could not be reached ({host}:{port}: "
                              f"{exc.strerror or exc}); check the address, or use engine: duckdb") from None


def connect(name: str = "duckdb", *, master: str | None = None, memory_limit: str = "2GB",
            threads: int | None = None) -> Engine:
    """Start (or reach) an engine.

    Parameters
    ----------
    name : {"duckdb", "spark"}
    master : str, optional
        Spark only: ``local[*]`` (default), a cluster master URL, or a Spark Connect address ``sc://…``.
    memory_limit : str, default "2GB"
        DuckDB only: its memory limit; larger aggregations spill to disk.
    threads : int, optional
        DuckDB worker threads (default: the number of cores).

    Raises
    ------
    EngineError
        Unknown engine, PySpark not installed, Java missing, or the master cannot be reached.
    """
    if name not in ENGINES:
        raise EngineError(f"engine '{name}' is not known; expected one of {', '.join(ENGINES)}")
    import ibis

    if name == "duckdb":
        # disabled_optimizers: the paired placement sums (data/reduce.py) join the rows LEFT to small
        # per-score placement tables, so that those are the hash join's build side; DuckDB's
        # build-side optimiser, estimating an aggregate as large as its input, swapped the sides and
        # built a hash table of every labelled row (at 10^8 rows: 4.4 GB spilled, twice the CPU time).
        # No other query of the reduction joins.
        config = {"memory_limit": memory_limit, "disabled_optimizers": "build_side_probe_side"}
        if threads is not None:
            config["threads"] = int(threads)
        return Engine("duckdb", ibis.duckdb.connect(**config), "embedded DuckDB")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("engine: spark needs PySpark; install studylib with its 'spark' extra "
                          "(pip install 'studylib[spark]')") from None
    master = master or "local[*]"
    if not master.startswith("sc://"):
        problem = _java_problem()
        if problem:
            raise EngineError(problem)
    builder = SparkSession.builder.appName("studylib-monitoring")
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    builder = (builder.config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.ansi.enabled", "true"))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j/grpc errors: one line naming the master
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"Spark master '{master}' could not be reached or started: {first}") from None
    return Engine("spark", ibis.pyspark.connect(session), master)
