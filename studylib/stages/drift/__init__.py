"""Stage 4: drift review (input, output, calibration and performance drift over windows)."""
