"""``studylib recover``: bring a reports folder back to a state ``verify --all`` can pass, recording
every step in the ledger.

Three things can be left behind by a crash, a full disk or a hand: a staging folder (moved into place
when the ledger records it, else removed: :func:`studylib.evidence.staging.sweep`); an incomplete last
ledger line (set aside as ``ledger.jsonl.torn-<n>``, kept as evidence); a run folder in ``reports/``
that the ledger does not record (moved to ``reports/.quarantine/<study-id>/<run-id>`` and recorded by a
``quarantine`` entry naming its manifest hash: never silently accepted as evidence, never deleted).
A ledger whose chain is broken is not touched: it must be restored from a copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from studylib.data.hashing import sha256_file
from studylib.errors import StudyInputError
from studylib.evidence import ledger
from studylib.evidence import staging
from studylib.evidence import verify


def recover(reports: str | Path, log: Callable[[str], None]) -> str:
    """Finish or clear staging, set aside a torn ledger line, quarantine unrecorded run folders.

    Returns the ledger head afterwards.

    Raises
    ------
    StudyInputError
        ``reports`` is not a folder, or the ledger's chain is broken (nothing is changed).
    """
    reports = Path(reports).resolve()
    if not reports.is_dir():
        raise StudyInputError(f"{reports}: no such reports folder")
    path = ledger.ledger_path(reports)
    if broken := ledger.check_chain(path):
        raise StudyInputError("the ledger's chain is broken; restore it from a copy (recover changes nothing):\n"
                              + "\n".join(f"{path} line {b.line}: {b.problem}" for b in broken))
    staging.sweep(reports, log)
    if aside := ledger.set_aside_torn_tail(path):
        log(f"set aside an incomplete last ledger line: {aside}")
    recorded = {e.get("run") for e in ledger.read(path) if e.get("kind") == "run"}
    for folder in verify.run_folders(reports):
        key = verify.run_key(folder)
        if key in recorded:
            continue
        manifest = folder / verify.MANIFEST
        manifest_hash = "sha256:" + sha256_file(manifest) if manifest.is_file() else None
        target = reports / verify.QUARANTINE / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, target)
        entry = ledger.append(path, {"kind": "quarantine", "run": key, "folder": f"{verify.QUARANTINE}/{key}",
                                     "manifest_sha256": manifest_hash,
                                     "reason": "a run folder the ledger did not record"})
        log(f"quarantined run {key} (not in the ledger): moved to {target}; ledger entry {entry['seq']}")
    return ledger.head(path)
