"""Stage 3: subgroup analysis (every metric by subgroup, heterogeneity, per-subgroup gates).

One module per concern, in the order the analysis runs (:func:`analysis.analyse` ties them together):

- :mod:`.groups` — the levels of each variable, the subgroups and their intersections;
- :mod:`.metrics` — the tidy metric table (every metric in every subgroup, from tie-group counts);
- :mod:`.eligibility` — who can be judged (minimum n, small cells) and the sample-size hints;
- :mod:`.comparisons` — heterogeneity across levels and differences from a reference level;
- :mod:`.judging` — the subgroup gates in every subgroup (the rules are in :mod:`studylib.judge.subgroup_gates`);
- :mod:`.reviewer` — the reviewer view of the analysis (small-cell suppression applied);
- :mod:`.analysis` — the whole analysis as one frozen result.

The statistics come from :mod:`studylib.stats`; tables, Markdown and figures from
:mod:`studylib.report.tables.subgroups` and :mod:`studylib.report.plots.subgroups`.
"""
