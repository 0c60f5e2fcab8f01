"""Bad input through the command line: exit 2, one clear message, no traceback, nothing archived."""

import shutil

import yaml
from click.testing import CliRunner

from studylib import cli
from studylib.cli import main
from studylib.evidence import ledger
from studylib.errors import ParameterError


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _assert_input_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def _edit(params_file, change):
    data = yaml.safe_load(params_file.read_text())
    change(data)
    params_file.write_text(yaml.safe_dump(data, sort_keys=False))


def test_params_check_ok(tiny_project):
    result = _run("params", "check", tiny_project)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_unknown_key_exits_2(tiny_project):
    _edit(tiny_project, lambda d: d["study"].update(titel="x"))
    _assert_input_error(_run("run", tiny_project, "--reports-dir", tiny_project.parent.parent / "reports"),
                        "study.titel: unknown key; did you mean 'title'?")
    assert not (tiny_project.parent.parent / "reports").exists()


def test_wrong_type_exits_2(tiny_project):
    _edit(tiny_project, lambda d: d["analysis"].update(threshold="high"))
    _assert_input_error(_run("run", tiny_project), "analysis.threshold", "valid number")


def test_malformed_yaml_exits_2_with_line(tiny_project):
    tiny_project.write_text(tiny_project.read_text() + "\n  bad: [\n")
    _assert_input_error(_run("params", "check", tiny_project), "not valid YAML", "tiny.yaml:")


def test_missing_snapshot_folder(tiny_project):
    shutil.rmtree(tiny_project.parent.parent / "snapshots" / "tiny")
    _assert_input_error(_run("run", tiny_project), "snapshot folder not found")


def test_missing_snapshot_file(tiny_project):
    (tiny_project.parent.parent / "snapshots" / "tiny" / "model.json").unlink()
    _assert_input_error(_run("run", tiny_project), "model.json: file listed in the manifest is missing")


def test_changed_byte_in_parquet_names_file_and_both_hashes(tiny_project):
    data = tiny_project.parent.parent / "snapshots" / "tiny" / "data.parquet"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    result = _run("run", tiny_project)
    _assert_input_error(result, "data.parquet: file does not match the snapshot manifest", "expected sha256:", "got sha256:")


def test_wrong_lock_hash_names_both(tiny_project):
    _edit(tiny_project, lambda d: d["snapshot"].update(lock="sha256:" + "ab" * 32))
    _assert_input_error(_run("run", tiny_project), "lock hash does not match", "expected sha256:abab", "got sha256:")


