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


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint, or an empty string when nothing is close enough."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
