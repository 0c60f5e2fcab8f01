import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from studylib.report.plots import figures  # noqa: E402


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="x")
    ax.set_title("t")
    return fig


def test_saved_files_are_deterministic(tmp_path):
    first = figures.save(_figure(), tmp_path / "a", "demo")
    second = figures.save(_figure(), tmp_path / "b", "demo")
    assert [p.relative_to(tmp_path / "a").as_posix() for p in first] == ["figures/demo.svg", "figures/demo.png"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    assert b"<svg" in first[0].read_bytes()


def test_embed_gives_a_figure_with_escaped_alt_text_and_caption():
    html = figures.embed(_figure(), alt="Flow <n=30>", caption="a & b").data
    assert "<img alt='Flow &lt;n=30&gt;' src='data:image/png;base64," in html
    assert "<figcaption style='max-width:60em'>a &amp; b</figcaption>" in html


def test_publish_saves_and_embeds_the_same_png(tmp_path):
    html = figures.publish(_figure(), tmp_path, "p", alt="alt").data
    import base64

    png = (tmp_path / "figures" / "p.png").read_bytes()
    assert base64.b64encode(png).decode() in html
