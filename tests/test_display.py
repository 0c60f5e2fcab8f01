from studylib.display import Markdown, escape_markdown_html


def test_html_in_text_is_escaped_but_markdown_and_code_spans_survive():
    text = '**Tiny <script>alert("x")</script> & study** — `a<b` and ``x & y``'
    escaped = escape_markdown_html(text)
    assert "<script>" not in escaped
    assert escaped.startswith("**Tiny &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; study**")
    assert "`a<b`" in escaped and "``x & y``" in escaped


def test_markdown_object_escapes():
    assert "&lt;b&gt;" in Markdown("<b>bold?</b>")._repr_markdown_()
