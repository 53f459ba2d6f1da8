"""Edited copies of a shipped catalog version, for tests that need a catalog mistake or change."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.catalog.loader import catalogs_dir
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
