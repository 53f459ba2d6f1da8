"""``MessageSigner.sign_answer`` signs an answer's text without parsing it: the bytes must
be those of ``sign(build(answer))``, which ``test_answer_bytes.py`` holds to the
element-by-element reference, on the same hostile texts (``&``, ``<``, ``]]>``, CR,
control characters, lone surrogates, NFD, astral characters, ``="`` taking the tree
path), every kind of answer and a release's own date format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import Finding
from harness.signing import TestPKI, verify
from mock_gateway import messages

NOW = datetime(2026, 11, 27, 18, 25, 51, 996742, tzinfo=UTC)
NASTY = [
    "",
    "A & B < C > D ]]> E",
    "dòng 1\r\ndòng 2\rdòng 3\n\t",
    "\x00\x01\x08\x0b\x0c\x1f\x7f\x85\x9f",
    "\ud800 \udfff \ufffe \uffff",
    "Nguye\u0302\u0303n Thi\u0323 A\u0301nh",
    "\u0338 first, then <\u0338 and >\u0338",
    "&amp; &#13; &lt; <![CDATA[x]]> <!-- c --> <?pi x?> %s %(x)s",
    'a="b" /> \t tab',
    "𝒳 astral 😀 \u2028 \u00a0",
    "</TTCKY_BHXH></XACNHAN_GDICH></BHXH>",
]


def _answers(text: str, now: datetime, files: int) -> list[messages.Answer]:
    unit = messages.UnitInfo(ten=text, ma_dvi=text[:7], mst="4798091148", co_quan=text[-5:])
    tx = messages.Transaction(
        ma_gdich=f"20261128{text[:4]}",
        procedure="612",
        procedure_name=f"Cấp lại thẻ BHYT {text}",
        period=text,
        received_at=now - timedelta(seconds=len(text)),
        files=tuple((f"TK{i}-{text}.xml", f"Tờ khai {text}") for i in range(files)),
        so_hso=text or None,
    )
    error = Finding("RULE-102", f"/Row[1]/{text[:3]}", f"Lỗi: {text}", text, "error", {})
    warning = Finding("RULE-102", "/", text, text, "warning", {"file": text, "value": text})
    return [
        messages.receipt(unit, messages.Transaction.from_summary("M1", now, {}, None), (), now),
        messages.receipt(unit, tx, [warning], now),
        messages.handover(unit, tx, now),
        messages.result(unit, tx, now, [error, warning]),
        messages.result(unit, tx, now),
        messages.rejection([error, warning], now, unit, messages.Declared("612", text, text)),
        messages.rejection([], now),
        messages.rejection([error] * 150, now),
    ]


@pytest.fixture(scope="module")
def signer(pki: TestPKI) -> messages.MessageSigner:
    return messages.MessageSigner(pki.credential("bhxh"))


@pytest.mark.parametrize("text", NASTY)
@pytest.mark.parametrize("date_format", [messages.DATE_FORMAT, "%Y-%m-%d", "%d&%m<%Y"])
def test_sign_answer_is_sign_of_build(
    text: str, date_format: str, signer: messages.MessageSigner, pki: TestPKI
) -> None:
    for answer in _answers(text, NOW, files=2):
        signed = signer.sign_answer(answer, date_format)
        assert signed == signer.sign(messages.build(answer, date_format), answer.now)
        verify(signed, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store(), at=NOW)


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=40), files=st.integers(0, 3), year=st.integers(1, 9998))
def test_any_text_and_year_sign_alike(
    text: str, files: int, year: int, signer: messages.MessageSigner
) -> None:
    now = NOW.replace(year=year)
    for answer in _answers(text, now, files):
        assert signer.sign_answer(answer) == signer.sign(messages.build(answer), now)


def test_the_answer_is_signed_without_a_tree_unless_a_text_holds_an_attribute_look(
    signer: messages.MessageSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text is spliced as it is; only ``="`` (see ``canonical_form``) needs the tree."""
    parsed: list[str] = []
    parse = messages._parse

    def counted(document: str) -> object:
        parsed.append(document)
        return parse(document)

    monkeypatch.setattr(messages, "_parse", counted)
    answer = _answers("Đơn vị & <con>", NOW, files=2)[1]
    signer.sign_answer(answer)
    assert parsed == []
    signer.sign_answer(_answers('a="b"', NOW, files=1)[1])
    assert len(parsed) == 1