def test_unknown_column_lists_closest(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"][1]["drop"].update(column="mgu"))
    _assert_input_error(_run("run", tiny_project), "cohort step E1: unknown column 'mgu'",
                        "columns that exist (closest first): mgus")


def test_value_of_wrong_type_for_column(tiny_project):
    _edit(tiny_project, lambda d: d["cohort"][1]["drop"].update(value="one"))
    _assert_input_error(_run("run", tiny_project), "cohort step E1: column 'mgus' is numeric")


def test_artifact_hash_not_in_snapshot(tiny_project):
    _edit(tiny_project, lambda d: d["models"]["candidate"].update(artifact_sha256="cd" * 32))
    _assert_input_error(_run("run", tiny_project), "models.candidate.artifact_sha256", "must be locked in the snapshot")


def test_debug_shows_traceback(tiny_project):
    _edit(tiny_project, lambda d: d["study"].update(titel="x"))
    result = CliRunner().invoke(main, ["--debug", "run", str(tiny_project)])
    # the error itself propagates (a traceback), not the SystemExit(2) of the one-line message
    assert result.exit_code != 0 and isinstance(result.exception, ParameterError), repr(result.exception)
    assert "titel" in str(result.exception)
    quiet = _run("run", tiny_project)
    assert isinstance(quiet.exception, SystemExit) and quiet.exit_code == 2


def test_snapshot_lock_and_verify_commands(tiny_project):
    folder = tiny_project.parent.parent / "snapshots" / "tiny"
    locked = _run("snapshot", "lock", folder)
    assert locked.exit_code == 0 and locked.stdout.startswith("sha256:")
    lock = locked.stdout.strip()  # stdout holds the lock only: the card's missing fields are warned on stderr
    assert "warning: " in locked.stderr and "field 'licence' is missing" in locked.stderr
    assert _run("snapshot", "verify", folder, "--lock", lock).exit_code == 0
    _assert_input_error(_run("snapshot", "verify", folder, "--lock", "sha256:" + "0" * 64), "lock hash does not match")


def test_help_lists_exit_codes():
    result = _run("run", "--help")
    assert result.exit_code == 0
    for line in ("0    every gate passed", "1    a gate failed", "2    bad input", "3    a stage raised",
                 "4    the environment failed", "130  interrupted"):
        assert line in result.output


def test_default_reports_folder_is_the_working_projects(tmp_path, monkeypatch):
    """Commands without a parameter file (runs, verify --all) use the nearest reports/ with a ledger at
    or above the working directory, never the installed package's folder."""
    project = tmp_path / "project"
    (project / "reports").mkdir(parents=True)
    ledger.ledger_path(project / "reports").write_text("")
    (project / "params").mkdir()
    monkeypatch.chdir(project / "params")
    assert cli._default_reports() == project / "reports"
    monkeypatch.chdir(project / "reports")
    assert cli._default_reports() == project / "reports"


def test_default_reports_folder_without_a_ledger_is_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli._default_reports() == tmp_path / "reports"
    result = _run("runs")
    assert result.exit_code == 0 and "no runs" in result.output, result.output


def test_a_failure_after_the_stages_exits_4_not_1(tiny_project, monkeypatch):
    """An environment failure (here: the disk) has its own exit code; 1 means a gate failed."""
    from studylib.run import runner

    def broken(*args, **kwargs):
        raise OSError("rendering failed: disk full")

    monkeypatch.setattr(runner, "run", broken)
    result = _run("run", tiny_project)
    assert result.exit_code == 4
    assert "error: environment: rendering failed: disk full" in result.output
    assert "Traceback" not in result.output


def test_params_schema_prints_the_json_schema():
    import json

    from studylib import plan

    result = _run("params", "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema == json.loads(json.dumps(plan.json_schema()))
    assert "between" in schema["$defs"]["Criterion"]["properties"]


def test_params_schema_markdown_is_the_reference_page():
    from pathlib import Path

    result = _run("params", "schema", "--format", "markdown")
    assert result.exit_code == 0, result.output
    page = Path(__file__).resolve().parents[1] / "docs" / "params.md"
    assert result.output == page.read_text(encoding="utf-8")
    assert _run("params", "schema", "--format", "yaml").exit_code == 2


def _fake_run(tmp_path, monkeypatch, gates, verdict="FAIL", exit_code=1, *, verdict_json=True):
    import json

    from studylib.run import runner

    folder = tmp_path / "reports" / "demo" / "r1"
    folder.mkdir(parents=True)
    if verdict_json:
        (folder / "verdict.json").write_text(json.dumps({"verdict": verdict, "exit_code": exit_code, "gates": gates}))
    outcome = runner.RunOutcome("r1", folder, verdict, exit_code, [runner.StageRecord("cohort", "01_cohort.ipynb", "ok")],
                                ledger_head="sha256:" + "0" * 64, gates=gates)

    def fake(params_file, *, reports_dir=None, log=print, pdf=False, engine=None):
        log("progress")
        return outcome

    monkeypatch.setattr(runner, "run", fake)
    return folder


FAILING = [{"stage": "evaluation", "id": "AC-5", "subject": "calibration_slope (candidate)", "verdict": "FAIL",
            "estimate": 0.886, "lower": 0.798, "upper": 0.974, "rule": "95% interval within [0.8, 1.2]", "blocks": True},
           {"stage": "drift", "id": "TR-1", "subject": "psi of score", "verdict": "FAIL", "estimate": 0.3,
            "rule": "psi of score: estimate > 0.25 in any window → investigate", "blocks": False},
           {"stage": "evaluation", "id": "AC-1", "subject": "sensitivity", "verdict": "PASS", "estimate": 0.8,
            "lower": 0.7, "upper": 0.9, "rule": "lower 95% bound >= 0.7", "blocks": True}]


def test_run_prints_the_blocking_gates_with_a_reason_on_fail(tmp_path, monkeypatch):
    _fake_run(tmp_path, monkeypatch, FAILING)
    result = CliRunner().invoke(main, ["run", "params/x.yaml"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "ledger head: sha256:" + "0" * 64  # for a pipeline to keep outside the reports folder
    assert lines[1] == "verdict: FAIL" and lines[3] == "blocking gates (1):"
    assert lines[4].split() [:2] == ["AC-5", "FAIL"]
    assert "calibration slope (candidate) 0.886 (0.798–0.974); rule: 95% interval within [0.8, 1.2]" in lines[4]
    assert "TR-1" not in result.stdout and "AC-1" not in result.stdout  # not blocking; passed
    assert "progress" in result.stderr


def test_run_reports_the_blocking_gates_the_runner_judged_without_rereading_verdict_json(tmp_path, monkeypatch):
    """The outcome carries the gates the runner judged: the CLI prints them without reading verdict.json back."""
    _fake_run(tmp_path, monkeypatch, FAILING, verdict_json=False)
    result = CliRunner().invoke(main, ["run", "params/x.yaml"])
    assert result.exit_code == 1 and "blocking gates (1):" in result.stdout
    assert result.stdout.splitlines()[4].split()[:2] == ["AC-5", "FAIL"]


def test_run_json_and_quiet(tmp_path, monkeypatch):
    import json

    folder = _fake_run(tmp_path, monkeypatch, FAILING)
    result = CliRunner().invoke(main, ["run", "params/x.yaml", "--json", "--quiet"])
    assert result.exit_code == 1 and result.stderr == ""
    out = json.loads(result.stdout)
    assert out["verdict"] == "FAIL" and out["exit_code"] == 1 and out["run_folder"] == str(folder)
    assert out["verdict_json"] == str(folder / "verdict.json") and out["index_html"] == str(folder / "index.html")
    assert [g["id"] for g in out["failing_gates"]] == ["AC-5"] and out["failing_gates"][0]["reason"]
    quiet = CliRunner().invoke(main, ["run", "params/x.yaml", "--quiet"])
    assert quiet.stdout == "verdict: FAIL\n" and quiet.stderr == ""


def test_run_starts_the_kernel_server_once_the_parameters_are_valid(tiny_project, monkeypatch):
    """`studylib run` starts the stage notebooks' kernel server before the runner's imports, but only for a
    valid parameter file: bad input starts nothing (it exits 2 without a process left to stop)."""
    from studylib.run import kernel_server, stages

    started = []
    monkeypatch.setattr(kernel_server, "enabled", lambda: True)
    monkeypatch.setattr(kernel_server, "shared", lambda notebooks, warm: started.append(notebooks))
    cli._start_kernel_server(tiny_project)
    assert started == [stages.stage_notebooks()]
    _edit(tiny_project, lambda d: d.update(unknown_key=1))
    cli._start_kernel_server(tiny_project)
    cli._start_kernel_server(tiny_project.parent / "missing.yaml")
    assert len(started) == 1


def _console(code: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_console_script_exits_with_the_commands_code_after_its_exit_handlers():
    """The console script (`cli.entry`) ends the process without the interpreter's teardown: the exit code
    is the command's, everything printed arrives, and the exit handlers (which stop the kernel server) ran."""
    prelude = ("import atexit, sys\natexit.register(lambda: print('exit handler ran', flush=True))\n"
               "from studylib.cli import entry\n")
    version = _console(prelude + "sys.argv = ['studylib', '--version']\nentry()")
    assert version.returncode == 0 and version.stdout.startswith("studylib, version")
    assert version.stdout.rstrip().endswith("exit handler ran")
    missing = _console(prelude + "sys.argv = ['studylib', 'params', 'check', 'no-such-file.yaml']\nentry()")
    assert missing.returncode == 2 and "no-such-file.yaml" in missing.stderr and "Traceback" not in missing.stderr
    assert "exit handler ran" in missing.stdout
    message = _console("import sys\nimport studylib.cli as cli\ncli.main = lambda: sys.exit('stopped: why')\n"
                       "cli.entry()")
    assert message.returncode == 1 and message.stderr.strip() == "stopped: why"
