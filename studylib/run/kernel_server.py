"""Stage kernels forked from one process that has already imported what the notebooks import.

A run starts four kernels, and each used to spend about 3.5 CPU-s starting Python and importing
ipykernel, pandas, SciPy, statsmodels and matplotlib before its first cell ran: a quarter of a demo
run's CPU on two cores. The runner now starts one *kernel server* when a run begins
(:class:`KernelServer`, this module run as ``python -m studylib.run.kernel_server``; one per process
and set of modules, :func:`shared`). It imports
ipykernel and every module the stage notebooks import, once, while the runner prepares the run, and
then forks a kernel for each stage on request (:func:`provisioner`): the child becomes an
ordinary ipykernel (``ipykernel_launcher -f <connection file>``) whose modules are already in memory,
shared copy-on-write. What a notebook computes does not change: the same interpreter, the same
installed files, the same code; only the imports happened earlier, in the parent.

The server is used only where it is safe and the same: on Linux (``fork`` without ``exec`` is unsafe
on macOS), when the kernel's command is ``<this interpreter> -m ipykernel_launcher`` (a kernel of
another interpreter is launched as before), and when ``STUDYLIB_FORK_KERNELS`` is not ``0``. If the
server cannot start or dies, kernels are launched as before, by Jupyter's own provisioner.

Why not a library: jupyter_client launches each kernel with ``Popen`` and has no fork server
(jupyter_client's kernel provisioners are the documented extension point, used here); Python's
``multiprocessing`` forkserver starts Python functions, not a kernel that another process manages
by pid and signals.

Lifetimes: the server and each kernel run in sessions of their own (as Jupyter's launcher starts a kernel, so that Ctrl-C
to the runner's process group does not reach it) and is stopped by the runner through its pid, as
before. The server ignores Ctrl-C, reaps its children, and exits when the runner closes its stdin or
dies; a kernel whose parent (the server) is gone exits within a second (ipykernel's parent poller,
``JPY_PARENT_PID``).
"""

from __future__ import annotations

import ast
import atexit
import gc
import importlib
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import sys
import threading
import time
from pathlib import Path

__all__ = ["ForkedCall", "KernelServer", "enabled", "preload_modules", "provisioner", "shared"]

#: what every kernel imports before the notebook's first cell
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython.core.interactiveshell",
                  "ipykernel.debugger")  # the debugger (debugpy) is imported by name as the kernel starts
#: interpreter options the server runs with: those of ipykernel's kernel specs (``frozen_modules=off`` lets
#: the debugger see the standard library), so that a kernel started with them can be forked from it
INTERPRETER_OPTIONS = ("-Xfrozen_modules=off",)
#: the environment variable that turns the server off (``0``)
SWITCH = "STUDYLIB_FORK_KERNELS"


def enabled() -> bool:
    """Whether this platform and environment allow forked kernels (Linux, ``STUDYLIB_FORK_KERNELS`` != 0)."""
    return sys.platform.startswith("linux") and os.environ.get(SWITCH, "1") != "0"


