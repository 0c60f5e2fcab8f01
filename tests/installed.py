"""studylib installed from a wheel into a fresh virtual environment, for the suite's installed-package run.

The wheel is built from a copy of the sources (a build in the project would leave build/ behind) and
installed (not editable) into a fresh venv whose dependencies are those of the running interpreter (a
``.pth`` file, no download). The session fixtures ``wheel``, ``installed`` and ``installed_run`` in
``tests/conftest.py`` make each once per test session.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from packaging.version import Version

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def can_build_without_isolation() -> bool:
    """setuptools with a built-in bdist_wheel (>= 70.1), or an older one beside the wheel package."""
    try:
        setuptools_version = Version(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return False
    return setuptools_version >= Version("70.1") or importlib.util.find_spec("wheel") is not None


def build_wheel(source: Path, out: Path) -> Path:
    """A wheel of the project built in ``source`` (a copy of the sources made here) into ``out``."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "studylib", source / "studylib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    isolation = ["--no-build-isolation"] if can_build_without_isolation() else []
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--wheel-dir", str(out),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    (path,) = out.glob("studylib-*.whl")
    return path


def clean_env() -> dict[str, str]:
    """The environment for the installed package's processes: no PYTHONPATH (a checkout on it would be
    imported, and its metadata would make pip think studylib is installed already), no user site."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    return env | {"PYTHONNOUSERSITE": "1"}


def jupyter_env(*first: Path) -> dict[str, str]:
    """:func:`clean_env` plus the Jupyter data files of the borrowed dependencies (nbconvert's
    templates), which a real install puts in the venv's share/jupyter, after the folders ``first``."""
    env = clean_env()
    data = Path(sysconfig.get_path("data")) / "share" / "jupyter"
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (*map(str, first), str(data), env.get("JUPYTER_PATH", "")) if p)
    return env


def site_packages(environment: Path) -> Path:
    scheme = {"base": str(environment), "platbase": str(environment)}
    return Path(sysconfig.get_path("purelib", "venv" if "venv" in sysconfig.get_scheme_names() else None, scheme))


def install(wheel: Path, environment: Path) -> Path:
    """A fresh venv ``environment`` holding the wheel (not editable); its dependencies are the running
    interpreter's. Returns ``environment``."""
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(environment)
    python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The wheel goes in before the dependencies become visible: pip sees an empty environment.
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "--no-compile", str(wheel)], capture_output=True, text=True, timeout=600, env=clean_env())
    assert done.returncode == 0, f"pip install of the wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    # Dependencies: the running interpreter's site-packages, appended to sys.path by a .pth file. Their
    # own .pth files (the editable finder of a development install of studylib) are not processed.
    here = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()])
    target = site_packages(environment)
    assert (target / "studylib" / "__init__.py").is_file(), f"studylib not installed in {target}"
    (target / "_studylib_test_dependencies.pth").write_text("".join(f"{p}\n" for p in here if Path(p).is_dir()))
    return environment


def register_studylib_kernel(root: Path, executable: str) -> None:
    """A "studylib" Jupyter kernel under ``root`` (a JUPYTER_PATH folder) that starts ``executable``."""
    folder = root / "kernels" / "studylib"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (studylib)", "language": "python"}))
