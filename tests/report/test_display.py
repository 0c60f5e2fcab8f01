from studylib.report.display import Markdown, escape_markdown_html


def test_html_in_text_is_escaped_but_markdown_and_code_spans_survive():
    text = '**Tiny <script>alert("x")</script> & study** — `a<b` and ``x & y``'
    escaped = escape_markdown_html(text)
    assert "<script>" not in escaped
    assert escaped.startswith("**Tiny &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; study**")
    assert "`a<b`" in escaped and "``x & y``" in escaped


def test_markdown_object_escapes():
    assert "&lt;b&gt;" in Markdown("<b>bold?</b>")._repr_markdown_()


def test_styler_escapes_cells_and_headers():
    import pandas as pd

    from studylib.report.display import styler

    frame = pd.DataFrame({"<i>level</i>": ["<script>x</script>", "a & b"]}, index=["<b>row</b>", "r2"])
    rendered = styler(frame).to_html()
    assert "<script>" not in rendered and "<b>row" not in rendered and "<i>level" not in rendered
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered and "a &amp; b" in rendered
