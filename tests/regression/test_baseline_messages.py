"""A baseline that cannot be read says how to get a readable one: record it again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.regression.baseline import load_baseline
from harness.regression.corpus import baselines_dir

REFERENCE = "reference-2026.1"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(baselines_dir() / REFERENCE, tmp_path / REFERENCE)
    return tmp_path / REFERENCE


def test_a_baseline_of_another_format_says_to_record_it_again(copy: Path) -> None:
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    (copy / "meta.json").write_text(json.dumps({**meta, "format": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="has format 99") as caught:
        load_baseline(REFERENCE, copy.parent)
    assert f"record --name {REFERENCE} --root {copy.parent} --force" in (caught.value.hint or "")


def test_a_damaged_baseline_says_to_record_it_again(copy: Path) -> None:
    (copy / "outcomes.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="is unreadable") as caught:
        load_baseline(REFERENCE, copy.parent)
    assert "--force" in (caught.value.hint or "")
