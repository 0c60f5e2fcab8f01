"""Errors a user can act on.

Every error raised for bad input is a :class:`StudyInputError`: the CLI prints its message on one line
(no traceback) and exits 2. Errors inside a notebook stage are ordinary exceptions; the runner archives
the failed stage and exits 3.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class StudyInputError(Exception):
    """Bad input detected before anything ran (parameters, snapshot, locks). Exit code 2."""


class SnapshotError(StudyInputError):
    """A snapshot is missing, incomplete or does not match its lock."""


class ParameterError(StudyInputError):
    """A parameter file is malformed or does not fit the schema."""


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates ordered by similarity to ``word`` (closest first).

    Candidates that are not similar at all still follow the close ones, so that a message can list
    every valid name with the likely intended one first.
    """
    candidates = list(candidates)
    close = difflib.get_close_matches(word, candidates, n=len(candidates), cutoff=0.0)
    return close[:n] if n else close


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint, or an empty string when nothing is close enough."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
