r"""Reference values of the sample size for external validation (Riley et al. 2021), as the authors' R code gives them.

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

The values below are the output of R 4.2.2 running these functions of the companion code (Rscript):

    N_OE <- function(phi, SE_OE = 0.051) round((1 - phi) / (phi * SE_OE^2), 0)
    N_C <- function(c.index = 0.7, phi = 0.1, target.se = 0.0255, min.opt = 100, max.opt = 10000){
      se.c <- function(n, cc = c.index, phi2 = phi, target.se2 = target.se){
        zz <- sqrt((cc * (1 - cc)*(1 + (n/2 - 1)*((1 - cc)/(2 - cc)) + ((n/2 - 1) * cc / (1 + cc))))/(n^2 * phi2 * (1 - phi2)))
        abs(zz - target.se2)
      }
      round(optimize(se.c, c(min.opt, max.opt, tol = 0.0001))$minimum, 0)
    }
    N_nb <- function(sens, spec, phi, pt, se.nb = 0.051){
      w <- (1 - phi) / phi * (pt / (1 - pt))
      round((sens * (1-sens)/phi + w^2*spec*(1-spec)/(1-phi) + w^2*(1-spec)^2/(phi*(1-phi))) / se.nb^2, 0)
    }
    cat(N_OE(0.5, 0.051), N_OE(0.1, 0.051), N_OE(0.1, 0.175), N_OE(0.018, 0.245), "\n")
    cat(N_C(0.7, 0.1), N_C(0.8, 0.5), N_C(0.80, 0.018), "\n")
    cat(N_nb(sens = 0.6, spec = 0.88, pt = 0.8, phi = 0.72), N_nb(sens = 0.2, spec = 0.99, pt = 0.08, phi = 0.018), "\n")

Output:

    384 3460 294 909
    1154 302 4255
    545 3554
"""

RELATIVE_TOLERANCE = 0.01

#: N_OE(phi, SE_OE): (phi, O/E CI width) -> R output
OE = {(0.5, 0.2): 384, (0.1, 0.2): 3460, (0.1, 0.7): 294, (0.018, 1.0): 909}
#: N_C(c.index, phi, target.se = 0.0255): (C, phi) -> R output (optimize(), rounded)
C_STATISTIC = {(0.7, 0.1): 1154, (0.8, 0.5): 302, (0.8, 0.018): 4255}
#: N_nb(sens, spec, pt, phi): -> R output
NET_BENEFIT = {(0.6, 0.88, 0.8, 0.72): 545, (0.2, 0.99, 0.08, 0.018): 3554}