def preload_modules(notebooks: list[Path]) -> list[str]:
    """The modules the code cells of ``notebooks`` import (``import a.b``, ``from a.b import c``: ``a.b``,
    and ``a.b.c`` when that is a module), in order of first appearance; cells that do not parse (magics)
    are skipped."""
    names: dict[str, None] = {}
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = "".join(cell.get("source", []))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(dict.fromkeys(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names[node.module] = None
                    names.update(dict.fromkeys(f"{node.module}.{alias.name}" for alias in node.names))
    return list(names)


def _import_quietly(name: str) -> None:
    """Import ``name`` if it is a module; anything else (a function's name, a missing module) is left to
    the notebook, which reports it in its own cell. ``module:function``: import the module and call the
    function (a warm-up, e.g. :func:`studylib.run.rendering.warm_up`)."""
    module, _, function = name.partition(":")
    try:
        if importlib.util.find_spec(module) is not None:
            imported = importlib.import_module(module)
            if function:
                getattr(imported, function)()
    except Exception:  # noqa: BLE001 - a notebook that imports it raises the same error where it belongs
        pass


# --------------------------------------------------------------------------------------------------
# The runner's side
# --------------------------------------------------------------------------------------------------

_shared: dict[tuple[tuple[str, ...], ...], "KernelServer"] = {}
_shared_lock = threading.Lock()


def shared(notebooks: list[Path], warm: tuple[str, ...] = ()) -> "KernelServer":
    """This process's server for the stage ``notebooks`` (in stage order): it imports what the first one
    imports, then the others' modules while the first kernel runs (:func:`preload_modules`), then runs the
    ``warm`` functions (``module:function``) for the calls it will fork (:meth:`KernelServer.call`). Started by
    the first run that needs it and kept for the next, so that a process running several studies (a
    pipeline's driver, the test suite) imports them once; stopped when the process exits (or, if it is
    killed, when the server reads the end of its input). A server that died is replaced."""
    first = preload_modules(notebooks[:1])
    later = preload_modules(notebooks[1:])
    key = (tuple(first), tuple(later), tuple(warm))
    with _shared_lock:
        server = _shared.get(key)
        if server is None or not server.running():
            if not _shared:
                atexit.register(_close_shared)
            server = _shared[key] = KernelServer(first, later, list(warm)).start()
        return server


def _close_shared() -> None:
    with _shared_lock:
        for server in _shared.values():
            server.close()
        _shared.clear()


class KernelServer:
    """The server process of one run: :meth:`start` it, :meth:`fork` kernels, :meth:`close` it.

    Thread-safe: the stage threads ask for kernels at once, one request on the pipe at a time.
    """

    def __init__(self, modules: list[str], later: list[str] = (), warm: list[str] = ()):
        self.modules = list(modules)
        self.later = [m for m in dict.fromkeys(later) if m not in self.modules]
        self.warm = list(warm)
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._results: str | None = None  # where forked calls write their results
        self.failed = ""

    def start(self) -> "KernelServer":
        self._process = subprocess.Popen(
            [sys.executable, *INTERPRETER_OPTIONS, "-m", "studylib.run.kernel_server", *KERNEL_MODULES,
             *self.modules, LATER, *self.later, WARM, *self.warm],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            start_new_session=True)  # Ctrl-C to the runner's process group is the runner's to handle
        return self

    def running(self) -> bool:
        return self._process is not None and not self.failed and self._process.poll() is None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int | None:
        """A kernel started as ``ipykernel_launcher argv`` in ``cwd`` with ``env``: its pid, or None when the
        server is not available (the caller then launches the kernel itself)."""
        with self._lock:
            if not self.running():
                self.failed = self.failed or "the kernel server is not running"
                return None
            process = self._process
            try:
                process.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
                process.stdin.flush()
                reply = process.stdout.readline()
                return int(json.loads(reply)["pid"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.failed = f"the kernel server did not answer ({exc})"
                return None

    def call(self, function: str, args: list, cwd: str) -> "ForkedCall | None":
        """Run ``function`` (``"module:name"``) with the JSON values ``args`` in a process forked from the server
        (in ``cwd``, its modules already imported): a :class:`ForkedCall` to wait for, or None when the server
        is not available (the caller then calls the function itself)."""
        with self._lock:
            if not self.running():
                return None
            if self._results is None:
                self._results = tempfile.mkdtemp(prefix="studylib-calls-")
            result = os.path.join(self._results, f"{len(os.listdir(self._results))}-{time.monotonic_ns()}.json")
            process = self._process
            try:
                process.stdin.write(json.dumps({"call": function, "args": args, "cwd": cwd, "result": result}) + "\n")
                process.stdin.flush()
                return ForkedCall(int(json.loads(process.stdout.readline())["pid"]), function, result)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.failed = f"the kernel server did not answer ({exc})"
                return None

    def close(self) -> None:
        """Stop the server, at once even while it imports (its kernels have been shut down by their
        managers, and a kernel left behind exits with it)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        if self._results is not None:
            shutil.rmtree(self._results, ignore_errors=True)
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie has: a kernel orphaned by a killed server
    may wait for a reaper that never comes, e.g. in a container whose first process reaps nothing)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or the pid reused by another user's process)
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class ForkedKernel:
    """The part of ``subprocess.Popen`` that Jupyter's provisioner uses, for a kernel forked by the server
    (not a child of this process: it is reaped by the server, so its exit status is not known here and
    reads 0 once the process is gone)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None and not _running(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedCall:
    """A function running in a process forked by the server (:meth:`KernelServer.call`)."""

    def __init__(self, pid: int, function: str, result: str):
        self.pid, self.function, self._result = pid, function, result

    def done(self) -> bool:
        return not _running(self.pid)

    def kill(self) -> None:
        """Stop it (and wait until it is gone, so that it writes nothing after)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while not self.done():
            time.sleep(0.005)

    def result(self):
        """Wait for the call to end; its return value, or RuntimeError with the error it raised (or saying
        that its process died)."""
        while not self.done():
            time.sleep(0.005)
        try:
            with open(self._result, encoding="utf-8") as file:
                outcome = json.load(file)
        except (OSError, ValueError):
            raise RuntimeError(f"{self.function} ended without a result (its process died)") from None
        finally:
            try:
                os.unlink(self._result)
            except OSError:
                pass
        if "error" in outcome:
            raise RuntimeError(f"{self.function} raised {outcome['error']}\n{outcome['traceback']}")
        return outcome["value"]


def _provisioner_class():
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkingProvisioner(LocalProvisioner):
        """Jupyter's local provisioner, except that the kernel process is forked by the run's
        :class:`KernelServer` when its command is this interpreter's ``-m ipykernel_launcher`` (with no
        interpreter options but :data:`INTERPRETER_OPTIONS`)."""

        server: KernelServer | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs):
            server, module = self.server, ["-m", "ipykernel_launcher"]
            at = next((i for i in range(1, len(cmd) - 1) if cmd[i:i + 2] == module), None)
            if server is None or at is None or not set(cmd[1:at]) <= set(INTERPRETER_OPTIONS) \
                    or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
                return await super().launch_kernel(cmd, **kwargs)
            scrubbed = self._scrub_kwargs(kwargs)
            env = dict(scrubbed.get("env") or os.environ)
            cwd = str(scrubbed.get("cwd") or Path.cwd())
            pid = server.fork(cmd[at + 2:], env, cwd)
            if pid is None:
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedKernel(pid)
            self.pid = self.pgid = pid  # the kernel leads a session of its own
            self.cwd = cwd
            return self.connection_info

    return ForkingProvisioner


def provisioner(kernel_manager, server: KernelServer):
    """A :class:`ForkingProvisioner` for ``kernel_manager`` (set as its ``provisioner`` before it starts)."""
    import uuid

    kernel_manager.kernel_id = kernel_manager.kernel_id or str(uuid.uuid4())
    made = _provisioner_class()(kernel_id=kernel_manager.kernel_id, kernel_spec=kernel_manager.kernel_spec,
                                parent=kernel_manager)
    made.server = server
    return made


# --------------------------------------------------------------------------------------------------
# The server's side (python -m studylib.run.kernel_server MODULE...)
# --------------------------------------------------------------------------------------------------


def _statistics_used() -> list[str]:
    """The modules of the statistics that the loaded studylib modules call as ``stats.<name>``:
    :mod:`studylib.stats` re-exports lazily, so importing a stage imports none of them (nor SciPy or
    statsmodels), and each kernel would import them at its first call."""
    import re

    package = sys.modules.get("studylib.stats")
    sources = getattr(package, "_SOURCES", {})
    used: dict[str, None] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) if name.startswith("studylib.") else None
        if not path or not path.endswith(".py"):
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            continue
        used.update(dict.fromkeys(sources[attr] for attr in re.findall(r"\bstats\.(\w+)", text) if attr in sources))
    return list(used)


#: separates the modules imported before the first kernel from those imported after it (command line)
LATER = "--later"
#: precedes the warm-ups (``module:function``) that the server runs before the first call it forks
WARM = "--warm"


def _serve(arguments: list[str]) -> None:
    at = arguments.index(WARM) if WARM in arguments else len(arguments)
    arguments, warm = arguments[:at], arguments[at + 1:]
    at = arguments.index(LATER) if LATER in arguments else len(arguments)
    first, later = arguments[:at], arguments[at + 1:]
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # what an import prints goes to stderr, never into the replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides: it kills the server, or its end closes stdin
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps the kernels
    for name in first:
        _import_quietly(name)
    # the later modules one at a time until the first kernel is asked for (the cohort stage need not wait for
    # them), then all of them before the next kernel: a kernel forked with some missing would import them
    # itself, each one of the later stages again
    pending: list[str | None] = [*later, None]  # None: the statistics the loaded code calls
    served = 0
    while True:
        if pending and (served or not select.select([requests], [], [], 0)[0]):
            name = pending.pop(0)
            for module in ([name] if name is not None else _statistics_used()):
                _import_quietly(module)
            continue
        line = requests.readline()
        if not line:
            break
        request = json.loads(line)
        while "call" in request and warm:  # at the first call: no kernel waits for them (the runner asks for the
            _import_quietly(warm.pop(0))   # kernels first), and the runs that make no call never pay for them
        gc.freeze()  # what is loaded stays out of the children's collections: shared, not copied page by page
        pid = os.fork()
        if pid == 0:  # never returns
            (_run_call if "call" in request else _become_kernel)(request, requests, replies)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        served += 1


def _run_call(request: dict, requests, replies) -> None:
    """The forked process of a call: run it and write its outcome (value, or error and traceback) as JSON to
    the request's result file, whole or not at all; exit."""
    code = 1
    try:
        requests.close()
        replies.close()
        os.chdir(request["cwd"])
        try:
            module, _, name = request["call"].partition(":")
            outcome = {"value": getattr(importlib.import_module(module), name)(*request["args"])}
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, which raises it
            import traceback

            outcome = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        partial = request["result"] + ".partial"
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(outcome, file)
        os.replace(partial, request["result"])
        code = 0
    finally:
        os._exit(code)


def _become_kernel(request: dict, requests, replies) -> None:
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        requests.close()
        replies.close()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        sys.path[0] = os.getcwd()  # as `python -m ipykernel_launcher` started here would have it
        # exit when the server is gone (ipykernel's parent poller): given on the command line, because the
        # default of parent_handle was read from JPY_PARENT_PID when the server imported ipykernel
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.executable, *argv]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a kernel that cannot start says why on stderr, as ipykernel would
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    _serve(sys.argv[1:])
