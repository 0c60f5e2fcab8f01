"""studylib as an installed package: declared dependencies, lock files, the wheel, a study run from it.

The lock tests read pyproject.toml and the two lock files (no network). The e2e tests build a wheel
from a copy of the sources, install it (not editable) into a fresh virtual environment whose
dependencies are those of the running interpreter (a ``.pth`` file, no download), and run a study
with it from a folder outside the project (:mod:`tests.installed`; the session fixtures ``wheel``,
``installed`` and ``installed_run`` of ``tests/conftest.py``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from studylib.run import runner
from tests import installed as installing
from tests.installed import register_studylib_kernel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+?)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def _lock(name: str) -> dict[str, list[tuple[str, Marker | None, int]]]:
    """Pins of a lock file: canonical name -> [(version, marker, number of hashes)] (a package may be
    pinned twice under exclusive markers)."""
    pins: dict[str, list] = {}
    current = None
    for line in (PROJECT_ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            marker = Marker(match["marker"]) if match["marker"] else None
            current = [match["version"], marker, 0]
            pins.setdefault(canonicalize_name(match["name"]), []).append(current)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current[2] += 1
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{name}: unexpected line {line!r}")
    return {key: [tuple(p) for p in value] for key, value in pins.items()}


def _applies(marker: Marker | None) -> bool:
    return marker is None or marker.evaluate()


def _pinned_here(pins, name: str) -> str | None:
    """The version a lock file pins for ``name`` on this interpreter and platform."""
    versions = [version for version, marker, _ in pins.get(canonicalize_name(name), []) if _applies(marker)]
    assert len(versions) <= 1, f"{name} pinned more than once for this platform: {versions}"
    return versions[0] if versions else None


RUNTIME_LOCK = _lock("requirements.lock")
DEV_LOCK = _lock("requirements-dev.lock")
RUNTIME = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
DEV = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]]
LAB = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["lab"]]
# optional engines: imported lazily by studylib when a study asks for them (engine: spark)
OPTIONAL = [Requirement(r) for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()
            if extra not in ("dev", "lab") for r in reqs]


# --- declared dependencies and lock files ----------------------------------------------------------

@pytest.mark.parametrize("lock_name, declared", [("requirements.lock", RUNTIME),
                                                 ("requirements-dev.lock", RUNTIME + DEV),
                                                 ("requirements-lab.lock", RUNTIME + DEV + LAB)])
def test_lock_pins_every_declared_dependency_within_its_bounds(lock_name, declared):
    pins = _lock(lock_name)
    for requirement in declared:
        version = _pinned_here(pins, requirement.name)
        assert version is not None, f"{lock_name}: {requirement.name} is declared but not pinned; run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock_name}: {requirement.name}=={version} is outside the declared {requirement}")


def test_dependencies_have_lower_bounds_not_pins():
    for requirement in RUNTIME + DEV + LAB:
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {">="}, f"pyproject.toml: {requirement} should have one lower bound (>=)"


@pytest.mark.parametrize("narrow, wide", [("requirements.lock", "requirements-dev.lock"),
                                          ("requirements-dev.lock", "requirements-lab.lock")])
def test_each_lock_is_the_next_one_restricted(narrow, wide):
    """The runtime lock is the dev lock restricted to runtime, the dev lock the lab lock restricted to dev:
    same versions (markers may be wider in the wider lock, where more packages need a dependency)."""
    narrow_pins, wide_pins = _lock(narrow), _lock(wide)
    for name, pins in narrow_pins.items():
        versions = {version for version, _, _ in pins}
        wider = {version for version, _, _ in wide_pins.get(name, [])}
        assert versions <= wider, f"{name}: {narrow} pins {sorted(versions)}, {wide} {sorted(wider)}"
        assert _pinned_here(narrow_pins, name) in (None, _pinned_here(wide_pins, name)), name


def test_the_test_environment_has_no_iri_grammar():
    """rfc3987-syntax (jsonschema's optional IRI format checker, via jupyter-events or the CycloneDX
    json-validation extra) compiles 39 grammars on import: ~3 CPU-s in every process that imports
    jsonschema, which papermill does, so in every run of the suite. Only the lab lock may have it."""
    assert "rfc3987-syntax" not in DEV_LOCK and "rfc3987-syntax" not in RUNTIME_LOCK
    assert "rfc3987-syntax" in _lock("requirements-lab.lock")


@pytest.mark.parametrize("lock_name", ["requirements.lock", "requirements-dev.lock", "requirements-lab.lock"])
def test_every_pin_has_hashes_and_the_file_names_its_generator(lock_name):
    text = (PROJECT_ROOT / lock_name).read_text(encoding="utf-8")
    assert re.search(rf"^#\s+uv pip compile .*--generate-hashes.* -o {re.escape(lock_name)}$", text, re.M), (
        f"{lock_name}: the first lines must give the command that generated it (make lock)")
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lock:", makefile, re.M) and "pip compile" in makefile
    for name, pins in _lock(lock_name).items():
        for version, _, hashes in pins:
            assert hashes > 0, f"{lock_name}: {name}=={version} has no --hash"


def test_runtime_dependencies_are_what_studylib_imports():
    """Every third-party module imported by studylib or its notebooks is declared, and nothing more
    (ipykernel is declared without an import: it is the kernel the notebooks run in)."""
    package = PROJECT_ROOT / "studylib"
    sources = [p.read_text(encoding="utf-8") for p in package.rglob("*.py")]
    for notebook in (package / "notebooks").glob("*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources += ["".join(line for line in c["source"] if not line.lstrip().startswith(("%", "!")))
                    for c in cells if c["cell_type"] == "code"]  # without IPython magics
    imported = set()
    for node in (n for text in sources for n in ast.walk(ast.parse(text))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m != "studylib" and m not in sys.stdlib_module_names}
    distributions = importlib.metadata.packages_distributions()
    needed = {canonicalize_name(d) for m in third_party for d in distributions.get(m, [m])}
    declared = {canonicalize_name(r.name) for r in RUNTIME}
    optional = {canonicalize_name(r.name) for r in OPTIONAL}
    needed -= optional
    not_imported = {"ipykernel", "jinja2"}  # started as the kernel; pandas Styler and nbconvert templates
    assert needed - declared == set(), f"imported but not declared in [project] dependencies: {needed - declared}"
    assert declared - needed - not_imported == set(), (
        f"declared but never imported at run time (move to the dev extra): {declared - needed - not_imported}")


def test_running_environment_has_the_locked_versions():
    """The suite runs on the versions of requirements-dev.lock (`make test` installs from it)."""
    different = []
    for name in DEV_LOCK:
        version = _pinned_here(DEV_LOCK, name)
        if version is None:
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            different.append(f"{name}: locked {version}, installed {installed}")
    assert not different, "environment differs from requirements-dev.lock (make test installs it):\n" + "\n".join(different)


# --- the Jupyter kernel ----------------------------------------------------------------------------

def test_kernel_registered_for_this_interpreter_is_used(tmp_path, monkeypatch):
    register_studylib_kernel(tmp_path, sys.executable)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert runner.kernel_name() == "studylib"


def test_kernel_registered_for_another_environment_is_not_used(tmp_path, monkeypatch):
    register_studylib_kernel(tmp_path, str(tmp_path / "other-venv" / "bin" / "python"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert runner.kernel_name() == "python3"


# --- the wheel, installed ----------------------------------------------------------------------------

def _package_files(root: Path) -> set[str]:
    """Files of the package as the wheel should hold them (no caches)."""
    return {p.relative_to(root).as_posix() for p in (root / "studylib").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


@pytest.mark.e2e
def test_wheel_holds_the_notebooks_templates_and_every_package_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        packed = {n for n in archive.namelist() if n.startswith("studylib/")}
    missing = _package_files(PROJECT_ROOT) - packed
    assert not missing, f"files of studylib/ missing from the wheel (pyproject.toml package-data): {sorted(missing)}"
    assert {f"studylib/notebooks/{nb}" for _, nb in runner.STAGES} <= packed


@pytest.mark.e2e
def test_installed_package_runs_a_study_from_another_folder(installed_run):
    """`pip install` (not editable), then `studylib run /abs/params/<study>.yaml` from elsewhere: the run is
    archived and its notebooks came from the installed package, run in the kernel of its interpreter.
    The study is the markup-injection project (``installed_run`` in tests/conftest.py: every stage, real
    notebooks; its pages are checked by tests/report/test_injection.py; the demo itself runs in the suite
    once, under nbval, and `make demo` runs it from the project).

    A "studylib" kernel registered for another environment is visible (as `make demo` leaves one in a
    project's .venv); it starts an interpreter that does not exist, so the run fails if it is used."""
    done = installed_run
    assert done.returncode in (0, 1) and "verdict:" in done.stdout, (
        f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")

    run = installed_run.folder
    site_packages = installing.site_packages(installed_run.environment).resolve()
    for _, name in runner.STAGES:
        executed = json.loads((run / "notebooks" / name).read_text(encoding="utf-8"))
        source = Path(executed["metadata"]["papermill"]["input_path"]).resolve()
        assert source == site_packages / "studylib" / "notebooks" / name, f"{name} ran from {source}"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    environment = manifest["environment"]
    assert environment["code"] == {"commit": None, "dirty": None}, "an installed package is not a git checkout"
    assert "ipython" in environment["packages"] and "scikit-learn" not in environment["packages"]
    assert (run / manifest["project_root"]).resolve() == installed_run.project.resolve()  # relative to the run folder
    assert not (installed_run.elsewhere / "reports").exists() and not (site_packages / "reports").exists()
