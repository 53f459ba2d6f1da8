"""`catalog check` builds each valid dossier with several seeds: a rule relating two
drawn dates refuses some seeds only, which one seed (0) never showed, and fuzz then
blamed the gateway for the factory's dossiers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import Catalog, load_catalog
from harness.dossiers.factory import Dossier, DossierFactory
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
    month: row.contract_start is drawn 0 to 899 days before, so seed 0 passes, some not."""
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
    seed = re.findall(
        r"valid dossier of seed (\d+) is refused: RULE-106 \[rule=d02-contract-age", first.problem
    )
    assert seed and seed[0] != "0", first.problem
    assert f"bhxh-harness dossier build 600 --seed {seed[0]} --catalog 2026.1`" in first.hint
    assert "fixtures/catalog/README.md" in first.hint


def test_the_seed_named_builds_the_refused_dossier(tmp_path: Path, pki: TestPKI) -> None:
    """The hint named `dossier build 600 --seed N`, which built another dossier: the smoke
    run forced the optional forms, and that changed every later draw. A rule refusing the
    worker `dossier build 600 --seed 3` draws must be reported at seed 3."""
    plain = DossierFactory(load_catalog("2026.1"), pki)
    names = [_first_worker(plain.build("600", seed)) for seed in (0, 3)]
    assert names[0] != names[1]
    refuse = (
        f'  <sch:pattern id="p-one-name"><sch:rule context="LaoDong[1]">'
        f'<sch:assert id="d02-one-name" role="RULE-112" subject="HoTen" '
        f"test=\"string(HoTen) != '{names[1]}'\">Tên bị cấm</sch:assert></sch:rule>"
        "</sch:pattern>\n"
    )
    root = edited_copy(tmp_path, "2026.1", {"rules/D02-TS.sch": [(ANCHOR, refuse + ANCHOR)]})
    refusals = smoke_run(load_catalog("2026.1", root=root), pki, values=False, seeds=8)
    named = [r for r in refusals if r.procedure == "600" and "d02-one-name" in r.problem]
    assert named and "dossier build 600 --seed 3 --catalog 2026.1`" in named[0].hint, refusals


def _first_worker(dossier: Dossier) -> str:
    """The first row's HoTen in the dossier's D02-TS."""
    form = next(f for f in dossier.forms if f.form.form == "D02-TS")
    return str(etree.fromstring(form.content).findtext(".//LaoDong/HoTen"))


def test_catalog_check_builds_eight_seeds(tmp_path: Path, pki: TestPKI) -> None:
    with pytest.raises(CatalogError) as info:
        check_smoke(_catalog(tmp_path), pki, defects=True)
    assert re.search(r"seed [1-7]", str(info.value)) and "d02-contract-age" in str(info.value)
