"""Shared statistics of studylib: every estimate with an interval, checked against reference implementations.

Import as ``from studylib import stats``. One module per family; this file only re-exports.
"""

from studylib.stats._estimate import Estimate
from studylib.stats._validate import UndefinedMetricWarning
from studylib.stats.proportion import proportion, proportion_ci
from studylib.stats.binary import BinaryMetrics, binary_metrics, likelihood_ratios
from studylib.stats.calibration import Calibration, calibration, calibration_curve
from studylib.stats.paired import McNemarResult, mcnemar
from studylib.stats.decision_curve import net_benefit
from studylib.stats.multiplicity import adjust_pvalues
from studylib.stats.drift import (
    Chi2Result, KSResult, chi2_test, ks_test, psi, psi_from_counts, psi_table, reference_edges,
)
from studylib.stats.bootstrap import bootstrap_ci
from studylib.stats.precision_recall import auprc, precision_recall_curve
from studylib.stats.roc import DeLongTest, auroc, delong_test, roc_curve

__all__ = ["Estimate", "auroc", "delong_test", "DeLongTest", "roc_curve", "auprc", "precision_recall_curve", "bootstrap_ci"]
__all__ += [
    "UndefinedMetricWarning", "proportion", "proportion_ci", "BinaryMetrics", "binary_metrics",
    "likelihood_ratios", "Calibration", "calibration", "calibration_curve", "McNemarResult", "mcnemar",
    "net_benefit", "adjust_pvalues", "Chi2Result", "KSResult", "chi2_test", "ks_test", "psi",
    "psi_from_counts", "psi_table", "reference_edges",
]
