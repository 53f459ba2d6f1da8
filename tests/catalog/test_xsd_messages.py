"""XSD findings say what would have been accepted (every alternative pattern, not the
last), in English and in Vietnamese."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.catalog import load_catalog, validators_for
from harness.catalog.xsd_vietnamese import vietnamese
from harness.dossiers.factory import DossierFactory
from harness.errors import Finding
from harness.signing import TestPKI


def _date_in_neither_spelling(pki: TestPKI) -> Finding:
    """The one finding of a 604 form whose NgayCap is written 2024/01/01."""
    catalog = load_catalog("2026.1")
    form = DossierFactory(catalog, pki).build("604", 1).forms[0]
    root = etree.fromstring(form.content)
    next(root.iter("NgayCap")).text = "2024/01/01"
    [finding] = validators_for(catalog).form(form.form.form, form.form.version).validate(root)
    return finding


def test_a_date_in_neither_spelling_names_both_accepted_patterns(pki: TestPKI) -> None:
    finding = _date_in_neither_spelling(pki)
    assert finding.code == "XSD-001" and finding.xpath.endswith("/NgayCap")
    assert "matches none of the patterns" in finding.message_en
    day_month_year = r"(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/(19|20)[0-9]{2}"
    iso = r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    assert day_month_year in finding.message_en and iso in finding.message_en
    said = "Phần tử 'NgayCap': Giá trị '2024/01/01' không khớp mẫu nào trong '(0[1-9]"
    assert said in finding.message_vi and "facet" not in finding.message_vi  # none left English


def test_a_single_pattern_keeps_libxml2s_message(pki: TestPKI) -> None:
    catalog = load_catalog("2026.1")
    form = DossierFactory(catalog, pki).build("604", 1).forms[0]
    root = etree.fromstring(form.content)
    next(root.iter("MaSoThue")).text = "12345"
    findings = validators_for(catalog).form(form.form.form, form.form.version).validate(root)
    assert findings and all("is not accepted by the pattern" in f.message_en for f in findings)


@pytest.mark.parametrize(
    ("english", "vietnamese_text"),
    [
        (
            "Element 'GioiTinh': [facet 'enumeration'] The value '2' is not an element of the "
            "set {'0', '1'}.",
            "Phần tử 'GioiTinh': Giá trị '2' không thuộc tập {'0', '1'}.",
        ),
        (
            "Element 'TenDonVi': [facet 'maxLength'] The value has a length of '203'; this "
            "exceeds the allowed maximum length of '200'.",
            "Phần tử 'TenDonVi': Độ dài 203 ký tự vượt quá mức tối đa 200.",
        ),
        (
            "Element 'X': This element is not expected. Expected is ( HoTen ).",
            "Phần tử 'X': Phần tử này không đúng vị trí; cần ( HoTen ).",
        ),
        (
            "Element 'TienLuong': 'abc' is not a valid value of the atomic type 'xs:decimal'.",
            "Phần tử 'TienLuong': 'abc' không phải giá trị hợp lệ của kiểu dữ liệu xs:decimal.",
        ),
        ("Element 'X': Something new.", "Phần tử 'X': Something new."),
    ],
)
def test_schema_errors_read_in_vietnamese(english: str, vietnamese_text: str) -> None:
    assert vietnamese(english) == vietnamese_text


def test_a_finding_in_vietnamese_has_no_libxml2_english(pki: TestPKI) -> None:
    finding = _date_in_neither_spelling(pki)
    assert "không khớp mẫu nào trong" in finding.message_vi and "matches" not in finding.message_vi
