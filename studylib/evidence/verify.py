"""Re-checking archived runs: every file against the run's manifest, the manifest against the ledger,
the ledger's hash chain (and an expected head kept elsewhere), and the signatures of sign-offs, waivers and
decisions on waivers (each must sign the run's current manifest with a trusted key for its role).

Every state a run can be in has its own message: archived and recorded (checked file by file);
recorded but still in staging (its process is finishing it, or stopped before the rename: the next
run or ``studylib recover`` moves it into place); recorded but its folder gone; quarantined by
``studylib recover``; a folder in ``reports/`` the ledger does not record (added by hand, or its
entry was cut off the end of the ledger); a malformed ``manifest.json`` (affects only its run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from studylib.data.hashing import sha256_file
from studylib.evidence import ledger
from studylib.evidence import signoff
from studylib.evidence import staging
from studylib.evidence import trust as trusted

MANIFEST = "manifest.json"
QUARANTINE = ".quarantine"


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


def read_manifest(folder: Path) -> tuple[dict | None, str | None]:
    """A run's manifest, or None and why it cannot be used (missing, not JSON, not the manifest form)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None, "missing file: manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        return None, f"malformed manifest.json: not valid JSON ({str(exc).splitlines()[0][:120]})"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(e, dict) and isinstance(e.get("sha256"), str)
                                              for e in files.values()):
        return None, "malformed manifest.json: expected an object whose files map each file to its sha256"
    return manifest, None


def _file_problems(folder: Path, manifest: dict) -> list[str]:
    problems = []
    listed = manifest["files"]
    for name, entry in sorted(listed.items()):
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            problems.append(f"malformed manifest.json: file name {name!r} points outside the run folder")
        elif not path.is_file():
            problems.append(f"missing file: {name}")
        elif (actual := sha256_file(path)) != entry["sha256"]:
            problems.append(f"altered file: {name} (manifest sha256:{entry['sha256']}, file sha256:{actual})")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"extra file not in the manifest: {name}")
    return problems


def _trust_for(reports: Path, trust: trusted.Trust | None) -> trusted.Trust:
    return trusted.resolve(reports) if trust is None else trust


def verify_run(folder: str | Path, *, trust: trusted.Trust | None = None, entries: list[dict] | None = None,
               chain: list | None = None) -> RunCheck:
    """Verify one run folder ``reports/<study-id>/<run-id>`` (the ledger is ``reports/ledger.jsonl``).

    ``trust``: the reviewer keys to check sign-offs with (default: the project's ``trusted_keys.yaml``
    beside ``reports/`` when there is one).
    """
    folder = Path(folder).resolve()
    key = run_key(folder)
    reports = folder.parent.parent
    if not folder.is_dir():
        return RunCheck(key, folder, (f"run folder not found: {folder}",))
    manifest, why = read_manifest(folder)
    if manifest is None:
        return RunCheck(key, folder, (why,))
    trust = _trust_for(reports, trust)
    problems = _file_problems(folder, manifest)
    notes = []
    path = ledger.ledger_path(reports)
    entries = ledger.read(path) if entries is None else entries
    chain = ledger.check_chain(path) if chain is None else chain
    problems += [str(p) for p in chain]
    manifest_hash = "sha256:" + sha256_file(folder / MANIFEST)
    recorded = [e for e in entries if e.get("kind") == "run" and e.get("run") == key]
    if not recorded:
        problems.append(f"run {key} is not in the ledger {path}: a run is recorded before its folder is moved into "
                        "reports/, so this folder was added by hand or its entry was cut off the ledger; `studylib "
                        "recover` moves it to reports/.quarantine/ and records that in the ledger")
    elif recorded[-1].get("manifest_sha256") != manifest_hash:
        problems.append(f"altered file: manifest.json (ledger records {recorded[-1].get('manifest_sha256')}, "
                        f"file has {manifest_hash})")
    found, notes = check_signed(entries, key, manifest_hash, trust)
    return RunCheck(key, folder, tuple(problems + found), tuple(notes))


