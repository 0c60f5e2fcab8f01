"""Locked snapshots: lock, verify, and every way a snapshot can fail to match its lock."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from studylib.data import hashing, snapshot
from studylib.errors import SnapshotError, StudyInputError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "snapshots" / "flchain"
#: printed by scripts/build_flchain_snapshot.py; rebuilding the demo snapshot must update it deliberately
DEMO_LOCK = "sha256:aea424a56991c9a2dba570586f996165461e625a3b470e105c7f8154c1008830"
DEMO_ARTIFACTS = {
    "models/flc-risk-1.0.0.json": "597d28f76ee424917bcc5e0c26d8a6bddf33273e1c096f5c4b9498938a20ee87",
    "models/flc-risk-2.0.0.json": "19adada3092ee4727eb69608196e20a0f0c35230810e1c1dbd4145478766e421",
}

BREAST = ROOT / "snapshots" / "breast"
#: printed by scripts/build_breast_snapshot.py
BREAST_LOCK = "sha256:fb7db949fe90a51a994726249f11274ef49851722c9c75b9f66466bb8b40debd"
BREAST_ARTIFACTS = {
    "models/breast-rfs-1.0.0.json": "8d35efe3bb4bc3fdf035f6600b4d863a2d1b72fc6d415466417d420786a5c2a1",
    "models/breast-rfs-2.0.0.json": "7a0c0d41488bc1f8dd2c0239b55003ccc72312fb46ad930bcff58c96454cef49",
}


@pytest.fixture
def folder(tmp_path) -> Path:
    """An unlocked snapshot folder: a Parquet file, a card and a model artifact."""
    folder = tmp_path / "snap"
    (folder / "models").mkdir(parents=True)
    pd.DataFrame({"person_id": ["a", "b", "c"], "y": [0, 1, 0], "p": [0.1, 0.8, 0.3]}).to_parquet(
        folder / "data.parquet", index=False)
    (folder / "card.yaml").write_text("name: test\nsource: test fixture\n")
    (folder / "models" / "m.json").write_text('{"coefficients": [1, 2]}\n')
    return folder


def _flip_byte(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_lock_then_verify(folder):
    lock = snapshot.lock(folder)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", lock)
    verified = snapshot.verify(folder, lock)
    assert verified.lock == lock
    assert verified.rows == 3
    schema = verified.schema
    assert list(schema) == ["person_id", "y", "p"] and schema["y"] == "int64" and schema["p"] == "double"
    assert schema["person_id"] in ("string", "large_string")  # pandas 3 writes large_string
    assert [p.name for p in verified.parquet_files] == ["data.parquet"]
    artifact = hashing.sha256_file(folder / "models" / "m.json")
    assert verified.file_with_sha256(artifact) == "models/m.json"
    assert verified.file_with_sha256("sha256:" + artifact.upper()) == "models/m.json"
    assert verified.file_with_sha256("0" * 64) is None
    assert verified.read(["y"]).columns.tolist() == ["y"]
    assert snapshot.verify(folder).lock == lock  # without an expected lock: files checked, lock reported


def test_lock_is_deterministic_and_lists_every_file(folder):
    first = snapshot.lock(folder)
    assert snapshot.lock(folder) == first  # the manifest never lists itself
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["card.yaml", "data.parquet", "models/m.json"]
    assert snapshot.manifest_lock(manifest) == first
    assert not (folder / "manifest.json.tmp").exists()


def test_hidden_files_are_ignored(folder):
    lock = snapshot.lock(folder)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "x.json").write_text("{}")
    assert snapshot.verify(folder, lock).lock == lock


def test_changed_byte_in_parquet_names_file_and_both_hashes(folder):
    lock = snapshot.lock(folder)
    expected = hashing.sha256_file(folder / "data.parquet")
    _flip_byte(folder / "data.parquet")
    actual = hashing.sha256_file(folder / "data.parquet")
    with pytest.raises(SnapshotError) as info:
        snapshot.verify(folder, lock)
    message = str(info.value)
    assert "data.parquet" in message
    assert f"expected sha256:{expected}" in message and f"got sha256:{actual}" in message


def test_changed_artifact_is_detected(folder):
    lock = snapshot.lock(folder)
    (folder / "models" / "m.json").write_text('{"coefficients": [1, 3]}\n')
    with pytest.raises(SnapshotError, match=r"models/m\.json: file does not match"):
        snapshot.verify(folder, lock)


def test_missing_file(folder):
    lock = snapshot.lock(folder)
    expected = hashing.sha256_file(folder / "models" / "m.json")
    (folder / "models" / "m.json").unlink()
    with pytest.raises(SnapshotError, match="missing") as info:
        snapshot.verify(folder, lock)
    assert "m.json" in str(info.value) and expected in str(info.value)


def test_extra_file(folder):
    lock = snapshot.lock(folder)
    (folder / "extra.parquet").write_bytes((folder / "data.parquet").read_bytes())
    with pytest.raises(SnapshotError, match=r"files not in the manifest: extra\.parquet"):
        snapshot.verify(folder, lock)


def test_missing_manifest(folder):
    with pytest.raises(SnapshotError, match="manifest not found") as info:
        snapshot.verify(folder, "sha256:" + "0" * 64)
    assert "studylib snapshot lock" in str(info.value)


def test_missing_folder(tmp_path):
    with pytest.raises(SnapshotError, match="snapshot folder not found"):
        snapshot.verify(tmp_path / "nowhere")


def test_manifest_not_json_or_wrong_format(folder):
    snapshot.lock(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        snapshot.verify(folder)
    (folder / "manifest.json").write_text('{"format": "other", "files": []}')
    with pytest.raises(SnapshotError, match="not a studylib snapshot manifest"):
        snapshot.verify(folder)


def test_wrong_lock_gives_both_hashes(folder):
    lock = snapshot.lock(folder)
    wrong = "sha256:" + "ab" * 32
    with pytest.raises(SnapshotError) as info:
        snapshot.verify(folder, wrong)
    assert f"expected {wrong}" in str(info.value) and f"got {lock}" in str(info.value)


def test_edited_manifest_changes_the_lock(folder):
    lock = snapshot.lock(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][1]["rows"] = 4
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="lock hash does not match"):
        snapshot.verify(folder, lock)


def test_lock_refuses_missing_card(folder):
    (folder / "card.yaml").unlink()
    with pytest.raises(SnapshotError, match="no dataset card"):
        snapshot.lock(folder)
    assert not (folder / "manifest.json").exists()


def test_lock_accepts_card_md(folder):
    (folder / "card.yaml").rename(folder / "card.md")
    assert snapshot.verify(folder, snapshot.lock(folder)).rows == 3


def test_lock_refuses_folder_without_parquet(folder):
    (folder / "data.parquet").unlink()
    with pytest.raises(SnapshotError, match="no Parquet data file"):
        snapshot.lock(folder)


def test_snapshot_errors_are_input_errors():
    assert issubclass(SnapshotError, StudyInputError)  # the CLI exits 2 on them, before anything runs


# --- the committed demo snapshot -----------------------------------------------------------------

def test_committed_demo_snapshot_verifies_against_its_lock():
    verified = snapshot.verify(DEMO, DEMO_LOCK)
    assert verified.rows == 7874
    for path, sha in DEMO_ARTIFACTS.items():
        assert verified.file_with_sha256(sha) == path


def test_demo_parameter_file_names_the_committed_lock():
    params_file = ROOT / "params" / "demo.yaml"
    if not params_file.is_file():
        pytest.skip("params/demo.yaml not written yet")
    import yaml

    params = yaml.safe_load(params_file.read_text())
    assert params["snapshot"]["lock"] == DEMO_LOCK
    for role in ("candidate", "baseline"):
        sha = params["models"][role]["artifact_sha256"].removeprefix("sha256:")
        assert sha in DEMO_ARTIFACTS.values()


def test_demo_snapshot_content():
    frame = snapshot.verify(DEMO, DEMO_LOCK).read()
    assert frame["person_id"].is_unique and frame["person_id"].str.fullmatch(r"FLC-\d{5}").all()
    assert frame["split"].value_counts().to_dict() == {"validation": 3288, "development": 2859, "monitoring": 1727}
    assert set(frame.loc[frame["split"] == "monitoring", "sample_year"]) == set(range(1998, 2004))
    assert set(frame.loc[frame["split"] == "development", "sample_year"]) == {1995, 1996}
    assert frame[["p_v1", "p_v2"]].notna().all().all()
    assert frame[["p_v1", "p_v2"]].gt(0).all().all() and frame[["p_v1", "p_v2"]].lt(1).all().all()
    known = frame["death_5y"].notna()
    died_early = (frame["death"] == 1) & (frame["futime_days"] <= 1826)
    assert (frame.loc[known, "death_5y"] == died_early[known].astype(int)).all()
    assert ((frame["death"] == 0) & (frame["futime_days"] < 1826)).sum() == (~known).sum() == 195
    assert frame["chapter"].isna().eq(frame["death"] == 0).all()


def test_committed_breast_snapshot_verifies_against_its_lock():
    verified = snapshot.verify(BREAST, BREAST_LOCK)
    assert verified.rows == 2982 + 686
    for path, sha in BREAST_ARTIFACTS.items():
        assert verified.file_with_sha256(sha) == path
    frame = verified.read()
    assert frame["person_id"].is_unique
    assert frame.groupby("site")["split"].unique().map(sorted).to_dict() == {
        "gbsg": ["external"], "rotterdam": ["development", "validation"]}
    assert (frame.loc[frame["site"] == "gbsg", "nodes"] > 0).all()
    assert (frame.loc[frame["site"] == "rotterdam", "nodes"] == 0).sum() == 1436  # node-negative rows kept
    assert set(frame["size"]) == {"<=20", "20-50", ">50"}
    known = frame["event_3y"].notna()
    early = (frame["rfs_event"] == 1) & (frame["rfs_days"] <= 1096)
    assert (frame.loc[known, "event_3y"] == early[known].astype(int)).all()
    assert frame[["p_v1", "p_v2"]].notna().all().all()
