"""Undeclared variables and unbound namespace prefixes in rules are refused at load.

lxml compiles both; the rule then fails ("Undefined variable", "Undefined namespace
prefix") only when a dossier reaches it, which the valid dossiers of ``catalog check``
may never do. Each test edits a copy of a shipped rule file under ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.rule_check import rule_problems
from harness.catalog.xpath_scan import prefixed_names, variables
from harness.errors import CatalogError
from tests.catalog_copies import edited_copy

VERSION = "2026.1"
RULES = "rules/D02-TS.sch"


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def _refused(tmp_path: Path, old: str, new: str) -> tuple[CatalogError, int]:
    """Load a copy of ``VERSION`` with ``old -> new`` in the D02-TS rules; the error and
    the line of ``new``."""
    root = edited_copy(tmp_path, VERSION, {RULES: [(old, new)]})
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    return info.value, _line_of(root / VERSION / RULES, new)


# -- (a) variables ---------------------------------------------------------------------


def test_undeclared_variable_is_refused_with_line_assert_and_hint(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, 'test="$wage &gt;= $floor"', 'test="($wage &gt;= $floor) or $nguong-tuoi"'
    )
    text = str(error)
    assert f"D02-TS.sch:{line}:" in text and error.line == line
    assert "assert 'd02-wage-floor'" in text and "$nguong-tuoi" in text
    assert error.hint is not None and '<sch:let name="nguong-tuoi"' in error.hint
    assert "in the rule, its pattern or the schema" in error.hint


def test_misspelt_variable_suggests_the_declared_name(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, 'test="$wage &lt;= 20 * $base"', 'test="$wage &lt;= 20 * $bse"'
    )
    assert f"D02-TS.sch:{line}:" in str(error) and "assert 'd02-wage-cap'" in str(error)
    assert error.hint is not None and "did you mean 'base'?" in error.hint


def test_let_using_a_later_let_of_its_rule_is_refused(tmp_path: Path) -> None:
    """XSLT variables are in document order: a let sees only the lets before it."""
    error, line = _refused(
        tmp_path,
        "concat('regions_', number(MavungLTT))",
        "concat('regions_', number(MavungLTT), $floor)",
    )
    assert f"D02-TS.sch:{line}:" in str(error) and "let $region in rule" in str(error)
    assert error.hint is not None and f"declared on line {line + 1}" in error.hint


def test_variable_of_another_rule_is_refused(tmp_path: Path) -> None:
    error, line = _refused(
        tmp_path, 'test="$wage &lt;= 20 * $base"', 'test="$wage &lt;= 20 * $base + $y - $y"'
    )
    assert f"D02-TS.sch:{line}:" in str(error) and "$y" in str(error)


# -- (b) namespace prefixes ------------------------------------------------------------


def test_unbound_prefix_on_a_harness_function_suggests_fn(tmp_path: Path) -> None:
    error, line = _refused(tmp_path, "fn:year-of(string(NgaySinh))", "xf:year-of(string(NgaySinh))")
    text = str(error)
    assert f"D02-TS.sch:{line}:" in text and "let $y in rule" in text
    assert "prefix 'xf'" in text and "xf:year-of()" in text
    assert error.hint is not None and "did you mean fn:year-of()?" in error.hint


def test_unbound_prefix_in_a_path_asks_for_sch_ns(tmp_path: Path) -> None:
    error, line = _refused(tmp_path, 'test="not(DenThang) or', 'test="not(q:DenThang) or')
    assert f"D02-TS.sch:{line}:" in str(error) and "assert 'd02-months'" in str(error)
    assert error.hint is not None and '<sch:ns prefix="q" uri="..."/>' in error.hint


# -- what must not be flagged ----------------------------------------------------------


def test_literals_declared_prefixes_and_xml_lang_are_accepted(tmp_path: Path) -> None:
    root = edited_copy(
        tmp_path,
        VERSION,
        {
            RULES: [
                (
                    '<sch:ns prefix="fn"',
                    '<sch:ns prefix="q" uri="urn:example:q"/>\n  <sch:ns prefix="fn"',
                ),
                (
                    'test="not(DenThang) or',
                    "test=\"(not(q:Khac) and '$gia' != concat(&quot;$x:y&quot;, @xml:lang))"
                    " or not(DenThang) or",
                ),
            ]
        },
    )
    load_catalog(VERSION, root=root)


@pytest.mark.parametrize("version", ["2024.1", "2026.1"])
def test_shipped_rules_have_no_variable_or_prefix_problems(version: str) -> None:
    catalog = load_catalog(version)
    paths = [catalog.envelope.rules, *(v.rules for f in catalog.forms.values() for v in f.versions)]
    assert rule_problems(p for group in paths for p in group) == []


def test_scanner_skips_string_literals_and_axes() -> None:
    assert variables("$a-b or '$c' = \"$d\" or $e:f or $a-b") == ["a-b", "e:f"]
    found = prefixed_names("xf:f(1) and child::a and ancestor::p:b/@q:c and $v:w and 'z:x'")
    assert [(n.prefix, n.local, n.call) for n in found] == [
        ("xf", "f", True),
        ("p", "b", False),
        ("q", "c", False),
    ]
