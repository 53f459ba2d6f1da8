"""Unprefixed function calls in rules are checked when the catalog loads.

lxml compiles ``flor($floor)``, ``year-of(...)`` (the harness's function without its
prefix) and ``substring($x)``; the rule then fails ("Unregistered function", "Invalid
number of arguments") only when a dossier reaches it, which ``catalog check``'s dossiers
may never do. Each test edits a copy of a shipped rule file under ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.xpath_scan import unprefixed_calls
from harness.errors import CatalogError
from tests.catalog_copies import edited_copy

VERSION = "2026.1"
RULES = "rules/D02-TS.sch"
FLOOR = 'test="$wage &gt;= $floor"'


def _refused(tmp_path: Path, old: str, new: str) -> tuple[CatalogError, int]:
    """Load a copy of ``VERSION`` with ``old -> new`` in the D02-TS rules; the error and
    the line of ``new``."""
    root = edited_copy(tmp_path, VERSION, {RULES: [(old, new)]})
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    lines = (root / VERSION / RULES).read_text(encoding="utf-8").splitlines()
    return info.value, next(n for n, line in enumerate(lines, 1) if new in line)


def test_a_misspelt_core_function_is_refused_with_line_assert_and_suggestion(
    tmp_path: Path,
) -> None:
    error, line = _refused(tmp_path, FLOOR, 'test="$wage &gt;= flor($floor)"')
    text = str(error)
    assert f"D02-TS.sch:{line}:" in text and "assert 'd02-wage-floor'" in text
    assert "flor() is not an XPath 1.0 or XSLT 1.0 function" in text
    assert '"Unregistered function"' in text
    assert error.hint is not None and "did you mean 'floor'?" in error.hint


def test_the_harness_s_function_without_its_prefix_says_which_prefix(tmp_path: Path) -> None:
    error, line = _refused(tmp_path, "fn:year-of(string(NgaySinh))", "year-of(string(NgaySinh))")
    assert f"D02-TS.sch:{line}:" in str(error) and "let $y" in str(error)
    assert error.hint == "year-of() is the harness's function: call fn:year-of()"


def test_a_core_function_with_the_wrong_number_of_arguments_is_refused(tmp_path: Path) -> None:
    error, line = _refused(tmp_path, FLOOR, 'test="$wage &gt;= substring($floor)"')
    text = str(error)
    assert f"D02-TS.sch:{line}:" in text
    assert "substring() takes 2 to 3 argument(s), given 1" in text
    error, _line = _refused(tmp_path / "b", FLOOR, 'test="concat($wage) &gt;= $floor"')
    assert "concat() takes 2 or more argument(s), given 1" in str(error)


@pytest.mark.parametrize(
    "test",
    [
        "(number(TienLuong) &gt; 0) and (string-length(normalize-space(HoTen)) &gt; 0)",
        "count(child::node()) &gt; 0 or (text() = '') or not(comment())",
        "concat('a', 'flor(', substring('x', 1, 1)) != '' and format-number(1, '0') = '1'",
        "generate-id(.) != '' and current() and (2 div (1)) and (3 mod (2))",
    ],
)
def test_what_xpath_and_xslt_offer_is_left_alone(tmp_path: Path, test: str) -> None:
    """Node tests, operators before a parenthesis, names inside strings, XSLT's functions."""
    root = edited_copy(tmp_path, VERSION, {RULES: [(FLOOR, f'test="{test}"')]})
    assert load_catalog(VERSION, root=root).version == VERSION


def test_the_scanner_finds_unprefixed_calls_with_their_arguments() -> None:
    found = unprefixed_calls("fn:as-of('t', count(a)) and flor(x, 'y(') = local-name()")
    assert [(c.name, c.args) for c in found] == [
        ("count", ("a",)),
        ("flor", ("x", "'y('")),
        ("local-name", ()),
    ]
