"""Published confidence intervals for a single proportion.

Source: Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of
seven methods. Statistics in Medicine 17(8):857-872. doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E
Table I, 95% intervals for four examples, printed to 4 decimals:
  method 3 "score method" (Wilson 1927, without continuity correction) -> our "wilson";
  method 5 "exact" (Clopper-Pearson 1934)                              -> our "clopper-pearson".
The printed values are rounded to 4 decimals, so the tolerance is half a unit in the 4th decimal
plus floating-point slack: TOLERANCE = 5e-5 + 1e-9 (absolute).
The same Wilson values are used as a source check by other implementations (e.g. the Julia package
ClinicalTrialUtilities' test suite); R's binom::binom.confint(81, 263, methods = "wilson") prints them
too.
"""

TOLERANCE = 5e-5 + 1e-9

# (x, n): {method: (lower, upper)}
NEWCOMBE_1998_TABLE_I = {
    (81, 263): {"wilson": (0.2553, 0.3662), "clopper-pearson": (0.2527, 0.3676)},
    (15, 148): {"wilson": (0.0624, 0.1605), "clopper-pearson": (0.0578, 0.1617)},
    (0, 20): {"wilson": (0.0000, 0.1611), "clopper-pearson": (0.0000, 0.1684)},
    (1, 29): {"wilson": (0.0061, 0.1718), "clopper-pearson": (0.0009, 0.1776)},
}
