r"""R metafor reference values of the random-effects meta-analysis (studylib.stats.meta_analysis).

Made with R 4.2.2 and metafor 3.8-1 (Debian bookworm packages r-base-core, r-cran-metafor) by the call
below; the printed output is stored verbatim in OUTPUT and parsed into CASES. Tolerance: 1e-6 absolute
(the convergence threshold of REML is 1e-12 in both implementations).

R call (Rscript):

    library(metafor)
    options(digits = 15)
    cases <- list(
      five = list(yi = c(1.386294, 1.098612, 1.734601, 0.847298, 1.516347), vi = c(0.0123, 0.0310, 0.0205, 0.0422, 0.0167)),
      three = list(yi = c(0.10, 0.35, -0.05), vi = c(0.010, 0.020, 0.015)),
      homogeneous = list(yi = c(0.50, 0.52, 0.49, 0.51), vi = c(0.04, 0.05, 0.03, 0.06))
    )
    for (nm in names(cases)) {
      for (m in c("REML", "DL")) {
        r <- rma(yi = cases[[nm]]$yi, vi = cases[[nm]]$vi, method = m, test = "knha", control = list(threshold = 1e-12, maxiter = 10000))
        p <- predict(r)
        cat(sprintf("%s %s b=%.12f se=%.12f ci.lb=%.12f ci.ub=%.12f tau2=%.12f I2=%.12f QE=%.12f QEp=%.12f pi.lb=%.12f pi.ub=%.12f\n",
                    nm, m, r$b[1], r$se, r$ci.lb, r$ci.ub, r$tau2, r$I2, r$QE, r$QEp, p$pi.lb, p$pi.ub))
      }
    }
"""

TOLERANCE = 1e-6

INPUTS = {
    "five": ((1.386294, 1.098612, 1.734601, 0.847298, 1.516347), (0.0123, 0.0310, 0.0205, 0.0422, 0.0167)),
    "three": ((0.10, 0.35, -0.05), (0.010, 0.020, 0.015)),
    "homogeneous": ((0.50, 0.52, 0.49, 0.51), (0.04, 0.05, 0.03, 0.06)),
}

OUTPUT = """\
five REML b=1.340049687712 se=0.151192101089 ci.lb=0.920273118700 ci.ub=1.759826256724 tau2=0.084275500525 I2=79.865320062122 QE=16.454518960979 QEp=0.002466149158 pi.lb=0.431279921619 pi.ub=2.248819453805
five DL b=1.344304022436 se=0.150144150705 ci.lb=0.927437030137 ci.ub=1.761171014734 tau2=0.066153800824 I2=75.690568594040 QE=16.454518960979 QEp=0.002466149158 pi.lb=0.517421675630 pi.ub=2.171186369241
three REML b=0.122536980796 se=0.111464277997 ci.lb=-0.357055099199 ci.ub=0.602129060791 tau2=0.019762246509 I2=57.773043688142 QE=4.596153846154 QEp=0.100451834700 pi.lb=-0.649384961979 pi.ub=0.894458923570
three DL b=0.122247812068 se=0.111292840852 ci.lb=-0.356606633426 ci.ub=0.601102257562 tau2=0.018750000000 I2=56.485355648536 QE=4.596153846154 QEp=0.100451834700 pi.lb=-0.636973476217 pi.ub=0.881469100353
homogeneous REML b=0.502456140351 se=0.006603268883 ci.lb=0.481441591690 ci.ub=0.523470689012 tau2=0.000000000000 I2=0.000000000000 QE=0.012426900585 QEp=0.999632933680 pi.lb=0.481441591690 pi.ub=0.523470689012
homogeneous DL b=0.502456140351 se=0.006603268883 ci.lb=0.481441591690 ci.ub=0.523470689012 tau2=0.000000000000 I2=0.000000000000 QE=0.012426900585 QEp=0.999632933680 pi.lb=0.481441591690 pi.ub=0.523470689012
"""


def _parse(text: str) -> dict:
    cases = {}
    for line in text.strip().splitlines():
        name, method, *fields = line.split()
        cases[(name, method.lower())] = {k: float(v) for k, v in (f.split("=") for f in fields)}
    return cases


#: (case, method) -> metafor's b, se, ci.lb, ci.ub, tau2, I2 (percent), QE, QEp, pi.lb, pi.ub
CASES = _parse(OUTPUT)
