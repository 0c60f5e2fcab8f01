"""Locked dataset snapshots.

A snapshot is a folder holding Parquet data files, a dataset card (``card.yaml`` or ``card.md``),
optional other files (model artifacts, licence) and ``manifest.json``: for every file its SHA-256 and
size, and for every Parquet file its row count and column schema. The *lock hash* is the SHA-256 of
the manifest's canonical JSON form (sorted keys, no whitespace), written ``sha256:<hex>``. A study
names a snapshot and its lock hash; nothing runs on a snapshot whose files do not match.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from studylib.data.hashing import canonical_json, sha256_file
from studylib.errors import SnapshotError

MANIFEST = "manifest.json"
CARD_NAMES = ("card.yaml", "card.md")
FORMAT = "studylib-snapshot/1"

def manifest_lock(manifest: dict) -> str:
    """Lock hash of a manifest: ``sha256:`` + SHA-256 of its canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical_json(manifest)).hexdigest()


def _snapshot_files(directory: Path) -> list[Path]:
    files = [
        p for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return files


def _parquet_schema(path: Path) -> tuple[int, list[dict]]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path)
    schema = meta.schema_arrow
    columns = [{"name": f.name, "type": str(f.type)} for f in schema]
    return meta.metadata.num_rows, columns


def build_manifest(directory: str | os.PathLike) -> dict:
    """Describe every file of a snapshot folder (hashes, sizes, Parquet row counts and schemas)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: snapshot folder not found")
    if not any((directory / name).is_file() for name in CARD_NAMES):
        raise SnapshotError(
            f"{directory}: no dataset card; add card.yaml or card.md (source, licence, collection window, "
            "inclusion rules, de-identification, label provenance, split method, limitations)"
        )
    files = []
    for path in _snapshot_files(directory):
        entry = {"path": path.relative_to(directory).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}
        if path.suffix == ".parquet":
            entry["rows"], entry["columns"] = _parquet_schema(path)
        files.append(entry)
    if not any(f["path"].endswith(".parquet") for f in files):
        raise SnapshotError(f"{directory}: no Parquet data file in the snapshot")
    return {"format": FORMAT, "files": files}


def lock(directory: str | os.PathLike) -> str:
    """Write ``manifest.json`` for a snapshot folder and return its lock hash.

    The manifest is written to a temporary file and renamed, so an interrupted lock never leaves a
    truncated manifest.
    """
    directory = Path(directory)
    manifest = build_manifest(directory)
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
    return manifest_lock(manifest)


@dataclass(frozen=True)
class Snapshot:
    """A verified snapshot: its folder, lock hash and manifest."""

    path: Path
    lock: str
    manifest: dict = field(repr=False)

    @property
    def parquet_files(self) -> list[Path]:
        """The Parquet data files, in manifest order."""
        return [self.path / f["path"] for f in self.manifest["files"] if f["path"].endswith(".parquet")]

    @property
    def rows(self) -> int:
        """Total rows over all Parquet files."""
        return sum(f["rows"] for f in self.manifest["files"] if "rows" in f)

    @property
    def schema(self) -> dict[str, str]:
        """Column name → Arrow type name, from the manifest (the first Parquet file)."""
        first = next(f for f in self.manifest["files"] if "columns" in f)
        return {c["name"]: c["type"] for c in first["columns"]}

    def file_with_sha256(self, sha256: str) -> str | None:
        """Relative path of the snapshot file with this SHA-256 (hex, optional ``sha256:``), or None."""
        wanted = sha256.removeprefix("sha256:").lower()
        return next((f["path"] for f in self.manifest["files"] if f["sha256"] == wanted), None)

    def read(self, columns: list[str] | None = None):
        """Read the data files into one pandas DataFrame (optionally only ``columns``)."""
        import pyarrow.parquet as pq
        import pyarrow as pa

        tables = [pq.read_table(p, columns=columns) for p in self.parquet_files]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        return table.to_pandas()


def load_manifest(directory: Path) -> dict:
    """Read and minimally check a snapshot's manifest."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: snapshot folder not found")
    if not path.is_file():
        raise SnapshotError(f"{path}: manifest not found; lock the snapshot with `studylib snapshot lock {directory}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
        raise SnapshotError(f"{path}: not a studylib snapshot manifest (expected format '{FORMAT}')")
    return manifest


def verify(directory: str | os.PathLike, expected_lock: str | None = None) -> Snapshot:
    """Check every file of a snapshot against its manifest, and the manifest against a lock hash.

    Raises
    ------
    SnapshotError
        Naming the first problem found: a missing, changed or unexpected file (with the expected and
        actual SHA-256), or a lock hash that does not match (with both hashes).
    """
    directory = Path(directory)
    manifest = load_manifest(directory)
    actual_lock = manifest_lock(manifest)
    if expected_lock is not None and expected_lock != actual_lock:
        raise SnapshotError(
            f"{directory / MANIFEST}: lock hash does not match; expected {expected_lock}, got {actual_lock}. "
            "The snapshot changed after the study was locked to it: restore the locked files, or (if the change "
            "is intended) re-lock and update snapshot.lock in the parameter file"
        )
    listed = {f["path"] for f in manifest["files"]}
    for entry in manifest["files"]:
        path = directory / entry["path"]
        if not path.is_file():
            raise SnapshotError(f"{path}: file listed in the manifest is missing (expected sha256:{entry['sha256']})")
        actual = sha256_file(path)
        if actual != entry["sha256"]:
            raise SnapshotError(
                f"{path}: file does not match the snapshot manifest; expected sha256:{entry['sha256']}, "
                f"got sha256:{actual}"
            )
    extra = [p.relative_to(directory).as_posix() for p in _snapshot_files(directory)]
    extra = [p for p in extra if p not in listed]
    if extra:
        raise SnapshotError(f"{directory}: files not in the manifest: {', '.join(extra)}; remove them or re-lock")
    return Snapshot(directory, actual_lock, manifest)
