"""The two reports of a stage: its executed notebook rendered as full HTML and as reviewer HTML (no code
cells, no restricted cells), each then finished (:func:`studylib.run.pages.finish_stage_report`).

The runner renders each stage as soon as it ends. With the run's kernel server
(:mod:`studylib.run.kernel_server`), each report is made in a process forked from the server
(:func:`render_report` through :meth:`~studylib.run.kernel_server.KernelServer.call`): the server has
imported nbconvert and compiled the templates once (:func:`warm_up`), the two reports of a stage are made
at once on two cores, and the runner's own thread stays free for the kernels' messages. Without a server
the runner calls the same functions in its own process; the pages are the same.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

__all__ = ["RESTRICTED_TAG", "VARIANTS", "render", "render_report", "warm_up"]

TEMPLATES = Path(__file__).resolve().parent.parent / "report" / "templates"
#: cells with this tag (e.g. unsuppressed small counts) appear in the full rendering only
RESTRICTED_TAG = "restricted"
#: the renderings of a stage notebook, by the suffix of their file
VARIANTS = (".full.html", ".reviewer.html")

_exporters: dict[str, object] = {}
_lock = threading.RLock()  # one maker of the exporters, one rendering at a time per process


def _exporter(variant: str):
    """The exporter of one rendering (made once per process: importing nbconvert and compiling the templates
    take a second)."""
    with _lock:
        if variant not in _exporters:
            from nbconvert.preprocessors import TagRemovePreprocessor

            options = {"template_name": "studylib", "extra_template_basedirs": [str(TEMPLATES)]}
            if variant == ".full.html":
                made = _exporter_class()(**options)
            elif variant == ".reviewer.html":
                made = _exporter_class()(**options, exclude_input=True, exclude_input_prompt=True,
                                         exclude_output_prompt=True)
                made.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={RESTRICTED_TAG}), enabled=True)
            else:
                raise ValueError(f"unknown rendering {variant!r}; expected one of {VARIANTS}")
            _exporters[variant] = made
        return _exporters[variant]


def warm_up() -> None:
    """Make the exporters and render an empty notebook with each (loads and compiles the templates, imports
    the filters); then import matplotlib and the plots of the summary page, which the runner draws last."""
    import nbformat

    v4 = nbformat.v4
    # every kind of cell and output a stage notebook has: the filters, lexers and templates they use are loaded
    # here once (in the kernel server: before it forks the renderings), not in each rendering
    sample = v4.new_notebook(metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}}, cells=[
        v4.new_markdown_cell("# Title\n\n**bold** `code` [link](https://example.org) | a | b |\n|---|---|\n| 1 | 2 |"),
        v4.new_code_cell("x = 1  # comment\nprint(f'{x}')", outputs=[
            v4.new_output("stream", name="stdout", text="1\n"),
            v4.new_output("execute_result", data={"text/plain": "1", "text/html": "<table><tr><td>1</td></tr></table>"},
                          execution_count=1),
            v4.new_output("display_data", data={"text/markdown": "*x*", "text/plain": "x"}),
            v4.new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>",
                                                "text/plain": "figure"}),
        ], execution_count=1, metadata={"tags": [RESTRICTED_TAG]}),
    ])
    with _lock:
        for variant in VARIANTS:
            _exporter(variant).from_notebook_node(sample)
    import bs4  # noqa: F401  (finishing the reports)
    import studylib.report.plots.figures  # noqa: F401
    import studylib.report.plots.summary  # noqa: F401
    import studylib.run.pages  # noqa: F401


def render(notebook: Path, variant: str) -> Path:
    """Render the executed ``notebook`` as ``variant`` (:data:`VARIANTS`) beside it; return the page's path."""
    import nbformat

    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    with _lock:
        body, _ = _exporter(variant).from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    target = notebook.parent / (notebook.stem + variant)
    target.write_text(body, encoding="utf-8")
    return target


def render_report(folder: str, params_file: str, root: str, run_id: str, stage: str, notebook: str, number: int,
                  total: int, variant: str) -> float:
    """Render and finish one report of a stage in the run folder ``folder``; return the seconds it took.

    Takes plain values (it runs in a forked process, :meth:`~studylib.run.kernel_server.KernelServer.call`):
    the study is read again from ``params_file`` (``root``: the project root)."""
    from studylib import plan
    from studylib.run import pages

    started = time.perf_counter()
    render(Path(folder) / "notebooks" / notebook, variant)
    pages.finish_stage_report(Path(folder), plan.load(params_file, root=root), run_id=run_id, stage=stage,
                              notebook=notebook, number=number, total=total, variants=(variant,))
    return time.perf_counter() - started


def _exporter_class():
    """nbconvert's HTML exporter without its last pass over the page.

    ``HTMLExporter.from_notebook_node`` parses the page it rendered with BeautifulSoup to give images
    without alt text a placeholder and the cells ``tabindex="0"``, and serialises it again; the runner then
    parses the page once more to finish the stage report (:func:`studylib.report.stage_pages.finish`,
    which does those two things in its own pass). The exporter below is nbconvert 7's method up to that
    pass: the same filters, then the template. ``tests/run/test_run_outputs.py`` checks the finished
    reports for both.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class StageReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter("highlight_code",
                                 self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return StageReportExporter
