"""The two reports of a stage (studylib.run.rendering): the same pages whether the kernel server's forked
processes render them or the runner's own process does."""

from __future__ import annotations

import shutil
import sys

import pytest

from studylib.run import kernel_server, rendering, runner, stages


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renderings are forked on Linux only")
def test_forked_and_in_process_reports_are_the_same(archived_run, tmp_path):
    folders = {how: tmp_path / how for how in ("forked", "here")}
    for folder in folders.values():
        shutil.copytree(archived_run.folder, folder)
        for page in folder.glob("notebooks/*.html"):
            page.unlink()
    server = kernel_server.KernelServer([], warm=list(stages.WARM_UPS)).start()
    try:
        for number, (stage, notebook) in enumerate(runner.STAGES, start=1):
            for variant in rendering.VARIANTS:
                args = [stage, notebook, number, len(runner.STAGES), variant]
                forked = folders["forked"]
                seconds = server.call("studylib.run.rendering:render_report",
                                      [str(forked), str(forked / "params.yaml"), str(archived_run.root), "r1", *args],
                                      str(archived_run.root)).result()
                assert seconds > 0
                here = folders["here"]
                rendering.render_report(str(here), str(here / "params.yaml"), str(archived_run.root), "r1", *args)
    finally:
        server.close()
    pages = sorted(p.name for p in folders["here"].glob("notebooks/*.html"))
    assert len(pages) == 2 * len(runner.STAGES)
    for name in pages:
        assert (folders["forked"] / "notebooks" / name).read_bytes() == (folders["here"] / "notebooks" / name).read_bytes()
    assert '<nav aria-label="report navigation" class="studylib">' in (folders["here"] / "notebooks" / pages[0]).read_text()


def test_an_unknown_rendering_is_refused():
    with pytest.raises(ValueError, match="unknown rendering"):
        rendering._exporter(".pdf")


def test_without_a_server_the_runner_renders_each_stage_in_its_own_process(archived_run, tmp_path):
    from studylib import plan

    folder = tmp_path / "run"
    shutil.copytree(archived_run.folder, folder)
    for page in folder.glob("notebooks/*.html"):
        page.unlink()
    reports = runner._Reports(folder, plan.load(folder / "params.yaml", root=archived_run.root), "r1",
                              len(runner.STAGES), server=None)
    for number, (stage, notebook) in enumerate(runner.STAGES, start=1):
        reports.start(runner.StageRecord(stage, notebook), number)
        stem = notebook.removesuffix(".ipynb")
        assert {p.name for p in folder.glob(f"notebooks/{stem}.*.html")} == {stem + v for v in rendering.VARIANTS}
    reports.wait()
    assert reports.seconds > 0
