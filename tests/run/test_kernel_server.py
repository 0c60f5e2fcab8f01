"""The kernel server (studylib.run.kernel_server): stage kernels forked with their modules imported, and
launched as before wherever forking is not possible."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from studylib.run import kernel_server, runner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")


def _notebook(path, *sources):
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
             for s in sources]
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": "import nothing", "metadata": {}},
                                          *cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_preload_modules_are_what_the_code_cells_import(tmp_path):
    one = _notebook(tmp_path / "a.ipynb", "import json\nimport os.path as p\nfrom studylib.stats import roc, Estimate",
                    "%matplotlib inline\nimport never_parsed", "from . import relative")
    two = _notebook(tmp_path / "b.ipynb", "import json\nfrom pandas import DataFrame")
    assert kernel_server.preload_modules([one, two]) == [
        "json", "os.path", "studylib.stats", "studylib.stats.roc", "studylib.stats.Estimate", "pandas",
        "pandas.DataFrame"]


def test_the_stage_notebooks_preload_the_study_code():
    modules = kernel_server.preload_modules([runner.NOTEBOOK_DIR / name for _, name in runner.STAGES])
    assert {"studylib.stages.evaluation.analysis", "studylib.stages.subgroups.analysis",
            "studylib.stages.drift.review", "studylib.report.display"} <= set(modules)


def test_switch(monkeypatch):
    monkeypatch.setenv(kernel_server.SWITCH, "0")
    assert not kernel_server.enabled()
    monkeypatch.setenv(kernel_server.SWITCH, "1")
    assert kernel_server.enabled()


async def _kernel_session(server, code: str):
    """Start the studylib kernel through the runner's kernel manager, run ``code``, return (provisioner
    process, the value of the code's last line), and shut the kernel down."""
    manager = runner._quiet_kernel_manager(None, None, server)(kernel_name=runner.kernel_name())
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    outputs = []
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(code, timeout=60, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok", reply["content"]
        texts = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        return manager.provisioner.process, texts[-1]
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def test_a_kernel_is_forked_by_the_server_with_its_modules_imported(tmp_path):
    server = kernel_server.KernelServer(["json", "decimal", "no.such.module"]).start()
    try:
        process, value = asyncio.run(_kernel_session(
            server, "import os, sys\n(os.getppid(), 'decimal' in sys.modules, os.getcwd(), os.environ['JPY_PARENT_PID'])"))
        assert isinstance(process, kernel_server.ForkedKernel)
        parent, preloaded, cwd, jpy_parent = eval(value)
        assert parent == server._process.pid == int(jpy_parent)  # exits when the server does
        assert preloaded
        assert process.poll() is not None  # shut down
    finally:
        server.close()
    assert server._process is None


def test_without_a_server_or_when_it_died_the_kernel_is_launched_as_before():
    process, value = asyncio.run(_kernel_session(None, "import os\nos.getppid()"))
    assert isinstance(process, subprocess.Popen) and int(value) == os.getpid()
    server = kernel_server.KernelServer(["json"]).start()
    server._process.kill()
    server._process.wait()
    process, value = asyncio.run(_kernel_session(server, "import os\nos.getppid()"))
    assert isinstance(process, subprocess.Popen) and int(value) == os.getpid()
    assert "not running" in server.failed
    server.close()


def test_a_kernel_whose_server_is_killed_exits():
    """ipykernel's parent poller: a forked kernel left behind by a killed server (and runner) exits."""
    server = kernel_server.KernelServer([]).start()
    manager = runner._quiet_kernel_manager(None, None, server)(kernel_name=runner.kernel_name())

    async def start():
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        client.stop_channels()
        return manager.provisioner.process

    process = asyncio.run(start())
    assert isinstance(process, kernel_server.ForkedKernel)
    os.kill(server._process.pid, signal.SIGKILL)
    server._process.wait()
    deadline = time.monotonic() + 15
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is not None, "the kernel outlived its server"
    asyncio.run(manager.cleanup_resources())
    server.close()


def test_forked_kernel_handle_reports_a_gone_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    handle = kernel_server.ForkedKernel(child.pid)
    assert handle.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        handle.wait(timeout=0.05)
    handle.kill()
    child.wait()  # our child here: reaped by us, as the server reaps its kernels
    assert handle.wait(timeout=5) == 0 and handle.poll() == 0
    handle.kill()  # nothing left to signal: no error


def test_a_process_keeps_one_server_per_set_of_notebooks_and_replaces_a_dead_one(tmp_path):
    first = _notebook(tmp_path / "a.ipynb", "import json")
    second = _notebook(tmp_path / "b.ipynb", "import decimal")
    one = kernel_server.shared([first, second])
    assert (one.modules, one.later) == (["json"], ["decimal"])
    assert kernel_server.shared([first, second]) is one and one.running()
    other = kernel_server.shared([second, first])
    assert other is not one
    one._process.kill()
    one._process.wait()
    replaced = kernel_server.shared([first, second])
    assert replaced is not one and replaced.running()


def test_the_later_modules_are_imported_after_the_first_kernel_is_served(tmp_path):
    """The first kernel is forked once the first notebook's modules are in; the others' follow."""
    server = kernel_server.KernelServer(["json"], ["decimal", "tabnanny"]).start()
    try:
        process, value = asyncio.run(_kernel_session(server, "import sys\n'json' in sys.modules"))
        assert value == "True"
        deadline = time.monotonic() + 30
        while True:  # a kernel forked later has the later modules
            process, value = asyncio.run(_kernel_session(server, "import sys\n'tabnanny' in sys.modules"))
            if value == "True" or time.monotonic() > deadline:
                break
        assert value == "True"
    finally:
        server.close()


def test_a_call_runs_in_a_forked_process_after_the_warm_ups(tmp_path, monkeypatch):
    """KernelServer.call: the function runs in a child of the server, which ran its warm-ups first (their
    effect is inherited); the value comes back as JSON; an error, a process that dies without a result and a
    stopped call are told apart; without a running server there is no call (the caller runs it itself)."""
    (tmp_path / "warmth.py").write_text("STATE = []\n\ndef warm():\n    STATE.append('warmed')\n\n"
                                        "def state(suffix):\n    return [*STATE, suffix]\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    server = kernel_server.KernelServer(["json"], warm=["warmth:warm"]).start()
    try:
        assert server.call("warmth:state", ["called"], str(tmp_path)).result() == ["warmed", "called"]
        assert server.call("os:getcwd", [], str(tmp_path)).result() == str(tmp_path)
        child = server.call("os:getpid", [], str(tmp_path))
        assert child.result() not in (os.getpid(), server._process.pid)
        with pytest.raises(RuntimeError, match="json:loads raised JSONDecodeError"):
            server.call("json:loads", ["{"], str(tmp_path)).result()
        with pytest.raises(RuntimeError, match="ended without a result"):
            server.call("os:_exit", [3], str(tmp_path)).result()
        sleeping = server.call("time:sleep", [60], str(tmp_path))
        assert not sleeping.done()
        sleeping.kill()
        assert sleeping.done()
    finally:
        server.close()
    assert server.call("os:getpid", [], str(tmp_path)) is None
