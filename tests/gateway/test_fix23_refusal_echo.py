"""A refusal names the dossier it refuses, once the envelope could be read.

An I-VAN forwarding thousands of dossiers matches answers to dossiers; a refusal for a
bad signature or a broken rule came back with TTDVI, MALOAI_HSO, TEN_GDICH and KY_KKHAI
blank although the envelope declaring them had been read and checked.
"""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.dossiers.defects import build_defective
from harness.dossiers.factory import DossierFactory
from harness.envelope import read_envelope
from harness.signing import TestPKI
from harness.xmlsafe import parse_xml
from mock_gateway.testing import Answer, InProcessGateway


@pytest.mark.parametrize("defect", ["wage-below-minimum", "unsigned-form", "bad-si-number"])
def test_a_refusal_after_the_envelope_was_read_echoes_it(
    gw: InProcessGateway, factory: DossierFactory, defect: str
) -> None:
    dossier = build_defective(factory, "600", defect)
    answer = Answer.parse(gw.submit(dossier.envelope).body)
    assert answer.ma_kqua == "1" and set(answer.codes) >= set(dossier.expected_codes)
    procedure = factory.catalog.procedure("600")
    assert procedure is not None
    info = read_envelope(parse_xml(dossier.envelope))
    unit = info.unit
    assert answer.text("TTDVI/TEN_DVI") == unit.ten
    assert answer.text("TTDVI/MA_DVI") == unit.ma_don_vi
    assert answer.text("TTDVI/MST") == unit.ma_so_thue
    assert answer.text("TTGDICH/MALOAI_HSO") == "600"
    assert answer.text("TTGDICH/TEN_GDICH") == procedure.name
    assert answer.text("TTGDICH/KY_KKHAI") == info.ky_ke_khai
    assert answer.text("TTGDICH/MA_GDICH") == "" and answer.text("TTGDICH/SO_HSO") == ""


def test_an_unknown_procedure_is_echoed_without_a_name(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    dossier = build_defective(factory, "600", "unknown-procedure")
    answer = Answer.parse(gw.submit(dossier.envelope).body)
    assert answer.codes == ["ENV-002"]
    declared = dossier.envelope.decode()
    sent = answer.text("TTGDICH/MALOAI_HSO")
    assert sent and sent != "600" and f"<MaThuTuc>{sent}</MaThuTuc>" in declared
    assert answer.text("TTGDICH/TEN_GDICH") == ""


def test_a_body_that_is_not_a_dossier_echoes_nothing(gw: InProcessGateway) -> None:
    answer = Answer.parse(gw.submit(b"<Hoso><NoiDung/></Hoso>").body)
    assert answer.ma_kqua == "1"
    for path in ("TTDVI/TEN_DVI", "TTDVI/MA_DVI", "TTGDICH/MALOAI_HSO", "TTGDICH/KY_KKHAI"):
        assert answer.text(path) == ""


def test_a_procedure_not_in_force_is_named_by_the_catalog_that_has_it(
    gw: InProcessGateway, pki: TestPKI
) -> None:
    """630a is 2026.1's: a 12/2025 dossier, governed by 2024.1, still gets its name."""
    newer = load_catalog("2026.1")
    dossier = build_defective(DossierFactory(newer, pki), "630a", "procedure-not-in-force")
    answer = Answer.parse(gw.submit(dossier.envelope).body)
    assert answer.codes == ["ENV-003"]
    procedure = newer.procedure("630a")
    assert procedure is not None and answer.text("TTGDICH/TEN_GDICH") == procedure.name
    assert answer.text("TTGDICH/MALOAI_HSO") == "630a"
