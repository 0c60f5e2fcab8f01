"""Newcombe's score-type interval for the AUROC (Mann–Whitney effect size), his Method 5, computed in R.

Source: Newcombe RG. Confidence intervals for an effect size measure based on the Mann-Whitney
statistic. Part 2: asymptotic methods and evaluation. Stat Med. 2006;25(4):559-573.
doi:10.1002/sim.2324. The interval is every theta with (A - theta)^2 <= z^2 V(theta), where V is
Hanley & McNeil's variance with their exponential approximations of Q1, Q2 and m - 1, n - 1 both
replaced by N* = (m + n)/2 - 1:

    V(theta) = theta (1 - theta) [1 + N* (1 - theta)/(2 - theta) + N* theta/(1 + theta)] / (m n)

studylib.stats.roc uses it where DeLong's variance is 0 (perfect separation, a constant score).

Made with R 4.2.2 (base R only, uniroot at tol = 1e-14), this script::

    V <- function(theta, s, m, n) theta*(1-theta)*(1 + s*(1-theta)/(2-theta) + s*theta/(1+theta))/m/n
    ci5 <- function(a, m, n, alpha=0.05) {
      s <- (m + n)/2 - 1; z <- qnorm(1 - alpha/2)
      lo <- if (a == 0) 0 else uniroot(function(t) a - t - z*sqrt(V(t, s, m, n)), c(0, a - 1e-12*(a == 1)), tol=1e-14)$root
      hi <- if (a == 1) 1 else uniroot(function(t) a - t + z*sqrt(V(t, s, m, n)), c(a + 1e-12*(a == 0), 1), tol=1e-14)$root
      c(lo, hi)
    }
    cases <- list(c(1, 3, 3), c(0.5, 3, 3), c(1, 10, 15), c(0, 20, 30), c(0.8, 10, 12), c(1, 43, 8))
    for (cs in cases) { r <- ci5(cs[1], cs[2], cs[3]); cat(sprintf("(%g, %d, %d, %.10f, %.10f),\n", cs[1], cs[2], cs[3], r[1], r[2])) }
"""

#: (AUROC, positives m, negatives n, lower, upper) of the 95% interval, as R printed them
CASES = (
    (1, 3, 3, 0.5010187607, 1.0000000000),
    (0.5, 3, 3, 0.1527735361, 0.8472264639),
    (1, 10, 15, 0.8321519202, 1.0000000000),
    (0, 20, 30, 0.0000000000, 0.0840610721),
    (0.8, 10, 12, 0.5540258156, 0.9222943013),
    (1, 43, 8, 0.8531270011, 1.0000000000),
)
#: uniroot's tolerance and the 10 printed decimals
TOLERANCE = 1e-8
