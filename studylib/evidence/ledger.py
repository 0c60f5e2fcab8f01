"""The append-only, hash-chained ledger of runs and sign-offs: ``reports/ledger.jsonl``.

One JSON object per line. Every entry holds ``seq`` (1, 2, 3, …), ``prev`` (the ``hash`` of the entry
before it; ``"sha256:" + 64 zeros`` for the first) and ``hash``: the SHA-256 of the entry's canonical
JSON without the ``hash`` field. Removing, editing or re-ordering any entry therefore breaks the chain
at that point. A run entry holds the SHA-256 of the run's ``manifest.json``; a sign-off entry holds the
same hash of the run it signs.

Appends take an exclusive file lock (``ledger.jsonl.lock``), so two runs finishing together append
one after the other. An entry is written as one ``write`` of a full line followed by ``fsync``; a crash
mid-append can leave at most a torn last line without a newline, which is never a valid entry: the
next append moves it aside to ``ledger.jsonl.torn-<n>`` (kept as evidence) and continues the chain
from the last complete entry. Earlier entries are never rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from studylib.data.hashing import canonical_json

LEDGER = "ledger.jsonl"
GENESIS = "sha256:" + "0" * 64


def entry_hash(entry: dict) -> str:
    """``sha256:`` + SHA-256 of the canonical JSON of an entry without its ``hash`` field."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def ledger_path(reports_dir: str | Path) -> Path:
    return Path(reports_dir) / LEDGER


@dataclass(frozen=True)
class ChainProblem:
    """One break of the ledger: the 1-based line and what is wrong there."""

    line: int
    problem: str

    def __str__(self) -> str:
        return f"{LEDGER} line {self.line}: {self.problem}"


def _complete_lines(raw: bytes) -> tuple[list[bytes], bytes]:
    """Split the ledger into complete lines and a torn tail (bytes after the last newline)."""
    cut = raw.rfind(b"\n") + 1
    return raw[:cut].splitlines(), raw[cut:]


def read(path: str | Path) -> list[dict]:
    """Every complete entry of a ledger (a torn last line is ignored); [] when there is no ledger."""
    path = Path(path)
    if not path.is_file():
        return []
    lines, _ = _complete_lines(path.read_bytes())
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            entries.append({"_unreadable": number})
    return entries


def check_chain(path: str | Path) -> list[ChainProblem]:
    """Every break of the hash chain: unreadable lines, edited entries, removed or re-ordered ones."""
    problems = []
    previous, expected_seq = GENESIS, 1
    for number, entry in enumerate(read(path), start=1):
        if "_unreadable" in entry:
            problems.append(ChainProblem(number, "not valid JSON (the ledger was edited)"))
            continue
        if entry.get("hash") != entry_hash(entry):
            problems.append(ChainProblem(number, f"entry seq {entry.get('seq')} was altered (its hash does not match "
                                                 "its content)"))
        if entry.get("seq") != expected_seq:
            problems.append(ChainProblem(number, f"expected entry seq {expected_seq}, found seq {entry.get('seq')} "
                                                 "(an entry was removed or the entries were re-ordered)"))
        if entry.get("prev") != previous:
            problems.append(ChainProblem(number, f"entry seq {entry.get('seq')} does not follow the entry before it "
                                                 f"(prev {entry.get('prev')}, expected {previous})"))
        previous = entry.get("hash")
        expected_seq = (entry.get("seq") or expected_seq) + 1
    return problems


def append(path: str | Path, entry: dict, *, timeout: float = 60) -> dict:
    """Append one entry (adding ``seq``, ``time``, ``prev`` and ``hash``) under an exclusive lock.

    Returns the entry as written. The caller's dict is not modified.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=timeout):
        raw = path.read_bytes() if path.is_file() else b""
        lines, torn = _complete_lines(raw)
        if torn:
            _set_aside_torn_tail(path, len(raw) - len(torn), torn)
        last = json.loads(lines[-1]) if lines else None
        full = {
            "seq": (last["seq"] + 1) if last else 1,
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **entry,
            "prev": last["hash"] if last else GENESIS,
        }
        full["hash"] = entry_hash(full)
        line = json.dumps(full, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return full


def _set_aside_torn_tail(path: Path, keep: int, torn: bytes) -> None:
    number = 1
    while (aside := path.with_name(f"{path.name}.torn-{number}")).exists():
        number += 1
    aside.write_bytes(torn)
    with open(path, "r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
