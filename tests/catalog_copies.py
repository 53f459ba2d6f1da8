"""Edited copies of a shipped catalog version, for tests that need a catalog mistake or change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.loader import catalogs_dir
from harness.errors import CatalogError
from harness.paths import fixtures_dir

Edits = dict[str, list[tuple[str, str]]]
"""Per file of the version folder, ``(old, new)`` text replacements (each ``old`` once)."""


def edited_copy(tmp_path: Path, version: str, edits: Edits) -> Path:
    """A fresh catalog root under ``tmp_path`` holding ``version`` with ``edits`` applied
    (fresh because ``load_catalog`` caches per version and root)."""
    root = tmp_path / "catalogs"
    shutil.copytree(catalogs_dir() / version, root / version)
    for relative, replacements in edits.items():
        path = root / version / relative
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} must occur once in {relative}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return root


def edited_home(tmp_path: Path, file: Path, old: str, new: str) -> Path:
    """A copy of the project's whole ``fixtures/`` under ``tmp_path`` (a home for
    ``BHXH_HARNESS_HOME``) with ``old`` replaced by ``new`` in ``fixtures/<file>``."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    path = tmp_path / "fixtures" / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of ``path`` holding ``needle``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if needle in text)


def refused_load(
    tmp_path: Path, version: str, relative: str, old: str, new: str
) -> tuple[CatalogError, Path]:
    """Load a copy of ``version`` with ``old`` replaced by ``new`` in ``relative``, which
    must be refused: the error, and the edited file."""
    root = edited_copy(tmp_path, version, {relative: [(old, new)]})
    with pytest.raises(CatalogError) as info:
        load_catalog(version, root=root)
    return info.value, root / version / relative
