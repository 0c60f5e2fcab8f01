"""Re-checking archived runs: every file against the run's manifest, the manifest against the ledger,
the ledger's hash chain, and the signatures of sign-offs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from studylib.evidence import ledger
from studylib.evidence import signoff
from studylib.data.hashing import sha256_file

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RunCheck:
    """The outcome of verifying one run folder."""

    run: str
    folder: Path
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def run_key(folder: Path) -> str:
    """``<study-id>/<run-id>``: how the ledger names a run folder ``reports/<study-id>/<run-id>``."""
    return f"{folder.parent.name}/{folder.name}"


def _file_problems(folder: Path, manifest: dict) -> list[str]:
    problems = []
    listed = manifest.get("files", {})
    for name, entry in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"missing file: {name}")
        elif (actual := sha256_file(path)) != entry["sha256"]:
            problems.append(f"altered file: {name} (manifest sha256:{entry['sha256']}, file sha256:{actual})")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"extra file not in the manifest: {name}")
    return problems


def verify_run(folder: str | Path, *, public_keys: tuple[Path, ...] = (), entries: list[dict] | None = None,
               chain: list | None = None) -> RunCheck:
    """Verify one run folder ``reports/<study-id>/<run-id>`` (the ledger is ``reports/ledger.jsonl``)."""
    folder = Path(folder).resolve()
    key = run_key(folder)
    reports = folder.parent.parent
    manifest_path = folder / MANIFEST
    if not folder.is_dir():
        return RunCheck(key, folder, (f"run folder not found: {folder}",))
    if not manifest_path.is_file():
        return RunCheck(key, folder, ("missing file: manifest.json",))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return RunCheck(key, folder, ("altered file: manifest.json (not valid JSON)",))
    problems = _file_problems(folder, manifest)
    notes = []
    path = ledger.ledger_path(reports)
    entries = ledger.read(path) if entries is None else entries
    chain = ledger.check_chain(path) if chain is None else chain
    problems += [str(p) for p in chain]
    manifest_hash = "sha256:" + sha256_file(manifest_path)
    recorded = [e for e in entries if e.get("kind") == "run" and e.get("run") == key]
    if not recorded:
        problems.append(f"run {key} is not in the ledger {path}")
    elif recorded[-1].get("manifest_sha256") != manifest_hash:
        problems.append(f"altered file: manifest.json (ledger records {recorded[-1].get('manifest_sha256')}, "
                        f"file has {manifest_hash})")
    for entry in (e for e in entries if e.get("kind") == "signoff" and e.get("run") == key):
        problem, note = signoff.check_entry(entry, manifest_hash, public_keys)
        if problem:
            problems.append(problem)
        if note:
            notes.append(note)
    return RunCheck(key, folder, tuple(problems), tuple(notes))


@dataclass(frozen=True)
class ArchiveCheck:
    """The outcome of verifying every run under a reports folder and the ledger chain."""

    runs: tuple[RunCheck, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.runs)


def run_folders(reports: Path) -> list[Path]:
    """Every archived run folder ``reports/<study-id>/<run-id>`` (those holding a manifest or not)."""
    return sorted(p for p in reports.glob("*/*") if p.is_dir())


def verify_all(reports: str | Path, *, public_keys: tuple[Path, ...] = ()) -> ArchiveCheck:
    """Verify the ledger chain, every run folder, and that every run in the ledger still exists."""
    reports = Path(reports).resolve()
    path = ledger.ledger_path(reports)
    entries = ledger.read(path)
    chain = ledger.check_chain(path)
    problems = [str(p) for p in chain]
    runs = tuple(verify_run(f, public_keys=public_keys, entries=entries, chain=[]) for f in run_folders(reports))
    present = {r.run for r in runs}
    for entry in entries:
        if entry.get("kind") == "run" and entry.get("run") not in present:
            problems.append(f"run {entry.get('run')} is in the ledger (seq {entry.get('seq')}) but its folder is missing")
    return ArchiveCheck(runs, tuple(problems))
