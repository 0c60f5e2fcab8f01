"""Rendering figures for the run folder and embedding them in the notebook, the same way for every stage.

This module renders and embeds; it writes no files. The bytes of each figure go to a *saver*, a
callable the notebook gets from the evidence layer (:func:`studylib.evidence.results.figure_saver`),
which writes them into the run folder. A figure is rendered once, as SVG with its text drawn as paths
(vector, so it prints sharply and looks the same on every machine whatever fonts it has), without date
or software metadata and with a fixed hash salt, so the same figure gives the same bytes on every run.
The notebook embeds those same bytes as an image with alt text (and an optional caption), which the
HTML renderings keep; the figure is cleared afterwards to free its memory. (Figures used to be rendered
a second time as PNG for embedding: that was a third of the time of every figure, for a raster copy.)
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure

#: Writes a figure's files (``{"svg": bytes}``) under ``name`` and returns their paths.
Saver = Callable[[str, Mapping[str, bytes]], list[str]]


@dataclass(frozen=True)
class RenderedFigure:
    """A figure rendered once: SVG, vector with text as paths, deterministic."""

    svg: bytes

    def files(self) -> dict[str, bytes]:
        return {"svg": self.svg}


def render(fig: Figure, name: str) -> RenderedFigure:
    """Render ``fig`` as SVG bytes; ``name`` salts the SVG ids so that they are stable."""
    svg = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "path"}):
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return RenderedFigure(svg=svg.getvalue())


def save(fig: Figure, saver: Saver, name: str) -> list[str]:
    """Render ``fig`` and hand its files to ``saver``; returns the paths the saver reports."""
    return saver(name, render(fig, name).files())


def embed(fig: Figure, *, alt: str, caption: str = "", svg: bytes | None = None, name: str = "figure"):
    """The figure as an HTML ``<figure>``: an SVG image with ``alt`` text and an optional caption (both
    escaped). The image is a ``data:`` URI, so a rendered page stays one self-contained file.

    ``svg``: bytes already rendered (by :func:`render`) to embed instead of rendering again; ``name`` salts
    the ids of a figure rendered here.
    """
    if svg is None:
        svg = render(fig, name).svg
    fig.clear()
    return image(svg, alt=alt, caption=caption)


def image(svg: bytes, *, alt: str, caption: str = ""):
    """SVG bytes as an HTML ``<figure>``: an image with ``alt`` text and an optional caption (both escaped),
    as a ``data:`` URI so that a rendered page stays one self-contained file and markup in the figure's
    texts stays inert."""
    from IPython.display import HTML

    data = base64.b64encode(svg).decode("ascii")
    text = f"<figcaption style='max-width:60em'>{html.escape(caption)}</figcaption>" if caption else ""
    return HTML(f"<figure style='margin:0'><img alt='{html.escape(alt, quote=True)}' "
                f"src='data:image/svg+xml;base64,{data}' style='max-width:100%'/>{text}</figure>")


def publish(fig: Figure, saver: Saver, name: str, *, alt: str, caption: str = ""):
    """Render ``fig`` once, hand its file to ``saver`` (the run folder) and :func:`embed` the same SVG."""
    rendered = render(fig, name)
    saver(name, rendered.files())
    return embed(fig, alt=alt, caption=caption, svg=rendered.svg)
