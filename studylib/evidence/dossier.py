"""The release dossier of a run: what an auditor asks for, in one folder or zip, verifiable offline.

``studylib dossier RUN --out DIR|FILE.zip`` (:func:`build`) assembles, from an archived run that
verifies, and ``studylib verify DOSSIER`` (:func:`verify`) checks, without the reports folder::

    README.md          the index, readable without Python: the run, models, snapshot, decisions, how to
                       check, and every file with its SHA-256 and what it is for
    SHA256SUMS         every file but itself and dossier.json (``sha256sum -c SHA256SUMS``)
    dossier.json       the machine index: every file with its SHA-256, size and purpose, the ledger
                       entries of the run, and ``index_sha256`` over itself
    rollback.md        the declared drift triggers, their actions (the rollback path) and their state
    ledger.jsonl       the ledger from its first entry up to the last entry that concerns the run
    trusted_keys.yaml  the project's trusted reviewer keys when the run was assembled (if any)
    snapshot/manifest.json  the snapshot's lock file (its canonical hash is the lock the run records)
    run/...            the run's files at their run paths: summary, checklist, matrix (if present),
                       reviewer renderings, report.pdf, figures, verdict, results, plan (params.yaml),
                       dataset card, SBOM and manifest.json

Left in the run folder, never in a dossier: patient-level rows (``*.parquet``), the executed notebooks
and their full renderings (code, restricted cells), and restricted results (``results/<stage>.json``
when ``results/<stage>.reviewer.json`` exists; the reviewer version is included).

The ledger: every entry whose ``run`` field names the run (runs, sign-offs, PDFs, waivers, any later
kind) and every entry before the last of them, from genesis, exactly as the reports folder holds
them. So the chain is checked from its first entry, the run entry's manifest hash against
``run/manifest.json``, and each signed sign-off against the head it signed; other runs' entries carry
only ids, hashes and verdicts. A head kept outside the dossier (``verify --head``) anchors it.

What proves what: the hashes prove the dossier is as assembled (any changed, added or removed file
or zip byte is named); the manifest and ledger hashes prove each run file is the archived one; the
signatures prove who approved, but only against keys the auditor trusts: ``--trusted-keys`` from the
repository (the keys stored in the dossier prove consistency, not identity: whoever rewrites the
dossier can replace them).

Deterministic: the same run and ledger give byte-identical output (sorted entries, no clock, a zip
with stored entries, fixed times and attributes, so that ``verify`` can also rebuild the zip from its
own entries and compare every byte). Atomic: written under a temporary name beside ``--out`` and
renamed; a failure leaves nothing at ``--out``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from studylib.data import snapshot as snapshots
from studylib.data.hashing import canonical_json
from studylib.errors import StudyInputError
from studylib.evidence import ledger, signoff
from studylib.evidence import trust as trusted
from studylib.evidence import verify as verifier
from studylib.judge.triggers import ACTION_TEXT, BLOCKING_ACTIONS

FORMAT = "studylib-dossier/1"
INDEX = "dossier.json"
README = "README.md"
SUMS = "SHA256SUMS"
ROLLBACK = "rollback.md"
LEDGER = "ledger.jsonl"
KEYS = trusted.TRUSTED_KEYS
RUN = "run/"
SNAPSHOT_LOCK = "snapshot/manifest.json"
#: every zip entry's time: the earliest a zip can hold (no clock in the dossier)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class RunNotVerified(Exception):
    """The run fails verification: no dossier is assembled (exit 1, each problem named)."""

    def __init__(self, run: str, problems: tuple[str, ...]):
        super().__init__(f"refusing to assemble a dossier of {run}: it fails verification")
        self.run, self.problems = run, problems


# --------------------------------------------------------------------------------------------------
# What goes in, and what each file is for
# --------------------------------------------------------------------------------------------------

def included(name: str, listed: set[str]) -> bool:
    """Whether the run file ``name`` (run-relative, listed in the run manifest) goes into a dossier."""
    path = PurePosixPath(name)
    if path.suffix == ".parquet" or name.endswith((".ipynb", ".full.html")):
        return False
    if path.parent.name == "results" and not name.endswith(".reviewer.json"):
        return str(path.with_suffix(".reviewer.json")) not in listed
    return True


_PURPOSES = (
    (README, "this index: what the dossier holds and how to check it"),
    (SUMS, "SHA-256 of every file but itself and dossier.json, for `sha256sum -c SHA256SUMS`"),
    (ROLLBACK, "the declared drift triggers, their actions (the rollback path) and their state in this run"),
    (LEDGER, "the ledger from genesis up to the last entry of this run (hash-chained; sign-offs sign its head)"),
    (KEYS, "the project's trusted reviewer keys (public) when the dossier was assembled"),
    (SNAPSHOT_LOCK, "the snapshot's lock file: every data file's SHA-256; its canonical hash is the snapshot lock"),
    ("run/manifest.json", "the run manifest: SHA-256 of every run file, plan, snapshot lock, models, code, "
                          "environment, timings"),
    ("run/index.html", "the validation report summary: verdict and why, every gate, drift triggers"),
    ("run/checklist.html", "TRIPOD+AI / STARD 2015 reporting checklist mapped to the run's artifacts"),
    ("run/matrix.html", "the validation matrix: claims, criteria, verdicts, evidence and sign-offs"),
    ("run/results/matrix.json", "the validation matrix, machine-readable"),
    ("run/report.pdf", "the validation report as one PDF (summary, checklist, stage reports)"),
    ("run/verdict.json", "every gate's verdict and the overall verdict, machine-readable"),
    ("run/params.yaml", "the study plan (parameter file) as run"),
    ("run/sbom.cdx.json", "CycloneDX SBOM of the Python environment that ran the study"),
    ("run/results/plan.json", "the sample-size plan: per rule the size it needs and who reaches it"),
)


def purpose(name: str) -> str:
    """What a dossier file is for, in words."""
    for known, text in _PURPOSES:
        if name == known:
            return text
    path = PurePosixPath(name)
    if name.endswith(".reviewer.html"):
        return f"reviewer rendering of the {path.name.split('.')[0][3:]} stage report (no code)"
    if name.startswith("run/snapshot-card"):
        return "the dataset card of the snapshot"
    if name.startswith("run/figures/"):
        return f"figure {path.stem} ({path.suffix[1:].upper()})"
    if name.endswith(".reviewer.json"):
        return f"{path.name.split('.')[0]} stage results, small cells suppressed"
    if name.startswith("run/results/"):
        return f"{path.stem} stage results, machine-readable"
    return "a file of the run"


# --------------------------------------------------------------------------------------------------
# Assembling
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Built:
    """A dossier written: where, its digest (SHA-256 of dossier.json), the file count, and notes."""

    path: Path
    digest: str
    files: int
    notes: tuple[str, ...] = ()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_out(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise StudyInputError(f"--out {out}: already exists; a dossier is never overwritten (choose a new name)")
    parent = out.parent
    if not parent.is_dir():
        raise StudyInputError(f"--out {out}: the folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StudyInputError(f"--out {out}: the folder {parent} is not writable")


def _ledger_prefix(reports: Path, key: str) -> tuple[bytes, list[int]]:
    """The ledger's lines from genesis up to the last entry of run ``key``, and the seq of each entry of it."""
    raw = ledger.ledger_path(reports).read_bytes() if ledger.ledger_path(reports).is_file() else b""
    entries = ledger.parse(raw)
    mine = [i for i, e in enumerate(entries) if e.get("run") == key]
    if not mine:
        raise StudyInputError(f"{key}: no entry of this run in {ledger.ledger_path(reports)}")
    lines = raw.splitlines(keepends=True)[: mine[-1] + 1]
    return b"".join(lines), [entries[i].get("seq") for i in mine]


