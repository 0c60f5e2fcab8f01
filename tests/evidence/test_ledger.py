import errno
import json
import multiprocessing
import os

import pytest

from studylib.evidence import ledger


def _append_many(path, n, tag):
    for i in range(n):
        ledger.append(path, {"kind": "test", "tag": tag, "i": i})


def test_chain_of_appends_verifies(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(3):
        written = ledger.append(path, {"kind": "run", "run": f"s/{i}"})
        assert written["seq"] == i + 1
    entries = ledger.read(path)
    assert entries[0]["prev"] == ledger.GENESIS
    assert entries[1]["prev"] == entries[0]["hash"]
    assert ledger.check_chain(path) == []


def _lines(path):
    return path.read_text().splitlines(keepends=True)


def test_removed_entry_detected(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(4):
        ledger.append(path, {"kind": "run", "run": f"s/{i}"})
    lines = _lines(path)
    path.write_text("".join(lines[:1] + lines[2:]))
    problems = [str(p) for p in ledger.check_chain(path)]
    assert any("line 2" in p and "expected entry seq 2, found seq 3" in p for p in problems)


def test_reordered_entries_detected(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(3):
        ledger.append(path, {"kind": "run", "run": f"s/{i}"})
    lines = _lines(path)
    path.write_text("".join([lines[0], lines[2], lines[1]]))
    assert any("re-ordered" in str(p) for p in ledger.check_chain(path))


def test_edited_entry_detected(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(2):
        ledger.append(path, {"kind": "run", "run": f"s/{i}", "verdict": "FAIL"})
    lines = _lines(path)
    path.write_text(lines[0].replace('"FAIL"', '"PASS"') + lines[1])
    assert any("line 1" in str(p) and "altered" in str(p) for p in ledger.check_chain(path))


def test_torn_last_line_is_set_aside_and_chain_continues(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/1"})
    with open(path, "a") as handle:
        handle.write('{"kind": "run", "run": "s/2", "se')  # a crash mid-append
    assert len(ledger.read(path)) == 1
    written = ledger.append(path, {"kind": "run", "run": "s/3"})
    assert written["seq"] == 2
    assert ledger.check_chain(path) == []
    assert (tmp_path / "ledger.jsonl.torn-1").read_text().startswith('{"kind": "run", "run": "s/2"')


def test_concurrent_appends_from_processes_keep_the_chain(tmp_path):
    path = tmp_path / "ledger.jsonl"
    processes = [multiprocessing.Process(target=_append_many, args=(path, 25, t)) for t in "ab"]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    entries = ledger.read(path)
    assert [e["seq"] for e in entries] == list(range(1, 51))
    assert ledger.check_chain(path) == []
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_head_is_the_hash_of_the_last_entry(tmp_path):
    path = tmp_path / "ledger.jsonl"
    assert ledger.head(path) == ledger.GENESIS
    written = ledger.append(path, {"kind": "run", "run": "s/1"})
    assert ledger.head(path) == written["hash"]


def test_seal_sees_the_head_it_is_appended_to(tmp_path):
    path = tmp_path / "ledger.jsonl"
    first = ledger.append(path, {"kind": "run", "run": "s/1"})
    seen = []
    written = ledger.append(path, {"kind": "signoff"}, seal=lambda e: seen.append(e["prev"]) or {"signature": "x"})
    assert seen == [first["hash"]] and written["signature"] == "x"
    assert ledger.check_chain(path) == []


def test_corrupted_last_line_refuses_to_append_naming_the_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/1"})
    with open(path, "a") as handle:
        handle.write("{not json\n")
    before = path.read_bytes()
    with pytest.raises(ledger.LedgerError, match=r"ledger.jsonl line 2: not a ledger entry"):
        ledger.append(path, {"kind": "run", "run": "s/2"})
    assert path.read_bytes() == before


def test_failed_write_leaves_the_ledger_as_it_was(tmp_path, monkeypatch):
    """ENOSPC at the append (or a short write): nothing half-written stays behind."""
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/1"})
    before = path.read_bytes()
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ledger.os, "write", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        ledger.append(path, {"kind": "run", "run": "s/2"})
    monkeypatch.setattr(ledger.os, "write", lambda fd, data: real_write(fd, data[:10]))
    with pytest.raises(OSError, match="short write"):
        ledger.append(path, {"kind": "run", "run": "s/2"})
    assert path.read_bytes() == before


def test_torn_tail_is_reported_and_set_aside(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/1"})
    with open(path, "a") as handle:
        handle.write('{"kind": "signoff", "deci')
    assert ledger.torn_tail(path) == b'{"kind": "signoff", "deci'
    aside = ledger.set_aside_torn_tail(path)
    assert aside.read_bytes() == b'{"kind": "signoff", "deci' and ledger.torn_tail(path) == b""
    assert ledger.set_aside_torn_tail(path) is None


def test_non_object_line_is_a_chain_problem(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"kind": "run", "run": "s/1"})
    with open(path, "a") as handle:
        handle.write('[1, 2]\n"text"\n')
    assert [p.line for p in ledger.check_chain(path)] == [2, 3]
