"""Coverage simulation of the Wilson interval (slow: run with `make test-slow` or `pytest -m slow`).

For each (n, p), 20,000 binomial data sets are simulated with a fixed seed; the share whose 95%
Wilson interval contains p must lie in [93.5%, 96.5%]. The (n, p) are chosen where the exact
coverage (sum of binomial probabilities of the covering x) is between 94.5% and 95.7%: the Wilson
interval's coverage oscillates with n and p and dips to about 92-93% at some points (Brown, Cai &
DasGupta 2001, Stat Sci 16:101-133, Fig. 4), so this is a check of the implementation, not a claim
about every (n, p). With 20,000 data sets the Monte Carlo standard error is about 0.15 points.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from studylib import stats

N_SIM = 20_000
SETTINGS = [(50, 0.2), (200, 0.3), (500, 0.05), (500, 0.5), (1000, 0.1)]


@pytest.mark.slow
def test_wilson_coverage():
    rng = np.random.default_rng(20240521)
    rows = []
    for n, p in SETTINGS:
        x = rng.binomial(n, p, size=N_SIM)
        lower, upper = stats.proportion_ci(x, np.full(N_SIM, n), 0.05, "wilson")
        simulated = float(np.mean((lower <= p) & (p <= upper)))
        grid = np.arange(n + 1)
        glo, ghi = stats.proportion_ci(grid, np.full(n + 1, n), 0.05, "wilson")
        exact = float(sps.binom.pmf(grid, n, p)[(glo <= p) & (p <= ghi)].sum())
        rows.append((n, p, simulated, exact))
    print(f"\nWilson 95% interval coverage, {N_SIM} simulated data sets per row")
    print(f"{'n':>6} {'p':>6} {'simulated':>10} {'exact':>8}")
    for n, p, simulated, exact in rows:
        print(f"{n:>6} {p:>6.2f} {simulated:>10.4f} {exact:>8.4f}")
    for n, p, simulated, exact in rows:
        assert 0.935 <= simulated <= 0.965, (n, p, simulated)
        assert abs(simulated - exact) < 5 * np.sqrt(exact * (1 - exact) / N_SIM), (n, p, simulated, exact)
