"""Stage 3: subgroup analysis (every metric by subgroup, heterogeneity, per-subgroup gates)."""