def _snapshot_lock(folder: Path, manifest: dict) -> tuple[bytes | None, str]:
    """The snapshot's manifest.json when it is found and matches the run's lock; else None and why not."""
    snap = manifest.get("snapshot") or {}
    lock, where = snap.get("lock"), snap.get("path")
    if not (isinstance(lock, str) and isinstance(where, str)):
        return None, "the run manifest names no snapshot"
    path = (folder / str(manifest.get("project_root", "../../..")) / where / snapshots.MANIFEST).resolve()
    try:
        data = path.read_bytes()
        found = snapshots.manifest_lock(json.loads(data))
    except (OSError, ValueError) as exc:
        return None, f"the snapshot's lock file {path} could not be read ({exc}); its lock {lock} is in the manifest"
    if found != lock:
        return None, f"the snapshot's lock file {path} no longer matches the run's lock ({found}, run {lock})"
    return data, ""


def _files_of_run(folder: Path, manifest: dict) -> dict[str, bytes]:
    listed = set(manifest["files"])
    files = {RUN + name: (folder / name).read_bytes() for name in sorted(listed) if included(name, listed)}
    files[RUN + verifier.MANIFEST] = (folder / verifier.MANIFEST).read_bytes()
    return files


def _run_folder(run_dir: str | Path) -> Path:
    folder = Path(run_dir).resolve()
    if not (folder / verifier.MANIFEST).is_file():
        raise StudyInputError(f"{run_dir}: not a run folder (expected reports/<study-id>/<run-id>/ with "
                              "manifest.json)")
    return folder


