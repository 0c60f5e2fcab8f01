"""Reference values of the sample size for external validation (Riley et al. 2021), as the authors' R code gives them.

Source: Riley RD, Debray TPA, Collins GS, Archer L, Ensor J, van Smeden M, Snell KIE. Minimum sample size
for external validation of a clinical prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251.
doi:10.1002/sim.9025; the companion R code by G. Collins (validation_sample_size_22_May_2021.R), whose
functions N_OE, N_C and N_nb are closed forms of the inputs below.

The R code rounds the sample size (``round``) and its SEs are given to three decimals (0.051 for a
width of 0.2, 0.0255 for a C-statistic width of 0.1, 0.245 for an O/E width of 1); studylib solves
the SE from the width exactly and rounds up. Tolerance: 1 % relative (the SE rounding moves n by up
to 2 × 0.0005 / 0.051 ≈ 0.4 %, rounding up against R's round() by one more participant).

Worked example (section 4): outcome proportion 0.018, anticipated C-statistic 0.8, target O/E CI width 1,
C-statistic width 0.1, calibration slope width 0.2, net benefit at threshold 0.08 with anticipated
sensitivity 0.2 and specificity 0.99. The paper's LP distribution (Pearson, mean -5.8, variance 5,
skewness -0.5, kurtosis 4) is simulated in the paper with 1e6 draws; see the slope note in
tests/stats/test_validation_size.py.
"""

RELATIVE_TOLERANCE = 0.01

#: N_OE(phi, SE_OE): (phi, O/E CI width) -> R output
OE = {(0.5, 0.2): 384, (0.1, 0.2): 3460, (0.1, 0.7): 294, (0.018, 1.0): 909}
#: N_C(c.index, phi, target.se = 0.0255): (C, phi) -> R output (optimize(), rounded)
C_STATISTIC = {(0.7, 0.1): 1153, (0.8, 0.5): 302, (0.8, 0.018): 4252}
#: N_nb(sens, spec, pt, phi): -> R output
NET_BENEFIT = {(0.6, 0.88, 0.8, 0.72): 545, (0.2, 0.99, 0.08, 0.018): 3549}
