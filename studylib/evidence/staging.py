"""Staging folders of runs in progress, and finishing or clearing the ones whose process stopped.

A run executes in ``<project>/.studylib-staging/<run-id>/`` (beside ``reports/``, on the same file
system). Its process holds an exclusive lock on ``.studylib-staging/<run-id>.lock`` from before the
folder is created until the folder has been renamed into ``reports/`` or removed, so a folder whose
lock can be taken belongs to no living process, and a folder whose lock is held is never touched (a
lock, not a pid file: pids are reused, and a pid is written only after the folder exists).

Archiving order (:mod:`studylib.run.runner`): the manifest is written in staging, the run's ledger
entry (with the manifest's SHA-256) is appended, then the folder is renamed into ``reports/``. A
process stopped at any point therefore leaves either a staging folder that the ledger does not know
(removed by :func:`sweep`: the run never happened) or one the ledger records (moved into place by
:func:`sweep`: the run is finished); never a run folder in ``reports/`` without its ledger entry.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from studylib.data.hashing import sha256_file
from studylib.evidence import ledger

STAGING = ".studylib-staging"
MANIFEST = "manifest.json"


def staging_root(reports: str | Path) -> Path:
    """Where the staging folders of runs archived into ``reports`` live."""
    return Path(reports).parent / STAGING


def _lock(root: Path, run_id: str) -> FileLock:
    return FileLock(str(root / f"{run_id}.lock"), timeout=0)


@contextmanager
def claim(root: str | Path, run_id: str) -> Iterator[Path]:
    """Hold the lock of a new staging folder ``root/run_id`` (created) while the run uses it.

    On exit the lock is released and its file removed; the folder itself is the caller's to rename or
    remove.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    lock = _lock(root, run_id)
    lock.acquire()
    try:
        folder = root / run_id
        folder.mkdir()
        yield folder
    finally:
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)


def pending_run(folder: Path, entries: list[dict]) -> dict | None:
    """The ledger entry of a staging folder whose run was recorded but not yet renamed into ``reports/``.

    None when the folder has no readable manifest or the ledger has no run entry with this manifest.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        key = f"{manifest['study_id']}/{folder.name}"
    except (OSError, ValueError, TypeError, KeyError):
        return None
    manifest_hash = "sha256:" + sha256_file(folder / MANIFEST)
    return next((e for e in entries if e.get("kind") == "run" and e.get("run") == key
                 and e.get("manifest_sha256") == manifest_hash), None)


def sweep(reports: str | Path, log: Callable[[str], None]) -> None:
    """Finish or remove the staging folders whose process stopped (their lock is free).

    A folder the ledger records (the process stopped between the ledger append and the rename) is
    renamed into ``reports/<study-id>/<run-id>``; any other is removed (the run was never recorded).
    Folders of runs in progress (lock held) are left alone.
    """
    reports = Path(reports)
    root = staging_root(reports)
    if not root.is_dir():
        return
    entries = None
    for path in sorted(root.iterdir()):
        run_id = path.name.removesuffix(".lock") if path.suffix == ".lock" else path.name
        lock = _lock(root, run_id)
        try:
            lock.acquire()
        except Timeout:
            continue  # a living process is running or archiving this run
        try:
            folder = root / run_id
            if not folder.is_dir():
                continue  # a lock file left by a process stopped before its folder existed, or already swept
            entries = ledger.read(ledger.ledger_path(reports)) if entries is None else entries
            recorded = pending_run(folder, entries)
            target = reports / str(recorded["run"]) if recorded else None
            if target is not None and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(folder, target)
                log(f"finished archiving run {recorded['run']} (recorded in the ledger, seq {recorded['seq']}, "
                    f"when its process stopped): {target}")
            elif target is None:
                shutil.rmtree(folder, ignore_errors=True)
                log(f"removed the staging folder of an interrupted run: {folder}")
        finally:
            lock.release()
            Path(lock.lock_file).unlink(missing_ok=True)
