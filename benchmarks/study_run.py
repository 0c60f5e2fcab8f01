"""Time `studylib run` against bare Papermill + nbconvert executing the same four notebooks.

Both sides run in this process's session, alternating, best of N repeats:

- studylib: ``studylib run params/demo.yaml`` as a user runs it (a subprocess, including validation,
  snapshot verification, rendering, manifest and archive);
- studylib without the kernel server: the same with ``STUDYLIB_FORK_KERNELS=0`` (each kernel launched by
  Jupyter and importing its modules itself), to show what forking the kernels saves;
- peer: a subprocess that executes the same four notebooks with ``papermill.execute_notebook`` and
  renders each twice with nbconvert's ``HTMLExporter``, and nothing else.

studylib runs stages 2-4 at once after the cohort stage and renders while they execute; the peer runs
the notebooks one after another, as a plain Papermill pipeline would.

Targets (2 cores): issue 3, studylib's overhead over the peer at most 15 %; issue 15, the demo study under
18 s on a quiet machine (it took 25.7 s with the stages one after another). On a busy machine the
absolute times mean little: read the ratio to the peer, measured in the same session, alternating.

Usage: ``.venv/bin/python benchmarks/study_run.py [--repeats 3] [--params params/demo.yaml]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

PEER = textwrap.dedent("""
    import sys, pathlib, papermill, nbformat
    from nbconvert import HTMLExporter
    params_file, out = sys.argv[1], pathlib.Path(sys.argv[2])
    full = HTMLExporter(template_name="lab")
    reviewer = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    for name in ["01_cohort", "02_evaluation", "03_subgroups", "04_drift"]:
        target = out / f"{name}.ipynb"
        papermill.execute_notebook(f"studylib/notebooks/{name}.ipynb", str(target), kernel_name="studylib",
                                   parameters={"study_file": params_file, "run_dir": str(out)}, progress_bar=False)
        nb = nbformat.read(target, as_version=4)
        for exporter, suffix in ((full, ".full.html"), (reviewer, ".reviewer.html")):
            (out / (name + suffix)).write_text(exporter.from_notebook_node(nb)[0])
""")


def _time(command: list[str], ok: tuple[int, ...] = (0,), env: dict | None = None) -> float:
    """Seconds the command took; a command that failed is not timed (a failure is fast, not a result)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode not in ok:
        sys.exit(f"benchmark command failed (exit {done.returncode}): {' '.join(command)[:200]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--params", default="params/demo.yaml")
    args = parser.parse_args()
    reports = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    studylib_times, unforked_times, peer_times = [], [], []
    command = [str(BIN / "studylib"), "run", args.params, "--reports-dir", str(reports)]
    try:
        for _ in range(args.repeats):
            studylib_times.append(_time(command, ok=(0, 1)))
            unforked_times.append(_time(command, ok=(0, 1), env={"STUDYLIB_FORK_KERNELS": "0"}))
            with tempfile.TemporaryDirectory(prefix="bench-peer-") as out:
                peer_times.append(_time([sys.executable, "-c", PEER, str(ROOT / args.params), out]))
    finally:
        shutil.rmtree(reports, ignore_errors=True)
    ours, peer = min(studylib_times), min(peer_times)
    overhead = ours / peer - 1
    print(f"{'what':<46} {'best s':>8} {'all runs (s)':>24}")
    print(f"{'studylib run ' + args.params:<46} {ours:8.2f} {' '.join(f'{t:.1f}' for t in studylib_times):>24}")
    print(f"{'  the same, STUDYLIB_FORK_KERNELS=0':<46} {min(unforked_times):8.2f} "
          f"{' '.join(f'{t:.1f}' for t in unforked_times):>24}")
    print(f"{'bare papermill + nbconvert (same notebooks)':<46} {peer:8.2f} {' '.join(f'{t:.1f}' for t in peer_times):>24}")
    print(f"ratio studylib / peer: {ours / peer:.3f}  (overhead {100 * overhead:+.1f} %; target <= +15 %: "
          f"{'met' if overhead <= 0.15 else 'NOT met'})")
    print(f"demo study under 18 s (quiet 2-core machine): {'met' if ours < 18 else 'NOT met'} ({ours:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
