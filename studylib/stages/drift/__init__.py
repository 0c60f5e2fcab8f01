"""Stage 4: drift review (input, output, calibration and performance drift over windows).

- :mod:`~studylib.stages.drift.review`: :func:`~studylib.stages.drift.review.review`, the review of a
  source under the plan, and :class:`~studylib.stages.drift.review.DriftReview`, what it returns;
- :mod:`~studylib.stages.drift.histograms`: input and output drift per window from the DuckDB
  histograms and sums;
- :mod:`~studylib.stages.drift.labelled`: calibration and performance drift per window from the
  labelled rows, with control limits.

The statistics are in :mod:`studylib.stats.drift` and :mod:`studylib.stats.control`, the scans in
:mod:`studylib.data.scan`, the triggers in :mod:`studylib.judge.triggers`, the tables and figures in
:mod:`studylib.report.tables.drift` and :mod:`studylib.report.plots.drift`, and the frozen cohort is
found by :func:`studylib.evidence.workspace.analysis_source`.
"""
