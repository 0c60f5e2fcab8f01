"""The environment a run records: the git state of the code, and the declared packages."""

import importlib.metadata
import subprocess

from studylib.run import environment

NOT_A_CHECKOUT = {"commit": None, "dirty": None}


def _git(folder, *args) -> str:
    done = subprocess.run(["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _checkout(tmp_path):
    """A git work tree holding a studylib package, with an ignored .venv/ as `make demo` makes one."""
    root = tmp_path / "project"
    (root / "studylib").mkdir(parents=True)
    (root / "studylib" / "__init__.py").write_text("")
    (root / ".gitignore").write_text(".venv/\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_source_checkout_gives_commit_and_dirty_state(tmp_path):
    root = _checkout(tmp_path)
    head = _git(root, "rev-parse", "HEAD")
    assert environment.git_state(root) == {"commit": head, "dirty": False}
    (root / "studylib" / "__init__.py").write_text("changed = True\n")
    assert environment.git_state(root) == {"commit": head, "dirty": True}


def test_installed_package_inside_another_work_tree_is_not_a_checkout(tmp_path):
    """A wheel installed in a project's .venv: the project's commit says nothing about that code."""
    root = _checkout(tmp_path)
    site_packages = root / ".venv" / "lib" / "python3.11" / "site-packages"
    (site_packages / "studylib").mkdir(parents=True)
    (site_packages / "studylib" / "__init__.py").write_text("")
    assert environment.git_state(site_packages) == NOT_A_CHECKOUT


def test_folder_outside_git_is_not_a_checkout(tmp_path):
    assert environment.git_state(tmp_path) == NOT_A_CHECKOUT


def test_package_versions_lists_studylib_and_declared_runtime_dependencies_only(monkeypatch):
    declared = ["numpy>=2.4", "PyYAML>=6.0", 'pytest>=9.2; extra == "dev"']
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: declared if name == "studylib" else None)
    versions = environment.package_versions()
    assert set(versions) == {"studylib", "numpy", "PyYAML"}
    assert versions["numpy"] == importlib.metadata.version("numpy")
