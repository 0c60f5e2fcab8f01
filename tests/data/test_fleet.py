"""The synthetic monitoring fleet: partitions, determinism, and the planted effects are there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from studylib import stats
from studylib.data import fleet

ROWS, SITES = 42_000, 7  # S05 drifts, S07 regresses


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("fleet") / "fleet"
    info = fleet.write_fleet(out, ROWS, sites=SITES, seed=3)
    frame = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pandas()
    return info, frame


def test_partitions_are_site_and_month_folders_with_every_row(written):
    info, frame = written
    assert info.files == SITES * 12 and info.drifting == ("S05",) and info.regressing == ("S07",)
    assert len(frame) == ROWS
    counts = frame.groupby(["site", "month"], observed=True).size().unstack().loc[list(info.sites), list(fleet.MONTHS)]
    assert (counts.to_numpy() == fleet.partition_rows(ROWS, SITES)).all()
    assert set(frame.columns) == {*fleet.CONTINUOUS, *fleet.CATEGORICAL, "deployed", "shadow", "y", "site", "month"}


def test_partition_rows_add_up_exactly():
    for rows, sites in ((0, 1), (1, 3), (10**8, 50), (12_345, 7)):
        assert fleet.partition_rows(rows, sites).sum() == rows


def test_the_same_seed_gives_the_same_data(tmp_path):
    a = fleet.write_fleet(tmp_path / "a", 600, sites=2, seed=5)
    b = fleet.write_fleet(tmp_path / "b", 600, sites=2, seed=5)
    read = lambda f: ds.dataset(f.path, format="parquet", partitioning="hive").to_table().sort_by(
        [("site", "ascending"), ("month", "ascending")])
    assert read(a).equals(read(b))
    with pytest.raises(FileExistsError, match="already holds Parquet"):
        fleet.write_fleet(tmp_path / "a", 600, sites=2)


def test_drift_is_planted_at_drifting_sites_only(written):
    _, frame = written
    for site, shifted in (("S05", True), ("S01", False), ("S03", False)):
        here = frame[frame.site == site]
        shift = here[here.month >= "2025-10"].x01.mean() - here[here.month <= "2025-06"].x01.mean()
        assert (shift > 0.6) if shifted else (abs(shift) < 0.1), (site, shift)


def test_shadow_regresses_at_regressing_sites_only(written):
    _, frame = written
    labelled = frame.dropna(subset=["y", "shadow"])
    for site, regressed in (("S07", True), ("S02", False), ("S05", False)):
        part = labelled[labelled.site == site]
        diff = stats.delong_test(part.y.to_numpy(), part.shadow.to_numpy(), part.deployed.to_numpy())
        assert (diff.diff < -0.1) if regressed else (diff.diff > 0), (site, diff.diff)


def test_labels_arrive_late_and_scores_are_stored_with_three_decimals(written):
    _, frame = written
    missing = frame.y.isna().groupby(frame.month).mean()
    assert missing["2025-12"] == pytest.approx(0.9, abs=0.03)
    assert missing["2025-10"] == pytest.approx(0.2, abs=0.03)
    assert missing["2025-03"] == pytest.approx(0.02, abs=0.01)
    assert np.allclose(frame.deployed * 1000, np.round(frame.deployed * 1000))
    assert frame.shadow.isna().mean() == pytest.approx(0.01, abs=0.005)


def test_categoricals_and_low_cardinality_columns_are_dictionary_encoded_and_read_back_as_text(written):
    info, frame = written
    meta = pq.ParquetFile(sorted(Path(info.path).rglob("*.parquet"))[0]).metadata
    encodings = {meta.schema.column(i).name: meta.row_group(0).column(i).encodings for i in range(meta.num_columns)}
    for name in fleet.DICTIONARY:
        assert "RLE_DICTIONARY" in encodings[name] or "PLAIN_DICTIONARY" in encodings[name], name
    assert not any("DICTIONARY" in e for e in encodings["x01"])  # random floats: plain, no failed dictionary
    assert set(frame.c1.astype(str)) == {"c1-0", "c1-1", "c1-2"}
