"""Which project root a reproduction resolves the archived plan against (the runs themselves: tests/evidence)."""

from studylib.run.reproduce import recorded_root


def test_recorded_root_when_it_exists(tmp_path):
    assert recorded_root({"project_root": str(tmp_path)}) == tmp_path


def test_no_root_when_the_recorded_one_is_gone_or_absent(tmp_path):
    assert recorded_root({"project_root": str(tmp_path / "moved")}) is None
    assert recorded_root({"project_root": None}) is None
    assert recorded_root({}) is None
    assert recorded_root([]) is None


def test_recorded_root_relative_to_the_run_folder(tmp_path):
    run = tmp_path / "reports" / "tiny" / "run-1"
    run.mkdir(parents=True)
    assert recorded_root({"project_root": "../../.."}, run) == tmp_path.resolve()
    assert recorded_root({"project_root": "../../../gone"}, run) is None
