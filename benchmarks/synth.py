"""Speed of the synthetic snapshot generator: 10^7 rows in four Parquet files, written and locked.

    .venv/bin/python benchmarks/synth.py              # 10^7 rows, target < 45 s
    .venv/bin/python benchmarks/synth.py --rows 1000000

The target was a wall-clock assertion of ``tests/data/test_synth.py`` (marked slow); the test keeps
the row count, the speed target lives here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studylib.data import snapshot, synth  # noqa: E402

TARGET_ROWS, TARGET_SECONDS = 10_000_000, 45.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=TARGET_ROWS)
    parser.add_argument("--files", type=int, default=4)
    args, _ = parser.parse_known_args(argv)  # run_all.py passes its own arguments to every script
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        start = time.perf_counter()
        lock = synth.write_snapshot(work / "s", args.rows, files=args.files)
        seconds = time.perf_counter() - start
        rows = snapshot.verify(work / "s", lock).rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"synth.write_snapshot: {rows:,} rows in {args.files} file(s): {seconds:.1f} s")
    if args.rows != TARGET_ROWS:
        return 0
    met = seconds < TARGET_SECONDS
    print(f"target < {TARGET_SECONDS:g} s for {TARGET_ROWS:,} rows: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
