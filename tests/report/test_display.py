import subprocess
import sys

import pytest
from bs4 import BeautifulSoup

from studylib.report.display import Markdown, escape_markdown_html

IMG = "<img src=x onerror=alert(1)>"


def _rendered(markdown: str) -> BeautifulSoup:
    """Markdown as the HTML reports render it (nbconvert's renderer of text/markdown outputs)."""
    from nbconvert import HTMLExporter

    return BeautifulSoup(HTMLExporter().markdown2html({}, markdown), "html.parser")


def test_html_in_text_is_escaped_but_markdown_and_code_spans_survive():
    text = '**Tiny <script>alert("x")</script> & study** — `a<b` and ``x & y``'
    escaped = escape_markdown_html(text)
    assert "<script>" not in escaped
    assert escaped.startswith("**Tiny &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; study**")
    soup = _rendered(escaped)
    assert soup.find("script") is None
    assert soup.strong.get_text() == 'Tiny <script>alert("x")</script> & study'
    assert [c.get_text() for c in soup.find_all("code")] == ["a<b", "x & y"]


@pytest.mark.parametrize("text", [
    f"`{IMG}`",  # a code span
    f"**`{IMG}`** and `` {IMG} ``",  # in emphasis; CommonMark strips one space each side
    f"``{IMG}`",  # backtick strings of different lengths: not a code span, the HTML would be live
    f"\\`{IMG}`",  # an escaped backtick opens nothing
    f"`{IMG}\n\nnext paragraph`",  # a code span does not cross a blank line
    f"```mermaid\n{IMG}\n```",  # a fence whose content nbconvert inserts unescaped
    f"[x](javascript:alert(1)) ![{IMG}](x) \\<{IMG[1:]}",  # link and image syntax; escaped "<"
])
def test_markup_in_code_spans_and_backticks_renders_as_text(text):
    soup = _rendered(escape_markdown_html(text))
    assert soup.find(["img", "script", "a", "div"]) is None, str(soup)
    assert not [a for e in soup.find_all(True) for a in e.attrs if a.startswith("on")]
    assert IMG in soup.get_text()


def test_code_span_content_keeps_its_characters_literally():
    text = "`a*b*c_d_ [x](y) $x$ ~~s~~ | http://e.org \\n &amp; 'q' \"r\"`"
    soup = _rendered(escape_markdown_html(text))
    assert soup.code.get_text() == "a*b*c_d_ [x](y) $x$ ~~s~~ | http://e.org \\n &amp; 'q' \"r\""
    assert soup.find(["em", "a", "del"]) is None


def test_markdown_object_escapes():
    assert "&lt;b&gt;" in Markdown("<b>bold?</b>")._repr_markdown_()
    assert Markdown(f"`{IMG}`")._repr_markdown_() == "<code>&lt;img src=x onerror=alert&#40;1&#41;&gt;</code>"


def test_escaping_and_tables_import_without_ipython():
    code = ("import sys\nfrom studylib.report import display\nfrom studylib.report.tables import evaluation\n"
            "display.styler, display.escape_markdown_html\nprint('IPython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_styler_escapes_cells_and_headers():
    import pandas as pd

    from studylib.report.display import styler

    frame = pd.DataFrame({"<i>level</i>": ["<script>x</script>", "a & b"]}, index=["<b>row</b>", "r2"])
    rendered = styler(frame).to_html()
    assert "<script>" not in rendered and "<b>row" not in rendered and "<i>level" not in rendered
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered and "a &amp; b" in rendered


def test_styler_escapes_the_caption_and_multiindex_labels():
    import pandas as pd

    from studylib.report.display import styler

    frame = pd.DataFrame({("<u>top</u>", "<i>sub</i>"): [1.5]},
                         index=pd.MultiIndex.from_tuples([(IMG, "<b>x</b>")]))
    soup = BeautifulSoup(styler(frame, caption=f"Caption {IMG}").to_html(), "html.parser")
    assert soup.find(["img", "u", "i", "b"]) is None
    assert soup.caption.get_text() == f"Caption {IMG}"
    assert IMG in soup.get_text() and "<u>top</u>" in soup.get_text() and "1.500000" in soup.get_text()


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JaVa\tScRipt:alert(1)", "java\nscript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:x", "file:///etc/passwd"])
def test_links_refuse_other_schemes(url):
    from studylib.report.display import link, safe_url

    with pytest.raises(ValueError, match="must be http\\(s\\) or relative"):
        safe_url(url)
    with pytest.raises(ValueError):
        link("x", url)


@pytest.mark.parametrize("url", ["https://example.org/a?b=1#c", "http://e.org", "notebooks/02_evaluation.reviewer.html",
                                 "#gates", "../../index.html"])
def test_links_keep_http_and_relative_targets(url):
    from studylib.report.display import link

    soup = _rendered(link(f"see {IMG}", url))
    assert soup.a["href"] == url and soup.a.get_text() == f"see {IMG}"
    assert soup.find(["img", "script"]) is None


def test_a_link_target_cannot_close_the_attribute():
    from studylib.report.display import link

    soup = _rendered(link("x", 'a.html" onmouseover="alert(1)'))
    assert list(soup.a.attrs) == ["href"]
