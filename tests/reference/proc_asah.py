"""pROC reference values on the aSAH data (tests/reference/aSAH.csv).

Source of the numbers: the examples in pROC's own documentation (R package pROC, GPL >= 3; Robin X,
Turck N, Hainard A, et al. (2011). pROC: an open-source package for R and S+ to analyze and compare
ROC curves. BMC Bioinformatics 12:77. doi:10.1186/1471-2105-12-77). The R calls, with pROC's defaults
(levels = c("Good", "Poor"), so controls = Good, cases = Poor; direction "<": higher score = Poor):

    library(pROC); data(aSAH)
    auc(aSAH$outcome, aSAH$s100b)                      # Area under the curve: 0.7314
    ci.auc(aSAH$outcome, aSAH$s100b)                   # 95% CI: 0.6301-0.8326 (DeLong)
    auc(aSAH$outcome, aSAH$wfns)                       # Area under the curve: 0.8237
    auc(aSAH$outcome, aSAH$ndka)                       # Area under the curve: 0.612
    roc1 <- roc(aSAH$outcome, aSAH$s100b)
    roc2 <- roc(aSAH$outcome, aSAH$wfns)
    roc.test(roc1, roc2, method = "delong")            # Z = -2.209, p-value = 0.02718
                                                       # (paired DeLong; AUC of roc1 0.7313686,
                                                       #  AUC of roc2 0.8236789)

Tolerance: R prints these with 4 significant digits (p with 4), so a value printed as x.xxxx is checked
to half a unit of its last digit: TOL_4DP = 5e-4 absolute for numbers printed to 4 decimals, 5e-3 for
Z printed to 3 decimals, 5e-6 for the p-value printed as 0.02718, 5e-8 for the AUCs roc.test prints to
7 decimals. These are printed values from the documentation, not re-run here: R is not part of this
project's environment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CSV = Path(__file__).with_name("aSAH.csv")

AUC_S100B = 0.7314
CI_S100B = (0.6301, 0.8326)
AUC_WFNS = 0.8237
AUC_NDKA = 0.612
TEST_AUC_S100B = 0.7313686
TEST_AUC_WFNS = 0.8236789
TEST_Z = -2.209
TEST_P = 0.02718

TOL_4DP = 5e-4
TOL_3DP = 5e-3
TOL_P = 5e-6
TOL_7DP = 5e-8


def load() -> pd.DataFrame:
    """The 113 rows with ``y`` (1 = Poor outcome) added; checks the size and class counts."""
    frame = pd.read_csv(CSV, comment="#")
    frame["y"] = (frame["outcome"] == "Poor").astype(int)
    assert frame.shape[0] == 113 and int(frame["y"].sum()) == 41, "aSAH.csv must hold 113 rows, 41 Poor"
    return frame


def arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(y, s100b, wfns, ndka)`` as numpy arrays."""
    frame = load()
    return (frame["y"].to_numpy(), frame["s100b"].to_numpy(float), frame["wfns"].to_numpy(float),
            frame["ndka"].to_numpy(float))
