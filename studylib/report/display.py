"""Display helpers for the stage notebooks: the one escaping path of every table and narrative.

Text from parameters and data (study titles, model names, criterion labels, subgroup and category
levels, column names) reaches the rendered reports in two ways, and both go through this module:

- tables: :func:`styler` is the pandas ``Styler`` of every table in :mod:`studylib.report`, with
  every cell, header and the caption HTML-escaped;
- narrative: :class:`Markdown` (IPython's Markdown display object) escapes its text with
  :func:`escape_markdown_html`, so that raw HTML, code spans and link syntax in interpolated text
  show as text.

A link is made with :func:`link`, whose target must be http(s) or relative (:func:`safe_url`): a
``javascript:``, ``data:`` or other scheme is refused.

IPython is imported only when :class:`Markdown` or :func:`display` is first used, so the tables and
the escaping helpers import without the notebook display stack.
"""

from __future__ import annotations

import functools
import html
import re
import urllib.parse

# ASCII punctuation that CommonMark lets a backslash escape (CommonMark 0.31, section 2.4)
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# characters written as references outside code spans: HTML, and the brackets of links and images
_TEXT_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;", "`": "&#96;"}
# inside a code span (written out as <code>…</code>): HTML, and every character that Markdown, its
# extensions in nbconvert (strikethrough, tables, bare URLs) or math would read as syntax
_CODE_ENTITIES = {c: f"&#{ord(c)};" for c in "\\`*_~[]!$|:{}#()"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;",
                                                                      '"': "&quot;", "'": "&#39;"}
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _code(content: str) -> str:
    """A code span's content as an HTML ``<code>`` element whose text is literal in Markdown and HTML."""
    content = content.replace("\r\n", " ").replace("\n", " ")
    if len(content) > 2 and content[0] == content[-1] == " " and content.strip(" "):
        content = content[1:-1]  # CommonMark strips one space on each side
    return "<code>" + "".join(_CODE_ENTITIES.get(c, c) for c in content) + "</code>"


def escape_markdown_html(text: str) -> str:
    """Markdown text with every piece of markup that could become HTML neutralised.

    Outside code spans, ``&``, ``<``, ``>``, ``[`` and ``]`` are written as character references (no
    raw HTML, no links or images). A code span (backtick strings of equal length, CommonMark 0.31,
    section 6.1) becomes a ``<code>`` element with its content escaped, so that the renderer never
    decides what is code: an unmatched or backslash-escaped backtick, or a fence such as
    ````` ```mermaid `````, shows as a literal backtick instead of opening a span whose end the
    escaper and the renderer would read differently. Emphasis and the other Markdown of the text
    are kept.

    Parameters
    ----------
    text : str
        Markdown, usually an f-string that interpolates parameter or data strings.

    Returns
    -------
    str
        Markdown that renders as the same text, with no HTML element or link from ``text``.

    Examples
    --------
    >>> escape_markdown_html("**<b>x</b>** in `a<b`")
    '**&lt;b&gt;x&lt;/b&gt;** in <code>a&lt;b</code>'
    """
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _PUNCTUATION:
            escaped = text[i + 1]
            # an escaped character is literal text: write it as a reference where it could be markup
            out.append(_TEXT_ENTITIES.get(escaped, "\\" + escaped))
            i += 2
        elif c == "`":
            run = _BACKTICKS.match(text, i).group(0)
            start = i + len(run)
            block_end = _BLANK_LINE.search(text, start)
            limit = block_end.start() if block_end else n
            closer = next((m for m in _BACKTICKS.finditer(text, start, limit) if len(m.group(0)) == len(run)), None)
            if closer is None:
                out.append(_TEXT_ENTITIES["`"] * len(run))
                i = start
            else:
                out.append(_code(text[start:closer.start()]))
                i = closer.end()
        else:
            out.append(_TEXT_ENTITIES.get(c, c))
            i += 1
    return "".join(out)


#: the schemes a link may have besides a relative target
SAFE_SCHEMES = ("http", "https")
# characters browsers drop from a URL before reading its scheme ("java\tscript:" is "javascript:")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def safe_url(url: str) -> str:
    """``url`` when it is http(s) or relative (no scheme); ``ValueError`` for any other scheme.

    The scheme is read as a browser reads it: control characters and spaces removed, case ignored, so
    that ``" JaVa\tScRipt:alert(1)"`` is a ``javascript:`` URL.

    Examples
    --------
    >>> safe_url("notebooks/02_evaluation.reviewer.html")
    'notebooks/02_evaluation.reviewer.html'
    """
    scheme = urllib.parse.urlsplit(_IGNORED_IN_URLS.sub("", url)).scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        raise ValueError(f"link target {url[:80]!r} has scheme '{scheme}:'; a link must be http(s) or relative")
    return url


def link(text: str, url: str) -> str:
    """A Markdown link: ``text`` escaped as :func:`escape_markdown_html` escapes text, ``url`` checked by
    :func:`safe_url` and percent-encoded where Markdown or HTML would read it as syntax."""
    target = urllib.parse.quote(safe_url(url).strip(), safe="/:?#&=%+,;@!$'*~.-_")
    return f'<a href="{html.escape(target, quote=True)}">{escape_markdown_html(text)}</a>'


@functools.cache
def _markdown_class():
    from IPython.display import Markdown as IPythonMarkdown

    class Markdown(IPythonMarkdown):
        """IPython's Markdown display object with the text escaped by :func:`escape_markdown_html`."""

        def __init__(self, data: str | None = None, **kwargs):
            super().__init__(escape_markdown_html(data) if isinstance(data, str) else data, **kwargs)

    Markdown.__module__, Markdown.__qualname__ = __name__, "Markdown"
    return Markdown


def __getattr__(name: str):
    # ``Markdown`` and ``display`` (re-exported for the notebooks) load IPython on first use
    if name == "Markdown":
        return _markdown_class()
    if name == "display":
        from IPython.display import display

        return display
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def collapsed(content, summary: str):
    """``content`` (a Styler, a DataFrame or HTML text) in a closed ``<details>`` section whose summary line
    is ``summary`` (escaped): for metrics that no gate uses, so that gated metrics and failures come first.
    The stage reports' print CSS opens every such section, so that a printed report keeps everything.

    Examples
    --------
    >>> collapsed("<table></table>", "Other metrics (2)").data
    '<details class="sl-ungated"><summary>Other metrics (2)</summary>\n<table></table>\n</details>'
    """
    from IPython.display import HTML

    body = content.to_html() if hasattr(content, "to_html") else str(content)
    return HTML(f'<details class="sl-ungated"><summary>{html.escape(summary)}</summary>\n{body}\n</details>')


def styler(frame, *, caption: str = ""):
    """``frame.style`` with every cell, index and column label, and the caption HTML-escaped.

    The one escaping helper of the tables in :mod:`studylib.report`: text from data or parameters
    (model names, criterion labels, subgroup levels, category values, column names) shows as text in
    the notebook and its HTML renderings.

    Parameters
    ----------
    frame : pandas.DataFrame
        The display table.
    caption : str, optional
        Caption of the table (escaped too; ``Styler.set_caption`` would insert it as HTML).

    Returns
    -------
    pandas.io.formats.style.Styler

    Notes
    -----
    A later ``.format(...)`` on the returned Styler replaces the formatter of the cells it covers;
    pass ``escape="html"`` to it as well. ``.map``/``.apply``/``set_properties`` add CSS only.
    """
    style = frame.style.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    return style.set_caption(html.escape(caption, quote=True)) if caption else style
