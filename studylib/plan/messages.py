"""Validation errors as messages a study author can act on.

Each pydantic error becomes one line naming the file, the line of the offending key, the key path,
what was expected and what was found, e.g.
``params/demo.yaml:31: analysis.threshold: Input should be less than or equal to 1; got 1.5``;
an unknown key gets a "did you mean" hint or the list of keys allowed there. A value echoed in a message
is cut to a few dozen characters (:func:`echo`): a message never repeats a huge value back.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel

from studylib import formatting
from studylib.errors import did_you_mean
from studylib.plan.schema import Study


#: how many characters of a value a message shows
ECHO_LIMIT = 80


def echo(value, limit: int = ECHO_LIMIT, *, quote: bool = True) -> str:
    """A value as shown in a message: its ``repr`` (``str`` with ``quote=False``), cut to ``limit``
    characters with the full length said, e.g. ``'aaaa…' (5,000,000 characters)``.

    A list or tuple is cut before it is written out, so echoing a list of millions of entries is cheap.
    """
    if isinstance(value, (list, tuple)) and len(value) > limit:
        shown = echo(list(value[:limit]), limit, quote=quote)
        return f"{shown} ({formatting.count(len(value))} items)"
    text = repr(value) if quote else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({formatting.count(len(text))} characters)"


#: the most problems one message lists
MAX_PROBLEMS = 50


def listing(items) -> str:
    """Problems as one message: each once, at most :data:`MAX_PROBLEMS` lines, then how many more."""
    unique = list(dict.fromkeys(items))
    shown = unique[:MAX_PROBLEMS]
    if len(unique) > MAX_PROBLEMS:
        shown.append(f"... and {formatting.count(len(unique) - MAX_PROBLEMS)} more problems")
    return "\n".join(shown)


def describe(err: dict, path: Path, node) -> str:
    """One line for one pydantic error (an item of ``ValidationError.errors()``).

    Parameters
    ----------
    err : dict
        The error: ``loc``, ``type``, ``msg`` and ``input``.
    path : Path
        The parameter file, named at the start of the line.
    node : yaml.Node or None
        The composed YAML document, to find the line of the key.
    """
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union"))))
    key = format_loc(loc)
    line = line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = allowed_keys(loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        listing = f" (allowed here: {', '.join(allowed)})" if allowed and not hint else ""
        return f"{where}: {key}: unknown key{hint}{listing}"
    if kind == "missing":
        return f"{where}: {key}: required key is missing"
    message = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    found = "" if kind.startswith("value_error") or isinstance(got, dict) else f"; got {echo(got)}"
    return f"{where}: {key or '(top level)'}: {echo(message, 400, quote=False)}{found}"


def format_loc(loc: tuple) -> str:
    """A key path as written in messages: ``cohort[2].keep.op``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(node, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (the key's line for mapping entries)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _unwrap(annotation):
    """Strip Optional/tuple/list/Annotated wrappers down to a model class, if there is one."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, tuple, list) or str(origin) == "<class 'types.UnionType'>":
        for arg in typing.get_args(annotation):
            found = _unwrap(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def allowed_keys(loc: tuple) -> list[str]:
    """The keys the schema allows in the mapping at ``loc`` (empty when ``loc`` is not a mapping)."""
    model: type[BaseModel] | None = Study
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        model = _unwrap(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]
