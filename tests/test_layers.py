"""The layer contract: each folder of studylib is one layer and imports only go down.

Parses every module's imports (module level and inside functions) with :mod:`ast`, so the contract
holds for lazy imports too. The layers, top to bottom (DESIGN.md, Layout)::

    cli
    run
    evidence | report          (independent of each other)
    stages
    judge | data
    plan | stats               (independent of each other)
    errors, formatting             (foundation: no studylib imports)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "studylib"

# layer -> the layers it may import (besides itself)
ALLOWED = {
    "cli": {"run", "evidence", "report", "stages", "judge", "data", "plan", "stats", "errors", "formatting", "__init__"},
    "run": {"evidence", "report", "stages", "judge", "data", "plan", "stats", "errors", "formatting", "__init__"},
    "evidence": {"stages", "judge", "data", "plan", "stats", "errors", "formatting"},
    "report": {"stages", "judge", "data", "plan", "stats", "errors", "formatting"},
    "stages": {"judge", "data", "plan", "stats", "errors", "formatting"},
    "judge": {"plan", "stats", "errors", "formatting"},
    "data": {"plan", "errors", "formatting"},
    "plan": {"errors", "formatting"},
    "stats": set(),
    "errors": set(),
    "formatting": set(),
    "__init__": set(),
}
# What the statistics may depend on outside the standard library.
STATS_THIRD_PARTY = {"numpy", "scipy", "statsmodels", "pandas"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        yield path, rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "studylib":
                for alias in node.names:
                    yield node.lineno, f"studylib.{alias.name}"
            else:
                yield node.lineno, node.module


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "studylib":
        return None
    return parts[1] if len(parts) > 1 and not parts[1].startswith("__") else "__init__"


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted({layer for _, layer in _modules()} - set(ALLOWED))
    assert not unknown, f"modules outside the declared layers: {unknown}; add them to a layer in DESIGN.md"


def _upward(path: Path, layer: str) -> list[str]:
    found = []
    for line, module in _imports(path):
        target = _layer_of(module)
        if target is not None and target != layer and target not in ALLOWED[layer]:
            found.append(f"{path.name}:{line}: {layer} imports {module}")
    return found


def test_imports_only_go_down():
    violations = [v for path, layer in _modules() for v in _upward(path, layer)]
    assert not violations, "imports that go up or sideways:\n" + "\n".join(violations)


def test_stats_uses_only_the_numeric_stack():
    stdlib = sys.stdlib_module_names
    violations = []
    for path, layer in _modules():
        if layer != "stats":
            continue
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in stdlib or top in STATS_THIRD_PARTY or module.startswith("studylib.stats"):
                continue
            violations.append(f"{path.relative_to(PACKAGE.parent)}:{line}: stats imports {module}")
    assert not violations, "\n".join(violations)


def test_the_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n\ndef f():\n    from studylib.run import runner\n    from studylib import stats\n")
    assert _upward(bad, "stages") == ["bad.py:4: stages imports studylib.run"]


# Layers that compute and render: they take and return data; reading and writing files is the job of
# data/ (snapshots), evidence/ (the run folder) and run/ (the runner). The calls that would give it away:
FILE_IO_CALLS = {"open", "write_text", "write_bytes", "read_text", "read_bytes", "mkdir", "replace", "unlink",
                 "rename", "to_parquet", "read_parquet", "to_csv", "read_csv", "rmtree", "copyfile", "copytree"}
NO_FILE_IO = {"stats", "judge", "stages", "report"}


def _file_io(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        # str.replace and DataFrame.rename are not files: replace/rename count only as os.replace/os.rename.
        if name in {"replace", "rename"} and not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                                                  and func.value.id == "os"):
            continue
        if name in FILE_IO_CALLS:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {name}(...)")
    return found


def test_compute_and_render_layers_do_no_file_io():
    violations = [v for path, layer in _modules() if layer in NO_FILE_IO for v in _file_io(path)]
    assert not violations, "file I/O outside data/, evidence/ and run/:\n" + "\n".join(violations)


def test_the_file_io_check_catches_a_write(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\ndef f(p, s):\n    s = s.replace('a', 'b')\n    p.write_text(s)\n    os.replace(p, p)\n")
    assert _file_io(bad, root=tmp_path) == ["bad.py:5: write_text(...)", "bad.py:6: replace(...)"]


@pytest.mark.parametrize("command", [["params", "check", "params/demo.yaml"], ["--help"]])
def test_cli_without_notebooks_imports_no_display_stack(command):
    root = PACKAGE.parent
    code = ("import sys\nfrom studylib.cli import main\n"
            "try:\n    main(%r, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('IPython', 'matplotlib', 'papermill', 'nbconvert') if m in sys.modules))"
            % (command,))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
