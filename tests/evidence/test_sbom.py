"""The run's SBOM: CycloneDX 1.6 JSON that validates, names the run's packages, is hashed in the manifest
and is the same for two runs in the same environment."""

from __future__ import annotations

import importlib.metadata
import json

import studylib
from studylib.evidence import sbom


def validate(document: dict) -> str | None:
    """Check a document against the CycloneDX 1.6 JSON schema with the library's strict validator (the
    ``json-validation`` extra, a test dependency); the first error, or None."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    return None if error is None else str(error)


def test_the_run_sbom_validates_as_cyclonedx_and_names_the_packages_of_the_run(archived_run):
    document = json.loads((archived_run.folder / sbom.FILENAME).read_text())
    assert validate(document) is None  # the library's strict JSON validator, CycloneDX 1.6 schema
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    listed = sbom.packages(document)
    manifest = json.loads((archived_run.folder / "manifest.json").read_text())
    for name, version in manifest["environment"]["packages"].items():  # the runtime dependencies
        assert listed[sbom.normalised_name(name)] == version, name
    by_name = {c["name"]: c for c in document["components"]}
    assert by_name["pandas"]["purl"] == f"pkg:pypi/pandas@{importlib.metadata.version('pandas')}"
    root = document["metadata"]["component"]
    assert root["name"] == "studylib" and root["hashes"] == [{"alg": "SHA-256", "content": sbom.source_sha256()}]
    assert "timestamp" not in document["metadata"]
    assert manifest["files"][sbom.FILENAME]["sha256"]  # hashed, so `verify` catches an edited SBOM


def test_the_sbom_is_deterministic_and_changes_with_the_environment():
    first, second = sbom.build(studylib_version=studylib.__version__), sbom.build(studylib_version=studylib.__version__)
    assert sbom.dumps(first) == sbom.dumps(second)
    changed = json.loads(sbom.dumps(first))
    changed["components"][0]["version"] = "0.0.0"
    assert validate(changed) is None
    assert sbom.packages(changed) != sbom.packages(first)


def test_a_document_that_is_not_cyclonedx_is_named_invalid():
    document = sbom.build(studylib_version=studylib.__version__)
    document["components"][0]["type"] = "python-package"
    assert "python-package" in validate(document)


def test_source_hash_covers_every_source_file_and_ignores_caches(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    before = sbom.source_sha256(tmp_path)
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert sbom.source_sha256(tmp_path) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert sbom.source_sha256(tmp_path) != before


def test_the_archive_hash_recorded_by_the_installer_is_read_pep_610(tmp_path):
    info = tmp_path / "demo_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\nRequires-Dist: numpy>=2\n"
                                   "Requires-Dist: pytest; extra == 'test'\n")
    dist = importlib.metadata.PathDistribution(info)
    assert sbom._archive_hash(dist) is None  # nothing recorded (a wheel from an index)
    assert sbom._required_names(dist) == ["numpy"]  # extras left out
    (info / "direct_url.json").write_text(json.dumps(
        {"url": "file:///x/demo_pkg-1.0.tar.gz", "archive_info": {"hashes": {"sha256": "ab" * 32}}}))
    assert sbom._archive_hash(dist) == ("sha256", "ab" * 32)
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///x", "archive_info": {"hash": "md5=00ff"}}))
    assert sbom._archive_hash(dist) == ("md5", "00ff")
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///x", "dir_info": {"editable": True}}))
    assert sbom._archive_hash(dist) is None


def test_the_sbom_is_built_once_per_environment_and_again_when_a_folder_on_the_path_changes(tmp_path, monkeypatch):
    version = studylib.__version__
    sbom.build(studylib_version=version)
    built = sbom._built.cache_info().misses
    document = sbom.build(studylib_version=version)
    assert sbom._built.cache_info().misses == built  # the same environment: kept
    document["components"].clear()  # the caller's copy: editing it does not edit the next one
    assert sbom.build(studylib_version=version)["components"]
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    sbom.build(studylib_version=version)
    (site / "newly_installed-1.0.dist-info").mkdir()  # what installing a distribution does to its folder
    sbom.build(studylib_version=version)
    assert sbom._built.cache_info().misses == built + 2
