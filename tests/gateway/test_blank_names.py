"""A required name or position made only of spaces is refused, as an empty one is.

``HoTen="   "`` passed the XSD (``minLength 1``: a space counts) and every rule, so a
dossier naming nobody was accepted (DOMAIN.md: HoTen and ChucVu are required).
"""

from __future__ import annotations

import pytest
from lxml import etree

from harness.dossiers.factory import DossierFactory, Tweaks
from mock_gateway.testing import Answer, InProcessGateway


def _blank(tag: str, value: str = "   ") -> Tweaks:
    def envelope(root: etree._Element) -> etree._Element:
        for node in root.iter(tag):
            node.text = value
        return root

    return Tweaks(envelope_hook=envelope, form_hook=lambda _code, root: envelope(root))


@pytest.mark.parametrize("tag", ["HoTen", "ChucVu", "TenDonVi", "TenDoiTuong", "NguoiKy"])
def test_a_blank_required_name_is_refused_with_rule_112(
    gw: InProcessGateway, factory: DossierFactory, tag: str
) -> None:
    answer = Answer.parse(gw.submit(factory.build("600", 1, tweaks=_blank(tag)).envelope).body)
    assert (answer.ma_kqua != "0", answer.ma_loi) == (True, "RULE-112"), answer.findings()
    first = answer.findings()[0]
    assert first["XPATH"].endswith(f"/{tag}") or f"/{tag}[" in first["XPATH"]
    assert f"{tag} chỉ gồm khoảng trắng" in first["MOTA_VI"]
    assert f"{tag} is blank (spaces only)" in first["MOTA_EN"]


def test_a_name_with_spaces_around_it_is_still_a_name(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    answer = Answer.parse(
        gw.submit(factory.build("600", 1, tweaks=_blank("HoTen", " Lê Vy ")).envelope).body
    )
    assert answer.ma_kqua == "0" and answer.codes == []
