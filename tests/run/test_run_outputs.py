"""What every file of an archived run may not hold: a machine path, a Python repr, a small count that the
study's small-cell rule hides (also one recoverable from a row or from totals), or warnings on stderr.

All checks read the session's tiny run (``archived_run``, conftest), whose site S9 holds 3 positives and 6
negatives; each check is a function of a run folder so that it can be pointed at any run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bs4 import BeautifulSoup

from studylib.judge import suppression
from studylib.run import runner

THRESHOLD = 5
#: table headers whose cells count people (reviewer HTML of every stage and the summary page)
COUNT_HEADERS = {"n", "Positives", "Negatives", "With the outcome", "Missed (FN)", "Without the outcome",
                 "False alarms (FP)", "rows", "with outcome", "events", "observed events", "alerts", "scored",
                 "positives", "negatives", "Patients"}


def reviewer_files(folder: Path) -> list[Path]:
    """Every file of a run a reviewer reads: the summary and checklist pages, the reviewer renderings,
    the reviewer results and the verdict."""
    return sorted(p for p in [folder / "index.html", folder / "checklist.html", folder / "verdict.json",
                              *folder.glob("notebooks/*.reviewer.html"), *folder.glob("results/*.reviewer.json")]
                  if p.is_file())


def _tables(html: str):
    """(caption, headers, rows of cell texts) of every HTML table."""
    for table in BeautifulSoup(html, "html.parser").find_all("table"):
        head = table.find("thead")
        header_rows = head.find_all("tr") if head else []
        # pandas writes the column names in the first header row and the index names in a second one
        levels = [[th.get_text(" ", strip=True) for th in tr.find_all("th")] for tr in header_rows]
        headers = list(levels[0]) if levels else []
        for more in levels[1:]:
            headers = [h or (more[i] if i < len(more) else "") for i, h in enumerate(headers)]
        caption = table.find("caption").get_text(" ", strip=True) if table.find("caption") else ""
        body = table.find("tbody") or table
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in body.find_all("tr")]
        yield caption, headers, [r for r in rows if r]


def _number(text: str) -> int | None:
    value = text.replace(",", "")
    return int(value) if value.isdigit() else None


def small_count_problems(folder: Path, threshold: int = THRESHOLD) -> list[str]:
    """Every small count a reviewer could read or work out in the run's reviewer files (empty when none)."""
    problems = []
    for path in reviewer_files(folder):
        name = path.relative_to(folder).as_posix()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            problems += [f"{name}: {p}" for p in suppression.small_counts(json.loads(text), threshold)]
            problems += [f"{name}: {p}" for p in _estimate_problems(json.loads(text), threshold)]
            continue
        visible = BeautifulSoup(text, "html.parser").get_text(" ")
        problems += [f"{name}: text '{p}'" for p in suppression.small_numbers_in_text(visible, threshold)]
        for caption, headers, rows in _tables(text):
            for row in rows:
                cells = dict(zip(headers[len(headers) - len(row):], row))
                for header, cell in cells.items():
                    value = _number(cell)
                    if header in COUNT_HEADERS and value is not None and suppression.is_small(value, threshold):
                        problems.append(f"{name}: table '{caption[:40]}', {header} = {cell}")
                problems += _row_complements(name, cells, threshold)
            problems += _column_complements(name, caption, headers, rows)
        problems += _window_complements(name, text, threshold)
    return problems


