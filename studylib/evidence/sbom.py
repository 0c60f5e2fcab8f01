"""The software bill of materials of a run: a CycloneDX 1.6 JSON SBOM of the Python environment.

Every run folder holds ``sbom.cdx.json``, written before the manifest so that its SHA-256 is in the
manifest's ``files``. The stage notebooks execute in a kernel started with the interpreter that runs
the study (:func:`studylib.run.runner.kernel_name`), so the distributions importable by this
interpreter are the ones that executed the run.

What it holds
-------------
- ``metadata.component``: studylib itself (type application) with its version, a SHA-256 *source
  hash* over the files of the imported package (:func:`source_sha256`) and, as properties, the
  folder it was imported from.
- ``components``: every distribution importable by the executing interpreter (the first of each
  name on ``sys.path``, the one ``import`` finds), type library, with name, version, a PyPI package
  URL (purl) and, where the installer recorded one, the hash of the archive it installed from
  (``direct_url.json``, PEP 610). pip does not record the hash of a wheel installed from an index,
  so most components carry instead the property ``studylib:record_sha256``: the SHA-256 of the
  distribution's ``RECORD`` file, which lists the hash of every installed file (a change to any
  installed file of a distribution whose RECORD is intact is caught by ``pip``'s own checks, not here).

Determinism
-----------
Two runs in the same environment write byte-identical SBOMs: no timestamp (``metadata.timestamp`` is
optional in CycloneDX 1.6 and removed), and the ``serialNumber`` (optional, but always written by
cyclonedx-python-lib) is a UUID-5 of the component list, so it changes exactly when the content does.
``studylib reproduce`` compares results, not SBOMs; ``studylib diff`` compares package versions.

References
----------
CycloneDX 1.6 specification (ECMA-424, 1st edition, 2024). https://cyclonedx.org/docs/1.6/json/
PEP 610: Recording the Direct URL Origin of installed distributions. https://peps.python.org/pep-0610/
Package URL specification, type "pypi". https://github.com/package-url/purl-spec
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import uuid
from pathlib import Path

FILENAME = "sbom.cdx.json"
SPEC_VERSION = "1.6"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the studylib package that is imported
_PACKAGE = _PACKAGE_DIR.name
_SKIP_PARTS = {"__pycache__"}


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it (``Foo_Bar`` → ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def source_sha256(package_dir: Path = _PACKAGE_DIR) -> str:
    """SHA-256 over the source files of the studylib package that is imported (hex).

    The hash of the sorted lines ``<relative path>\\0<SHA-256 of the file>\\n`` for every file under
    ``package_dir`` except compiled caches, so it names the exact code, including the notebooks and
    templates, whether or not it comes from a git checkout.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in package_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(package_dir)
        if _SKIP_PARTS.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        digest.update(f"{relative.as_posix()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def _archive_hash(dist: importlib.metadata.Distribution) -> tuple[str, str] | None:
    """(algorithm, hex) of the archive the distribution was installed from, when PEP 610 recorded it."""
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        return None
    info = (direct or {}).get("archive_info") or {}
    hashes = info.get("hashes") or {}
    if "sha256" in hashes:
        return "sha256", hashes["sha256"]
    if "=" in info.get("hash", ""):
        algorithm, value = info["hash"].split("=", 1)
        return algorithm, value
    return None


def _required_names(dist: importlib.metadata.Distribution, metadata=None) -> list[str]:
    """Normalised names of a distribution's unconditional requirements (extras left out); ``metadata``: its
    metadata if already read (importlib.metadata parses the METADATA file again at every access)."""
    requirements = (metadata if metadata is not None else dist.metadata).get_all("Requires-Dist")
    if requirements is None and dist.read_text("requires.txt") is not None:
        requirements = dist.requires  # an egg-info distribution
    names = []
    for requirement in requirements or []:
        if "extra ==" not in requirement.replace('"', "").replace("'", ""):
            names.append(normalise(re.split(r"[<>=!~;\[ (@]", requirement.strip(), maxsplit=1)[0]))
    return sorted(set(names))


def distributions() -> list[tuple[importlib.metadata.Distribution, importlib.metadata.PackageMetadata]]:
    """Distributions importable by this interpreter, first of each name on ``sys.path``, sorted by name, each
    with its metadata (read once: parsing the METADATA files is most of the cost of an SBOM)."""
    seen: dict[str, tuple] = {}
    for dist in importlib.metadata.distributions():
        metadata = dist.metadata
        name = metadata["Name"]
        if name and normalise(name) not in seen:
            seen[normalise(name)] = (dist, metadata)
    return [seen[k] for k in sorted(seen)]


def build(*, studylib_version: str) -> dict:
    """The SBOM of this interpreter's environment, as CycloneDX 1.6 JSON (a dict).

    ``studylib_version``: the version of the imported package (``studylib_version``; the run
    layer passes it, this layer does not import the package root).

    Not validated here: the strict schema validator needs ``jsonschema``'s format extras, whose IRI
    grammar takes seconds to import in every process that imports ``jsonschema`` (Papermill does),
    too long for every run; they are a test dependency, and ``tests/evidence/test_sbom.py`` validates
    the SBOM of the session run with the library's strict validator.

    Building it reads the metadata of every installed distribution and takes seconds; a process that
    runs several studies (a notebook server, a test session) builds it once per environment: the
    document is kept for as long as no folder on ``sys.path`` changes (installing or removing a
    distribution changes its folder's modification time) and the studylib source hashes the same.
    """
    fingerprint = tuple((entry, os.stat(entry).st_mtime_ns) for entry in sys.path if os.path.isdir(entry))
    return json.loads(_built(studylib_version, source_sha256(), fingerprint))


@functools.lru_cache(maxsize=4)
def _built(studylib_version: str, source: str, fingerprint: tuple) -> str:
    """:func:`build`'s document as JSON text, for one environment (``fingerprint``) and source hash."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    algorithms = {"sha256": HashAlgorithm.SHA_256, "sha384": HashAlgorithm.SHA_384,
                  "sha512": HashAlgorithm.SHA_512, "sha1": HashAlgorithm.SHA_1, "md5": HashAlgorithm.MD5}
    components, requires = [], {}
    for dist, metadata in distributions():
        name, version = metadata["Name"], metadata["Version"]
        if normalise(name) == _PACKAGE:
            continue  # the root component below is the studylib that is imported
        hashes, properties = [], []
        archive = _archive_hash(dist)
        if archive and archive[0] in algorithms:
            hashes.append(HashType(alg=algorithms[archive[0]], content=archive[1]))
        record = dist.read_text("RECORD")
        if record is not None:
            properties.append(Property(name="studylib:record_sha256",
                                       value=hashlib.sha256(record.encode()).hexdigest()))
        purl = PackageURL(type="pypi", name=normalise(name), version=version)
        requires[purl.to_string()] = _required_names(dist, metadata)
        components.append(Component(name=name, version=version, type=ComponentType.LIBRARY, purl=purl,
                                     bom_ref=purl.to_string(), hashes=hashes, properties=properties))
    root = Component(
        name="studylib", version=studylib_version, type=ComponentType.APPLICATION,
        bom_ref="studylib", hashes=[HashType(alg=HashAlgorithm.SHA_256, content=source)],
        properties=[Property(name="studylib:source_folder", value=str(_PACKAGE_DIR))],
    )
    content = "".join(f"{c.name}=={c.version}\n" for c in components) + f"studylib=={studylib_version} {source}"
    bom = Bom(components=components, serial_number=uuid.uuid5(uuid.NAMESPACE_URL, "studylib-sbom:" + content))
    bom.metadata.component = root
    by_name = {normalise(c.name): c for c in components}
    for component in components:
        bom.register_dependency(component, [by_name[n] for n in requires[component.bom_ref.value] if n in by_name])
    try:
        own = _required_names(importlib.metadata.distribution(_PACKAGE))
    except importlib.metadata.PackageNotFoundError:
        own = []
    bom.register_dependency(root, [by_name[n] for n in own if n in by_name])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"].pop("timestamp", None)
    return json.dumps(document)


def dumps(document: dict) -> str:
    """The SBOM as written to a run folder: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write(folder: Path, *, studylib_version: str) -> Path:
    """Write ``sbom.cdx.json`` of this environment into a run folder; return its path."""
    from studylib.evidence.results import write_text_atomically

    target = Path(folder) / FILENAME
    write_text_atomically(target, dumps(build(studylib_version=studylib_version)))
    return target


def packages(document: dict) -> dict[str, str]:
    """Name → version of every component of an SBOM, the root component (studylib) included.

    Names are normalised as PEP 503 does (lower case, runs of ``-_.`` as ``-``): a distribution's metadata
    may spell its name ``Jinja2`` in one install and ``jinja2`` in another."""
    listed = [*document.get("components", []), document.get("metadata", {}).get("component") or {}]
    return {normalised_name(c["name"]): c.get("version", "") for c in listed if c.get("name")}


def normalised_name(name: str) -> str:
    """A distribution name as PEP 503 normalises it: ``Jinja2`` → ``jinja2``, ``ruamel.yaml`` → ``ruamel-yaml``."""
    return re.sub(r"[-_.]+", "-", name).lower()
