"""Reference-table lookups the rules call: ``fn:in-table`` and ``fn:as-of``."""

from __future__ import annotations

import math

import pytest
from lxml import etree

from harness.catalog import xpath_functions
from harness.catalog.tables import TableIndex, period_number, table_rows

ROWS = {
    "wards": [{"code": "00001", "name": "Phúc Xá"}, {"code": "00004", "name": "Trúc Bạch"}],
    "wage": [
        {"since": "07/2023", "amount": "1800000", "regions_1": "4680000"},
        {"since": "07/2024", "amount": "2340000", "regions_1": "4960000"},
        {"since": "01/2019", "amount": "1490000"},  # out of order on purpose
    ],
}


def test_in_table_matches_exact_codes_only() -> None:
    index = TableIndex(ROWS)
    assert index.contains("wards", "00004")
    assert not index.contains("wards", "4")
    assert not index.contains("wards", "Phúc Xá")  # the code column, unless asked
    assert index.contains("wards", "Phúc Xá", "name")


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("12/2018", None),  # before every row: no guess
        ("01/2019", "1490000"),
        ("06/2023", "1490000"),
        ("07/2023", "1800000"),
        ("6/2024", "1800000"),
        ("07/2024", "2340000"),
        ("12/2030", "2340000"),
        ("2024-07", None),  # not MM/yyyy
        ("", None),
    ],
)
def test_as_of_takes_the_row_in_force(period: str, expected: str | None) -> None:
    assert TableIndex(ROWS).as_of("wage", "amount", period) == expected


def test_as_of_without_the_column_is_none() -> None:
    assert TableIndex(ROWS).as_of("wage", "regions_1", "03/2020") is None
    assert TableIndex(ROWS).as_of("wage", "regions_1", "08/2024") == "4960000"


def test_period_number() -> None:
    assert period_number("07/2024") == 202407
    assert period_number(" 1/2026 ") == 202601
    assert period_number("13") is None


def test_the_functions_from_xpath_use_the_real_tables() -> None:
    xpath_functions.register()
    ward = table_rows()["wards"][0]["code"]
    doc = etree.fromstring(f"<r><Maxa>{ward}</Maxa><TuThang>01/2026</TuThang></r>")
    ns = {"fn": xpath_functions.NAMESPACE}
    assert doc.xpath("fn:in-table('wards', string(Maxa))", namespaces=ns) is True
    assert doc.xpath("fn:in-table('wards', 'không-có')", namespaces=ns) is False
    base = doc.xpath("fn:as-of('base_salary', 'amount', string(TuThang))", namespaces=ns)
    assert base == 2340000.0
    missing = doc.xpath("fn:as-of('base_salary', 'amount', '01/1990')", namespaces=ns)
    assert math.isnan(missing)