def _estimate_problems(value, threshold: int, path: str = "") -> list[str]:
    """Proportions in reviewer JSON that give away a small count: a row whose shown numerator and denominator
    differ by a small count, or whose shown estimate times its shown denominator is (or leaves) a small count.

    A zero is not a small cell (README, privacy): an estimate of 0/N or N/N is shown, its counts being published
    in the same row; what must never be derivable is a count from 1 to the threshold − 1."""
    out = []
    if isinstance(value, dict):
        den = _number(str(value.get("denominator", "")))
        num = _number(str(value.get("numerator", "")))
        estimate = value.get("estimate")
        if value.get("method") in ("wilson", "clopper-pearson", "exact", "jeffreys", "agresti-coull") and den:
            if num is not None and suppression.is_small(den - num, threshold):
                out.append(f"{path}: {num}/{den} discloses {den - num}")
            if isinstance(estimate, (int, float)) and not isinstance(estimate, bool):
                implied = round(estimate * den)
                if suppression.is_small(implied, threshold) or suppression.is_small(den - implied, threshold):
                    out.append(f"{path}: estimate {estimate:.3f} of {den} discloses {implied}/{den}")
        for k, v in value.items():
            out += _estimate_problems(v, threshold, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _estimate_problems(v, threshold, f"{path}[{i}]")
    return out


def _window_complements(name: str, html: str, threshold: int) -> list[str]:
    """Drift: a window's labelled rows (windows table) minus a class count shown elsewhere must not be small."""
    labelled, classes = {}, []
    for _, headers, rows in _tables(html):
        for row in rows:
            cells = dict(zip(headers[len(headers) - len(row):], row))
            if "with outcome" in cells and "events" in cells and "window" in cells:
                labelled[cells["window"]] = _number(cells["with outcome"])
            if "positives" in cells and "negatives" in cells and "window" in cells:
                classes.append(cells)
    out = []
    for cells in classes:
        total = labelled.get(cells["window"])
        for column in ("positives", "negatives"):
            value = _number(cells[column])
            if total is not None and value is not None and suppression.is_small(total - value, threshold):
                out.append(f"{name}: window {cells['window']}: with outcome {total}, {column} {value}")
    return out


def _row_complements(name: str, cells: dict, threshold: int) -> list[str]:
    """A total and a part both shown whose difference is a small count (e.g. 26 with the outcome, 25 missed)."""
    out = []
    for total, part in (("With the outcome", "Missed (FN)"), ("Without the outcome", "False alarms (FP)")):
        t, p = _number(cells.get(total, "")), _number(cells.get(part, ""))
        if t is not None and p is not None and suppression.is_small(t - p, threshold):
            out.append(f"{name}: {total} {t}, {part} {p} disclose {t - p}")
    return out


def _column_complements(name: str, caption: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    """In the error table, a variable with exactly one hidden count in a column (recoverable from the total)."""
    if not caption.startswith("Errors by patient characteristic") or "Variable" not in headers:
        return []
    out = []
    by_variable: dict[str, list[dict]] = {}
    for row in rows:
        cells = dict(zip(headers, row))
        by_variable.setdefault(cells["Variable"], []).append(cells)
    for variable, cells in by_variable.items():
        for column in ("With the outcome", "Missed (FN)", "Without the outcome", "False alarms (FP)"):
            hidden = [c for c in cells if _number(c[column]) is None]
            if len(hidden) == 1:
                out.append(f"{name}: {variable}: one hidden '{column}' ({hidden[0]['Level']}) = total − the others")
    return out


def path_problems(folder: Path, root: Path) -> list[str]:
    """Files of a run that hold an absolute path of the project or of the staging folder, or a Path repr."""
    forbidden = {str(root), str(root.resolve()), str(root / runner.STAGING), str(root.resolve() / runner.STAGING)}
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for needle in forbidden:
            if needle.encode() in data:
                out.append(f"{path.relative_to(folder)}: {needle}")
        if b"PosixPath(" in data or b"WindowsPath(" in data:
            out.append(f"{path.relative_to(folder)}: a Python Path repr")
    return sorted(set(out))


def stderr_outputs(folder: Path) -> list[str]:
    """Stream outputs on stderr (warnings) of the executed notebooks."""
    out = []
    for path in sorted(folder.glob("notebooks/*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    out.append(f"{path.name} cell {number}: {''.join(output['text'])[:200]}")
    return out


def test_no_reviewer_file_shows_a_small_count(archived_run):
    assert small_count_problems(archived_run.folder) == []


def test_the_checks_see_the_small_cells_they_guard(tmp_path):
    """The checks are not vacuous: a page with the leaks of issue 14 is caught."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "index.html").write_text("<p>the drift window found 1 positive case</p>")
    (tmp_path / "verdict.json").write_text(json.dumps({"gates": [{"sentence": "sensitivity 9/10"}]}))
    (tmp_path / "results" / "subgroups.reviewer.json").write_text(json.dumps({"metrics": [
        {"metric": "sensitivity", "method": "wilson", "numerator": "25", "denominator": "27", "estimate": 0.926},
        {"metric": "specificity", "method": "wilson", "numerator": "0", "denominator": "9", "estimate": 0.0}]}))
    (tmp_path / "notebooks" / "02_evaluation.reviewer.html").write_text(
        "<table><caption>Errors by patient characteristic</caption><thead><tr><th>Variable</th><th>Level</th>"
        "<th>With the outcome</th><th>Missed (FN)</th><th>Without the outcome</th><th>False alarms (FP)</th>"
        "</tr></thead><tbody><tr><td>age</td><td>a</td><td>26</td><td>25</td><td>840</td><td>&lt;5</td></tr>"
        "<tr><td>age</td><td>b</td><td>51</td><td>44</td><td>746</td><td>20</td></tr></tbody></table>")
    (tmp_path / "notebooks" / "04_drift.reviewer.html").write_text(
        "<table><thead><tr><th></th><th>with outcome</th><th>events</th></tr><tr><th>window</th><th></th><th></th>"
        "</tr></thead><tbody><tr><th>2002</th><td>45</td><td>&lt;5</td></tr></tbody></table>"
        "<table><thead><tr><th></th><th>positives</th><th>negatives</th></tr><tr><th>window</th><th></th><th></th>"
        "</tr></thead><tbody><tr><th>2002</th><td>&lt;5</td><td>44</td></tr></tbody></table>")
    problems = "\n".join(small_count_problems(tmp_path))
    assert "found 1 positive case" in problems and "9/10" in problems
    assert "25/27 discloses 2" in problems and "estimate 0.926 of 27 discloses 25/27" in problems
    assert "of 9" not in problems  # 0/9: a zero is not a small cell (README, privacy)
    assert "disclose 1" in problems and "one hidden 'False alarms (FP)'" in problems
    assert "window 2002: with outcome 45, negatives 44" in problems


def test_no_file_of_a_run_holds_a_machine_path(archived_run):
    assert path_problems(archived_run.folder, archived_run.root) == []
    manifest = json.loads((archived_run.folder / "manifest.json").read_text())
    assert (archived_run.folder / manifest["project_root"]).resolve() == archived_run.root.resolve()
    assert manifest["params"]["source"] == "params/tiny.yaml" and manifest["snapshot"]["path"] == "snapshots/tiny"


def test_executed_notebooks_print_nothing_on_stderr(archived_run):
    assert stderr_outputs(archived_run.folder) == []


def test_injected_parameters_are_relative(archived_run):
    for _, name in runner.STAGES:
        notebook = json.loads((archived_run.folder / "notebooks" / name).read_text(encoding="utf-8"))
        parameters = notebook["metadata"]["papermill"]["parameters"]
        assert parameters["study_file"] == "params/tiny.yaml" and parameters["project_root"] == "."
        assert re.fullmatch(r"\.studylib-staging/[0-9TZ]+-[0-9a-f]{6}", parameters["run_dir"])


def test_stage_reports_have_focusable_cells_and_described_images(archived_run):
    """As nbconvert's HTML exporter leaves a page (the runner's exporter leaves this to the finishing pass)."""
    for path in sorted(archived_run.folder.glob("notebooks/*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        cells = soup.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output")
        assert cells and all(cell.get("tabindex") == "0" for cell in cells), path.name
        assert all(img.get("alt") for img in soup.find_all("img")), path.name
