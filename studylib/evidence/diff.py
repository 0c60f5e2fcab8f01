"""What differs between two run folders, for ``studylib diff`` and ``studylib reproduce``.

:func:`diff_runs` lists the differences that matter for a release between two archived runs: the
parameter file (its hash and each changed key), the snapshot lock, the models (name, version, artifact
hash), the code (studylib source hash from the SBOM, git commit), the package versions (from each run's
``sbom.cdx.json``; the manifest's package list for runs made before SBOMs), the overall verdict, every
gate whose verdict, estimate or interval changed, and every other value of the results JSON that
changed. Run ids, timings, timestamps, paths and the platform are not compared: two runs of the same
study on the same snapshot with the same environment have no difference.

Values compare as in :func:`compare_runs`: counts, strings and booleans exactly; floats within
``rtol``/``atol`` (``math.isclose``), defaults 1e-9 and 1e-12 as for ``studylib reproduce``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from studylib.errors import StudyInputError
from studylib.evidence import sbom


def result_files(*folders: Path) -> list[str]:
    """The results JSON that :func:`compare_runs` compares: every ``results/*.json`` of either run (the
    stages', the pre-registered sizes ``plan.json``, the site synthesis ``sites.json``, the reviewer
    copies) and ``verdict.json``, run-relative, in a fixed order."""
    found = {p.relative_to(folder).as_posix() for folder in folders for p in Path(folder).glob("results/*.json")}
    return sorted(found) + ["verdict.json"]


@dataclass(frozen=True)
class Difference:
    """One number (or value) that differs between two runs."""

    file: str
    path: str
    original: object
    reproduced: object

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(whole file)'}: original {self.original!r}, reproduced {self.reproduced!r}"


def _compare(a, b, path: str, file: str, rtol: float, atol: float, out: list[Difference]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(Difference(file, sub, a.get(key, "<absent>"), b.get(key, "<absent>")))
            else:
                _compare(a[key], b[key], sub, file, rtol, atol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(Difference(file, f"{path} (length)", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{path}[{i}]", file, rtol, atol, out)
    elif isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            out.append(Difference(file, path, a, b))
        elif not (a == b or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)):
            out.append(Difference(file, path, a, b))
    elif a != b or type(a) is not type(b):
        out.append(Difference(file, path, a, b))


def compare_runs(original: Path, reproduced: Path, *, rtol: float = 1e-9, atol: float = 1e-12) -> list[Difference]:
    """Every difference between the results JSON (and verdicts) of two run folders (:func:`result_files`);
    a results file present in one run only is a difference."""
    differences: list[Difference] = []
    for name in result_files(original, reproduced):
        a_path, b_path = Path(original) / name, Path(reproduced) / name
        if not a_path.is_file() and not b_path.is_file():
            continue
        if not a_path.is_file() or not b_path.is_file():
            differences.append(Difference(name, "", "present" if a_path.is_file() else "<absent>",
                                          "present" if b_path.is_file() else "<absent>"))
            continue
        a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
        if name == "verdict.json":
            a, b = {"verdict": a.get("verdict"), "exit_code": a.get("exit_code")}, \
                   {"verdict": b.get("verdict"), "exit_code": b.get("exit_code")}
        _compare(a, b, "", name, rtol, atol, differences)
    return differences


KINDS = ("plan", "snapshot", "model", "code", "package", "verdict", "gate", "result")


@dataclass(frozen=True)
class Change:
    """One difference between run A and run B: its kind (one of :data:`KINDS`), what changed, both values.

    A value absent from one run is ``None`` there (a package not installed, a gate not declared).
    """

    kind: str
    what: str
    a: object
    b: object

    def __str__(self) -> str:
        return f"{self.kind:<8} {self.what}: {_show(self.a)} -> {_show(self.b)}"


@dataclass(frozen=True)
class RunDiff:
    """The differences between two run folders (:func:`diff_runs`)."""

    run_a: str
    run_b: str
    changes: tuple[Change, ...]

    @property
    def same(self) -> bool:
        return not self.changes

    def of_kind(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def to_json(self) -> dict:
        return {"run_a": self.run_a, "run_b": self.run_b, "same": self.same,
                "changes": [asdict(c) for c in self.changes]}


def _show(value) -> str:
    # full precision (the shortest text that reads back as the same float): a diff must show a change in the
    # last digits, which a report's fixed decimals would hide
    return "(absent)" if value is None else str(value)


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise StudyInputError(f"{path}: not readable as JSON ({exc})") from None


def _manifest(folder: Path) -> dict:
    manifest = _read_json(folder / "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != "studylib-run/1":
        raise StudyInputError(f"{folder}: not a studylib run folder (expected manifest.json of format "
                              "'studylib-run/1')")
    return manifest


def _plan(folder: Path) -> dict:
    try:
        return yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _leaves(value, path: str = "") -> dict[str, object]:
    """Flatten nested dicts and lists into ``path → scalar`` (``acceptance[2].at_least``)."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}" if path else str(key)).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{path}[{i}]").items()}
    return {path: value}


def _changed(kind: str, a: dict, b: dict, prefix: str = "") -> list[Change]:
    return [Change(kind, prefix + key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b))
            if a.get(key) != b.get(key)]


def _packages(folder: Path, manifest: dict) -> tuple[dict[str, str], str | None]:
    """Package → version (from the SBOM, else the manifest) and the studylib source hash (SBOM only)."""
    document = _read_json(folder / sbom.FILENAME)
    if document is None:
        return dict(manifest.get("environment", {}).get("packages", {})), None
    root = document.get("metadata", {}).get("component") or {}
    source = next((h.get("content") for h in root.get("hashes", []) if h.get("alg") == "SHA-256"), None)
    return sbom.packages(document), source


def _gates(folder: Path) -> dict[str, dict]:
    verdict = _read_json(folder / "verdict.json", {}) or {}
    return {f"{g.get('id')} ({g.get('subject')})": g for g in verdict.get("gates", [])}


def _gate_changes(a: dict[str, dict], b: dict[str, dict], rtol: float, atol: float) -> list[Change]:
    out = []
    for key in sorted(set(a) | set(b)):
        ga, gb = a.get(key), b.get(key)
        if ga is None or gb is None:
            out.append(Change("gate", key, ga and ga.get("verdict"), gb and gb.get("verdict")))
            continue
        for field in ("verdict", "rule", "estimate", "lower", "upper", "blocks"):
            found: list[Difference] = []
            _compare(ga.get(field), gb.get(field), field, "verdict.json", rtol, atol, found)
            if found:
                out.append(Change("gate", f"{key} {field}", ga.get(field), gb.get(field)))
    return out


def diff_runs(run_a: str | Path, run_b: str | Path, *, rtol: float = 1e-9, atol: float = 1e-12) -> RunDiff:
    """The differences that matter between two run folders; see the module docstring.

    Raises
    ------
    StudyInputError
        A folder is not a run folder (no readable ``manifest.json`` of a studylib run).
    """
    a, b = Path(run_a), Path(run_b)
    ma, mb = _manifest(a), _manifest(b)
    changes: list[Change] = []
    if ma.get("params", {}).get("sha256") != mb.get("params", {}).get("sha256"):
        changes.append(Change("plan", "params.yaml sha256", ma.get("params", {}).get("sha256"),
                              mb.get("params", {}).get("sha256")))
        changes += _changed("plan", _leaves(_plan(a)), _leaves(_plan(b)))
    changes += _changed("snapshot", {"lock": ma.get("snapshot", {}).get("lock")},
                        {"lock": mb.get("snapshot", {}).get("lock")})
    models_a, models_b = ma.get("models", {}), mb.get("models", {})
    for role in sorted(set(models_a) | set(models_b)):
        changes += _changed("model", models_a.get(role) or {}, models_b.get(role) or {}, f"{role} ")
    (packages_a, source_a), (packages_b, source_b) = _packages(a, ma), _packages(b, mb)
    code_a, code_b = ma.get("environment", {}).get("code", {}), mb.get("environment", {}).get("code", {})
    changes += _changed("code", {"studylib source sha256": source_a, "git commit": code_a.get("commit"),
                                 "git dirty": code_a.get("dirty")},
                        {"studylib source sha256": source_b, "git commit": code_b.get("commit"),
                         "git dirty": code_b.get("dirty")})
    changes += _changed("package", packages_a, packages_b)
    verdict_a, verdict_b = _read_json(a / "verdict.json", {}) or {}, _read_json(b / "verdict.json", {}) or {}
    changes += _changed("verdict", {"verdict": verdict_a.get("verdict"), "exit code": verdict_a.get("exit_code")},
                        {"verdict": verdict_b.get("verdict"), "exit code": verdict_b.get("exit_code")})
    changes += _gate_changes(_gates(a), _gates(b), rtol, atol)
    for difference in compare_runs(a, b, rtol=rtol, atol=atol):
        # gates and verdict are listed above; the reviewer results repeat the full ones with cells withheld
        if difference.file.startswith("results/") and not difference.file.endswith(".reviewer.json") \
                and not difference.path.startswith("gates"):
            changes.append(Change("result", f"{difference.file}: {difference.path or '(whole file)'}",
                                  difference.original, difference.reproduced))
    return RunDiff(str(a), str(b), tuple(changes))


def render_text(result: RunDiff, *, limit: int = 200) -> str:
    """Plain-text listing: one line per change, grouped by kind, at most ``limit`` result values."""
    if result.same:
        return f"SAME: no difference that matters between {result.run_a} and {result.run_b}\n"
    lines = [f"DIFFERENT: {len(result.changes)} difference(s) between {result.run_a} (A) and {result.run_b} (B)"]
    for kind in KINDS:
        listed = result.of_kind(kind)
        shown = listed[:limit] if kind == "result" else listed
        lines += [f"  {c}" for c in shown]
        if len(listed) > len(shown):
            lines.append(f"  result   ... and {len(listed) - len(shown)} more (--json lists every one)")
    return "\n".join(lines) + "\n"
