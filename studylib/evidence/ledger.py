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
from the last complete entry. A failed write (e.g. a full disk) is cut back off before the error is
raised. Earlier entries are never rewritten.

The *head* of the ledger is the ``hash`` of its last entry: it commits to every entry before it, so a
head kept outside the reports folder (``studylib verify --head``) detects any later truncation or
rewrite; a signed sign-off signs the head it was appended to (its ``prev``, :func:`append`'s ``seal``).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from studylib.data.hashing import canonical_json
from studylib.errors import StudyInputError

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


class LedgerError(StudyInputError):
    """The ledger cannot be appended to: a complete line that is not an entry (exit 2, names the line)."""


def _complete_lines(raw: bytes) -> tuple[list[bytes], bytes]:
    """Split the ledger into complete lines and a torn tail (bytes after the last newline)."""
    cut = raw.rfind(b"\n") + 1
    return raw[:cut].splitlines(), raw[cut:]


def read(path: str | Path) -> list[dict]:
    """Every complete entry of a ledger (a torn last line is ignored); [] when there is no ledger."""
    path = Path(path)
    return parse(path.read_bytes()) if path.is_file() else []


def parse(raw: bytes) -> list[dict]:
    """Every complete entry of a ledger's bytes (see :func:`read`); an unreadable line is ``{"_unreadable": n}``."""
    lines, _ = _complete_lines(raw)
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            entries.append({"_unreadable": number})
            continue
        if not isinstance(entries[-1], dict):
            entries[-1] = {"_unreadable": number}
    return entries


def torn_tail(path: str | Path) -> bytes:
    """The bytes after the ledger's last newline: a line cut short by a crash mid-append, or by truncation."""
    path = Path(path)
    return _complete_lines(path.read_bytes())[1] if path.is_file() else b""


def head(path: str | Path) -> str:
    """The ledger's head: the ``hash`` of its last complete entry (:data:`GENESIS` for an empty ledger)."""
    entries = read(path)
    return entries[-1].get("hash", "") if entries else GENESIS


def check_chain(path: str | Path) -> list[ChainProblem]:
    """Every break of the hash chain: unreadable lines, edited entries, removed or re-ordered ones."""
    return check_entries(read(path))


def check_entries(entries: list[dict]) -> list[ChainProblem]:
    """Every break of the hash chain of ``entries`` (as :func:`read` or :func:`parse` return them), from genesis."""
    problems = []
    previous, expected_seq = GENESIS, 1
    for number, entry in enumerate(entries, start=1):
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
        expected_seq = (entry["seq"] if isinstance(entry.get("seq"), int) else expected_seq) + 1
    return problems


def append(path: str | Path, entry: dict, *, timeout: float = 60,
           seal: Callable[[dict], dict] | None = None) -> dict:
    """Append one entry (adding ``seq``, ``time``, ``prev`` and ``hash``) under an exclusive lock.

    ``seal``, when given, is called under the lock with the entry as it will be written (``prev`` set,
    no ``hash`` yet) and returns fields to add (e.g. a signature over ``prev``): what it signs is the
    head the entry is appended to. Returns the entry as written; the caller's dict is not modified.

    Raises
    ------
    LedgerError
        The last complete line is not a ledger entry (names the line; nothing is written).
    OSError
        The write failed (e.g. no space left); the ledger is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=timeout):
        raw = path.read_bytes() if path.is_file() else b""
        lines, torn = _complete_lines(raw)
        last = _last_entry(path, lines)
        if torn:
            _set_aside_torn_tail(path, len(raw) - len(torn), torn)
        full = {
            "seq": (last["seq"] + 1) if last else 1,
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **entry,
            "prev": last["hash"] if last else GENESIS,
        }
        if seal is not None:
            full.update(seal(dict(full)))
        full["hash"] = entry_hash(full)
        line = json.dumps(full, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, line) != len(line):
                raise OSError(errno.ENOSPC, "short write (no space left?)", str(path))
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)  # never leave half an entry behind
            raise
        finally:
            os.close(fd)
    return full


def _last_entry(path: Path, lines: list[bytes]) -> dict | None:
    if not lines:
        return None
    try:
        last = json.loads(lines[-1])
        if isinstance(last, dict) and isinstance(last.get("seq"), int) and isinstance(last.get("hash"), str):
            return last
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    raise LedgerError(f"{path} line {len(lines)}: not a ledger entry (the ledger was edited or corrupted); "
                      f"nothing can be appended until it is restored from a copy (`studylib verify --all` "
                      f"lists every break)")


def set_aside_torn_tail(path: str | Path, *, timeout: float = 60) -> Path | None:
    """Move an incomplete last line aside to ``ledger.jsonl.torn-<n>`` (under the lock); its path, or None."""
    path = Path(path)
    if not path.is_file():
        return None
    with FileLock(str(path) + ".lock", timeout=timeout):
        raw = path.read_bytes()
        torn = _complete_lines(raw)[1]
        return _set_aside_torn_tail(path, len(raw) - len(torn), torn) if torn else None


def _set_aside_torn_tail(path: Path, keep: int, torn: bytes) -> Path:
    number = 1
    while (aside := path.with_name(f"{path.name}.torn-{number}")).exists():
        number += 1
    aside.write_bytes(torn)
    with open(path, "r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return aside
