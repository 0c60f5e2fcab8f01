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
from dataclasses import dataclass
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


# --------------------------------------------------------------------------------------------------
# A grid of axes laid out from its texts: the margins constrained layout would find, computed once
# --------------------------------------------------------------------------------------------------


def _label_extent(text) -> tuple[float, float]:
    """Width and height (inches) of a tick label's box as drawn, rotation included."""
    size, content = text.get_fontsize(), text.get_text()
    width = text_width(content, size, weight=text.get_fontweight())
    height = text_height(size, content.count("\n") + 1)
    if is_math_text(content):  # e.g. 10^{-3} on a log axis: taller than a line of text
        height = max(height, _measure(content, font_size(size), str(text.get_fontweight()), "normal")[1])
    angle = math.radians(text.get_rotation())
    return (width * abs(math.cos(angle)) + height * abs(math.sin(angle)),
            width * abs(math.sin(angle)) + height * abs(math.cos(angle)))


@dataclass(frozen=True)
class _Room:
    """Inches an axes needs on each side for its ticks, tick labels, axis labels and title, and the distance
    from the axes to its x and y axis labels."""

    left: float
    right: float
    top: float
    bottom: float
    xlabel_offset: float
    ylabel_offset: float


def _room(ax: Axes, width: float) -> _Room:
    """The room ``ax`` needs when ``width`` inches wide (where its tick labels overhang its edges)."""
    rc = matplotlib.rcParams
    x_params, y_params = ax.xaxis.get_tick_params(), ax.yaxis.get_tick_params()
    x_ticks = (x_params.get("length", rc["xtick.major.size"]) + x_params.get("pad", rc["xtick.major.pad"])) * POINT
    y_ticks = (y_params.get("length", rc["ytick.major.size"]) + y_params.get("pad", rc["ytick.major.pad"])) * POINT
    below, beside, over_left, over_right, over_top = x_ticks, y_ticks, 0.0, 0.0, 0.0
    low, high = ax.get_xlim()
    if x_params.get("labelbottom", True):
        for tick, text in zip(ax.xaxis.get_majorticklocs(), ax.xaxis.get_majorticklabels()):
            if not text.get_text() or not min(low, high) <= tick <= max(low, high):
                continue
            across, down = _label_extent(text)
            below = max(below, x_ticks + down)
            at = width * (tick - low) / (high - low) if high != low else 0.0
            start = {"right": at - across, "left": at}.get(text.get_horizontalalignment(), at - across / 2)
            over_left, over_right = max(over_left, -start), max(over_right, start + across - width)
    low, high = ax.get_ylim()
    if y_params.get("labelleft", True):
        for tick, text in zip(ax.yaxis.get_majorticklocs(), ax.yaxis.get_majorticklabels()):
            if text.get_text() and min(low, high) <= tick <= max(low, high):
                across, down = _label_extent(text)
                beside = max(beside, y_ticks + across)
                over_top = max(over_top, down / 2)
    left, bottom = beside, below
    if ax.get_ylabel():
        left += rc["axes.labelpad"] * POINT + text_height(ax.yaxis.label.get_fontsize())
    if ax.get_xlabel():
        bottom += rc["axes.labelpad"] * POINT + text_height(ax.xaxis.label.get_fontsize(),
                                                             ax.get_xlabel().count("\n") + 1)
    titles = [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
    for title in titles:  # a title wider than the axes overhangs it (centred: both sides; left: the right side)
        extra = text_width(title.get_text(), title.get_fontsize(), weight=title.get_fontweight()) - width
        if extra > 0 and title is ax.title:
            over_left, over_right = max(over_left, extra / 2), max(over_right, extra / 2)
        elif extra > 0 and title is ax._left_title:
            over_right = max(over_right, extra)
    top = max([over_top, *(rc["axes.titlepad"] * POINT + text_height(t.get_fontsize(), t.get_text().count("\n") + 1)
                           for t in titles)])
    return _Room(max(left, over_left), over_right, top, bottom, below + rc["axes.labelpad"] * POINT,
                 beside + rc["axes.labelpad"] * POINT)


def _freeze_labels(fig: Figure, ax: Axes, room: _Room) -> None:
    """Fix the axis labels and titles where the layout put them: otherwise every draw measures every tick
    label again to place them (matplotlib's automatic label and title positions)."""
    from matplotlib.transforms import ScaledTranslation

    ax.xaxis.set_label_coords(0.5, 0, transform=ax.transAxes + ScaledTranslation(0, -room.xlabel_offset,
                                                                                  fig.dpi_scale_trans))
    ax.yaxis.set_label_coords(0, 0.5, transform=ax.transAxes + ScaledTranslation(-room.ylabel_offset, 0,
                                                                                  fig.dpi_scale_trans))
    ax._autotitlepos = False  # the titles stay at the top of the axes (as ``set_title(y=1)`` would set)


def arrange(fig: Figure, grid: Sequence[Sequence[Axes | None]], *, width_ratios: Sequence[float] | None = None,
            height_ratios: Sequence[float] | None = None, top: float = 0.0, right: float = 0.0,
            gap: float = GAP) -> None:
    """Lay out a grid of axes (rows of columns; ``None`` for an empty cell) in ``fig`` from their texts.

    Each column gets the widest room its axes need on the left (y tick labels and label) and right (x tick
    labels overhanging), each row the tallest room above (title) and below (x tick labels and label); the
    rest of the figure is shared by the ratios. ``top`` and ``right`` keep room above the grid (e.g. for a
    suptitle) and right of it (e.g. for a colour bar placed by the caller). The
    axis labels and titles are then fixed in place. Axes with a fixed aspect shrink inside their cell, centred.
    """
    rows, cols = len(grid), max(len(row) for row in grid)
    width_ratios = list(width_ratios or [1.0] * cols)
    height_ratios = list(height_ratios or [1.0] * rows)
    fig_width, fig_height = fig.get_size_inches()
    cells = [[ax for ax in row] + [None] * (cols - len(row)) for row in grid]

    def rooms(widths):
        return {id(ax): _room(ax, widths[c]) for row in cells for c, ax in enumerate(row) if ax is not None}

    widths = [(fig_width - 2 * EDGE - right) * r / sum(width_ratios) for r in width_ratios]  # first guess
    for _ in range(2):  # the second pass measures the tick labels at the axes' laid-out size
        found = rooms(widths)
        lefts = [max([found[id(ax)].left for ax in (row[c] for row in cells) if ax is not None], default=0.0)
                for c in range(cols)]
        rights = [max([found[id(ax)].right for ax in (row[c] for row in cells) if ax is not None], default=0.0)
                 for c in range(cols)]
        above = [max([found[id(ax)].top for ax in row if ax is not None], default=0.0) for row in cells]
        below = [max([found[id(ax)].bottom for ax in row if ax is not None], default=0.0) for row in cells]
        free_width = fig_width - 2 * EDGE - right - sum(lefts) - sum(rights) - gap * (cols - 1)
        free_height = fig_height - 2 * EDGE - top - sum(above) - sum(below) - gap * (rows - 1)
        widths = [max(free_width, 0.5) * r / sum(width_ratios) for r in width_ratios]
        heights = [max(free_height, 0.5) * r / sum(height_ratios) for r in height_ratios]
        y = fig_height - EDGE - top
        for r, row in enumerate(cells):
            y -= above[r] + heights[r]
            x = EDGE
            for c, ax in enumerate(row):
                x += lefts[c]
                if ax is not None:
                    ax.set_position([x / fig_width, y / fig_height, widths[c] / fig_width, heights[r] / fig_height])
                x += widths[c] + rights[c] + gap
            y -= below[r] + gap
    for row in cells:
        for ax in row:
            if ax is not None:
                _freeze_labels(fig, ax, found[id(ax)])


def fix_labels(fig: Figure, ax: Axes) -> None:
    """Fix the axis labels and titles of an axes already placed (see :func:`arrange`, which does this itself)."""
    _freeze_labels(fig, ax, _room(ax, ax.get_position().width * fig.get_size_inches()[0]))
