"""The dataset card schema: which fields are missing, and `snapshot lock` warning about them."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from studylib.cli import main
from studylib.data import card
from studylib.data.synth import write_snapshot

FULL = {name: f"{name} text" for name in card.FIELDS} | {"known_limitations": ["one", "two"], "title": "kept"}


def test_a_full_card_has_no_warning_and_keeps_other_fields(tmp_path):
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(FULL))
    assert card.check(tmp_path) == []
    assert card.DatasetCard.model_validate(FULL).model_extra == {"title": "kept"}


def test_each_missing_or_empty_field_is_named_with_file_and_meaning(tmp_path):
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(FULL | {"licence": "  ", "population_gaps": []}
                                                       | {"label_provenance": None}))
    warnings = card.check(tmp_path)
    assert [w.split("field '")[1].split("'")[0] for w in warnings] == ["licence", "label_provenance", "population_gaps"]
    assert all(w.startswith(str(tmp_path / "card.yaml")) for w in warnings)
    assert "reference standard" in warnings[1]


def test_a_one_line_card_misses_every_field_and_a_bad_type_is_named(tmp_path):
    (tmp_path / "card.yaml").write_text("a one-line card\n")
    assert "expected a mapping" in card.check(tmp_path)[0]
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(FULL | {"licence": 3}))
    assert card.check(tmp_path) == [f"{tmp_path / 'card.yaml'}: field 'licence' must be text, a list or a mapping; got int"]
    (tmp_path / "card.yaml").unlink()
    (tmp_path / "card.md").write_text("# card\n")
    assert "Markdown card cannot be checked" in card.check(tmp_path)[0]


def test_snapshot_lock_warns_on_missing_fields_and_still_locks(tmp_path):
    folder = tmp_path / "snap"
    write_snapshot(folder, 200, seed=1)
    (folder / "card.yaml").write_text(yaml.safe_dump({k: v for k, v in FULL.items() if k != "split_method"}))
    result = CliRunner().invoke(main, ["snapshot", "lock", str(folder)])
    assert result.exit_code == 0
    assert result.stdout.startswith("sha256:")
    assert "warning:" in result.stderr and "'split_method'" in result.stderr


def test_the_committed_snapshot_cards_have_every_field():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "snapshots"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        assert card.check(folder) == [], folder