def assemble(run_dir: str | Path, *, trust: trusted.Trust | None = None,
             trusted_keys: str | Path | None = None) -> tuple[dict[str, bytes], str, tuple[str, ...]]:
    """Every file of the dossier of ``run_dir`` (name → bytes), its root folder name, and notes.

    Raises
    ------
    StudyInputError
        ``run_dir`` is not an archived run folder, or the ledger holds no entry of it.
    RunNotVerified
        The run fails verification (a changed file, a broken ledger, an invalid sign-off).
    """
    folder = _run_folder(run_dir)
    reports = folder.parent.parent
    keys_path = Path(trusted_keys) if trusted_keys is not None else trusted.default_path(reports)
    if trust is None:
        trust = trusted.resolve(reports, trusted_keys=trusted_keys)
    check = verifier.verify_run(folder, trust=trust)
    if not check.ok:
        raise RunNotVerified(check.run, check.problems)
    manifest, _ = verifier.read_manifest(folder)
    files = _files_of_run(folder, manifest)
    notes = []
    files[LEDGER], seqs = _ledger_prefix(reports, check.run)
    if keys_path.is_file():
        files[KEYS] = keys_path.read_bytes()
    else:
        notes.append("no trusted reviewer keys (trusted_keys.yaml) to store: an auditor needs the signers' public "
                     "keys to check the sign-offs")
    lock, why = _snapshot_lock(folder, manifest)
    if lock is not None:
        files[SNAPSHOT_LOCK] = lock
    else:
        notes.append(why)
    files[ROLLBACK] = rollback_text(files).encode()
    head = ledger.parse(files[LEDGER])[-1]["hash"]
    index = {"format": FORMAT, "run": check.run, "study_id": manifest.get("study_id"), "run_id": manifest.get("run_id"),
             "verdict": manifest.get("verdict"),
             "manifest_sha256": "sha256:" + _sha(files[RUN + verifier.MANIFEST]),
             "models": manifest.get("models") or {}, "snapshot": manifest.get("snapshot") or {},
             "ledger": {"file": LEDGER, "entries": seqs, "head": head},
             "keys": KEYS if KEYS in files else None,
             "notes": notes}
    files[README] = readme_text(index, manifest, files).encode()
    files[SUMS] = "".join(f"{_sha(files[n])}  {n}\n" for n in sorted(files)).encode()
    index["files"] = {n: {"sha256": _sha(files[n]), "size": len(files[n]), "purpose": purpose(n)}
                      for n in sorted(files)}
    files[INDEX] = index_bytes(index)
    return files, f"dossier-{check.run.replace('/', '-')}", tuple(notes)


