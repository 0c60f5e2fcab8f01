"""The one hashing module: SHA-256 of files (chunked) and of canonical JSON."""

from __future__ import annotations

import hashlib
import json

import pytest

from studylib.data import hashing

# FIPS 180-2, appendix B.1 ("abc") and the digest of the empty message
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_file_known_vectors(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    assert hashing.sha256_file(tmp_path / "abc") == ABC
    assert hashing.sha256_file(str(tmp_path / "empty")) == EMPTY  # a str path works too


@pytest.mark.parametrize("size", [hashing.CHUNK - 1, hashing.CHUNK, hashing.CHUNK + 1, 3 * hashing.CHUNK + 17])
def test_sha256_file_over_chunk_boundaries_equals_one_shot_hash(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert hashing.sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_sha256_file_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.bin"):
        hashing.sha256_file(tmp_path / "nope.bin")


def test_canonical_json_is_sorted_compact_utf8_and_order_free():
    assert hashing.canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()
    one = {"x": {"z": 1, "y": 2}, "w": None}
    other = json.loads(json.dumps({"w": None, "x": {"y": 2, "z": 1}}))
    assert hashing.canonical_json(one) == hashing.canonical_json(other)
    assert json.loads(hashing.canonical_json(one)) == one


def test_one_file_hashing_helper_in_the_package():
    import re
    from pathlib import Path

    package = Path(hashing.__file__).resolve().parents[1]
    defining = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                      if re.search(r"^def \w*sha256\w*\(path", p.read_text(encoding="utf-8"), re.M))
    assert defining == ["data/hashing.py"]
