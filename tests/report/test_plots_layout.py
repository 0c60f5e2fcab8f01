"""Fixed layouts: the measured sizes are the sizes matplotlib draws."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from studylib.report.plots import layout


@pytest.mark.parametrize("text, size, weight, style", [("F & 90+ · n 42 · pos. withheld", 8.5, "normal", "normal"),
                                                      ("sex × age_band", 8.5, "bold", "normal"),
                                                      ("withheld (<5) — PASS", 8.5, "normal", "italic"),
                                                      ("two\nlines, the second longer", 11, "normal", "normal")])
def test_text_width_is_the_drawn_width(text, size, weight, style):
    fig = layout.figure(4, 2)
    drawn = fig.text(0.1, 0.5, text, fontsize=size, fontweight=weight, fontstyle=style)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width = drawn.get_window_extent(canvas.get_renderer()).width / fig.dpi
    assert layout.text_width(text, size, weight=weight, style=style) == pytest.approx(width, abs=0.02)


def test_legend_size_covers_the_drawn_legend():
    labels = ["overall 0.80 (0.78–0.83)", "SG-2: lower bound ≥ 0.6", "PASS", "FAIL", "INSUFFICIENT EVIDENCE"]
    fig = layout.figure(10, 3)
    ax = fig.add_axes((0.1, 0.3, 0.8, 0.6))
    handles = [ax.plot([0, 1], [0, 1], label=label)[0] for label in labels]
    legend = fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, borderaxespad=0)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = legend.get_window_extent(canvas.get_renderer())
    width, height = layout.legend_size(labels, fontsize=8, ncol=3, frame=False)
    assert width == pytest.approx(box.width / fig.dpi, abs=0.05)
    assert height == pytest.approx(box.height / fig.dpi, abs=0.05)
    assert layout.legend_columns(labels, fontsize=8, room=width + 0.01) == 3
    assert layout.legend_columns(labels, fontsize=8, room=width - 0.01) < 3


def _drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_arrange_keeps_every_axes_inside_the_figure_and_apart():
    """Three panels with rotated window labels, a y label on the first, titles; then two rows sharing x with
    a log axis: each axes' drawn extent (ticks, labels, title) lies inside the figure, none overlaps another."""
    fig = layout.figure(12, 4)
    axes = fig.subplots(1, 3)
    for ax in axes:
        ax.errorbar(range(7), [1.0, 0.9, 1.1, 1.2, 1.6, 1.0, 1.4], yerr=0.2, fmt="o")
        ax.set_xticks(range(7), ["reference", "1998", "1999", "2000", "2001", "2002", "2003"], rotation=30, ha="right")
        ax.set_title("Observed / expected events (ideal 1)")
        ax.set_xlabel("window")
    axes[0].set_ylabel("estimate with interval")
    layout.arrange(fig, [list(axes)])
    tall = layout.figure(6.6, 7.4)
    top, bottom = tall.subplots(2, 1, sharex=True, height_ratios=[3.2, 1])
    top.plot([1e-3, 1], [0, 1])
    top.set_xscale("log")
    top.set_ylabel("observed risk (proportion with the outcome)")
    top.set_title("Calibration")
    bottom.set_xlabel("predicted risk")
    bottom.set_ylabel("patients")
    layout.arrange(tall, [[top], [bottom]], height_ratios=[3.2, 1])
    for figure in (fig, tall):
        renderer = _drawn(figure)
        boxes = [ax.get_tightbbox(renderer) for ax in figure.axes]
        for box in boxes:
            page = figure.bbox
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        for i, first in enumerate(boxes):
            for second in boxes[i + 1:]:
                assert not first.overlaps(second)
    assert figure.get_layout_engine() is None or figure.get_layout_engine().__class__.__name__ == "PlaceHolderLayoutEngine"
