"""Finding and loading a study parameter file.

The file is read strictly before the schema sees it: at most :data:`MAX_BYTES`, UTF-8 only (the error
gives the line and column of the first bad byte), standing for at most :data:`MAX_VALUES` values with
YAML aliases expanded (an alias "bomb" stands for billions of values in a few lines), and no key given
twice in one mapping (YAML loaders keep the last one silently; the error names both lines).

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

from studylib import formatting
from studylib.errors import ParameterError
from studylib.plan.messages import MAX_PROBLEMS, describe, echo, listing
from studylib.plan.schema import Study


#: the largest parameter file read (bytes); the demo's is under 7 kB
MAX_BYTES = 256 * 1024
#: the most values (keys, scalars, lists, mappings) a parameter file may stand for, aliases expanded
MAX_VALUES = 200_000
#: libyaml's parser where PyYAML was built with it (about ten times faster than the pure-Python one)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_nodes(path: Path, document) -> None:
    """Refuse duplicate keys, and aliases that expand past :data:`MAX_VALUES` values, in a composed document.

    The walk visits an aliased node once per place it appears (as validation will), so that it stops
    after :data:`MAX_VALUES` visits however many values a chain of aliases of aliases stands for.
    """
    stack, visits = [document], 0
    while stack:
        node = stack.pop()
        visits += 1
        if visits > MAX_VALUES:
            raise ParameterError(f"{path}: the file expands to more than {formatting.count(MAX_VALUES)} values (YAML aliases "
                                 "repeating large values?); write the plan out")
        if isinstance(node, yaml.MappingNode):
            first: dict = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    earlier = first.setdefault(key.value, key)
                    if earlier is not key:
                        raise ParameterError(
                            f"{path}:{key.start_mark.line + 1}: key {echo(key.value)} is given twice in one mapping "
                            f"(lines {earlier.start_mark.line + 1} and {key.start_mark.line + 1}); keep one")
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def _decode(path: Path, raw: bytes) -> str:
    """The file's text; a byte that is not UTF-8 is an error naming its line and column."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ParameterError(f"{path}:{line}: byte 0x{raw[exc.start]:02x} at column {column} is not UTF-8; save "
                             "the parameter file as UTF-8") from None


def _parse(path: Path, raw: bytes):
    """(composed node, plain data) of a parameter file; ParameterError for anything but strict YAML."""
    if len(raw) > MAX_BYTES:
        raise ParameterError(f"{path}: larger than {MAX_BYTES // 1024} KiB, the most a parameter file may hold "
                             "(a study plan is a few kB)")
    text = _decode(path, raw)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(path, node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"{where}: not valid YAML: {echo(problem, 300, quote=False)}") from None
    finally:
        loader.dispose()
    return node, data


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
        The file is missing, larger than :data:`MAX_BYTES`, not UTF-8, not valid YAML, expands to
        more than :data:`MAX_VALUES` values, or gives a key twice (the message gives the line), or does not fit the schema
        (each problem with its key path, line, what was expected and what was found).
    """
    path = resolve_params_path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: parameter file not found")
    with path.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)  # never more: the size check is in _parse
    node, data = _parse(path, raw)
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of sections (study, snapshot, data, ...); got {type(data).__name__}")
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        messages = [describe(err, path, node) for err in errors[:MAX_PROBLEMS]]
        messages += [f"... and {formatting.count(len(errors) - MAX_PROBLEMS)} more problems"] if len(errors) > MAX_PROBLEMS else []
        raise ParameterError(listing(messages)) from None
    study._source = path
    study._root = Path(root).resolve() if root else project_root(path)
    study._sha256 = hashlib.sha256(raw).hexdigest()
    return study
