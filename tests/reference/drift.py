"""Hand-worked PSI examples (computed with pencil and a calculator; formula, smoothing and binning of
studylib.stats.drift.psi). Tolerance 1e-9 absolute (exact arithmetic up to floating point).

Smoothing: every bin count gets + 0.5 in both samples, p_i = (x_i + 0.5) / (n + 0.5 k) over k bins
(Krichevsky-Trofimov). Bins: R's cut(x, c(-Inf, unique(quantile(reference, (1:(k-1))/k)), Inf),
right = TRUE), quantile type 7 (R's and numpy's default).

Example A (psi_from_counts): reference counts [50, 50], current counts [30, 70]:
  r = (50.5, 50.5) / 101 = (1/2, 1/2);  c = (30.5, 70.5) / 101
  (30.5/101 - 1/2) ln(61/101) + (70.5/101 - 1/2) ln(141/101)
  = -0.1980198020 * (-0.5042600...) + 0.1980198020 * 0.3336375... = 0.1659180250

Example B (psi, empty bins): reference 1, 2, ..., 10. Type-7 quantiles at 0.1..0.9 are 1.9, 2.8,
..., 9.1, so each reference value is alone in its bin: r = 1.5 / 15 = 1/10 in each of 10 bins.
Current [1, 1, 1, 1, 1, 6, 7, 8, 9, 10]: counts [5, 0, 0, 0, 0, 1, 1, 1, 1, 1], smoothed
c = 5.5/15 = 11/30, four bins 0.5/15 = 1/30, five bins 1/10 (no contribution):
  (11/30 - 1/10) ln(11/3) + 4 (1/30 - 1/10) ln(1/3) = (8/30) (ln(11/3) + ln 3) = (8/30) ln 11
  = 0.2666666667 * 2.3978952728 = 0.6394387394
(With the former floor of 1e-4 on proportions this was 3.4041: 0.69 per empty bin.)

Example C (edges, right-closed bins): reference 0, 1, ..., 10. Quantiles at 0.1..0.9 are exactly
1, ..., 9; a value equal to an edge belongs to the bin below it, so the reference counts are
[2, 1, 1, 1, 1, 1, 1, 1, 1, 1] (0 and 1 share the first bin (-inf, 1]).

Example D (a spike tied at the minimum keeps its bin): reference [0, 0, 0, 1, 2, 3, 4, 5, 6, 7],
5 bins. Type-7 quantiles at 0.2, 0.4, 0.6, 0.8 (positions 9p = 1.8, 3.6, 5.4, 7.2 of the sorted
values): 0, 1.6, 3.4, 5.2; R's cut on c(-Inf, 0, 1.6, 3.4, 5.2, Inf) gives reference counts
[3, 1, 2, 2, 2]: the three zeros alone in (-inf, 0]. Current [1, 1, 1, 1, 2, 3, 4, 5, 6, 7] (the
zeros became ones) has counts [0, 4, 2, 2, 2]; smoothed, over 10 + 2.5 = 12.5:
  (0.5 - 3.5)/12.5 ln(0.5/3.5) + (4.5 - 1.5)/12.5 ln(4.5/1.5) = 0.24 ln 7 + 0.24 ln 3 = 0.24 ln 21
  = 0.24 * 3.0445224377 = 0.7306853851
(Dropping the minimum as an outer edge, as before, merged the zeros with the ones in
(-inf, 1.6]: counts [4, 2, 2, 2] in both samples and a PSI of 0.)
"""

TOLERANCE = 1e-9

EXAMPLE_A = {"ref_counts": [50, 50], "cur_counts": [30, 70], "psi": 0.1659180250}
EXAMPLE_B = {
    "reference": list(range(1, 11)),
    "current": [1, 1, 1, 1, 1, 6, 7, 8, 9, 10],
    "psi": 8 / 30 * 2.3978952728,
}
EXAMPLE_C = {"reference": list(range(11)), "reference_counts": [2, 1, 1, 1, 1, 1, 1, 1, 1, 1]}
EXAMPLE_D = {
    "reference": [0, 0, 0, 1, 2, 3, 4, 5, 6, 7], "current": [1, 1, 1, 1, 2, 3, 4, 5, 6, 7], "bins": 5,
    "edges": [0.0, 1.6, 3.4, 5.2], "reference_counts": [3, 1, 2, 2, 2], "current_counts": [0, 4, 2, 2, 2],
    "psi": 0.24 * 3.0445224377,
}
