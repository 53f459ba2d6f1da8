"""A named defect only BHXH's processing finds (a ``RES-*`` code of a result rule): the
dossier is accepted and its 03/TB-TS lists the row. ``cccd-holder`` builds the form's
first person around a CCCD the national population database does not confirm, so no
intake rule fires (sex and birth year agree with the number) and only the result rule does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.conformance import DossierChecker
from harness.dossiers.defect_checks import defect_refusals
from harness.dossiers.defects import applies, build_defective
from harness.dossiers.factory import DossierFactory
from harness.dossiers.provider import make_faker, parse_cccd
from harness.errors import FactoryError
from harness.paths import fixtures_dir
from harness.signing import TestPKI

NAME = "unverified-citizen-id"


@pytest.fixture(scope="module")
def factory(pki: TestPKI) -> DossierFactory:
    return DossierFactory.for_version("2026.1", pki)


@pytest.fixture(scope="module")
def checker(factory: DossierFactory) -> DossierChecker:
    return DossierChecker(factory.catalog, factory.pki.trust_store())


def test_the_defect_is_accepted_and_lists_its_result_code(
    factory: DossierFactory, checker: DossierChecker
) -> None:
    built = [p for p in factory.catalog.procedures if applies(factory, p, NAME)]
    assert len(built) >= 3  # D02-TS, TK1-TS and M01B-HSB carry a CCCD and the result rule
    for procedure in built:
        dossier = build_defective(factory, procedure, NAME, 1)
        assert (dossier.expected_codes, dossier.result_codes) == ((), ("RES-001",))
        result = checker.check(dossier.envelope)
        assert result.accepted, (procedure, result.codes)
        assert [f.code for f in result.defects] == ["RES-001"], procedure
        assert "001090000001" in result.defects[0].message_en


def test_the_valid_dossier_of_the_same_seed_lists_no_defect(
    factory: DossierFactory, checker: DossierChecker
) -> None:
    result = checker.check(factory.build("600", 1).envelope)
    assert result.accepted and result.defects == []


def test_a_cccd_holder_is_of_the_sex_year_and_province_the_number_encodes() -> None:
    fake = make_faker(7)
    for cccd in ("001090000001", "001195000002", "079200000003"):
        person = fake.cccd_holder(cccd)
        info = parse_cccd(cccd)
        assert person.cccd == cccd
        assert (person.gioi_tinh, person.ngay_sinh.year) == (info.sex, info.birth_year)
        assert person.province_code == info.province_code


def test_a_cccd_of_no_known_province_is_a_factory_error_saying_what_a_cccd_is() -> None:
    with pytest.raises(FactoryError) as info:
        make_faker(1).cccd_holder("999090000001")
    assert "999090000001" in str(info.value) and "birth province" in str(info.value)


def test_catalog_check_refuses_a_result_defect_the_result_rule_does_not_find(
    defects_file: Path, factory: DossierFactory, checker: DossierChecker
) -> None:
    """A CCCD the table does not list: accepted with no defective row, which ``catalog
    check`` says, naming what it expected (a result defect that finds nothing checks nothing)."""
    shipped = (fixtures_dir() / "dossiers" / "defects.yaml").read_text(encoding="utf-8")
    confirmed = (
        'confirmed: {expect: [RES-001], op: cccd-holder, elements: [CMND], value: "001090123456"}\n'
    )
    defects_file.write_text(shipped + confirmed, encoding="utf-8")
    refusals = [r for r in defect_refusals(factory, checker) if "confirmed" in r.where]
    assert refusals, "a result defect nobody finds passed catalog check"
    assert all(
        "expects acceptance with result defect(s) RES-001, got accepted with no result defect"
        in r.problem
        for r in refusals
    ), [r.problem for r in refusals]
