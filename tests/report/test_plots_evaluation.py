"""The evaluation figures: built from the library's numbers, labelled, saved and embedded with alt text."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from studylib.stages.evaluation import analysis as evaluation
from studylib.stages.evaluation.curves import curves as evaluation_curves
from studylib.evidence.results import figure_saver
from studylib.report.plots import evaluation as figures
from tests.stages.evaluation.test_analysis import calibrated, frame_of, make_study


def test_thin_keeps_ends_and_bounds_points():
    x = np.linspace(0, 1, 100_000)
    tx, ty = figures.thin(x, x ** 2, max_points=500)
    assert tx.size <= 502 and tx[0] == 0 and tx[-1] == 1 and np.all(np.diff(tx) > 0)
    small = figures.thin([0, 1], [0, 1])
    assert small[0].tolist() == [0, 1]


@pytest.fixture(scope="module")
def ev_and_curves():
    y, p, base = calibrated(n=2000, seed=5)
    study = make_study([{"id": "AC", "metric": "auroc", "at_least": 0.6}], threshold=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluation.evaluate(frame_of(y, p, base), study)
    return study, ev, evaluation_curves(ev.data, study)


def _texts(fig: Figure) -> str:
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return " | ".join(out)


def test_figures_are_labelled(ev_and_curves):
    study, ev, curves = ev_and_curves
    b = ev.models["candidate"].binary
    fig = figures.discrimination_figure(curves.roc["candidate"], curves.pr["candidate"], label="m 1",
                                        auroc="0.8", auprc="0.5", prevalence=b.prevalence.estimate, threshold=0.3,
                                        operating={"sensitivity": 0.7, "specificity": 0.8, "ppv": 0.4})
    text = _texts(fig)
    assert "ROC curve" in text and "Precision-recall curve" in text and "operating threshold 0.3" in text
    assert "1 − specificity (false-positive rate)" in text
    fig = figures.calibration_figure(curves.calibration["candidate"], ev.calibration_deciles["candidate"],
                                     ev.data.scores["candidate"], ev.data.y, label="m 1")
    text = _texts(fig)
    assert "perfect calibration" in text and "predicted risk" in text and "with the outcome" in text
    fig = figures.decision_curve_figure(ev.decision_curve, labels={"candidate": "c", "baseline": "b"}, threshold=0.3)
    text = _texts(fig)
    assert "treat all" in text and "treat none" in text and "net benefit" in text


def test_show_functions_save_and_embed_with_alt_text(ev_and_curves, tmp_path):
    study, ev, curves = ev_and_curves
    html = figures.show_discrimination(ev, curves, study, figure_saver(tmp_path)).data
    assert "alt='Left: ROC curve of the candidate tiny 2" in html and "data:image/svg+xml;base64," in html
    assert "<figcaption" in html and "Discrimination of the candidate" in html  # numbered by the stage report
    for show in (figures.show_calibration(ev, curves, study, figure_saver(tmp_path)),
                 figures.show_decision_curve(ev, study, figure_saver(tmp_path)),
                 figures.show_roc_comparison(ev, curves, study, figure_saver(tmp_path))):
        assert "<figure" in show.data and "alt='" in show.data
    names = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert names == sorted(f"evaluation_{n}.{e}" for n in ("roc_pr", "calibration_candidate", "decision_curve",
                                                           "roc_comparison") for e in ("svg",))
    svg = (tmp_path / "figures" / "evaluation_roc_pr.svg").read_text()
    assert "<dc:date>" not in svg  # no timestamp in the saved figure


def test_without_a_baseline(tmp_path):
    from studylib.report.tables import evaluation as tables

    y, p, base = calibrated(n=500, seed=8)
    study = make_study(threshold=0.3)
    study = study.model_copy(update={"models": study.models.model_copy(update={"baseline": None})})
    frame = frame_of(y, p, base).drop(columns="p_v1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluation.evaluate(frame, study)
        curves = evaluation_curves(ev.data, study)
    assert ev.comparison is None and list(ev.models) == ["candidate"]
    assert "no baseline" in tables.comparison_table(ev, study).to_html()
    assert "no baseline" in tables.discordance_table(ev).to_html()
    assert "No baseline" in figures.show_roc_comparison(ev, curves, study, figure_saver(tmp_path)).data
    assert "<figure" in figures.show_decision_curve(ev, study, figure_saver(tmp_path)).data
    assert "Baseline" not in tables.performance_table(ev.estimates(), study).to_html()
    r = evaluation.results(ev, study)
    assert r["comparison"] is None and r["differences"] == {}
    assert "baseline_risk" not in ev.errors.misses
