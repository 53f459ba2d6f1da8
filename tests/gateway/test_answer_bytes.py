"""BHXH's answers are the same bytes as when every element was built and signed one by one.

``messages.build`` writes the document as text and parses it, ``MessageSigner.sign``
splices TTCKY and the Signature into one serialisation, and ``sign_answer`` (what the
gateway calls: the receipt is hot path) does both without a tree. All are compared here,
byte for byte, with the element-by-element way they replaced (kept below as the
reference), on hostile texts: ``&``, ``<``, ``]]>``, CR, control characters, lone
surrogates, NFD Vietnamese, a combining mark first, ``%`` formats, a text that looks like
the document's own end. RSA PKCS#1 v1.5 is deterministic, so equal inputs give equal
signatures.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from harness.errors import Finding
from harness.signing import Credential, TestPKI, verify
from mock_gateway import messages
from mock_gateway.answer_signer import MessageSigner
from mock_gateway.signer import canonical_form

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
NOW = datetime(2026, 11, 27, 18, 25, 51, 996742, tzinfo=UTC)
NASTY = [
    "",
    "A & B < C > D ]]> E",
    "dòng 1\r\ndòng 2\rdòng 3\n",
    "\x00\x01\x08\x0b\x0c\x1f\x7f",
    "\ud800 \udfff \ufffe \uffff",
    "Nguye\u0302\u0303n Thi\u0323 A\u0301nh",  # NFD
    "\u0338 first, then <\u0338 and >\u0338",  # combining marks that compose with < or >
    "&amp; &#13; &lt; <![CDATA[x]]> <!-- c --> <?pi x?>",
    'a="b" /> \t tab',
    "𝒳 astral 😀",
    "CÔNG TY TNHH SẢN XUẤT THÀNH CÔNG",
    "\x85\x9f \u2028 \u00a0",
    "%s %(x)s %d",  # the templates are %-formatted: a text must not be read as a slot
    "</TTCKY_BHXH></XACNHAN_GDICH></BHXH>",  # where the signature is spliced in
]
TEXTS = st.sampled_from(NASTY) | st.text(max_size=30)


# -- the reference: every element built one by one, signed on the tree ----------------


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, tag)
    node.text = messages.xml_text(text) if text else ""
    return node


def reference_build(
    answer: messages.Answer, date_format: str = messages.DATE_FORMAT
) -> etree._Element:
    now = answer.now.astimezone(messages.VN_TIME)
    root = etree.Element("BHXH")
    xn = _sub(root, "XACNHAN_GDICH")
    _sub(xn, "MOI_TRUONG", messages.ENVIRONMENT)
    kinds = {"receipt": "XACNHAN_NOP", "error": "TU_CHOI"}  # else 02/TB-TS, 03/TB-TS
    _sub(xn, "LOAI_TBAO", kinds.get(answer.kind, answer.kind))
    dvi = _sub(xn, "TTDVI")
    unit = answer.unit
    for tag, text in (("TEN_DVI", unit.ten), ("MA_DVI", unit.ma_dvi), ("MST", unit.mst)):
        _sub(dvi, tag, text)
    _sub(dvi, "TEN_COQUAN", f"BHXH mã {unit.co_quan}" if unit.co_quan else "")
    _sub(dvi, "DIADIEM", unit.co_quan)
    _sub(dvi, "NGAY_THONGBAO", now.strftime(date_format))
    tx = answer.transaction
    gd = _sub(xn, "TTGDICH")
    received = tx.received_at.astimezone(messages.VN_TIME) if tx is not None else None
    first = next((f for f in answer.findings if f.severity == "error"), None)
    about = answer.about()
    _sub(gd, "SO_HSO", tx.so_hso if tx is not None else None)
    _sub(gd, "TEN_GDICH", about.procedure_name)
    _sub(gd, "MALOAI_HSO", about.procedure)
    _sub(gd, "NGAY_GDICH", now.strftime(date_format))
    _sub(gd, "KY_KKHAI", about.period)
    _sub(gd, "MA_GDICH", tx.ma_gdich if tx is not None else None)
    _sub(gd, "MA_KQUA", answer.ma_kqua)
    _sub(gd, "KQUA", answer.kqua)
    _sub(gd, "MA_LOI", first.code if first is not None else None)
    _sub(gd, "MOTA_LOI", first.message_vi if first is not None else None)
    _sub(gd, "GIO_NHAN", received.strftime("%H:%M:%S") if received is not None else None)
    _sub(gd, "NGAY_NHAN", received.strftime(date_format) if received is not None else None)
    _sub(gd, "NGAY_TRA", answer.ngay_tra.strftime(date_format) if answer.ngay_tra else None)
    ct = _sub(gd, "CTIET_GDICH")
    for index, (name, description) in enumerate(tx.files if tx is not None else (), 1):
        row = _sub(ct, "ROW_CTIET")
        _sub(row, "STT", str(index))
        _sub(row, "TEN_HSO", f"{description} ({name})")
        _sub(row, "SO_LUONG", "1")
    if answer.findings:
        ds = _sub(gd, "DS_LOI")
        for f in messages.listed(answer.findings):
            loi = _sub(ds, "LOI")
            _sub(loi, "MA_LOI", f.code)
            _sub(loi, "MUC_DO", f.severity)
            _sub(loi, "XPATH", f.xpath)
            if "file" in f.context:
                _sub(loi, "TEP", f.context["file"])
            _sub(loi, "MOTA_VI", f.message_vi)
            _sub(loi, "MOTA_EN", f.message_en)
            if f.detail:
                _sub(loi, "CHI_TIET", f.detail)
    _sub(xn, "TTCKY_BHXH")
    return root


def _ds(parent: etree._Element, tag: str, **attrib: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{DS}}}{tag}", attrib)


def reference_sign(root: etree._Element, credential: Credential, now: datetime) -> bytes:
    parent = root.find(messages.SIGNATURE_PARENT)
    assert parent is not None
    when = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ttcky = _sub(parent, "TTCKY")
    _sub(ttcky, "SUBJECT", credential.certificate.subject.rfc4514_string())
    _sub(ttcky, "SERIAL", format(credential.certificate.serial_number, "X"))
    _sub(ttcky, "TIME", when)
    canonical = etree.tostring(root.getroottree(), method="c14n", with_comments=False)
    digest = hashlib.sha256(canonical).digest()
    signed_info = etree.Element(f"{{{DS}}}SignedInfo", nsmap={"ds": DS})
    _ds(signed_info, "CanonicalizationMethod", Algorithm=C14N)
    _ds(
        signed_info,
        "SignatureMethod",
        Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )
    reference = _ds(signed_info, "Reference", URI="")
    transforms = _ds(reference, "Transforms")
    _ds(transforms, "Transform", Algorithm=f"{DS}enveloped-signature")
    _ds(transforms, "Transform", Algorithm=C14N)
    _ds(reference, "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    _ds(reference, "DigestValue").text = base64.b64encode(digest).decode()
    value = credential.private_key.sign(
        etree.tostring(signed_info, method="c14n"), padding.PKCS1v15(), hashes.SHA256()
    )
    signature = etree.SubElement(parent, f"{{{DS}}}Signature", Id="sigid", nsmap={"ds": DS})
    signature.append(signed_info)
    _ds(signature, "SignatureValue").text = base64.b64encode(value).decode()
    cert = credential.certificate.public_bytes(Encoding.DER)
    _ds(_ds(_ds(signature, "KeyInfo"), "X509Data"), "X509Certificate").text = base64.b64encode(
        cert
    ).decode()
    properties = _ds(_ds(signature, "Object"), "SignatureProperties")
    _ds(_ds(properties, "SignatureProperty", Target="#sigid"), "SigningTime").text = when
    root.addprevious(etree.Comment(messages.TEST_NOTICE))
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))


# -- answers ----------------------------------------------------------------------------


def _finding(text: str, severity: str = "error", file: str | None = None) -> Finding:
    context = {"value": text} | ({"file": file} if file is not None else {})
    return Finding("RULE-102", f"/Row[1]/{text[:3]}", f"Lỗi: {text}", text, severity, context)


def _answers(text: str, now: datetime, files: int = 1) -> list[messages.Answer]:
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
    findings = [_finding(text), _finding(text, "warning", file=text)]
    return [
        messages.receipt(unit, messages.Transaction.from_summary("M1", now, {}, None), (), now),
        messages.receipt(unit, tx, findings[1:], now),
        messages.handover(unit, tx, now, 10),
        messages.result(unit, tx, now, findings),
        messages.result(unit, tx, now),
        messages.rejection(findings, now, unit, messages.Declared("612", text, text)),
        messages.rejection([], now),
    ]


@pytest.fixture(scope="module")
def credential(pki: TestPKI) -> Credential:
    return pki.credential("bhxh")


@pytest.fixture(scope="module")
def signer(credential: Credential) -> MessageSigner:
    return MessageSigner(credential)


def _same(
    answer: messages.Answer,
    signer: MessageSigner,
    credential: Credential,
    date_format: str = messages.DATE_FORMAT,
) -> bytes:
    built = messages.build(answer, date_format)
    reference = reference_build(answer, date_format)
    assert [e.text for e in built.iter()] == [e.text for e in reference.iter()]
    assert etree.tostring(built, encoding="UTF-8") == etree.tostring(reference, encoding="UTF-8")
    signed = signer.sign(built, answer.now)
    assert signed == reference_sign(reference, credential, answer.now)
    assert signer.sign_answer(answer, date_format) == signed
    return signed


@pytest.mark.parametrize("text", NASTY)
def test_every_answer_is_the_reference_bytes_and_verifies(
    text: str, signer: MessageSigner, credential: Credential, pki: TestPKI
) -> None:
    for answer in _answers(text, NOW, files=2):
        signed = _same(answer, signer, credential)
        verify(signed, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store(), at=NOW)
        assert etree.fromstring(signed).findtext("XACNHAN_GDICH/MOI_TRUONG") == "THU_NGHIEM"


@pytest.mark.parametrize("date_format", ["%Y-%m-%d", "%d&%m<%Y", "%H:%M %d/%m/%Y"])
def test_a_release_s_own_date_format_is_escaped(
    date_format: str, signer: MessageSigner, credential: Credential
) -> None:
    for answer in _answers("A & B", NOW):
        _same(answer, signer, credential, date_format)


@pytest.mark.parametrize("year", [1, 999, 1000, 2200, 9998])
def test_years_outside_the_clock_are_written_as_strftime_writes_them(
    year: int, signer: MessageSigner, credential: Credential
) -> None:
    now = datetime(year, 3, 4, 5, 6, 7, tzinfo=UTC)
    for answer in _answers("x", now, files=0):
        _same(answer, signer, credential)
    tx = messages.Transaction("M", "612", "p", "1", now)
    handover = messages.Answer("02/TB-TS", now, "0", "k", transaction=tx, ngay_tra=date(year, 1, 2))
    _same(handover, signer, credential)


def test_over_a_hundred_findings_are_capped_as_before(
    signer: MessageSigner, credential: Credential
) -> None:
    many = [_finding(f"{i} & <{i}>") for i in range(250)]
    _same(messages.rejection(many, NOW), signer, credential)


@settings(max_examples=60)
@given(text=TEXTS, more=TEXTS, files=st.integers(0, 3))
def test_any_text_gives_the_reference_bytes(
    text: str, more: str, files: int, signer: MessageSigner, credential: Credential
) -> None:
    for answer in _answers(text + more, NOW, files):
        _same(answer, signer, credential)


CHANGES: list[tuple[Callable[[etree._Element], object], bool]] = [
    # (change, whether the document still verifies), each signed by the tree path
    (lambda root: root.addprevious(etree.Comment("beside the root")), True),
    (lambda root: root[0][2].set("attribute", "value"), True),
    (lambda root: root[0].addnext(etree.Element("AFTER")), True),
    (lambda root: setattr(root[0][2][0], "text", 'a="b"'), True),  # looks like an attribute
    (lambda root: setattr(root[0][2][1], "text", None), True),  # <MA_DVI/>
    # The declared C14N takes a PI beside the root and drops comments: the tree path
    # digested the root alone with its comments, and these two never verified.
    (lambda root: root.addnext(etree.ProcessingInstruction("after", "the root")), True),
    (lambda root: root[0][2].append(etree.Comment("inside")), True),
    # The verifier refuses a second TTCKY_BHXH (which one is signed?). build writes none.
    (lambda root: etree.SubElement(root[0], "TTCKY_BHXH"), False),  # a second one, last
]


@pytest.mark.parametrize(("change", "verifies"), CHANGES)
def test_documents_unlike_build_s_are_signed_as_declared(
    change: Callable[[etree._Element], object],
    verifies: bool,
    signer: MessageSigner,
    credential: Credential,
    pki: TestPKI,
) -> None:
    answer = _answers("Đơn vị", NOW)[1]
    built = messages.build(answer)
    expected = reference_build(answer)
    change(built)
    change(expected)
    signed = signer.sign(built, NOW)
    assert signed == reference_sign(expected, credential, NOW)
    if verifies:
        verify(signed, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store(), at=NOW)


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=40), files=st.integers(0, 3), year=st.integers(1, 9998))
def test_any_text_and_year_sign_alike_with_or_without_the_tree(
    text: str, files: int, year: int, signer: MessageSigner
) -> None:
    now = NOW.replace(year=year)
    for answer in _answers(text, now, files):
        assert signer.sign_answer(answer) == signer.sign(messages.build(answer), now)


def test_the_answer_is_signed_without_a_tree_unless_a_text_holds_an_attribute_look(
    signer: MessageSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sign_answer`` splices the text as it is; only ``="`` (see ``canonical_form``)
    needs the tree."""
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


