"""Reference tables refuse a misspelt column when read, and ``fn:as-of`` refuses a period
it cannot answer for (not MM/yyyy) instead of NaN, which
a rule's comparison turned into a verdict depending on how its test was written."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import xpath_functions
from harness.catalog.tables import table_rows
from harness.errors import CatalogError
from tests.catalog_copies import edited_home

NATIONALITY = '  - {code: "JP", name: "Nhật Bản"}'
D02_RULES = Path("catalog/2026.1/rules/D02-TS.sch")
CAP = '<sch:assert id="d02-wage-cap"'


def _reference(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "t.yaml").write_text(text, encoding="utf-8")
    return folder


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(CatalogError) as info:
        table_rows(_reference(tmp_path, text))
    return str(info.value)


def test_a_misspelt_key_column_is_refused_with_its_line(tmp_path: Path) -> None:
    said = _refused(tmp_path, 'n:\n  - {code: "VN", name: a}\n  - {cod: "DE", name: b}\n')
    assert "t.yaml:3: table 'n'" in said and "column 'cod'" in said
    assert "did you mean 'code'?" in said


def test_a_row_without_the_key_column_is_refused(tmp_path: Path) -> None:
    said = _refused(
        tmp_path, 'n:\n  - {code: "VN", name: a}\n  - {code: "X", name: b}\n  - {name: c}\n'
    )
    assert "t.yaml:4:" in said and "no 'code', which every other row has" in said


def test_a_misspelt_since_is_refused(tmp_path: Path) -> None:
    text = 'w:\n  - {since: "01/2020", amount: 1}\n  - {sinse: "01/2021", amount: 2}\n'
    said = _refused(tmp_path, text)
    assert "t.yaml:3:" in said and "did you mean 'since'?" in said


def test_an_extra_column_unlike_the_others_is_kept(tmp_path: Path) -> None:
    text = 'n:\n  - {code: "VN", name: a}\n  - {code: "X", name: b, note: "tạm"}\n'
    rows = table_rows(_reference(tmp_path, text))["n"]
    assert rows[1] == {"code": "X", "name": "b", "note": "tạm"}


def test_catalog_check_refuses_a_misspelt_column_in_the_shipped_tables(tmp_path: Path) -> None:
    home = edited_home(
        tmp_path, Path("reference/tables.yaml"), NATIONALITY, '  - {cod: "JP", name: "Nhật Bản"}'
    )
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", "check", "2026.1"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tables.yaml:" in done.stderr and "did you mean 'code'?" in done.stderr


def _as_of(period: str) -> float:
    xpath_functions.register()
    doc = etree.fromstring(f"<r><T>{period}</T></r>")
    found = doc.xpath(
        "fn:as-of('base_salary', 'amount', string(T))", namespaces={"fn": xpath_functions.NAMESPACE}
    )
    assert isinstance(found, float)
    return found


@pytest.mark.parametrize("period", ["15/01/2026", "2026-01", ""])
def test_as_of_refuses_a_period_not_in_mm_yyyy(period: str) -> None:
    with pytest.raises(CatalogError, match="the period must be a month as MM/yyyy"):
        _as_of(period)


def test_a_period_before_the_first_row_is_nan_not_an_error() -> None:
    """The sender's old period: the rule's own code answers it, never a 5xx."""
    assert math.isnan(_as_of("06/2019"))


def test_as_of_still_answers_in_force_periods() -> None:
    assert _as_of("07/2019") == 1490000.0
    assert _as_of("1/2026") == 2340000.0


def test_catalog_check_names_a_rule_passing_a_date_to_as_of(tmp_path: Path) -> None:
    """``not(X > $limit)`` passed every dossier while ``$limit`` was NaN: now the rule
    fails when run and ``catalog check`` names it."""
    rule = (
        '<sch:assert id="d02-born-cap" role="RULE-103" test="not(number(TienLuong) &gt; '
        "100 * fn:as-of('base_salary', 'amount', string(NgaySinh)))\">Lương quá cao</sch:assert>"
    )
    home = edited_home(tmp_path, D02_RULES, CAP, f"{rule}\n      {CAP}")
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", "check", "2026.1"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = (home / "fixtures" / D02_RULES).read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "d02-born-cap" in text)
    assert f"D02-TS.sch:{line}:" in done.stderr and "'d02-born-cap' fails when run" in done.stderr
    assert "MM/yyyy" in done.stderr