def index_bytes(index: dict) -> bytes:
    """dossier.json as written: ``index_sha256`` over the canonical JSON of the rest, then indented JSON."""
    body = {k: v for k, v in index.items() if k != "index_sha256"}
    sealed = {**body, "index_sha256": "sha256:" + _sha(canonical_json(body))}
    return (json.dumps(sealed, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write_zip(files: dict[str, bytes], root: str, handle) -> None:
    """The dossier as a zip written to ``handle``: one folder ``root``, entries sorted, stored (not
    compressed: compressed bytes depend on the zlib build), fixed time and permissions."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[name])


def build(run_dir: str | Path, out: str | Path, *, trusted_keys: str | Path | None = None) -> Built:
    """Write the dossier of ``run_dir`` to ``out``: a folder, or a zip when ``out`` ends in ``.zip``.

    Raises
    ------
    StudyInputError
        Not a run folder, ``out`` exists, or its folder is missing or not writable (nothing written).
    RunNotVerified
        The run fails verification (nothing written).
    """
    out = Path(out)
    reports = _run_folder(run_dir).parent.parent
    _check_out(out)
    if out.resolve().is_relative_to(reports):
        raise StudyInputError(f"--out {out}: inside the reports folder {reports}; a file there would read as an "
                              "extra file of the archive (write the dossier elsewhere)")
    files, root, notes = assemble(run_dir, trusted_keys=trusted_keys)
    temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if out.suffix.lower() == ".zip":
            with open(temporary, "wb") as handle:
                write_zip(files, root, handle)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, out)  # fails rather than replace a file that appeared meanwhile
                temporary.unlink()
            except OSError as exc:
                if out.exists():
                    raise StudyInputError(f"--out {out}: appeared while the dossier was written; not replaced") from exc
                os.rename(temporary, out)  # a file system without hard links
        else:
            for name, data in files.items():
                path = temporary / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            os.rename(temporary, out)
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise
    return Built(out, "sha256:" + _sha(files[INDEX]), len(files), notes)


# --------------------------------------------------------------------------------------------------
# The readable files
# --------------------------------------------------------------------------------------------------

def _cell(value) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


_TRIGGER_STATES = {"FAIL": "FIRED", "PASS": "NOT FIRED", "INSUFFICIENT_EVIDENCE": "not judged (insufficient evidence)",
                   "NOT_CHECKED": "not checked"}


def rollback_text(files: dict[str, bytes]) -> str:
    """rollback.md: each declared drift trigger, its action (and whether that action blocks use), its
    rule and its state in this run; from the plan (params.yaml) and verdict.json."""
    try:
        plan = yaml.safe_load(files.get(RUN + "params.yaml", b"")) or {}
        triggers = ((plan.get("drift") or {}).get("triggers") or []) if isinstance(plan, dict) else []
    except yaml.YAMLError:
        triggers = []
    try:
        gates = {g.get("id"): g for g in json.loads(files.get(RUN + "verdict.json", b"{}")).get("gates", [])}
    except ValueError:
        gates = {}
    lines = ["# Rollback path: surveillance triggers and declared actions", "",
             "Each trigger is checked per monitoring window once the model is in use; when it fires, the team does "
             "what the plan declared in advance. Actions marked *blocks use* stop the model's use (or its release) "
             "until done.", ""]
    if not triggers:
        return "\n".join(lines + ["The plan declares no drift triggers: it gives no rollback path.", ""])
    lines += ["| trigger | action | what the team does | blocks use | rule | state in this run |",
              "| --- | --- | --- | --- | --- | --- |"]
    for trigger in triggers:
        if not isinstance(trigger, dict):
            continue
        action, gate = trigger.get("action"), gates.get(trigger.get("id"), {})
        state = _TRIGGER_STATES.get(gate.get("verdict"), gate.get("verdict") or "not recorded")
        lines.append(f"| {_cell(trigger.get('id'))} | {_cell(action)} | {_cell(ACTION_TEXT.get(action, ''))} | "
                     f"{'yes' if action in BLOCKING_ACTIONS else 'no'} | {_cell(gate.get('rule'))} | {_cell(state)} |")
    return "\n".join(lines) + "\n"


def _ledger_rows(files: dict[str, bytes], run: str) -> list[str]:
    rows = ["| seq | kind | who (role) | decision | about | time | signed |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for entry in ledger.parse(files[LEDGER]):
        if entry.get("run") != run:
            continue
        who = f"{entry['reviewer']} ({entry.get('role')})" if entry.get("reviewer") else ""
        decision = entry.get("decision") or entry.get("verdict") or ""
        about = "; ".join(f"{k}: {entry[k]}" for k in ("gate", "rationale", "mitigation", "comment") if entry.get(k))
        rows.append(f"| {entry.get('seq')} | {_cell(entry.get('kind'))} | {_cell(who)} | {_cell(decision)} | "
                    f"{_cell(about[:300])} | {_cell(entry.get('time'))} | {'yes' if 'signature' in entry else 'no'} |")
    return rows


def readme_text(index: dict, manifest: dict, files: dict[str, bytes]) -> str:
    """README.md: the run, models, snapshot, decisions, how to check, and every file with its SHA-256."""
    code = (manifest.get("environment") or {}).get("code") or {}
    params = manifest.get("params") or {}
    snap = manifest.get("snapshot") or {}
    out = [f"# Release dossier: {index['study_id']}, run {index['run_id']}", "",
           f"Verdict of the run: **{index['verdict']}**. Run `{index['run']}`, started {manifest.get('started_at')}, "
           f"finished {manifest.get('finished_at')}. Open `run/index.html` (summary) in a browser; "
           f"`run/report.pdf` where present.", "",
           "## What was validated", "",
           f"- Plan: `run/params.yaml` (from `{params.get('source')}`), SHA-256 `{params.get('sha256')}`.",
           f"- Snapshot: `{snap.get('path')}`, lock `{snap.get('lock')}`"
           + (f"; its lock file is `{SNAPSHOT_LOCK}`." if SNAPSHOT_LOCK in files else " (lock file not included)."),
           f"- Code: commit `{code.get('commit')}`{' (uncommitted changes)' if code.get('dirty') else ''}; "
           "packages in `run/sbom.cdx.json`.", "",
           "| model | name | version | score column | artifact | artifact SHA-256 |",
           "| --- | --- | --- | --- | --- | --- |"]
    for role, model in sorted((manifest.get("models") or {}).items()):
        model = model if isinstance(model, dict) else {}
        out.append(f"| {_cell(role)} | {_cell(model.get('name'))} | {_cell(model.get('version'))} | "
                   f"{_cell(model.get('score'))} | {_cell(model.get('artifact'))} | "
                   f"{_cell(model.get('artifact_sha256'))} |")
    out += ["", "## Decisions on record", "",
            f"The ledger entries of this run (runs, sign-offs, waivers). `{LEDGER}` holds every entry from the "
            f"first up to the last of them; its head is `{index['ledger']['head']}`. A signed sign-off signs the "
            "ledger head it was appended to and the run's manifest hash.", ""]
    out += _ledger_rows(files, index["run"])
    out += ["", f"The rollback path (drift triggers and declared actions): `{ROLLBACK}`.", ""]
    if index["notes"]:
        out += ["## Notes", ""] + [f"- {n}" for n in index["notes"]] + [""]
    out += ["## How to check this dossier", "",
            "1. With studylib (offline): `studylib verify DOSSIER --trusted-keys trusted_keys.yaml`, with the "
            "trusted-key file taken from the project's repository, not from this dossier (the copy here proves "
            "consistency only). It checks every file against `dossier.json`, each run file against "
            "`run/manifest.json`, the manifest against the ledger's run entry, the ledger's hash chain from "
            "its first entry, and each sign-off's signature; exit 0 when everything matches, 1 naming what does "
            "not.",
            "2. Without Python: `sha256sum -c SHA256SUMS` checks every file but `dossier.json`; compare the "
            "SHA-256 of `dossier.json` with the dossier digest recorded when it was handed over.",
            "3. Left out on purpose (they stay in the run folder): patient-level rows (`*.parquet`), the executed "
            "notebooks and their renderings with code (restricted cells), and restricted results "
            "(the reviewer versions `results/*.reviewer.json` are here). Links to them in the pages do not resolve "
            "here.", "",
            "## Files", "",
            f"Besides this README, `{SUMS}` and `{INDEX}` (the machine index; its SHA-256 is the dossier's digest).",
            "", "| file | SHA-256 | what it is |", "| --- | --- | --- |"]
    for name in sorted(files):
        if name not in (README, SUMS, INDEX):
            out.append(f"| `{name}` | `{_sha(files[name])}` | {purpose(name)} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# Verifying
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DossierCheck:
    """The outcome of verifying a dossier: each problem names the file or entry."""

    path: Path
    run: str | None
    digest: str | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def is_dossier(path: str | Path) -> bool:
    """A dossier folder (holding dossier.json) or a zip file (by its name or its first bytes)."""
    path = Path(path)
    if path.is_dir():
        return (path / INDEX).is_file()
    if path.is_file():
        with open(path, "rb") as handle:
            return path.suffix.lower() == ".zip" or handle.read(4) == b"PK\x03\x04"
    return False


def _read_folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _read_zip(path: Path, problems: list[str]) -> tuple[dict[str, bytes], str | None]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        problems.append(f"{path.name}: not a readable zip ({exc}): the file was altered or cut short")
        return {}, None
    files, roots = {}, set()
    with archive:
        for info in archive.infolist():
            root, _, name = info.filename.partition("/")
            roots.add(root)
            if not name or name.endswith("/"):
                continue
            if name in files:
                problems.append(f"{path.name}: entry {info.filename} appears twice")
            try:
                files[name] = archive.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError,
                    zlib.error) as exc:  # RuntimeError: a flag bit now says "encrypted"
                problems.append(f"{path.name}: entry {info.filename} cannot be read ({exc}): its bytes were altered")
    if len(roots) != 1:
        problems.append(f"{path.name}: expected every entry under one folder; found {', '.join(sorted(roots))}")
    return files, (roots.pop() if len(roots) == 1 else None)


def _compare_zip(path: Path, files: dict[str, bytes], root: str) -> str | None:
    """None when the zip is byte for byte the one studylib writes of its own entries; else where it differs."""
    canonical = io.BytesIO()
    write_zip(files, root, canonical)
    expected, actual = canonical.getvalue(), path.read_bytes()
    if expected == actual:
        return None
    at = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
    return (f"{path.name}: the zip differs from the one its own entries make at byte {at} ({len(actual)} bytes, "
            f"expected {len(expected)}): its structure (headers, times, order or extra data) was altered")


def _index(files: dict[str, bytes], problems: list[str]) -> dict | None:
    raw = files.get(INDEX)
    if raw is None:
        problems.append(f"missing file: {INDEX} (the dossier's index)")
        return None
    try:
        index = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"altered file: {INDEX} is not valid JSON ({str(exc)[:120]})")
        return None
    if not (isinstance(index, dict) and index.get("format") == FORMAT and isinstance(index.get("files"), dict)
            and all(isinstance(e, dict) and isinstance(e.get("sha256"), str) for e in index["files"].values())):
        problems.append(f"altered file: {INDEX} is not a {FORMAT} index")
        return None
    if index_bytes(index) != raw:
        problems.append(f"altered file: {INDEX} (its content does not match its index_sha256, or it was re-written)")
    return index


def _check_files(files: dict[str, bytes], index: dict, problems: list[str]) -> None:
    listed = index["files"]
    for name, entry in sorted(listed.items()):
        if ".." in PurePosixPath(name).parts or name.startswith("/"):
            problems.append(f"altered file: {INDEX} lists {name!r}, outside the dossier")
        elif name not in files:
            problems.append(f"missing file: {name}")
        elif _sha(files[name]) != entry["sha256"]:
            problems.append(f"altered file: {name} (dossier.json sha256:{entry['sha256']}, file "
                            f"sha256:{_sha(files[name])})")
    for name in sorted(set(files) - set(listed) - {INDEX}):
        problems.append(f"extra file not in {INDEX}: {name}")


def _check_run(files: dict[str, bytes], index: dict, trust: trusted.Trust, problems: list[str],
               notes: list[str]) -> None:
    raw = files.get(RUN + verifier.MANIFEST)
    if raw is None:
        return  # named as a missing file
    try:
        manifest = json.loads(raw)
        listed = {k: v["sha256"] for k, v in manifest["files"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        problems.append(f"altered file: {RUN}{verifier.MANIFEST} is not a run manifest")
        return
    for name in sorted(n for n in files if n.startswith(RUN) and n != RUN + verifier.MANIFEST):
        expected = listed.get(name[len(RUN):])
        if expected is None:
            problems.append(f"extra file: {name} is not in the run's manifest")
        elif _sha(files[name]) != expected:
            problems.append(f"altered file: {name} (run manifest sha256:{expected}, file sha256:{_sha(files[name])})")
    manifest_hash = "sha256:" + _sha(raw)
    run = index.get("run")
    entries = ledger.parse(files.get(LEDGER, b""))
    problems += [f"{LEDGER} line {p.line}: {p.problem}" for p in ledger.check_entries(entries)]
    mine = [e for e in entries if e.get("run") == run]
    if [e.get("seq") for e in mine] != (index.get("ledger") or {}).get("entries"):
        problems.append(f"{LEDGER}: the entries of run {run} are not those {INDEX} lists (entries added or removed)")
    if entries and entries[-1].get("run") != run:
        problems.append(f"{LEDGER}: its last entry (seq {entries[-1].get('seq')}) is not an entry of run {run}")
    recorded = [e for e in mine if e.get("kind") == "run"]
    if not recorded:
        problems.append(f"{LEDGER}: no run entry of {run}")
    elif recorded[-1].get("manifest_sha256") != manifest_hash:
        problems.append(f"altered file: {RUN}{verifier.MANIFEST} (ledger seq {recorded[-1].get('seq')} records "
                        f"{recorded[-1].get('manifest_sha256')}, file has {manifest_hash})")
    found, said = verifier.check_signed(mine, run, manifest_hash, trust)  # sign-offs, waivers, decisions on them
    problems += [f"{LEDGER}: {p}" for p in found]
    notes += said
    for entry in mine:
        if "signature" in entry and entry.get("kind") not in signoff.SIGNED:
            notes.append(f"{entry.get('kind')} entry seq {entry.get('seq')}: its place in the hash chain is checked; "
                         "its signature is not (a kind of entry this version does not know)")
    snap = (manifest.get("snapshot") or {}).get("lock")
    if SNAPSHOT_LOCK in files:
        try:
            found = snapshots.manifest_lock(json.loads(files[SNAPSHOT_LOCK]))
        except ValueError:
            found = "not JSON"
        if found != snap:
            problems.append(f"altered file: {SNAPSHOT_LOCK} (its lock {found}, the run's lock {snap})")


def _trust_of(files: dict[str, bytes], trusted_keys, public_keys, notes: list[str],
              problems: list[str]) -> trusted.Trust:
    if trusted_keys is not None or public_keys:
        keys = trusted.load(trusted_keys) if trusted_keys is not None else ()
        return trusted.Trust(keys + trusted.from_public_keys(public_keys))
    if KEYS not in files:
        return trusted.Trust()
    try:
        keys = trusted.parse(yaml.safe_load(files[KEYS].decode("utf-8")), KEYS)
    except (StudyInputError, yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(f"altered file: {KEYS} is not a trusted-key file ({str(exc).splitlines()[0][:160]})")
        return trusted.Trust()
    notes.append(f"signatures checked with the keys stored in the dossier ({KEYS}): this proves the dossier is "
                 "consistent, not who signed; pass --trusted-keys with the project's file to prove that")
    return trusted.Trust(keys)


def verify(path: str | Path, *, trusted_keys: str | Path | None = None, public_keys=()) -> DossierCheck:
    """Check a dossier (folder or zip) offline against its own hashes, the run manifest, the ledger chain and
    the sign-offs' signatures (with ``trusted_keys``/``public_keys`` when given, else the stored keys).

    Raises
    ------
    StudyInputError
        ``path`` does not exist or is not a dossier; a given trusted-key file is malformed.
    """
    path = Path(path)
    if not path.exists():
        raise StudyInputError(f"{path}: no such dossier (a folder or .zip written by `studylib dossier`)")
    if not is_dossier(path):
        raise StudyInputError(f"{path}: not a dossier (expected a folder holding {INDEX}, or a .zip written by "
                              "`studylib dossier`)")
    problems: list[str] = []
    notes: list[str] = []
    if path.is_dir():
        files = _read_folder(path)
        root = None
    else:
        files, root = _read_zip(path, problems)
    index = _index(files, problems)
    if index is None:
        return DossierCheck(path, None, None, tuple(problems), tuple(notes))
    trust = _trust_of(files, trusted_keys, public_keys, notes, problems)
    _check_files(files, index, problems)
    _check_run(files, index, trust, problems, notes)
    if root is not None and not problems:
        if (differs := _compare_zip(path, files, root)) is not None:
            problems.append(differs)
    return DossierCheck(path, index.get("run"), "sha256:" + _sha(files[INDEX]), tuple(problems), tuple(notes))
