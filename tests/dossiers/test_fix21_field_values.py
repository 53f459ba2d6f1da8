"""``fields.yaml`` values: a ``choice:`` list left unclosed is refused where it is read,
and a fixed value not of its element's XSD type is named with its line, in the XSD's
terms (not Python's ``int()`` message), by ``catalog check``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import paths
from harness.catalog import load_catalog
from harness.dossiers import _data, factory
from harness.dossiers.fillable import check_fillable
from harness.errors import CatalogError

FIELDS = Path("reference/fields.yaml")
SO_NGAY = "  SoNgay: row.claim_days"


def _clear() -> None:
    paths.project_root.cache_clear()
    _data.load_yaml.cache_clear()
    factory.field_rules.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the project's fixtures/ that every command reads (BHXH_HARNESS_HOME)."""
    load_catalog("2026.1")  # the reference tables' caches hold the project's, not the copy's
    shutil.copytree(paths.fixtures_dir(), tmp_path / "fixtures")
    monkeypatch.setenv("BHXH_HARNESS_HOME", str(tmp_path))
    _clear()
    yield tmp_path
    monkeypatch.delenv("BHXH_HARNESS_HOME")
    _clear()


def _edit(home: Path, old: str, new: str) -> tuple[Path, int]:
    path = home / "fixtures" / FIELDS
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, next(n for n, line in enumerate(text.splitlines(), 1) if line == old)


def _fillable_error(home: Path) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        check_fillable(load_catalog("2026.1", root=home / "fixtures" / "catalog"))
    return caught.value


@pytest.mark.parametrize("source", ['choice:["12", "24"', "choice:[12, 24", 'choice:["12, "24"]'])
def test_an_unclosed_choice_is_refused_with_its_line(home: Path, source: str) -> None:
    path, line = _edit(home, SO_NGAY, f"  SoNgay: {source}")
    with pytest.raises(CatalogError) as caught:
        factory.field_rules()
    assert caught.value.path == str(path) and caught.value.line == line
    assert "SoNgay" in str(caught.value) and caught.value.hint is not None


def test_a_value_that_is_not_an_integer_names_element_line_and_fix(home: Path) -> None:
    path, line = _edit(home, SO_NGAY, '  SoNgay: choice:["12 tháng"]')
    error = _fillable_error(home)
    assert error.path == str(path) and error.line == line
    said = str(error)
    assert "SoNgay the value '12 tháng'" in said and "it is not an integer" in said
    assert "xs:positiveInteger" in said and "invalid literal" not in said
    assert error.hint is not None and "whole numbers" in error.hint


def test_a_value_breaking_only_a_facet_is_left_to_the_smoke_run(home: Path) -> None:
    """A pattern or a range: the smoke run names it with the rows it is refused in."""
    old = "  MaPhongBan: choice:[KT, NS, SX01, KD, HC]"
    _edit(home, old, old.replace("NS", "ns-1"))
    check_fillable(load_catalog("2026.1", root=home / "fixtures" / "catalog"))


def test_the_shipped_values_pass(home: Path) -> None:
    check_fillable(load_catalog("2026.1", root=home / "fixtures" / "catalog"))
