"""The gateway answers in NFC, whatever Unicode form the sender wrote.

A name sent decomposed (NFD) came back decomposed: in RULE-101's own message (which says
the text is not NFC), and, for the envelope's unit name, in the receipt and in BHXH's
signed 02/TB-TS and 03/TB-TS, which also had no RULE-101 warning for it.
"""

from __future__ import annotations

import unicodedata

from lxml import etree

from harness.dossiers.factory import DossierFactory, Tweaks
from mock_gateway.testing import Answer, InProcessGateway

UNIT = "CÔNG TY TNHH HUỲNH ĐẶNG QUẢNG NGÃI"
PERSON = "Nguyễn Thị Ánh Tuyết"


def _texts(xml: bytes) -> list[str]:
    return [t for t in etree.fromstring(xml).itertext() if t.strip()]


def _set(tag: str, value: str, *more: str) -> Tweaks:
    """Set ``tag`` (and the tags ``more`` names) to ``value`` in the envelope and forms."""

    def envelope(root: etree._Element) -> etree._Element:
        for node in root.iter(tag, *more):
            node.text = value
        return root

    def form(_code: str, root: etree._Element) -> etree._Element:
        return envelope(root)

    return Tweaks(envelope_hook=envelope, form_hook=form)


def test_a_decomposed_unit_name_is_warned_about_and_answered_composed(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    dossier = factory.build(
        "600", 1, tweaks=_set("TenDoiTuong", unicodedata.normalize("NFD", UNIT), "TenDonVi")
    )
    raw = gw.submit(dossier.envelope).body
    answer = Answer.parse(raw)
    assert answer.ma_kqua == "0" and set(answer.codes) == {"RULE-101"}
    assert answer.findings()[0]["XPATH"].endswith("/TenDoiTuong")  # the envelope's, first
    assert answer.text("TTDVI/TEN_DVI") == UNIT  # composed
    assert all(unicodedata.is_normalized("NFC", t) for t in _texts(raw))
    gw.advance(3 * 3600)
    messages = gw.gateway.store.messages_of("IVAN01", answer.ma_gdich)
    assert {m.kind for m in messages} >= {"02/TB-TS", "03/TB-TS"}
    for message in messages:
        assert UNIT in _texts(message.xml)
        assert all(unicodedata.is_normalized("NFC", t) for t in _texts(message.xml))


def test_rule_101_quotes_the_name_composed(gw: InProcessGateway, factory: DossierFactory) -> None:
    dossier = factory.build("600", 1, tweaks=_set("HoTen", unicodedata.normalize("NFD", PERSON)))
    answer = Answer.parse(gw.submit(dossier.envelope))
    assert answer.codes and set(answer.codes) == {"RULE-101"}
    for finding in answer.findings():
        assert f"'{PERSON}'" in finding["MOTA_VI"] and f"'{PERSON}'" in finding["MOTA_EN"]
        assert "accepted and read in its normalised form" in finding["MOTA_EN"]


def test_marks_typed_out_of_order_are_warned_about_apart(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    """NFC composes 'e' + circumflex + tilde into 'ễ', but not 'e' + tilde + circumflex:
    that name keeps a loose mark, which RULE-101 alone called normalised."""
    loose = "Nguye\u0303\u0302n Văn An"
    answer = Answer.parse(
        gw.submit(factory.build("600", 1, tweaks=_set("HoTen", loose)).envelope).body
    )
    assert answer.ma_kqua == "0" and {"RULE-101", "RULE-113"} <= set(answer.codes)
    reordered = "Đa\u0306\u0323ng Văn An"  # breve then dot below: NFC makes 'ặ'
    fine = Answer.parse(
        gw.submit(factory.build("600", 1, tweaks=_set("HoTen", reordered)).envelope).body
    )
    assert fine.ma_kqua == "0" and set(fine.codes) == {"RULE-101"}
