"""Running a study: preflight checks, the runner, the environment record and reproduction."""
