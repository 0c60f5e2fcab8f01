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
