"""Saving figures into the run folder and embedding them in the notebook, the same way for every stage.

Saved files carry no date or software metadata and a fixed SVG hash salt, so the same figure gives the
same bytes on every run. Embedded figures are PNG images with alt text (and an optional caption),
which the HTML renderings keep; the figure is cleared afterwards to free its memory.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

FOLDER = "figures"


def save(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write ``<folder>/figures/<name>.svg`` and ``.png`` (150 dpi) and return both paths."""
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.svg", out / f"{name}.png"]
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "path"}):
        fig.savefig(paths[0], format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(paths[1], format="png", dpi=150, metadata={"Software": None})
    return paths


def embed(fig: Figure, *, alt: str, caption: str = "", dpi: int = 110, png: bytes | None = None):
    """The figure as an HTML ``<figure>``: a PNG with ``alt`` text and an optional caption (both escaped).

    ``png``: bytes already rendered (e.g. by :func:`save`) to embed instead of rendering again.
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


def publish(fig: Figure, folder: str | Path, name: str, *, alt: str, caption: str = ""):
    """:func:`save` the figure into the run folder and :func:`embed` the same PNG (rendered once)."""
    paths = save(fig, folder, name)
    return embed(fig, alt=alt, caption=caption, png=paths[1].read_bytes())
