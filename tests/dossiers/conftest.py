"""Fixtures of the dossier tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.dossiers import defect_codes, defects


@pytest.fixture
def defects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A defects.yaml of the test's own, read by :func:`defects.load_defects`."""
    (tmp_path / "dossiers").mkdir()
    monkeypatch.setattr(defect_codes, "fixtures_dir", lambda: tmp_path)
    defects.load_defects.cache_clear()
    yield tmp_path / "dossiers" / "defects.yaml"
    defects.load_defects.cache_clear()
