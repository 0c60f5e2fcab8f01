"""rms ``val.prob`` on predictions that include probabilities exactly 0 and 1.

Data: ``tests/reference/val_prob_zero_one.csv`` (2,000 rows: 1,998 risks expit(N(-1.2, 1.4)) rounded to
6 decimals with outcomes drawn from them, numpy seed 20261201, plus one event at p = 0 and one event at
p = 1). R 4.2.2 Patched (2022-11-10 r83330), rms 6.5.0:

    suppressMessages(library(rms))
    d <- read.csv("tests/reference/val_prob_zero_one.csv")
    v <- val.prob(d$p, d$y, pl = FALSE)
    # Warning: 2 observations deleted from logistic calibration due to probs. of 0 or 1
    print(v, digits = 12)
    i <- is.finite(qlogis(d$p))
    citl <- glm(y ~ 1 + offset(qlogis(p)), family = binomial, data = d[i, ])
    print(summary(citl)$coefficients, digits = 12)
    sl <- glm(y ~ qlogis(p), family = binomial, data = d[i, ])
    print(summary(sl)$coefficients, digits = 12)

``val.prob`` drops the two rows from its logistic calibration (Intercept, Slope) and keeps them for
Brier, E-statistics and Spiegelhalter's test; CITL is not a ``val.prob`` output, so the offset model is
fitted by ``glm`` on the same rows. (Clipping the two rows to 1e-15 instead gives slope 0.909.)
Printed to 12 significant digits; TOLERANCE is absolute, for our Newton–Raphson (step tolerance 1e-10)
against R's IRLS (``glm`` default epsilon 1e-8 on the deviance).
"""

TOLERANCE = 1e-6

CSV = "val_prob_zero_one.csv"
EXCLUDED = 2
VAL_PROB = {
    "Brier": 0.1565004388194, "Intercept": 0.0341505483258, "Slope": 1.0011985769131,
    "Emax": 0.0198713720519, "E90": 0.0147766114232, "Eavg": 0.0088054882117,
    "S:z": 0.2997794900295, "S:p": 0.7643453608162,
}
#: glm(y ~ 1 + offset(qlogis(p))) on the finite rows: estimate, standard error
CITL = (0.0333129766202, 0.0565028749067)
#: glm(y ~ qlogis(p)) on the finite rows: slope estimate, standard error
SLOPE = (1.0011985769187, 0.0536772712934)
