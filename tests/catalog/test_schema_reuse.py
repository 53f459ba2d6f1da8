"""``load_schema`` builds a schema once while its files are unchanged (``catalog check``
asked for the same ones 34 times), and anew when it or a file it may include changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.catalog.schema_walk import load_schema, snapshot
from harness.paths import fixtures_dir

CCCD = '<xs:pattern value="[0-9]{12}"/>'


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "xsd"
    shutil.copytree(fixtures_dir() / "catalog" / "2026.1" / "xsd", folder)
    return folder


def test_an_unchanged_schema_is_built_once(tmp_path: Path) -> None:
    form = _copy(tmp_path) / "D02-TS-505.xsd"
    assert load_schema(form) is load_schema(form)


def test_an_edited_include_builds_the_form_anew(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    form = folder / "D02-TS-505.xsd"
    before = snapshot(form)["D02-TS/NoiDung/LaoDong/CMND"].simple
    common = folder / "common.xsd"
    text = common.read_text(encoding="utf-8")
    assert text.count(CCCD) == 1
    common.write_text(text.replace(CCCD, '<xs:pattern value="[0-9]{9}|[0-9]{12}"/>'), "utf-8")
    after = snapshot(form)["D02-TS/NoiDung/LaoDong/CMND"].simple
    assert before is not None and after is not None
    assert before.patterns == (frozenset({"[0-9]{12}"}),)
    assert after.patterns == (frozenset({"[0-9]{9}|[0-9]{12}"}),)
