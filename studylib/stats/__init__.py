"""Shared statistics of studylib: every estimate with an interval, checked against reference implementations.

Import as ``from studylib import stats``. One module per family; this file only re-exports, lazily: a name is
imported from its module when first used (PEP 562), so that ``from studylib.stats import Estimate`` (the
runner, the judges) does not import SciPy and statsmodels (1.6 s of every ``studylib`` command).
"""

from __future__ import annotations

import importlib
import sys
import types

#: every re-exported name and the module that defines it
_SOURCES = {
    "Estimate": "studylib.stats._estimate",
    "UndefinedMetricWarning": "studylib.stats._validate",
    "proportion": "studylib.stats.proportion",
    "proportion_ci": "studylib.stats.proportion",
    "BinaryMetrics": "studylib.stats.binary",
    "binary_metrics": "studylib.stats.binary",
    "likelihood_ratios": "studylib.stats.binary",
    "Calibration": "studylib.stats.calibration",
    "calibration": "studylib.stats.calibration",
    "calibration_curve": "studylib.stats.calibration",
    "McNemarResult": "studylib.stats.paired",
    "mcnemar": "studylib.stats.paired",
    "mcnemar_from_counts": "studylib.stats.paired",
    "net_benefit": "studylib.stats.decision_curve",
    "adjust_pvalues": "studylib.stats.multiplicity",
    "Chi2Result": "studylib.stats.drift",
    "KSResult": "studylib.stats.drift",
    "PSINull": "studylib.stats.drift",
    "chi2_test": "studylib.stats.drift",
    "ks_test": "studylib.stats.drift",
    "psi": "studylib.stats.drift",
    "psi_from_counts": "studylib.stats.drift",
    "psi_null": "studylib.stats.drift",
    "psi_table": "studylib.stats.drift",
    "reference_edges": "studylib.stats.drift",
    "bootstrap_ci": "studylib.stats.bootstrap",
    "auprc": "studylib.stats.precision_recall",
    "precision_recall_curve": "studylib.stats.precision_recall",
    "DeLongTest": "studylib.stats.roc",
    "auroc": "studylib.stats.roc",
    "delong_test": "studylib.stats.roc",
    "roc_curve": "studylib.stats.roc",
    "brier_difference": "studylib.stats.brier",
    "brier_difference_p_value": "studylib.stats.brier",
    "brier_score": "studylib.stats.brier",
    "smd_categorical": "studylib.stats.smd",
    "smd_continuous": "studylib.stats.smd",
    "smd_from_moments": "studylib.stats.smd",
    "cochran_q": "studylib.stats.heterogeneity",
    "contingency_test": "studylib.stats.heterogeneity",
    "mover_difference": "studylib.stats.difference",
    "sample_size": "studylib.stats.sample_size",
    "control_limits": "studylib.stats.control",
    "hanley_mcneil_se": "studylib.stats.control",
    "mean_from_sums": "studylib.stats.control",
    "PearsonChi2": "studylib.stats.contingency",
    "pearson_chi2": "studylib.stats.contingency",
}

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


def __getattr__(name: str):
    try:
        module = _SOURCES[name]
    except KeyError:
        raise AttributeError(f"module 'studylib.stats' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCES))


class _Package(types.ModuleType):
    """Keeps a re-exported function under its name when the module of the same name is imported
    (``calibration``, ``proportion``, ``sample_size``): the import system would otherwise set the
    package's attribute to the submodule, as an eager ``from ... import`` here used to overwrite it."""

    def __setattr__(self, name: str, value) -> None:
        if name in _SOURCES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
