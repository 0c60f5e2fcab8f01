"""Shared statistics of studylib: every estimate with an interval, checked against reference implementations.

Import as ``from studylib import stats``. One module per family; this file only re-exports.
"""

from studylib.stats._estimate import Estimate

__all__ = ["Estimate"]
