"""Hand-worked PSI examples (computed with pencil and a calculator; formula and binning of
studylib.stats.drift.psi). Tolerance 1e-9 absolute (exact arithmetic up to floating point).

Example A (psi_from_counts): reference counts [50, 50], current counts [30, 70]:
  (0.3 - 0.5) ln(0.3/0.5) + (0.7 - 0.5) ln(0.7/0.5)
  = 0.2 * 0.5108256238 + 0.2 * 0.3364722366 = 0.1694595721

Example B (psi, empty bins): reference 1, 2, ..., 10. Type-7 deciles are 1 + 9k/10, i.e. the
inner edges 1.9, 2.8, ..., 9.1, so each reference value is alone in its bin (proportion 0.1).
Current [1, 1, 1, 1, 1, 6, 7, 8, 9, 10]: bin 1 has 5 (0.5), bins 2-5 are empty (floored at
eps = 1e-4), bins 6-10 have one each (0.1, no contribution):
  0.4 ln(5) + 4 (1e-4 - 0.1) ln(1e-4 / 0.1)
  = 0.6437751650 + 0.3996 * 6.9077552790 = 3.4041141744

Example C (edges, right-closed bins): reference 0, 1, ..., 10. Deciles are exactly 0, 1, ..., 10;
the inner edges are 1..9 and a value equal to an edge belongs to the bin below it, so the
reference counts are [2, 1, 1, 1, 1, 1, 1, 1, 1, 1] (0 and 1 share the first bin (-inf, 1]).
"""

TOLERANCE = 1e-9

EXAMPLE_A = {"ref_counts": [50, 50], "cur_counts": [30, 70], "psi": 0.1694595721}
EXAMPLE_B = {
    "reference": list(range(1, 11)),
    "current": [1, 1, 1, 1, 1, 6, 7, 8, 9, 10],
    "psi": 0.6437751650 + 0.3996 * 6.9077552790,
}
EXAMPLE_C = {"reference": list(range(11)), "reference_counts": [2, 1, 1, 1, 1, 1, 1, 1, 1, 1]}
