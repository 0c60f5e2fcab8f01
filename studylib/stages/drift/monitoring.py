"""The drift review of a monitoring source: its windows against the study cohort's reference window.

The reference (``drift.reference``: bin edges, histograms, the deployed model's fit) comes from the frozen
cohort, as in :func:`studylib.stages.drift.review.review`. The monitoring windows (``drift.windows``,
by a column of the source) are reduced in the engine (:mod:`studylib.data.reduce`: histograms over the
reference's fine edges, score × outcome counts of each model, placement sums and flag pairs); only
those aggregates come back, and the same tables as the cohort review are computed from them, with the
labelled statistics from counts (exact for the scores as stored, or on the declared ``resolution``).
Rows without an outcome (label delay) are counted per window (``unlabelled``) and are neither events
nor non-events. With a shadow score, :mod:`studylib.stages.drift.shadow` compares it with the deployed
model per window.

Per site (``drift.windows.per: site``): the engine groups every aggregate by (window, site of
``monitoring.columns.site``), and each (window, site) is reported as a window of its own, labelled
``"<site> · <window>"``, with a ``site`` column in every table (the reference row's is missing: it is the
study cohort). Multiplicity across sites: the intervals of the per-site windows (and of the reference
they are compared with) are Bonferroni-adjusted, each at level ``1 − alpha / S`` for S sites, so that in
a window the chance that any site's interval misses its true value is at most ``alpha`` — a trigger on
an interval bound fires by chance at some site no more often than the same trigger on one window of the
whole fleet. The p-values of the input-drift tests are adjusted across features × windows × sites (one
family, ``drift.multiplicity``). Rows without a site are outside every window.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from studylib.data import engine as engines, monitoring as source, reduce
from studylib.data.scan import Scanner, Window, WindowPlan, _select, _sort_key
from studylib.plan import Study
from studylib.stages.drift import histograms, labelled as labelled_rows, review as cohort_review, shadow as shadow_mode
from studylib.stats.drift import bin_edges

WINDOW = "__studylib_window"


def _period_key(column, period: str | None):
    """The window key of a row: the value, or its calendar period from ISO text or a timestamp."""
    if period is None:
        return column
    text = column.cast("string")
    year = text.substr(0, 4)
    if period == "year":
        return year
    month = text.substr(0, 7)
    if period == "month":
        return month
    quarter = ((text.substr(5, 2).cast("int64") - 1) // 3 + 1).cast("string")
    return year + "-Q" + quarter


def _window_plan(table, study: Study, reference: Window):
    """Label each row with its monitoring window index (1, 2, …; the reference is 0 and lives in the cohort)."""
    selector = study.drift.windows
    key = _period_key(table[selector.column], selector.period)
    counts = table.group_by(k=key).aggregate(n=table.count()).to_pandas()
    counts = counts[counts["k"].notna()]
    size = dict(zip(counts["k"], counts["n"].astype(int)))
    keys = _select(sorted(size, key=_sort_key), selector, fill=selector.period)
    each = selector.each or 1
    chunks = [tuple(keys[i:i + each]) for i in range(0, len(keys), each)]
    windows = [reference]
    branches = []
    for index, chunk in enumerate(chunks, start=1):
        label = str(chunk[0]) if len(chunk) == 1 else f"{chunk[0]}–{chunk[-1]}"
        windows.append(Window(label, chunk, sum(size.get(k, 0) for k in chunk)))
        present = [k for k in chunk if k in size]
        if present:
            branches.append((key.isin(present), index))
    outside = int(sum(size.values()) - sum(w.n for w in windows[1:]))
    labelled = table.mutate(**{WINDOW: ibis.cases(*branches, else_=ibis.null("int64")) if branches
                               else ibis.null("int64")})
    return WindowPlan(tuple(windows), "", outside), labelled


SITE_SEPARATOR = " · "


def site_label(site: str, window: str) -> str:
    """The label of one window at one site (``S07 · 2025-03``)."""
    return f"{site}{SITE_SEPARATOR}{window}"


def site_alpha(alpha: float, sites: int) -> float:
    """The level of every interval of a review of ``sites`` sites: Bonferroni, ``alpha / sites``.

    In one window, the chance that the interval of at least one of the S sites misses its site's true
    value is at most ``S · alpha / S = alpha`` (Bonferroni's inequality), whatever the dependence between
    sites; a rule on an interval bound therefore fires by chance at some site in a window no more often
    than at level ``alpha`` on the whole fleet. One site: ``alpha`` itself.

    References
    ----------
    Dunn OJ (1961). Multiple comparisons among means. Journal of the American Statistical Association
    56(293):52-64. doi:10.1080/01621459.1961.10482090
    """
    return alpha / sites


def _site_plan(table, plan: WindowPlan, site: str) -> tuple[WindowPlan, dict, dict]:
    """The per-site windows: every monitoring window of ``plan`` at each site (site-major, time order within).

    Returns the plan of those windows (index 0 the reference), ``(window index, site) → per-site index``, and
    per-site index → site. Rows without a site or window are counted outside.
    """
    counts = table.group_by([WINDOW, site]).aggregate(n=table.count()).to_pandas()
    names = [None if pd.isna(v) else str(v) for v in counts[site]]
    sites = sorted({v for v in names if v is not None})
    size = {(int(w), v): int(n) for w, v, n in zip(counts[WINDOW], names, counts["n"]) if pd.notna(w) and v is not None}
    windows, index, site_of = [plan.windows[0]], {}, {}
    for name in sites:
        for w, window in enumerate(plan.windows[1:], start=1):
            index[(w, name)] = len(windows)
            site_of[len(windows)] = name
            windows.append(Window(site_label(name, window.label), window.keys, size.get((w, name), 0)))
    outside = plan.outside + sum(w.n for w in plan.windows[1:]) - sum(size.values())
    return WindowPlan(tuple(windows), "", outside), index, site_of


def _by_site(frame: pd.DataFrame, site: str, index: dict) -> pd.DataFrame:
    """An aggregate keyed by (window, site) re-keyed by the per-site window index (rows without a site dropped)."""
    key = [index.get((int(w), str(v))) if pd.notna(v) else None for w, v in zip(frame[WINDOW], frame[site])]
    out = frame.drop(columns=[WINDOW, site]).assign(window=key)
    out = out[out["window"].notna()].astype({"window": "int64"})
    return out.sort_values("window", kind="stable").reset_index(drop=True)


def _with_site(frame: pd.DataFrame | None, sites: dict) -> pd.DataFrame | None:
    """The table with a ``site`` column after ``window`` (label → site; missing for the reference)."""
    if frame is None or "window" not in frame.columns:
        return frame
    out = frame.copy()
    out.insert(out.columns.get_loc("window") + 1, "site", [sites.get(w) for w in out["window"]])
    return out


def _per_window_counts(counts: pd.DataFrame, resolution: float | None) -> dict:
    """Window index → (score values ascending, events, non-events) of the labelled, scored rows."""
    out = {}
    lab = counts[counts["score"].notna() & counts["outcome"].isin([0.0, 1.0])]
    for w, part in lab.groupby("window"):
        wide = part.pivot_table(index="score", columns="outcome", values="n", aggfunc="sum", fill_value=0)
        score = wide.index.to_numpy(dtype=float) * (resolution or 1.0)
        out[int(w)] = (score, wide.get(1.0, pd.Series(0, index=wide.index)).to_numpy(dtype=np.int64),
                       wide.get(0.0, pd.Series(0, index=wide.index)).to_numpy(dtype=np.int64))
    return out


def _sums(counts: pd.DataFrame, plan: WindowPlan, threshold: float, resolution: float | None,
          reference: pd.Series) -> pd.DataFrame:
    """Per window index the sums of :meth:`studylib.data.scan.Scanner.score_sums` (+ ``unlabelled``),
    from the score × outcome counts; row 0 is the reference's from the cohort."""
    rows = [dict(reference) | {"unlabelled": 0}]
    for index in range(1, len(plan.windows)):
        part = counts[counts["window"] == index]
        p = part["score"].to_numpy(dtype=float) * (resolution or 1.0)
        n = part["n"].to_numpy(dtype=np.int64)
        scored = ~np.isnan(p)
        y = part["outcome"].to_numpy(dtype=float)
        lab = scored & ~np.isnan(y)
        rows.append({"w": index, "n": int(n.sum()), "scored": int(n[scored].sum()),
                     "total": float(np.dot(p[scored], n[scored])), "squares": float(np.dot(p[scored] ** 2, n[scored])),
                     "alerts": int(n[scored & (p >= threshold)].sum()), "labelled": int(n[lab].sum()),
                     "events": float(n[lab & (y == 1)].sum()), "expected": float(np.dot(p[lab], n[lab])),
                     "unlabelled": int(n[scored & np.isnan(y)].sum())})
    return pd.DataFrame(rows)


def review(cohort, study: Study, *, engine: str | None = None, memory_limit: str = "1GB"):
    """The drift review of the study's monitoring source against the cohort's reference window.

    Parameters
    ----------
    cohort : DataFrame, path or sequence of paths
        The frozen analysis cohort (its reference window is the reference).
    study : Study
        Parameters with ``monitoring`` and ``drift``.
    engine : str, optional
        Overrides ``monitoring.engine`` (``studylib run --engine``).

    Returns
    -------
    DriftReview
        The tables of :func:`studylib.stages.drift.review.review` over the monitoring windows (the
        ``windows`` table gains ``unlabelled``), ``shadow`` with a shadow score, and ``statistics`` with the
        shadow's rows (``of: shadow``); ``settings`` name the engine, the source and the score resolution.
    """
    drift, analysis, mon = study.drift, study.analysis, study.monitoring
    alpha, ci, threshold = analysis.alpha, analysis.ci_method, analysis.threshold
    method = drift.multiplicity or analysis.multiplicity
    ref_score = getattr(study.models, mon.deployed_model).score
    deployed, shadow, outcome = mon.columns.deployed, mon.columns.shadow, mon.columns.outcome
    features, categorical = list(drift.features), list(drift.categorical)
    # --- the reference window, from the cohort
    with Scanner(cohort, memory_limit=memory_limit) as scan:
        ref_plan = scan.plan(drift.model_copy(update={"windows": drift.reference}))
        values = scan.reference_columns(ref_plan, [*features, ref_score])
        edges, fine = {}, {}
        for column, v in values.items():
            if v.size:
                edges[column], fine[column] = bin_edges(v, drift.bins, drift.ks_bins)
        ref_bins, ref_cats, ref_sizes = scan.histograms(ref_plan, {c: fine[c] for c in fine}, tuple(categorical))
        ref_sums = scan.score_sums(ref_plan, ref_score, study.data.outcome, threshold).loc[0]
        ref_rows = scan.labelled(ref_plan, ref_score, study.data.outcome)
    rename = {ref_score: deployed}
    ref_bins = ref_bins[ref_bins["window"] == 0].replace({"feature": rename})
    ref_cats = ref_cats[ref_cats["window"] == 0]
    ref_sizes = ref_sizes[ref_sizes["window"] == 0].replace({"feature": rename})
    edges = {rename.get(k, k): v for k, v in edges.items()}
    fine = {rename.get(k, k): v for k, v in fine.items()}
    # --- the monitoring windows (per site: every window at each site), in the engine
    site = mon.columns.site if drift.windows.per == "site" else None
    connected = engines.connect(engine or mon.engine, master=mon.master)
    try:
        table = source.open_table(connected, study.monitoring_path)
        plan, table = _window_plan(table, study, ref_plan.windows[0])
        if site is not None:
            plan, key_of, site_of = _site_plan(table, plan, site)
        hist = reduce.histograms(table, window=WINDOW, edges={c: fine[c] for c in (*features, deployed) if c in fine},
                                 categorical=categorical, site=site)
        counts = reduce.score_counts(table, window=WINDOW, score=deployed, outcome=outcome, site=site,
                                     resolution=mon.resolution)
        if shadow:
            shadow_counts = reduce.score_counts(table, window=WINDOW, score=shadow, outcome=outcome, site=site,
                                                resolution=mon.resolution)
            paired = reduce.paired_sums(table, window=WINDOW, score_a=shadow, score_b=deployed, outcome=outcome,
                                        site=site, resolution=mon.resolution)
            flags = reduce.flag_counts(table, window=WINDOW, score_a=shadow, score_b=deployed, outcome=outcome,
                                       threshold=threshold, site=site)
    finally:
        connected.close()
    if site is None:
        def rekey(frame):
            return frame.rename(columns={WINDOW: "window"})
        sites = 1
    else:
        def rekey(frame):
            return _by_site(frame, site, key_of)
        sites = max(1, len(set(site_of.values())))
    hist, counts = rekey(hist), rekey(counts)
    if shadow:
        shadow_counts, paired, flags = (rekey(f) for f in (shadow_counts, paired, flags))
    alpha = site_alpha(alpha, sites)
    ref_fits = labelled_rows.window_fits({0: ref_rows[0]} if 0 in ref_rows else {}, threshold, alpha, ci,
                                         oe_method=analysis.oe_interval)
    sums = _sums(counts, plan, threshold, mon.resolution, ref_sums)
    bins, cats, sizes = reduce.as_tables(hist, range(1, len(plan.windows)), features + [deployed], categorical)
    bins = histograms.index_bins(pd.concat([ref_bins, bins], ignore_index=True))
    cats = pd.concat([ref_cats, cats], ignore_index=True)
    sizes = pd.concat([ref_sizes, sizes], ignore_index=True)
    seed = analysis.seed
    input_table = histograms.input_table(plan, drift, bins, cats, sizes, edges, fine, alpha, ci, method, seed)
    output_table, score_cdf = histograms.output_table(plan, bins, sums, edges, fine, deployed, alpha, ci, method,
                                                      min_rows=drift.min_rows, seed=seed)
    fits = dict(ref_fits)
    for index, (p, pos, neg) in _per_window_counts(counts, mon.resolution).items():
        fits[index] = labelled_rows.fit_from_counts(p, pos, neg, threshold, alpha, ci, oe_method=analysis.oe_interval)
    minimum = {"min_events": drift.min_events, "min_non_events": drift.min_non_events}
    calibration_table, curves = labelled_rows.calibration_table(plan, fits, sums, alpha, **minimum)
    performance_table = labelled_rows.performance_table(plan, fits, **minimum)
    statistics = cohort_review._statistics(input_table, output_table, calibration_table, performance_table, drift)
    windows = cohort_review._windows_table(plan, sums)
    windows.insert(windows.columns.get_loc("labelled") + 1, "unlabelled", sums["unlabelled"].astype(int).tolist())
    shadow_table = None
    if shadow:
        shadow_fits = {i: labelled_rows.fit_from_counts(p, pos, neg, threshold, alpha, ci,
                                                        oe_method=analysis.oe_interval)
                       for i, (p, pos, neg) in _per_window_counts(shadow_counts, mon.resolution).items()}
        labels = [w.label for w in plan.windows[1:]]
        shadow_table = shadow_mode.shadow_table(labels, paired, flags, shadow_fits, margin=mon.shadow_margin,
                                                alpha=alpha, ci=ci, min_rows=drift.min_rows, **minimum)
        shadow_sums = _sums(shadow_counts, plan, threshold, mon.resolution, ref_sums)
        alerts = histograms.output_table(plan, {}, shadow_sums, {}, {}, shadow, alpha, ci, method,
                                         min_rows=drift.min_rows, seed=seed)[0].iloc[1:]
        long = shadow_mode.statistics(shadow_table, alerts[["window", "alert_rate", "alert_rate_lower",
                                                             "alert_rate_upper"]], min_rows=drift.min_rows, **minimum)
        statistics = pd.concat([statistics, pd.DataFrame(long, columns=statistics.columns)], ignore_index=True)
    settings = {
        "source": f"monitoring source {mon.path} (lock {mon.lock[:19]}…) on {connected.name} ({connected.where})",
        "engine": connected.name, "rows_outside_windows": plan.outside, "psi_bins": drift.bins,
        "ks_bins": drift.ks_bins, "multiplicity": method, "alpha": alpha, "threshold": threshold,
        "reference": windows.loc[0, "values"], "reference_source": f"study cohort, score {ref_score} "
                                                                   f"({mon.deployed_model})",
        "score": deployed, "shadow": shadow, "outcome": outcome,
        "score_resolution": (f"scores rounded to multiples of {mon.resolution:g} before counting"
                             if mon.resolution else "exact scores as stored"),
        "shadow_margin": mon.shadow_margin if shadow else None,
        "labelled_statistics": "from per-score counts (exact); no calibration curve per monitoring window",
        "min_rows": drift.min_rows, "min_events": drift.min_events, "min_non_events": drift.min_non_events,
    }
    if site is None:
        return cohort_review.DriftReview(windows, input_table, output_table, calibration_table, performance_table,
                                         curves, score_cdf, statistics, settings, shadow=shadow_table)
    settings |= {
        "site": site, "sites": sites,
        "site_adjustment": (f"every window at each of {sites} site(s) of column '{site}'; intervals Bonferroni-"
                            f"adjusted across the sites (level 1 − {analysis.alpha:g}/{sites}), input-drift p-values "
                            f"adjusted across features × windows × sites ({method})"),
    }
    label_site = {plan.windows[i].label: name for i, name in site_of.items()}
    tables = [_with_site(t, label_site) for t in (windows, input_table, output_table, calibration_table,
                                                  performance_table, curves, score_cdf, statistics, shadow_table)]
    return cohort_review.DriftReview(*tables[:8], settings, shadow=tables[8])
