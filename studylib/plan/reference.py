"""The reference page of the parameter file (``docs/params.md``), generated from the schema.

Every key is one row: its dotted path (``[]`` marks a list item), type, default, description and an
example, all read from the JSON Schema of :class:`~studylib.plan.schema.Study`, so the page cannot
disagree with validation. ``studylib params schema --format markdown`` prints it; a test fails when
the committed page is not current.
"""

from __future__ import annotations

import re

import yaml

from studylib.plan.schema import VALIDATION_ONLY, json_schema

COMMAND = "studylib params schema --format markdown > docs/params.md"


def markdown() -> str:
    """The reference page, as Markdown text ending in a newline."""
    schema = json_schema()
    defs = schema["$defs"]
    seen: dict[str, str] = {}
    out = [
        "# Parameter file reference",
        "",
        f"<!-- generated from studylib/plan/schema.py by `{COMMAND}`; do not edit by hand -->",
        "",
        _doc(schema.get("description", "")),
        "",
        "Each study is one YAML file (`params/<study>.yaml`), validated before anything runs "
        "(`studylib params check`). Every key below is written as its dotted path; `[]` marks an item of a "
        "list. Unknown keys are errors. The JSON Schema of the file is printed by `studylib params schema` "
        "(for editors that complete and check YAML).",
        "",
        "Sections: " + ", ".join(f"[`{key}`](#{key.replace('_', '-')})" for key in schema["properties"]) + ".",
        "",
    ]
    required = set(schema.get("required", ()))
    for key, prop in schema["properties"].items():
        notes: list[tuple[str, str]] = []
        rows = list(_rows(key, prop, key in required, defs, seen, notes))
        model, _ = _model_of(prop)
        out += [f"## {key}", "", _doc(defs[model].get("description", "") if model else prop["description"]) + ".",
                ""]
        out += ["| key | type | default | description | example |", "|---|---|---|---|---|"]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        out.append("")
        for path, text in (n for n in notes if n[0] != key):  # the section's own is above the table
            out += [f"**`{path}`**: {text}", ""]
    out += ["## Checked by validation only", "",
            "The JSON Schema states every key, type, choice, range and combination of keys above. It cannot "
            "state the rules below; `studylib params check` checks them:",
            ""]
    out += [f"- {rule}" for rule in VALIDATION_ONLY]
    return "\n".join(out) + "\n"


def _rows(path: str, prop: dict, required: bool, defs: dict, seen: dict, notes: list):
    """Rows (path, type, default, description, example) of a key and, for a mapping, of its keys."""
    model, list_depth = _model_of(prop)
    kind = _type(prop)
    if model is not None and model in seen:
        kind += f", as `{seen[model]}`"
    default = "required" if required else "" if "default" not in prop else \
        "its keys' defaults" if isinstance(prop["default"], dict) else _flow(prop["default"])
    examples = prop.get("examples") or [None]
    example = _flow(examples[0]) if "examples" in prop else ""
    yield path, kind, default, _doc(prop.get("description", "")), example
    if model is None or model in seen:
        return
    seen[model] = path
    definition = defs[model]
    if definition.get("description"):
        notes.append((path, _doc(definition["description"])))
    inner = path + "[]" * list_depth
    for key, sub in definition.get("properties", {}).items():
        yield from _rows(f"{inner}.{key}", sub, key in definition.get("required", ()), defs, seen, notes)


def _model_of(prop: dict) -> tuple[str | None, int]:
    """The model a key holds (directly, or as list items), and how many list levels wrap it."""
    core = _non_null(prop)
    if "$ref" in core:
        return core["$ref"].rsplit("/", 1)[-1], 0
    for part in [*core.get("allOf", ()), *core.get("anyOf", ())]:
        found, depth = _model_of(part)
        if found is not None:
            return found, depth
    if core.get("type") == "array" and "items" in core:
        found, depth = _model_of(core["items"])
        return (found, depth + 1) if found is not None else (None, 0)
    return None, 0


def _non_null(prop: dict) -> dict:
    """The schema without its ``null`` alternative (an optional key's value when given)."""
    options = [p for p in prop.get("anyOf", ()) if p.get("type") != "null"]
    if "anyOf" in prop and len(options) == 1:
        return {**{k: v for k, v in prop.items() if k != "anyOf"}, **options[0]}
    if "anyOf" in prop:
        return {**prop, "anyOf": options}
    return prop


def _type(prop: dict) -> str:
    """A short human-readable type: ``number in [0, 1]``, ``list of string``, ``one of: a, b``."""
    core = _non_null(prop)
    if "$ref" in core or any("$ref" in p for p in core.get("allOf", ())):
        return "mapping"
    if "enum" in core:
        return "one of: " + ", ".join(f"`{v}`" for v in core["enum"])
    if "const" in core:
        return f"`{core['const']}`"
    if "anyOf" in core:
        return " or ".join(dict.fromkeys(_type(p) for p in core["anyOf"]))
    kind = core.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        if "prefixItems" in core:
            return "[" + ", ".join(_type(p) for p in core["prefixItems"]) + "]"
        text = "list of " + (_type(core["items"]) if "items" in core else "values")
        extras = [f"at least {core['minItems']}" for _ in [0] if core.get("minItems")]
        extras += ["unique" for _ in [0] if core.get("uniqueItems")]
        return text + (f" ({', '.join(extras)})" if extras else "")
    if kind in ("number", "integer"):
        return kind + _range(core)
    if kind == "string":
        if "pattern" in core:
            return f"string matching `{core['pattern']}`"
        return "non-empty string" if core.get("minLength") else "string"
    if kind == "boolean":
        return "true or false"
    return "any value" if not core or set(core) <= {"description", "default", "examples", "title"} else str(kind)


def _range(core: dict) -> str:
    low = ("[", core["minimum"]) if "minimum" in core else ("(", core["exclusiveMinimum"]) \
        if "exclusiveMinimum" in core else None
    high = ("]", core["maximum"]) if "maximum" in core else (")", core["exclusiveMaximum"]) \
        if "exclusiveMaximum" in core else None
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
    if low:
        return f" {'≥' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'≤' if high[0] == ']' else '<'} {high[1]:g}"
    return ""


def _flow(value) -> str:
    """A value as written in YAML on one line: ``[0.8, 1.2]``, ``{column: age}``, ``.inf``."""
    if value is None:
        return "none"
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10_000).strip()
    return f"`{text.removesuffix('...').strip()}`"


def _doc(text: str) -> str:
    """A docstring or description on one Markdown line: reST roles and literals as code spans."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([^`]+)`", r"`\1`", text)
    text = text.replace("``", "`")
    return " ".join(text.split()).removesuffix(".")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
