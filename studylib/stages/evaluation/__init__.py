"""Stage 2: retrospective evaluation (operating point, discrimination, calibration, comparison, errors)."""
