"""Finding and loading a study parameter file.

Relative paths in the file (the snapshot) are resolved against the *project root*: the root the
caller gives (``load(path, root=...)``: e.g. the root an archived run recorded), else the nearest
folder at or above the parameter file holding a ``pyproject.toml``, else the folder above
``params/``, else the parameter file's own folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from studylib.errors import ParameterError
from studylib.plan.messages import describe
from studylib.plan.schema import Study


def project_root(params_file: Path) -> Path:
    """The project root of a parameter file.

    The nearest folder at or above ``params_file`` with a ``pyproject.toml``; else the folder above
    ``params/``; else the parameter file's own folder.
    """
    params_file = params_file.resolve()
    for folder in params_file.parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    if params_file.parent.name == "params":
        return params_file.parent.parent
    return params_file.parent


def _installed_project_root() -> Path | None:
    """The source checkout studylib runs from (editable install or PYTHONPATH), else None.

    That is the folder above the package when it holds a ``pyproject.toml``. An installed wheel lives in
    site-packages, which has none: there parameter files are found from the working directory only.
    """
    package = next(folder for folder in Path(__file__).resolve().parents if folder.name == "studylib")
    candidate = package.parent
    return candidate if (candidate / "pyproject.toml").is_file() else None


def resolve_params_path(path: str | Path) -> Path:
    """Find a parameter file given as absolute, relative to the working directory, or relative to the
    project root (so notebooks opened from ``notebooks/`` can say ``params/demo.yaml``)."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path.resolve()
    for base in (Path.cwd(), *Path.cwd().parents):
        if (base / path).exists():
            return (base / path).resolve()
    root = _installed_project_root()
    if root is not None and (root / path).exists():
        return (root / path).resolve()
    return path


def load(path: str | Path, *, root: str | Path | None = None) -> Study:
    """Read and validate a study parameter file.

    Parameters
    ----------
    path : str or Path
        The parameter file: absolute, relative to the working directory, or relative to the
        project root (:func:`resolve_params_path`).
    root : str or Path, optional
        The project root that relative paths in the file are resolved against (e.g. the root an
        archived run recorded); None or empty: the :func:`project_root` of the file.

    Raises
    ------
    ParameterError
        The file is missing, not valid YAML (the message gives the line), or does not fit the schema
        (each problem with its key path, line, what was expected and what was found).
    """
    path = resolve_params_path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: parameter file not found")
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of sections (study, snapshot, data, ...); got {type(data).__name__}")
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        messages = [describe(err, path, node) for err in exc.errors()]
        raise ParameterError("\n".join(messages)) from None
    study._source = path
    study._root = Path(root).resolve() if root else project_root(path)
    study._sha256 = hashlib.sha256(raw).hexdigest()
    return study
