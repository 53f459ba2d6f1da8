"""Edited copies of a shipped catalog version, for tests that need a catalog mistake or change."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.catalog.loader import catalogs_dir

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
