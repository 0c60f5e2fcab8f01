"""Shared statistics of studylib: every estimate with an interval, checked against reference implementations.

Import as ``from studylib import stats``. One module per family; this file only re-exports.
"""

from studylib.stats._estimate import Estimate
from studylib.stats._validate import UndefinedMetricWarning
from studylib.stats.proportion import proportion, proportion_ci
from studylib.stats.binary import BinaryMetrics, binary_metrics, likelihood_ratios
from studylib.stats.calibration import Calibration, calibration, calibration_curve
from studylib.stats.paired import McNemarResult, mcnemar, mcnemar_from_counts
from studylib.stats.decision_curve import net_benefit
from studylib.stats.multiplicity import adjust_pvalues
from studylib.stats.drift import (
    Chi2Result, KSResult, PSINull, chi2_test, ks_test, psi, psi_from_counts, psi_null, psi_table, reference_edges,
)
from studylib.stats.bootstrap import bootstrap_ci
from studylib.stats.precision_recall import auprc, precision_recall_curve
from studylib.stats.roc import DeLongTest, auroc, delong_test, roc_curve
from studylib.stats.brier import brier_difference, brier_difference_p_value, brier_score
from studylib.stats.smd import smd_categorical, smd_continuous, smd_from_moments
from studylib.stats.heterogeneity import cochran_q, contingency_test
from studylib.stats.difference import mover_difference
from studylib.stats.sample_size import sample_size
from studylib.stats.control import control_limits, hanley_mcneil_se, mean_from_sums
from studylib.stats.contingency import PearsonChi2, pearson_chi2

__all__ = ["Estimate", "auroc", "delong_test", "DeLongTest", "roc_curve", "auprc", "precision_recall_curve", "bootstrap_ci"]
__all__ += [
    "UndefinedMetricWarning", "proportion", "proportion_ci", "BinaryMetrics", "binary_metrics",
    "likelihood_ratios", "Calibration", "calibration", "calibration_curve", "McNemarResult", "mcnemar", "mcnemar_from_counts",
    "net_benefit", "adjust_pvalues", "Chi2Result", "KSResult", "chi2_test", "ks_test", "psi",
    "psi_from_counts", "psi_table", "reference_edges", "PSINull", "psi_null",
]
__all__ += [
    "brier_score", "brier_difference", "brier_difference_p_value", "smd_continuous", "smd_categorical",
    "smd_from_moments", "cochran_q", "contingency_test", "mover_difference", "sample_size",
    "control_limits", "hanley_mcneil_se", "mean_from_sums", "PearsonChi2", "pearson_chi2",
]
