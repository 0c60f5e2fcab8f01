import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from studylib.report.plots import figures  # noqa: E402


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="x")
    ax.set_title("t")
    return fig


class _Saver:
    """Records what the renderer hands over, as the evidence layer's saver would receive it."""

    def __init__(self):
        self.calls = []

    def __call__(self, name, files):
        self.calls.append((name, dict(files)))
        return [f"figures/{name}.{suffix}" for suffix in files]


def test_rendered_files_are_deterministic():
    first, second = figures.render(_figure(), "demo"), figures.render(_figure(), "demo")
    assert first == second
    assert b"<svg" in first.svg and b"<text" not in first.svg  # text drawn as paths: same on every machine
    assert b"Date" not in first.svg.split(b"<svg", 1)[0]


def test_save_hands_the_svg_to_the_saver_and_returns_its_paths():
    saver = _Saver()
    assert figures.save(_figure(), saver, "demo") == ["figures/demo.svg"]
    [(name, files)] = saver.calls
    assert name == "demo" and set(files) == {"svg"}


def test_embed_gives_a_figure_with_escaped_alt_text_and_caption():
    html = figures.embed(_figure(), alt="Flow <n=30>", caption="a & b").data
    assert "<img alt='Flow &lt;n=30&gt;' src='data:image/svg+xml;base64," in html
    assert "<figcaption style='max-width:60em'>a &amp; b</figcaption>" in html


def test_publish_saves_and_embeds_the_same_svg():
    saver = _Saver()
    html = figures.publish(_figure(), saver, "p", alt="alt").data
    [(_, files)] = saver.calls
    assert base64.b64encode(files["svg"]).decode() in html
