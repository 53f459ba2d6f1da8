"""A rule change only naming elements a form's XSD does not declare refuses none of that
form's senders: adding new forms' date elements to the shared real-date context (as the
README and `catalog check` advise) is not BREAKING for the forms lacking them."""

from __future__ import annotations

from pathlib import Path

from harness.catalog import load_catalog
from harness.catalog.diff import CatalogDiff, diff_catalogs
from harness.catalog.rule_asserts import reach
from tests.catalog_copies import edited_copy

DATES = '| TuNgay | DenNgay">'


def _diff(tmp_path: Path, new: str) -> CatalogDiff:
    root = edited_copy(tmp_path, "2026.1", {"rules/common.sch": [(DATES, new)]})
    return diff_catalogs(load_catalog("2026.1"), load_catalog("2026.1", root=root))


def _rule_changes(diff: CatalogDiff) -> dict[str, bool]:
    return {c.subject: c.breaking for c in diff.changes if c.kind == "rule-changed"}


def test_alternatives_naming_no_element_of_a_form_are_not_breaking(tmp_path: Path) -> None:
    diff = _diff(tmp_path, '| TuNgay | DenNgay | NgayVaoLam | NgayKyHD | NgayXuatCanh">')
    changed = _rule_changes(diff)
    assert set(changed) == {
        f"{f}#common-date" for f in ("D01-TS", "D02-TS", "M01B-HSB", "TK1-TS", "TK3-TS")
    }
    assert not diff.has_breaking, diff.to_text()
    said = next(c.detail for c in diff.changes if c.subject == "TK1-TS#common-date")
    assert "NgayKyHD, NgayVaoLam, NgayXuatCanh, not in this form" in said


def test_removing_such_alternatives_is_not_breaking_either(tmp_path: Path) -> None:
    root = edited_copy(
        tmp_path, "2026.1", {"rules/common.sch": [(DATES, '| TuNgay | DenNgay | NgayVaoLam">')]}
    )
    diff = diff_catalogs(load_catalog("2026.1", root=root), load_catalog("2026.1"))
    assert _rule_changes(diff) and not diff.has_breaking, diff.to_text()


def test_an_alternative_a_form_declares_is_breaking_for_that_form_only(tmp_path: Path) -> None:
    changed = _rule_changes(_diff(tmp_path, '| TuNgay | DenNgay | HoTen">'))
    breaking = {subject for subject, yes in changed.items() if yes}
    assert breaking == {f"{f}#common-date" for f in ("D01-TS", "D02-TS", "M01B-HSB", "TK1-TS")}
    assert changed["TK3-TS#common-date"] is False  # TK3-TS has no HoTen


def test_a_predicate_naming_an_undeclared_element_still_selects() -> None:
    declared = frozenset({"LaoDong", "NgaySinh"})
    assert reach("LaoDong[not(Foo)] | Foo/NgaySinh | NgaySinh[. != ''] | Bar", declared) == {
        "LaoDong[not(Foo)]",
        "NgaySinh[. != '']",
    }
    assert reach("count(Foo) = 0", declared) == {"count(Foo) = 0"}  # not a path: kept
