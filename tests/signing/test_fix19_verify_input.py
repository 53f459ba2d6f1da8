"""``verify`` takes the document as received (bytes) or parsed; anything else is a
TypeError naming the fix, not lxml's "All strings must be XML compatible"."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.signing import TestPKI, TrustStore, sign, verify
from harness.xmlsafe import XMLRejected, parse_xml


@pytest.fixture
def signed_bytes(pki: TestPKI, form: etree._Element) -> bytes:
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    data: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return data


def test_bytes_verify_like_the_parsed_document(signed_bytes: bytes, trust: TrustStore) -> None:
    from_bytes = verify(signed_bytes, signature_parent="Cky", trust=trust)
    parsed = verify(parse_xml(signed_bytes), signature_parent="Cky", trust=trust)
    assert from_bytes == parsed


def test_a_tree_still_verifies(signed_bytes: bytes, trust: TrustStore) -> None:
    tree = parse_xml(signed_bytes).getroottree()
    assert verify(tree, signature_parent="Cky", trust=trust).serial


def test_tampered_bytes_are_still_a_signature_finding(
    signed_bytes: bytes, trust: TrustStore
) -> None:
    tampered = signed_bytes.replace("Tuyết".encode(), b"Tuyet")
    with pytest.raises(AssertionError, match="SIG-002"):  # SignatureInvalid
        verify(tampered, signature_parent="Cky", trust=trust)


def test_bytes_that_are_not_xml_say_so(trust: TrustStore) -> None:
    with pytest.raises(XMLRejected, match="XML-001"):
        verify(b"<BHXH><unclosed></BHXH>", signature_parent="Cky", trust=trust)


@pytest.mark.parametrize("document", ["<D02-TS/>", None, 42])
def test_anything_else_is_a_type_error_naming_parse_xml(
    document: object, trust: TrustStore
) -> None:
    with pytest.raises(TypeError, match=r"not (str|NoneType|int): .*harness\.xmlsafe\.parse_xml"):
        verify(document, signature_parent="Cky", trust=trust)  # type: ignore[arg-type, unused-ignore]