def check_signed(entries: list[dict], run: str, manifest_hash: str, trust: trusted.Trust) -> tuple[list[str], list[str]]:
    """(problems, notes) of the signed ledger entries of ``run`` (sign-offs, waivers, decisions on waivers):
    each must sign ``manifest_hash`` with a key ``trust`` holds for its role, and a decision must name a waiver
    of the run by its hash. Used for run folders and for release dossiers alike."""
    problems, notes = [], []
    signed = [e for e in entries if e.get("kind") in signoff.SIGNED and e.get("run") == run]
    waiver_hashes = {e.get("seq"): e.get("hash") for e in signed if e.get("kind") == "waiver"}
    for entry in signed:
        if entry.get("kind") == "waiver_decision" and waiver_hashes.get(entry.get("waiver")) != entry.get("waiver_hash"):
            problems.append(f"{signoff.describe(entry)}: names no waiver of this run with that hash")
        checked = signoff.check_entry(entry, manifest_hash, trust)
        if checked.problem:
            problems.append(checked.problem)
        if checked.note:
            notes.append(checked.note)
    return problems, notes


@dataclass(frozen=True)
class ArchiveCheck:
    """The outcome of verifying every run under a reports folder and the ledger chain."""

    runs: tuple[RunCheck, ...]
    problems: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.runs)


def run_folders(reports: Path) -> list[Path]:
    """Every archived run folder ``reports/<study-id>/<run-id>`` (those holding a manifest or not); folders
    whose name starts with a dot (``.quarantine``) are not runs."""
    return sorted(p for p in Path(reports).glob("*/*")
                  if p.is_dir() and not p.name.startswith(".") and not p.parent.name.startswith("."))


def check_head(path: Path, expected: str, entries: list[dict]) -> tuple[list[str], list[str]]:
    """Problems and notes of checking the ledger against a head recorded outside it (``--head``)."""
    hashes = [e.get("hash") for e in entries]
    if expected not in hashes:
        return [f"{path}: the expected head {expected} is not in the ledger: entries up to it were removed or "
                "rewritten (or the head belongs to another ledger)"], []
    after = len(hashes) - 1 - hashes.index(expected)
    return [], [f"the expected head is entry seq {entries[hashes.index(expected)].get('seq')}"
                + (f"; {after} entr{'y' if after == 1 else 'ies'} appended after it" if after else " (the last)")]


def verify_all(reports: str | Path, *, trust: trusted.Trust | None = None, head: str | None = None) -> ArchiveCheck:
    """Verify the ledger chain (and ``head``, a ledger head recorded elsewhere), every run folder, and that
    every run in the ledger still exists.

    Raises
    ------
    StudyInputError
        ``reports`` is not a folder, or the trusted-key file is malformed.
    """
    from studylib.errors import StudyInputError

    reports = Path(reports).resolve()
    if not reports.is_dir():
        raise StudyInputError(f"{reports}: no such reports folder (pass --reports-dir, or run from a project with "
                              "reports/ledger.jsonl)")
    trust = _trust_for(reports, trust)
    path = ledger.ledger_path(reports)
    entries = ledger.read(path)
    problems = [str(p) for p in ledger.check_chain(path)]
    notes = []
    if torn := ledger.torn_tail(path):
        problems.append(f"{path}: ends with an incomplete line ({len(torn)} bytes: a crash while appending, or the "
                        "ledger was truncated mid-line); `studylib recover` sets it aside")
    if head is not None:
        bad, seen = check_head(path, head, entries)
        problems += bad
        notes += seen
    for aside in sorted(reports.glob(ledger.LEDGER + ".torn-*")):
        notes.append(f"{aside.name}: an incomplete ledger line set aside (kept as evidence)")
    runs = tuple(verify_run(f, trust=trust, entries=entries, chain=[]) for f in run_folders(reports))
    present = {r.run for r in runs}
    quarantined = {e.get("run"): e for e in entries if e.get("kind") == "quarantine"}
    waiting = {folder.name: folder for folder in staging.staging_root(reports).glob("*") if folder.is_dir()}
    for entry in entries:
        run = entry.get("run")
        if entry.get("kind") != "run" or run in present:
            continue
        if run in quarantined:
            continue
        run_id = str(run).rsplit("/", 1)[-1]
        if run_id in waiting and staging.pending_run(waiting[run_id], [entry]):
            problems.append(f"run {run} is recorded in the ledger (seq {entry.get('seq')}) but its folder is still in "
                            f"staging ({waiting[run_id]}): its process is finishing it, or stopped before moving it; "
                            "the next `studylib run` or `studylib recover` moves it into place")
        else:
            problems.append(f"run {run} is in the ledger (seq {entry.get('seq')}) but its folder is missing")
    for run, entry in quarantined.items():
        notes.append(f"run {run} was quarantined (seq {entry.get('seq')}: {entry.get('reason')}); it is kept in "
                     f"reports/{QUARANTINE}/ and is not evidence")
    return ArchiveCheck(runs, tuple(problems), tuple(notes))
