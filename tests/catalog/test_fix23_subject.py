"""An assert's ``subject`` (ISO Schematron 2016) says which node its finding is about.

RULE-102's XPath named the row (``LaoDong[1]``) although the wage is what is wrong; lxml's
skeleton ignores ``subject``, so the validator applies it, and catalog loading refuses a
subject naming an element no XSD of the file's forms declares, as for ``test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.catalog.validation import CompiledRules
from harness.conformance import DossierChecker
from harness.dossiers.defects import build_defective
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from tests.catalog_copies import refused_load

SCH = "http://purl.oclc.org/dsdl/schematron"


@pytest.mark.parametrize(
    ("defect", "code", "tail"),
    [
        ("wage-below-minimum", "RULE-102", "/LaoDong[1]/TienLuong"),
        ("wrong-soluongfile", "ENV-006", "/ThongTinHoSo/SoLuongFile"),
    ],
)
def test_a_finding_points_at_its_subject(pki: TestPKI, defect: str, code: str, tail: str) -> None:
    catalog = load_catalog("2026.1")
    dossier = build_defective(DossierFactory(catalog, pki), "600", defect)
    result = DossierChecker(catalog, pki.trust_store()).check(dossier.envelope)
    [found] = [f for f in result.findings if f.code == code]
    assert found.xpath.endswith(tail), found.xpath


def _rules(subject: str) -> CompiledRules:
    doc = etree.fromstring(
        f"""<sch:schema xmlns:sch="{SCH}" queryBinding="xslt"><sch:pattern>
        <sch:rule context="Row"><sch:assert id="low" role="RULE-102" subject="{subject}"
        test="number(Wage) &gt; 5">low</sch:assert></sch:rule></sch:pattern></sch:schema>"""
    )
    return CompiledRules(etree.ElementTree(doc))


DOC = (
    b"<Form><Row><Name>a</Name><Wage code='x'>9</Wage></Row>"
    b"<Row><Wage code='y'>1</Wage></Row></Form>"
)


def test_the_subject_is_found_from_the_failing_context() -> None:
    [found] = _rules("Wage").findings(etree.fromstring(DOC))
    assert found.xpath == "/Form/Row[2]/Wage"
    [found] = _rules("Wage/@code").findings(etree.fromstring(DOC))
    assert found.xpath == "/Form/Row[2]/Wage/@code"


def test_a_subject_selecting_nothing_there_keeps_the_context() -> None:
    [found] = _rules("Name").findings(etree.fromstring(DOC))  # the second row has no Name
    assert found.xpath == "/Form/Row[2]"


def test_a_misspelt_subject_is_refused_when_the_catalog_loads(tmp_path: Path) -> None:
    error, path = refused_load(
        tmp_path, "2026.1", "rules/D02-TS.sch", 'subject="DenThang"', 'subject="DenThangg"'
    )
    assert "subject names element 'DenThangg'" in str(error)
    assert "point at the rule's context instead" in str(error)
    assert error.path == str(path) and error.line
