"""Forest plot of the candidate across sites: each site's interval, the pooled diamond and the prediction
interval for a new site (drawn only when defined, i.e. with at least 3 sites)."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from studylib import formatting as F
from studylib.report.plots import layout
from studylib.report.plots.figures import publish
from studylib.stages.evaluation.sites import LABELS, SiteAnalysis

#: reference line per measure (no discrimination / perfect calibration)
REFERENCE = {"auroc": 0.5, "calibration_slope": 1.0, "oe_ratio": 1.0}


def forest_figure(sites: SiteAnalysis, measures=("auroc", "calibration_slope", "oe_ratio")) -> Figure:
    """One panel per measure: sites (squares, interval), pooled estimate (diamond), prediction interval (bar)."""
    site_names = sorted(sites.per_site.site.unique())
    fig = layout.figure(4.2 * len(measures), 0.45 * len(site_names) + 2.2)
    axes = fig.subplots(1, len(measures), sharey=True)
    pooled = sites.pooled.set_index("measure")
    for ax, measure in zip(axes, measures):
        part = sites.per_site[sites.per_site.measure == measure].set_index("site")
        for i, site in enumerate(site_names):
            r = part.loc[site]
            if math.isfinite(r.estimate):
                ax.plot([r.lower, r.upper], [i, i], color="#333333", lw=1.2)
                ax.plot([r.estimate], [i], "s", color="#1f5fa8", ms=6)
        p = pooled.loc[measure]
        y = len(site_names) + 0.8
        if math.isfinite(p.estimate):
            ax.fill([p.lower, p.estimate, p.upper, p.estimate], [y, y + 0.3, y, y - 0.3], color="#1f5fa8")
        if math.isfinite(p.pi_lower):
            ax.plot([p.pi_lower, p.pi_upper], [y + 0.9, y + 0.9], color="#d9822b", lw=3)
        if measure in REFERENCE:
            ax.axvline(REFERENCE[measure], color="#999999", ls=":", lw=1)
        tau = "—" if not math.isfinite(p.tau2) else F.number(p.tau2, 4)
        ax.set_title(f"{LABELS[measure]}\nτ² {tau}, I² {F.percent(p.i2)}", fontsize=9)
    labels = site_names + ["Pooled (random effects)", "95% prediction interval, new site"]
    axes[0].set_yticks(list(range(len(site_names))) + [len(site_names) + 0.8, len(site_names) + 1.7])
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    layout.arrange(fig, [list(axes)])
    return fig


def show_site_forest(sites: SiteAnalysis, saver):
    """Hand the forest plot to the saver (the run folder) and embed it."""
    fig = forest_figure(sites)
    pi = sites.pooled.set_index("measure").loc["auroc"]
    caption = ("Each site's estimate and interval; the diamond is the random-effects pooled estimate and its "
               "interval; the orange bar the 95% prediction interval of a new site's true value"
               + ("." if math.isfinite(pi.pi_lower) else f" (not drawn: {pi.pi_reason})."))
    return publish(fig, saver, "sites_forest", alt="Forest plot of AUROC, calibration slope and O/E by site",
                   caption=caption)


def show_sites(sites: SiteAnalysis | None, study, saver) -> None:
    """Display the per-site table, the pooled table, the site gates and the forest plot (or why there are none)."""
    from studylib.report.display import Markdown, display
    from studylib.report.tables import sites as tables

    if sites is None:
        display(Markdown("The plan names no site column (`data.site`): no synthesis across sites."))
        return
    display(tables.site_table(sites, study))
    display(tables.pooled_table(sites, study))
    if sites.gates:
        display(tables.site_gate_table(sites))
    display(show_site_forest(sites, saver))
