"""Bad monitoring input is refused before anything runs (exit 2), naming the file, key or column."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from studylib import plan
from studylib.cli import main
from studylib.data import engine, snapshot
from studylib.errors import ParameterError, SnapshotError, StudyInputError
from studylib.run import preflight

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "params" / "demo_monitoring.yaml"


def write_source(folder: Path, frame: pd.DataFrame | None = None, *, partition: str | None = "sample_year") -> str:
    """A small locked monitoring folder (hive-partitioned by ``partition``); returns its lock."""
    if frame is None:
        rng = np.random.default_rng(5)
        n = 400
        y = rng.integers(0, 2, n).astype(float)
        y[:20] = np.nan
        frame = pd.DataFrame({"sample_year": np.repeat([1998, 1999], n // 2), "age": rng.normal(65, 9, n),
                              "sex": rng.choice(["F", "M"], n), "kappa": rng.random(n), "lambda": rng.random(n),
                              "creatinine": rng.random(n), "p_v1": rng.random(n), "p_v2": rng.random(n),
                              "death_5y": y})
    folder.mkdir(parents=True)
    if partition:
        for value, part in frame.groupby(partition):
            (folder / f"{partition}={value}").mkdir()
            pq.write_table(pa.Table.from_pandas(part.drop(columns=[partition]), preserve_index=False),
                           folder / f"{partition}={value}" / "part-0.parquet")
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "data.parquet")
    (folder / "card.yaml").write_text("name: test monitoring source\n", encoding="utf-8")
    return snapshot.lock(folder)


def study_with(tmp_path: Path, folder: Path, lock: str, **columns) -> plan.Study:
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace("path: snapshots/flchain-monitoring", f"path: {folder}")
    text = text.replace("path: snapshots/flchain\n", f"path: {ROOT / 'snapshots' / 'flchain'}\n")
    text = re.sub(r'(monitoring:\n  path: .*\n  lock: )"sha256:[0-9a-f]+"', rf'\1"{lock}"', text)
    for role, column in columns.items():
        text = re.sub(rf"{role}: p_v\d", f"{role}: {column}", text, count=1) if role in ("deployed", "shadow") else text
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return plan.load(path, root=ROOT)


def test_a_good_source_passes(tmp_path):
    folder = tmp_path / "mon"
    study = study_with(tmp_path, folder, write_source(folder))
    assert preflight.check_monitoring(study).lock == study.monitoring.lock


def test_files_changed_after_locking_name_the_file(tmp_path):
    folder = tmp_path / "mon"
    study = study_with(tmp_path, folder, write_source(folder))
    victim = folder / "sample_year=1999" / "part-0.parquet"
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(SnapshotError, match=r"monitoring source: .*sample_year=1999/part-0.parquet: file does not match"):
        preflight.check_monitoring(study)


def test_a_column_that_does_not_exist(tmp_path):
    folder = tmp_path / "mon"
    study = study_with(tmp_path, folder, write_source(folder), deployed="p_v9")
    with pytest.raises(ParameterError, match=r"columns.deployed: the source has no column or partition 'p_v9'; did "
                                             r"you mean 'p_v\d'\?"):
        preflight.check_monitoring(study)


def test_a_missing_partition_column(tmp_path):
    folder = tmp_path / "mon"
    rng = np.random.default_rng(1)
    lock = write_source(folder, pd.DataFrame({"age": rng.random(50), "sex": ["F"] * 50, "kappa": rng.random(50),
                                              "lambda": rng.random(50), "creatinine": rng.random(50),
                                              "p_v1": rng.random(50), "p_v2": rng.random(50),
                                              "death_5y": [0.0, 1.0] * 25}), partition=None)
    study = study_with(tmp_path, folder, lock)
    with pytest.raises(ParameterError, match="drift.windows.column: the source has no column or partition 'sample_year'"):
        preflight.check_monitoring(study)


def test_scores_outside_0_1(tmp_path):
    folder = tmp_path / "mon"
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"sample_year": [1998] * 60, "age": rng.random(60), "sex": ["M"] * 60, "kappa": rng.random(60),
                          "lambda": rng.random(60), "creatinine": rng.random(60), "p_v1": rng.random(60) * 100,
                          "p_v2": rng.random(60), "death_5y": [0.0, 1.0] * 30})
    study = study_with(tmp_path, folder, write_source(folder, frame))
    with pytest.raises(ParameterError, match=r"columns.deployed: \d+ score\(s\) of 'p_v1' lie outside \[0, 1\]"):
        preflight.check_monitoring(study)


def test_a_shadow_column_entirely_missing(tmp_path):
    folder = tmp_path / "mon"
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"sample_year": [1998] * 60, "age": rng.random(60), "sex": ["M"] * 60, "kappa": rng.random(60),
                          "lambda": rng.random(60), "creatinine": rng.random(60), "p_v1": rng.random(60),
                          "p_v2": [np.nan] * 60, "death_5y": [0.0, 1.0] * 30})
    study = study_with(tmp_path, folder, write_source(folder, frame))
    with pytest.raises(ParameterError, match="columns.shadow: column 'p_v2' is missing on every one of the 60 rows"):
        preflight.check_monitoring(study)


def test_unknown_engine(tmp_path):
    folder = tmp_path / "mon"
    study = study_with(tmp_path, folder, write_source(folder))
    with pytest.raises(StudyInputError, match="engine 'flink' is not known; expected one of duckdb, spark"):
        preflight.check_monitoring(study, "flink")


def test_unreachable_spark_master():
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed: Spark cannot start here")
    with pytest.raises(engine.EngineError, match=r"Spark master 'spark://127.0.0.1:9' could not be reached"):
        engine.check_reachable("spark", "spark://127.0.0.1:9", timeout=2)


def test_engine_without_monitoring_source():
    study = plan.load(ROOT / "params" / "demo.yaml", root=ROOT)
    with pytest.raises(ParameterError, match="--engine spark applies to a monitoring source"):
        preflight.check_monitoring(study, "spark")


def test_cli_exits_2_without_a_traceback(tmp_path):
    folder = tmp_path / "mon"
    study = study_with(tmp_path, folder, write_source(folder))
    (folder / "sample_year=1998" / "extra.parquet").write_bytes(b"planted")
    result = CliRunner().invoke(main, ["params", "check", str(study.source)])
    assert result.exit_code == 2
    assert "files not in the manifest: sample_year=1998/extra.parquet" in result.output
    assert "Traceback" not in result.output


def _per_site(study: plan.Study, site: str | None) -> Path:
    text = study.source.read_text(encoding="utf-8")
    text = text.replace("windows: {column: sample_year, each: 1}", "windows: {column: sample_year, each: 1, per: site}")
    if site is not None:
        text = text.replace("columns: {deployed: p_v1,", f"columns: {{site: {site}, deployed: p_v1,")
    study.source.write_text(text, encoding="utf-8")
    return study.source


@pytest.mark.parametrize("site, message", [
    ("hospital", "monitoring: columns.site: the source has no column or partition 'hospital'"),
    (None, "drift.windows.per: site needs a monitoring source with monitoring.columns.site"),
])
def test_per_site_windows_without_a_site_column_exit_2(tmp_path, site, message):
    folder = tmp_path / "mon"
    source = _per_site(study_with(tmp_path, folder, write_source(folder)), site)
    result = CliRunner().invoke(main, ["params", "check", str(source)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
