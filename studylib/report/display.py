"""Display helpers for the stage notebooks: Markdown whose interpolated text cannot inject HTML.

Narrative cells interpolate parameter and data strings (study titles, subgroup levels, feature names)
into Markdown; Markdown passes raw HTML through, and the rendered report would run it. ``Markdown``
here escapes ``&``, ``<`` and ``>`` outside code spans, so such text always shows as text.
"""

from __future__ import annotations

import html
import re

from IPython.display import Markdown as _IPythonMarkdown
from IPython.display import display  # noqa: F401  (re-exported for the notebooks)

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def escape_markdown_html(text: str) -> str:
    """Escape HTML-special characters of Markdown text, leaving code spans (already literal) alone."""
    out, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        out.append(html.escape(text[last:match.start()], quote=False))
        out.append(match.group(0))
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


class Markdown(_IPythonMarkdown):
    """IPython's Markdown display object with any raw HTML in the text escaped."""

    def __init__(self, data: str | None = None, **kwargs):
        super().__init__(escape_markdown_html(data) if isinstance(data, str) else data, **kwargs)


def styler(frame):
    """``frame.style`` with every cell and header HTML-escaped, so that text from data or parameters
    (subgroup levels, labels, ids) shows as text in the rendered reports."""
    return frame.style.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
