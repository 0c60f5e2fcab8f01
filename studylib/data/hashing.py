"""SHA-256 of files and of JSON objects: the one place studylib hashes what it locks, freezes and records.

Hashes are lowercase hexadecimal digests; callers that store them add the ``sha256:`` prefix where their
format asks for it (snapshot lock, ledger, manifest). A JSON object is hashed over its canonical form
(:func:`canonical_json`), so that the hash does not depend on key order or whitespace.
"""

from __future__ import annotations

import hashlib
import json
import os

#: bytes read at a time: a file of any size is hashed in constant memory
CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "abc.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_json(obj) -> bytes:
    """The canonical JSON bytes that hashes are taken over (sorted keys, compact, UTF-8).

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
