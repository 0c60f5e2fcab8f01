"""Fixed figure layouts computed from the known geometry: margins in inches from measured text.

Constrained layout measures every tick label, title and legend again at every draw, and on the
figures of a study that measuring is most of their cost. A figure whose parts are known in advance
(how many rows, which labels, which legend) is laid out here once instead: each text is measured with
the font metrics matplotlib itself uses (cached), margins are set in inches, and the figure is drawn
without a layout engine. The same texts give the same layout, so the figures stay deterministic.

Sizes are in inches unless named otherwise; font sizes are in points (1/72 inch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import matplotlib
from matplotlib.axes import Axes
from matplotlib.cbook import is_math_text
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

POINT = 1 / 72
#: Space kept free at the figure's edges.
EDGE = 0.08
#: Space kept between neighbouring parts (e.g. an axis label and the legend below it).
GAP = 0.08


def font_size(size: float | str) -> float:
    """A font size in points (``"medium"``, ``"large"``… resolved as matplotlib does)."""
    return float(FontProperties(size=size).get_size_in_points())


_DPI = 100


@lru_cache(maxsize=1)
def _renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, _DPI)


@lru_cache(maxsize=8192)
def _measure(text: str, size: float, weight: str, style: str) -> tuple[float, float]:
    prop = FontProperties(size=size, weight=weight, style=style)
    math_text = is_math_text(text)
    # Agg at the figures' 100 dpi: hinting makes text a few per cent wider than its unhinted outline (what the
    # SVG renderer measures), so the wider of the two is kept
    width, height, _ = _renderer().get_text_width_height_descent(text, prop, ismath=math_text)
    outline, _, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=math_text)
    return max(width / _DPI, outline * POINT), height / _DPI


def text_width(text: str, size: float | str, *, weight: str = "normal", style: str = "normal") -> float:
    """Width of ``text`` (its widest line) at font size ``size``, as matplotlib lays it out."""
    size = font_size(size)
    return max((_measure(line, size, weight, style)[0] for line in str(text).split("\n")), default=0.0)


def text_height(size: float | str, lines: int = 1) -> float:
    """Height of ``lines`` lines of text at font size ``size`` (matplotlib's line spacing, 1.2)."""
    size = font_size(size)
    one = _measure("lp", size, "normal", "normal")[1]
    return one + (lines - 1) * 1.2 * size * POINT


def axis_height(*, label: bool = True, tick_size: float | str | None = None) -> float:
    """Room below (or beside) an axes for its tick marks, tick labels and axis label."""
    rc = matplotlib.rcParams
    ticks = (rc["xtick.major.size"] + rc["xtick.major.pad"]) * POINT
    ticks += text_height(tick_size or rc["xtick.labelsize"])
    if label:
        ticks += rc["axes.labelpad"] * POINT + text_height(rc["axes.labelsize"])
    return ticks


def y_axis_width(tick_labels: Sequence[str], *, label: bool = True, tick_size: float | str | None = None) -> float:
    """Room left of an axes for its y tick labels and its (rotated) axis label."""
    rc = matplotlib.rcParams
    widest = max((text_width(t, tick_size or rc["ytick.labelsize"]) for t in tick_labels), default=0.0)
    room = (rc["ytick.major.size"] + rc["ytick.major.pad"]) * POINT + widest
    if label:
        room += rc["axes.labelpad"] * POINT + text_height(rc["axes.labelsize"])
    return room


def title_height(size: float | str | None = None) -> float:
    """Room above an axes for its title (matplotlib's title pad included)."""
    rc = matplotlib.rcParams
    return rc["axes.titlepad"] * POINT + text_height(size or rc["axes.titlesize"])


def legend_size(labels: Sequence[str], *, fontsize: float | str, ncol: int = 1, frame: bool = True,
                handlelength: float | None = None) -> tuple[float, float]:
    """Width and height of a legend of ``labels`` in ``ncol`` columns (matplotlib's default spacings)."""
    rc = matplotlib.rcParams
    size = font_size(fontsize)
    em = size * POINT
    rows = math.ceil(len(labels) / ncol) if labels else 0
    handle = (handlelength if handlelength is not None else rc["legend.handlelength"]) * em
    columns = [labels[i * rows:(i + 1) * rows] for i in range(ncol)] if rows else []
    widths = [handle + rc["legend.handletextpad"] * em + max(text_width(t, size) for t in col) for col in columns if col]
    width = sum(widths) + rc["legend.columnspacing"] * em * max(len(widths) - 1, 0)
    row = max(text_height(size), rc["legend.handleheight"] * em)
    height = rows * row + max(rows - 1, 0) * rc["legend.labelspacing"] * em
    pad = 2 * rc["legend.borderpad"] * em + (2 * POINT if frame else 0.0)
    return width + pad, height + pad


def legend_columns(labels: Sequence[str], *, fontsize: float | str, room: float, most: int = 3) -> int:
    """The most columns (up to ``most``) in which a legend of ``labels`` fits ``room`` inches wide."""
    for ncol in range(min(most, len(labels)), 1, -1):
        if legend_size(labels, fontsize=fontsize, ncol=ncol, frame=False)[0] <= room:
            return ncol
    return 1


def place(fig: Figure, ax: Axes, *, left: float, right: float, top: float, bottom: float) -> None:
    """Put ``ax`` in ``fig`` with the given margins (inches from each edge of the figure)."""
    width, height = fig.get_size_inches()
    ax.set_position([left / width, bottom / height, max(width - left - right, 0.1) / width,
                     max(height - top - bottom, 0.1) / height])


def figure(width: float, height: float, **kwargs) -> Figure:
    """A figure without a layout engine (its axes are placed with :func:`place`)."""
    return Figure(figsize=(width, height), layout="none", **kwargs)
