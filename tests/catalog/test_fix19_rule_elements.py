"""An element name a rule reads that no XSD of its forms declares is refused when the
catalog loads, with the file, line, assert (or rule context) and the nearest name;
names of the reference tables, attributes, functions and contexts shared by forms pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.xpath_scan import element_names
from harness.errors import CatalogError
from tests.catalog_copies import edited_copy

VERSION = "2026.1"
D02 = "rules/D02-TS.sch"


def _refused(tmp_path: Path, relative: str, old: str, new: str) -> tuple[str, int]:
    root = edited_copy(tmp_path, VERSION, {relative: [(old, new)]})
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    lines = (root / VERSION / relative).read_text(encoding="utf-8").splitlines()
    return str(info.value), next(n for n, line in enumerate(lines, 1) if new in line)


def _loads(tmp_path: Path, relative: str, old: str, new: str) -> None:
    load_catalog(VERSION, root=edited_copy(tmp_path, VERSION, {relative: [(old, new)]}))


def test_a_misspelt_element_in_a_test_is_refused_with_the_nearest_name(tmp_path: Path) -> None:
    text, line = _refused(tmp_path, D02, 'test="not(DenThang) or', 'test="not(DenThangX) or')
    assert f"D02-TS.sch:{line}:" in text and "assert 'd02-months'" in text
    assert "'DenThangX'" in text and "D02-TS-505.xsd" in text
    assert "did you mean 'DenThang'?" in text


def test_a_case_typo_in_a_cross_field_test_is_refused(tmp_path: Path) -> None:
    text, _ = _refused(
        tmp_path, D02, 'test="not(DenThang) or', 'test="string(MaSoBHXH) != string(MasoBHXH) or'
    )
    assert "'MaSoBHXH'" in text and "did you mean 'MasoBHXH'?" in text


def test_a_misspelt_rule_context_is_refused_naming_the_context(tmp_path: Path) -> None:
    text, line = _refused(
        tmp_path, D02, '<sch:rule context="LaoDong">', '<sch:rule context="LaoDongg">'
    )
    assert f"D02-TS.sch:{line}:" in text and "rule 'LaoDongg'" in text
    assert "the rule never applies" in text and "did you mean 'LaoDong'?" in text


def test_a_misspelt_alternative_of_a_shared_context_is_refused(tmp_path: Path) -> None:
    text, _ = _refused(
        tmp_path, D02, "LaoDong | NguoiKhai | NguoiHuong", "LaoDong | NguoiKhaii | NguoiHuong"
    )
    assert "'NguoiKhaii'" in text and "did you mean 'NguoiKhai'?" in text


def test_a_misspelt_let_and_an_envelope_rule_are_refused(tmp_path: Path) -> None:
    text, _ = _refused(tmp_path, D02, "number(MavungLTT))", "number(MavungLT))")
    assert "let $region" in text and "did you mean 'MavungLTT'?" in text
    text, _ = _refused(
        tmp_path / "env", "rules/Hoso.sch", "fn:is-base64(string(NoiDungFile))",
        "fn:is-base64(string(NoiDungFil))",
    )  # fmt: skip
    assert "assert 'env-base64'" in text and "Hoso.xsd" in text
    assert "did you mean 'NoiDungFile'?" in text


def test_an_element_of_another_form_in_a_test_is_refused(tmp_path: Path) -> None:
    """SoNgay is M01B-HSB's: D02-TS, the only form using D02-TS.sch, never has it."""
    text, _ = _refused(tmp_path, D02, 'test="not(DenThang) or', 'test="not(SoNgay) or')
    assert "'SoNgay'" in text and "no XSD of the forms using this file" in text


def test_tables_attributes_and_functions_are_not_element_names(tmp_path: Path) -> None:
    _loads(
        tmp_path, "rules/common.sch", "test=\"fn:in-table('agencies', $code)\"",
        'test="$tables/tables/agencies/row[@code = $code] and local-name(.) != \'x\'"',
    )  # fmt: skip


def test_the_scanner_reads_only_element_name_tests() -> None:
    assert element_names("not(DenThang) or fn:period-key(string(DenThang)) >= $p") == ["DenThang"]
    assert element_names("20 * $base div count(a/*) mod 2") == ["a"]
    assert element_names("attribute::x | child::Y | @z | self::node() | ds:Sig") == ["Y"]
    assert element_names("'LaoDong' = name(.) and LaoDong[@id]/and") == ["LaoDong", "and"]
