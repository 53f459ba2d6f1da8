"""Catalog mistakes that compile but break later are refused when the catalog loads.

Each test edits a copy of a shipped version under ``tmp_path`` and expects loading it to
fail with the file, the line and (for rules) the assert id, before any dossier is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog, validators_for, xpath_functions
from harness.catalog.diff import diff_catalogs
from harness.catalog.loader import catalogs_dir
from harness.catalog.tables import TableIndex
from harness.catalog.xpath_scan import function_calls, literal
from harness.errors import CatalogError
from harness.paths import fixtures_dir
from tests.catalog_copies import Edits, edited_copy

VERSION = "2026.1"


def _edited(tmp_path: Path, edits: Edits) -> Path:
    """A catalog root holding a copy of ``VERSION`` with ``old -> new`` edits per file."""
    return edited_copy(tmp_path, VERSION, edits)


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def _refused(tmp_path: Path, relative: str, old: str, new: str) -> tuple[str, int]:
    """Load the edited copy; return the error text and the line the edit is on."""
    root = _edited(tmp_path, {relative: [(old, new)]})
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    return str(info.value), _line_of(root / VERSION / relative, new)


# -- 1. reference tables and columns the lookups name -----------------------------------


def test_unknown_table_in_in_table_names_file_line_and_assert(tmp_path: Path) -> None:
    text, line = _refused(tmp_path, "rules/common.sch", "'agencies'", "'agencys'")
    assert f"common.sch:{line}:" in text
    assert "assert 'common-agency'" in text and "'agencys'" in text
    assert "did you mean 'agencies'" in text


def test_unknown_table_in_as_of_names_the_let(tmp_path: Path) -> None:
    text, line = _refused(tmp_path, "rules/D02-TS.sch", "'base_salary'", "'base_salry'")
    assert f"D02-TS.sch:{line}:" in text and "let $base" in text and "'base_salry'" in text


def test_unknown_column_in_as_of_is_refused(tmp_path: Path) -> None:
    text, line = _refused(tmp_path, "rules/D02-TS.sch", "'amount'", "'amout'")
    assert f"D02-TS.sch:{line}:" in text and "column 'amout'" in text
    assert "'base_salary'" in text


def test_unknown_table_under_dollar_tables_is_refused(tmp_path: Path) -> None:
    text, _ = _refused(
        tmp_path,
        "rules/common.sch",
        "test=\"fn:in-table('agencies', $code)\"",
        'test="$tables/tables/agencys/row[@code = $code]"',
    )
    assert "'agencys'" in text and "common-agency" in text


def test_a_lookup_in_an_unknown_table_at_run_time_is_an_error_not_false() -> None:
    index = TableIndex({"wards": [{"code": "00001"}]})
    with pytest.raises(CatalogError, match="'no-such-table'"):
        index.contains("no-such-table", "00001")
    with pytest.raises(CatalogError, match="'no-such-table'"):
        index.as_of("no-such-table", "amount", "01/2026")
    xpath_functions.register()
    ns = {"fn": xpath_functions.NAMESPACE}
    with pytest.raises(CatalogError, match="'wardz'"):
        etree.fromstring("<r/>").xpath("fn:in-table('wardz', 'x')", namespaces=ns)


# -- 2. unknown functions, wrong arity and undeclared error codes -----------------------


def test_unknown_function_lists_the_known_ones(tmp_path: Path) -> None:
    text, line = _refused(tmp_path, "rules/D02-TS.sch", "fn:year-of(", "fn:year_of(")
    assert f"D02-TS.sch:{line}:" in text and "fn:year_of()" in text
    assert "did you mean 'year-of'" in text and "fn:valid-date" in text


def test_unknown_function_in_an_assert_names_the_assert(tmp_path: Path) -> None:
    text, line = _refused(
        tmp_path, "rules/common.sch", 'test="fn:is-nfc(string(.))"', 'test="fn:isnfc(string(.))"'
    )
    assert f"common.sch:{line}:" in text and "assert 'common-nfc'" in text


def test_wrong_number_of_arguments_is_refused(tmp_path: Path) -> None:
    text, _ = _refused(
        tmp_path,
        "rules/common.sch",
        "fn:in-table('agencies', $code)",
        "fn:in-table('agencies')",
    )
    assert "fn:in-table() takes 2 to 3 argument(s), given 1" in text


def test_undeclared_error_code_says_how_to_declare_it(tmp_path: Path) -> None:
    text, line = _refused(
        tmp_path,
        "rules/D02-TS.sch",
        'id="d02-wage-cap" role="RULE-103"',
        'id="d02-wage-cap" role="RULE-999"',
    )
    assert f"D02-TS.sch:{line}:" in text and "assert 'd02-wage-cap'" in text
    assert "'RULE-999'" in text and "fixtures/error_codes.yaml" in text


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    root = _edited(
        tmp_path,
        {
            "rules/D02-TS.sch": [("fn:year-of(", "fn:year_of(")],
            "rules/common.sch": [("'agencies'", "'agencys'")],
        },
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    assert "year_of" in str(info.value) and "agencys" in str(info.value)


def test_catalog_check_command_refuses_it(tmp_path: Path) -> None:
    """The command users run: a scratch project home with an edited version 2026.9."""
    home = tmp_path / "home"
    (home / "fixtures" / "catalog").mkdir(parents=True)
    for shared in ("reference", "error_codes.yaml"):
        (home / "fixtures" / shared).symlink_to(fixtures_dir() / shared)
    root = _edited(tmp_path, {"rules/D02-TS.sch": [("fn:year-of(", "fn:year_of(")]})
    target = home / "fixtures" / "catalog" / "2026.9"
    shutil.copytree(root / VERSION, target)
    catalog = target / "catalog.yaml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace('version: "2026.1"', 'version: "2026.9"'),
        encoding="utf-8",
    )
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "catalog", "check", "2026.9"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the version failed its check
    assert "fn:year_of()" in done.stderr and "D02-TS.sch:" in done.stderr
    assert "Traceback" not in done.stderr


# -- 5. periods written as ISO dates -----------------------------------------------------


def test_iso_date_period_shows_the_value_and_how_to_write_it(tmp_path: Path) -> None:
    root = _edited(
        tmp_path,
        {"catalog.yaml": [('in_force: {from: "01/2026"}', "in_force: {from: 2026-07-01}")]},
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(VERSION, root=root)
    text = str(info.value)
    assert "in_force.from must be a period MM/yyyy (e.g. 07/2026), got 2026-07-01" in text
    assert '"07/2026"' in text and "catalog.yaml:" in text


def test_day_month_year_period_keeps_its_message(tmp_path: Path) -> None:
    root = _edited(
        tmp_path, {"catalog.yaml": [('effective_from: "01/2026"', 'effective_from: "01/07/2026"')]}
    )
    with pytest.raises(
        CatalogError, match=r"effective_from must be a period MM/yyyy .*'01/07/2026'"
    ) as info:
        load_catalog(VERSION, root=root)
    assert info.value.line == 6  # the key's own line, not where the document starts


def test_a_period_in_full_width_digits_is_refused(tmp_path: Path) -> None:
    root = _edited(
        tmp_path, {"catalog.yaml": [('effective_from: "01/2026"', 'effective_from: "01/２０２６"')]}
    )
    with pytest.raises(CatalogError, match="effective_from must be a period MM/yyyy"):
        load_catalog(VERSION, root=root)


# -- 4. names saved decomposed -----------------------------------------------------------


def test_nfd_names_load_as_nfc_and_the_diff_sees_no_rename(tmp_path: Path) -> None:
    path = catalogs_dir() / VERSION / "catalog.yaml"
    root = tmp_path / "catalogs"
    shutil.copytree(catalogs_dir() / VERSION, root / VERSION)
    nfd = unicodedata.normalize("NFD", path.read_text(encoding="utf-8"))
    (root / VERSION / "catalog.yaml").write_text(nfd, encoding="utf-8")
    edited = load_catalog(VERSION, root=root)
    name = edited.procedures["630a"].name
    assert name == "Giải quyết hưởng chế độ ốm đau" and unicodedata.is_normalized("NFC", name)
    assert unicodedata.is_normalized("NFC", edited.forms["D02-TS"].name)
    assert unicodedata.is_normalized("NFC", edited.title)
    assert diff_catalogs(load_catalog(VERSION), edited).changes == ()


# -- 7. XPath syntax errors --------------------------------------------------------------


def test_xpath_syntax_error_names_line_and_assert(tmp_path: Path) -> None:
    root = _edited(
        tmp_path,
        {"rules/D02-TS.sch": [('test="$wage &gt;= $floor"', 'test="$wage &gt;= $floor)"')]},
    )
    catalog = load_catalog(VERSION, root=root)
    with pytest.raises(CatalogError) as info:
        validators_for(catalog)
    line = _line_of(root / VERSION / "rules" / "D02-TS.sch", "$floor)")
    text = str(info.value)
    assert f"D02-TS.sch:{line}:" in text and "assert 'd02-wage-floor'" in text
    assert "'$wage >= $floor)'" in text


# -- the scanner the checks rely on ------------------------------------------------------


def test_function_calls_skip_quoted_text_and_find_nested_calls() -> None:
    calls = function_calls(
        "fn:as-of('t, (x)', concat('regions_', n), fn:period-key(string(a))) = 'fn:no(1)'"
    )
    assert [(c.prefix, c.name) for c in calls] == [("fn", "as-of"), ("fn", "period-key")]
    assert calls[0].args == ("'t, (x)'", "concat('regions_', n)", "fn:period-key(string(a))")
    assert literal(calls[0].args[0]) == "t, (x)" and literal(calls[0].args[1]) is None
    assert function_calls("child::node() | fn:tables()")[0].args == ()
