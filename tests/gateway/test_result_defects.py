"""03/TB-TS with defective rows: the catalog's result rules, run on accepted dossiers.

The intake accepts the dossier (its receipt is a 202); BHXH's processing then finds rows
it cannot confirm, here a CCCD the modelled national population database does not know
(``unverified_citizen_ids`` in ``fixtures/reference/tables.yaml``), and its 03/TB-TS says
MA_KQUA 2 and lists each such row with its code and XPath.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from harness.catalog import load_catalog
from harness.cli import main
from harness.conformance import DossierChecker
from harness.dossiers.factory import Dossier, DossierFactory, Tweaks
from harness.errors import CatalogError
from harness.signing import TestPKI
from mock_gateway import messages
from mock_gateway.testing import Answer, InProcessGateway
from tests.catalog_copies import edited_copy, refused_load

UNCONFIRMED = "001090000001"
"""The table's first number: a man born in 1990 (CCCD digits 4-6). The form's first person
is built around it (``Tweaks.cccd_holder``), so the intake's CCCD rule (RULE-104) passes and
only the processing can object."""


def feed(gw: InProcessGateway) -> list[dict[str, str]]:
    response = gw.request("GET", "/api/v1/messages")
    assert response.status == 200, response.body.decode()
    listing = etree.fromstring(response.body)
    return [{c.tag: c.text or "" for c in m} for m in listing.iter("THONGBAO")]


def test_a_row_the_population_database_does_not_confirm_comes_back_defective(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    holder = Tweaks(cccd_holder=("D02-TS", UNCONFIRMED))
    dossier = factory.build("600", 7, rows=3, optional_forms=False, tweaks=holder)
    receipt = Answer.parse(gw.submit(dossier.envelope))
    assert (receipt.kind, receipt.ma_kqua) == ("XACNHAN_NOP", "0"), receipt.findings()
    assert receipt.findings() == []  # nothing said at intake: BHXH's records are not read yet

    gw.advance(15 * 60 + 60 * 60)
    handover, result_entry = feed(gw)
    assert Answer.parse(base64.b64decode(handover["NOI_DUNG"])).ma_kqua == "0"
    result = Answer.parse(base64.b64decode(result_entry["NOI_DUNG"]))
    assert result.kind == messages.RESULT
    assert result.ma_kqua == messages.MA_KQUA_DEFECTIVE
    assert result.ma_loi == "RES-001"
    [row] = result.findings()
    assert row["MA_LOI"] == "RES-001"
    assert row["XPATH"] == "D02-TS-595.xml:/D02-TS/NoiDung/LaoDong[1]/CMND"
    assert UNCONFIRMED in row["MOTA_VI"] and "population database" in row["MOTA_EN"]

    status = etree.fromstring(gw.request("GET", f"/api/v1/dossiers/{receipt.ma_gdich}").body)
    assert status.findtext("HOSO/TRANG_THAI") == "defective"


def test_every_unconfirmed_person_is_listed_and_the_rest_accepted(
    gw: InProcessGateway, factory: DossierFactory, valid: Callable[..., Dossier]
) -> None:
    """A TK1-TS's declarant too, and a dossier with no such person is accepted as before."""
    holder = Tweaks(cccd_holder=("TK1-TS", UNCONFIRMED))
    defective = factory.build("607", 3, optional_forms=False, tweaks=holder)
    flawed = Answer.parse(gw.submit(defective.envelope)).ma_gdich
    clean = Answer.parse(gw.submit(valid().envelope)).ma_gdich
    gw.advance(15 * 60 + 60 * 60)
    results = {
        e["MA_GDICH"]: Answer.parse(base64.b64decode(e["NOI_DUNG"]))
        for e in feed(gw)
        if e["LOAI"] == messages.RESULT
    }
    assert results[flawed].ma_kqua == messages.MA_KQUA_DEFECTIVE
    assert [f["XPATH"] for f in results[flawed].findings()] == [
        "TK1-TS-595.xml:/TK1-TS/NoiDung/NguoiKhai/CMND"
    ]
    assert results[clean].ma_kqua == messages.MA_KQUA_OK
    assert results[clean].findings() == []


def test_a_result_rule_is_catalog_data(tmp_path: Path, pki: TestPKI) -> None:
    """A rule file listed under result_rules makes accepted dossiers defective, with no
    code change; the same rule under rules would have refused them."""
    rule = (
        '<sch:rule context="NguoiKhai"><sch:assert id="always" role="RES-001" '
        'test="false()">always</sch:assert></sch:rule>'
    )
    root = edited_copy(
        tmp_path,
        "2024.1",
        {
            "rules/result-identity.sch": [
                ('<sch:rule context="*[CMND]">', rule + '<sch:rule context="*[CMND]">')
            ]
        },
    )
    catalog = load_catalog("2024.1", root=root)
    dossier = DossierFactory(catalog, pki).build("612", 1)
    checked = DossierChecker(catalog, pki.trust_store()).check(dossier.envelope)
    assert checked.accepted, checked.findings
    assert [(f.code, f.xpath) for f in checked.defects] == [
        ("RES-001", "TK1-TS-595.xml:/TK1-TS/NoiDung/NguoiKhai")
    ]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (  # an intake code in a result rule: it would never refuse anything
            'role="RES-001"',
            'role="RULE-104"',
            "rules raise RES-* codes",
        ),
        ("result_rules: [rules/result-identity.sch]", "result_rule: [x.sch]", "result_rules"),
    ],
)
def test_a_result_rule_mistake_is_refused_on_load(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    relative = "rules/result-identity.sch" if "role" in old else "catalog.yaml"
    if relative == "catalog.yaml":  # D02-TS's, whose spelling is the mistake
        old, new = "rules/D02-TS.sch]}\n    " + old, "rules/D02-TS.sch]}\n    " + new
    error, _path = refused_load(tmp_path, "2024.1", relative, old, new)
    assert isinstance(error, CatalogError)
    assert says in str(error)


def test_dossier_check_lists_the_defects_under_an_accepted_file(
    tmp_path: Path, factory: DossierFactory
) -> None:
    holder = Tweaks(cccd_holder=("D02-TS", UNCONFIRMED))
    dossier = factory.build("600", 7, rows=3, optional_forms=False, tweaks=holder)
    path = tmp_path / "flawed.xml"
    path.write_bytes(dossier.envelope)
    outcome = CliRunner().invoke(main, ["dossier", "check", str(path)])
    assert outcome.exit_code == 0, outcome.output  # accepted: the intake does not refuse it
    verdict, line = outcome.stdout.splitlines()
    assert verdict.endswith("accepted (catalog 2024.1)")
    assert line.split()[:3] == [
        "defect",
        "RES-001",
        "D02-TS-595.xml:/D02-TS/NoiDung/LaoDong[1]/CMND:",
    ]
