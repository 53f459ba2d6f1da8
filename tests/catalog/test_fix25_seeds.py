"""`catalog check` builds each valid dossier with several seeds: a rule relating two
drawn dates refuses some seeds only, which one seed (0) never showed, and fuzz then
blamed the gateway for the factory's dossiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import Catalog, load_catalog
from harness.dossiers.smoke import check_smoke, smoke_run
from harness.errors import CatalogError
from harness.signing import TestPKI
from tests.catalog_copies import edited_copy

ANCHOR = '  <sch:pattern id="p-d02-wage">\n'
CONTRACT_AGE = (
    '  <sch:pattern id="p-contract-age"><sch:rule context="LaoDong[1]">'
    '<sch:assert id="d02-contract-age" role="RULE-106" subject="NgayBatDauHD" '
    'test="not(fn:valid-date(string(NgayBatDauHD))) or fn:days-between('
    "string(NgayBatDauHD), concat('01/', string(TuThang))) &lt;= 300\">"
    "Hợp đồng quá cũ</sch:assert></sch:rule></sch:pattern>\n"
)


def _catalog(tmp_path: Path) -> Catalog:
    """2026.1 whose D02-TS refuses a first row's contract started 300+ days before its
    month: row.contract_start is drawn 0 to 899 days before, so seed 0 passes, seed 4 not."""
    edit = (ANCHOR, CONTRACT_AGE + ANCHOR)
    return load_catalog(
        "2026.1", root=edited_copy(tmp_path, "2026.1", {"rules/D02-TS.sch": [edit]})
    )


def test_one_seed_misses_what_several_find(tmp_path: Path, pki: TestPKI) -> None:
    catalog = _catalog(tmp_path)
    assert smoke_run(catalog, pki, values=False) == []  # serve's run: seed 0 only
    refusals = smoke_run(catalog, pki, values=False, seeds=8)
    assert {r.procedure for r in refusals} == {"600", "601"}
    first = refusals[0]
    assert "valid dossier of seed 4 is refused: RULE-106 [rule=d02-contract-age" in first.problem
    assert "bhxh-harness dossier build 600 --seed 4" in first.hint
    assert "fixtures/catalog/README.md" in first.hint


def test_catalog_check_builds_eight_seeds(tmp_path: Path, pki: TestPKI) -> None:
    with pytest.raises(CatalogError) as info:
        check_smoke(_catalog(tmp_path), pki, defects=True)
    assert "seed 4" in str(info.value) and "d02-contract-age" in str(info.value)