def test_build_s_answers_are_signed_as_bytes(
    signer: MessageSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path is taken for every answer build makes (unless a text holds ``="``)."""

    def tree(*_args: object) -> bytes:
        raise AssertionError("the tree path was taken")

    monkeypatch.setattr(MessageSigner, "_sign_tree", tree)
    for text in NASTY:
        for answer in _answers(text.replace('="', "= "), NOW, files=2):
            signer.sign(messages.build(answer), NOW)


def test_a_bare_document_is_signed_as_before(signer: MessageSigner, credential: Credential) -> None:
    bare = b"<BHXH><XACNHAN_GDICH><TTCKY_BHXH/></XACNHAN_GDICH></BHXH>"
    signed = signer.sign(etree.fromstring(bare), NOW)
    assert signed == reference_sign(etree.fromstring(bare), credential, NOW)
    with pytest.raises(ValueError, match="TTCKY_BHXH"):
        signer.sign(etree.fromstring(b"<BHXH><XACNHAN_GDICH/></BHXH>"), NOW)


@settings(max_examples=80)
@given(texts=st.lists(TEXTS, min_size=1, max_size=4), unset=st.booleans())
def test_canonical_form_is_c14n_or_none(texts: list[str], unset: bool) -> None:
    root = etree.Element("R")
    for text in texts:
        node = etree.SubElement(root, "T")
        node.text = messages.xml_text(text) if text or not unset else None  # None: <T/>
        node.tail = messages.xml_text(text[::-1])
    canonical = canonical_form(etree.tostring(root.getroottree(), encoding="UTF-8"))
    if canonical is not None:
        assert canonical == etree.tostring(root, method="c14n")
