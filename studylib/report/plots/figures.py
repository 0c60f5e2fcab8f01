"""Rendering figures for the run folder and embedding them in the notebook, the same way for every stage.

This module renders and embeds; it writes no files. The bytes of each figure go to a *saver*, a
callable the notebook gets from the evidence layer (:func:`studylib.evidence.results.figure_saver`),
which writes them into the run folder. Rendered files carry no date or software metadata and a fixed
SVG hash salt, so the same figure gives the same bytes on every run. Embedded figures are PNG images
with alt text (and an optional caption), which the HTML renderings keep; the figure is cleared
afterwards to free its memory.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

#: Writes a figure's files (``{"svg": bytes, "png": bytes}``) under ``name`` and returns their paths.
Saver = Callable[[str, Mapping[str, bytes]], list[str]]


@dataclass(frozen=True)
class RenderedFigure:
    """A figure rendered once: SVG (vector, text as paths) and PNG at 150 dpi, both deterministic."""

    svg: bytes
    png: bytes

    def files(self) -> dict[str, bytes]:
        return {"svg": self.svg, "png": self.png}


def render(fig: Figure, name: str) -> RenderedFigure:
    """Render ``fig`` as SVG and PNG bytes; ``name`` salts the SVG ids so that they are stable."""
    svg, png = io.BytesIO(), io.BytesIO()
    _settle_layout(fig)
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "path"}):
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
    return RenderedFigure(svg=svg.getvalue(), png=png.getvalue())


def _settle_layout(fig: Figure) -> None:
    """Lay ``fig`` out once and keep the positions: a layout engine (constrained layout) otherwise lays the
    figure out again at every save, and measuring every tick label twice per format is most of the cost
    of a figure (a third of the time of rendering SVG and PNG, measured on the subgroup forest plots)."""
    engine = fig.get_layout_engine()
    if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        engine.execute(fig)
        fig.set_layout_engine("none")


def save(fig: Figure, saver: Saver, name: str) -> list[str]:
    """Render ``fig`` and hand its files to ``saver``; returns the paths the saver reports."""
    return saver(name, render(fig, name).files())


def embed(fig: Figure, *, alt: str, caption: str = "", dpi: int = 110, png: bytes | None = None):
    """The figure as an HTML ``<figure>``: a PNG with ``alt`` text and an optional caption (both escaped).

    ``png``: bytes already rendered (e.g. by :func:`render`) to embed instead of rendering again.
    """
    from IPython.display import HTML

    if png is None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        png = buffer.getvalue()
    fig.clear()
    data = base64.b64encode(png).decode("ascii")
    text = f"<figcaption style='max-width:60em'>{html.escape(caption)}</figcaption>" if caption else ""
    return HTML(f"<figure style='margin:0'><img alt='{html.escape(alt, quote=True)}' "
                f"src='data:image/png;base64,{data}' style='max-width:100%'/>{text}</figure>")


def publish(fig: Figure, saver: Saver, name: str, *, alt: str, caption: str = ""):
    """Render ``fig`` once, hand its files to ``saver`` (the run folder) and :func:`embed` the same PNG."""
    rendered = render(fig, name)
    saver(name, rendered.files())
    return embed(fig, alt=alt, caption=caption, png=rendered.png)
