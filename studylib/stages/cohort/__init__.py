"""Stage 1: cohort construction (criteria as data, leakage checks, missingness, Table 1)."""
