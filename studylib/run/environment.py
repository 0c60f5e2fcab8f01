"""The environment a run executed in: code version, Python, packages, platform."""

from __future__ import annotations

import importlib.metadata
import platform
import re
import subprocess
import sys
from pathlib import Path

import studylib

# The folder that holds the package: a source checkout (editable install, PYTHONPATH) or site-packages.
CODE_ROOT = Path(studylib.__file__).resolve().parent.parent
PACKAGE = studylib.__name__


def git_state(folder: Path = CODE_ROOT) -> dict:
    """The git commit of the source checkout ``folder`` and whether its tree has uncommitted changes.

    Both are None when ``folder`` is not a git checkout of studylib: outside git, and for an installed
    package, whose site-packages may lie inside some other work tree (a project's ``.venv``) whose
    commit says nothing about the installed code; there the package is not tracked.
    """
    def git(*args):
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0 or git("ls-files", "--error-unmatch", "--", f"{PACKAGE}/__init__.py").returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str]:
    """Installed versions of studylib and each of its declared runtime dependencies."""
    versions = {"studylib": studylib.__version__}
    try:
        requirements = importlib.metadata.requires("studylib") or []
    except importlib.metadata.PackageNotFoundError:
        requirements = []
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


def describe() -> dict:
    """Everything about the environment that goes into a run's manifest."""
    return {
        "code": git_state(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": package_versions(),
    }
