"""Shared statistics of studylib: every estimate with an interval, checked against reference implementations.

Import as ``from studylib import stats``. One module per family; this file only re-exports.
"""

from studylib.stats._estimate import Estimate
from studylib.stats.bootstrap import bootstrap_ci
from studylib.stats.precision_recall import auprc, precision_recall_curve
from studylib.stats.roc import DeLongTest, auroc, delong_test, roc_curve

__all__ = ["Estimate", "auroc", "delong_test", "DeLongTest", "roc_curve", "auprc", "precision_recall_curve", "bootstrap_ci"]
