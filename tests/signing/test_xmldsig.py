"""Sign/verify roundtrips and one real mutation per SIG code."""

from __future__ import annotations

import base64
import copy
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import CanonicalizationMethod
from signxml.signer import XMLSigner

from harness.errors import SignatureInvalid, UsageError
from harness.signing import Credential, TestPKI, TrustStore, sign, verify
from harness.signing._c14n import C14N_1_0, canonicalize
from harness.xmlsafe import HUGE_TEXT, parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
TRUSTED = ["unit", "ivan-IVAN01", "ivan-IVAN02", "bhxh", "bhxh-next"]


def codes(exc: pytest.ExceptionInfo[SignatureInvalid]) -> set[str]:
    return {f.code for f in exc.value.findings}


def reject(signed: etree._Element, trust: TrustStore, **kwargs: object) -> set[str]:
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust, **kwargs)  # type: ignore[arg-type]
    return codes(exc)


def reparse(element: etree._Element) -> etree._Element:
    """What the gateway receives: bytes on the wire, parsed again."""
    return etree.fromstring(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


# --- roundtrip and profile ---------------------------------------------------------------


@pytest.mark.parametrize("name", TRUSTED)
def test_roundtrip_for_every_trusted_signer(
    pki: TestPKI, trust: TrustStore, form: etree._Element, name: str
) -> None:
    credential = pki.credential(name)
    when = datetime.now(UTC) - timedelta(hours=1)
    signed = reparse(sign(form, credential, signature_parent="Cky", signing_time=when))
    before = etree.tostring(signed)

    result = verify(signed, signature_parent="Cky", trust=trust)

    assert etree.tostring(signed) == before  # verify works on a copy

    assert result.certificate == credential.certificate
    assert result.subject == credential.certificate.subject.rfc4514_string()
    assert result.serial == f"{credential.certificate.serial_number:X}"
    assert result.signing_time == when.replace(microsecond=0)
    assert result.warnings == []
    assert result.signature_id == "sigid"


def test_vietnamese_subject_and_content_survive(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    result = verify(signed, signature_parent="Cky", trust=trust)
    assert "CN=CÔNG TY TNHH THỬ NGHIỆM" in result.subject
    assert signed.findtext("NoiDung/LaoDong/HoTen") == "Nguyễn Thị Ánh Tuyết"


def test_sign_leaves_the_input_alone_and_follows_the_profile(
    pki: TestPKI, form: etree._Element
) -> None:
    before = etree.tostring(form)
    when = datetime(2025, 7, 1, 8, 30, tzinfo=UTC)
    signed = sign(form, pki.credential("unit"), signature_parent="Cky", signing_time=when)

    assert etree.tostring(form) == before
    assert signed[-1].tag == "Cky"  # created at the end of the root
    (sig,) = signed.findall("Cky/ds:Signature", NS)
    info = sig.find("ds:SignedInfo", NS)
    c14n_1_0 = CanonicalizationMethod.CANONICAL_XML_1_0.value
    assert info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == c14n_1_0
    assert info.find("ds:SignatureMethod", NS).get("Algorithm").endswith("#rsa-sha256")
    (reference,) = info.findall("ds:Reference", NS)
    assert reference.get("URI") == ""
    transforms = [t.get("Algorithm") for t in reference.iterfind("ds:Transforms/ds:Transform", NS)]
    assert transforms == [f"{DS}enveloped-signature", c14n_1_0]
    assert reference.find("ds:DigestMethod", NS).get("Algorithm").endswith("#sha256")
    der = base64.b64decode(sig.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", None, NS))
    assert x509.load_der_x509_certificate(der) == pki.credential("unit").certificate
    prop = sig.find("ds:Object/ds:SignatureProperties/ds:SignatureProperty", NS)
    assert prop.get("Target") == f"#{sig.get('Id')}"
    assert prop.findtext("ds:SigningTime", None, NS) == "2025-07-01T08:30:00Z"


def test_existing_and_nested_parents_are_used(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    etree.SubElement(form, "CKy_Dvi").text = "\n"
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="CKy_Dvi"))
    assert len(signed.findall("CKy_Dvi")) == 1
    verify(signed, signature_parent="CKy_Dvi", trust=trust)

    nested = reparse(sign(form, pki.credential("unit"), signature_parent="NoiDung/Cky"))
    assert nested.find("NoiDung/Cky/ds:Signature", NS) is not None
    verify(nested, signature_parent="NoiDung/Cky", trust=trust)


def test_namespaced_document_with_xml_lang(pki: TestPKI, trust: TrustStore) -> None:
    # Default namespace + xml:lang is where lxml's subtree C14N goes wrong (see _c14n.py).
    doc = etree.fromstring(
        b'<Hoso xmlns="urn:bhxh:hoso" xml:lang="vi"><NoiDung><TenDoiTuong>'
        b"C\xc3\x94NG TY</TenDoiTuong></NoiDung></Hoso>"
    )
    signed = reparse(sign(doc, pki.credential("unit"), signature_parent="CKy_Dvi"))
    assert signed.find("{urn:bhxh:hoso}CKy_Dvi/ds:Signature", NS) is not None
    verify(signed, signature_parent="CKy_Dvi", trust=trust)


def test_subtree_canonicalization_follows_c14n_1_0() -> None:
    # Inherited namespaces (used or not) and xml:* attributes land on the apex element,
    # and no xmlns="" appears below a default namespace (libxml2 2.14 gets both wrong).
    doc = etree.fromstring(
        b'<a xmlns:x="urn:x" xml:lang="vi"><S xmlns="urn:ds"><I><R><T/></R></I></S></a>'
    )
    apex = doc.find("{urn:ds}S/{urn:ds}I")
    assert canonicalize(apex, C14N_1_0) == (
        b'<I xmlns="urn:ds" xmlns:x="urn:x" xml:lang="vi"><R><T></T></R></I>'
    )


def test_sign_refuses_bad_requests(pki: TestPKI, form: etree._Element) -> None:
    with pytest.raises(UsageError, match="rsa-sha256"):
        sign(form, pki.credential("unit"), signature_parent="Cky", algorithm="md5")
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    with pytest.raises(UsageError, match="already holds a signature"):
        sign(signed, pki.credential("unit"), signature_parent="Cky")


# --- one mutation per code ---------------------------------------------------------------


def test_sig001_missing(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    assert reject(form, trust) == {"SIG-001"}
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="CKy_Dvi", trust=trust)
    (found,) = exc.value.findings
    assert (found.code, found.xpath) == ("SIG-001", "/D02-TS/CKy_Dvi")
    assert "Cky" in found.context["detail"]  # says where the signature actually is
    assert found.message_vi == "Thiếu chữ ký số"


def test_sig002_content_changed_after_signing(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    signed.find("NoiDung/LaoDong/TienLuong").text = "53100000"
    assert reject(signed, trust) == {"SIG-002"}


def test_sig002_even_for_whitespace(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    signed.find("NoiDung").tail += " "
    assert reject(signed, trust) == {"SIG-002"}


def test_sig003_signature_value_altered(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    value = signed.find("Cky/ds:Signature/ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    assert reject(signed, trust) == {"SIG-003"}


def test_sig003_key_swapped_in_keyinfo(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    # Signed by a foreign key, but presenting the trusted unit certificate.
    signed = reparse(sign(form, pki.credential("foreign"), signature_parent="Cky"))
    cert = signed.find("Cky/ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    cert.text = base64.b64encode(
        pki.credential("unit").certificate.public_bytes(Encoding.DER)
    ).decode()
    assert reject(signed, trust) == {"SIG-003"}


@pytest.mark.parametrize("name", ["foreign", "self-signed"])
def test_sig004_untrusted_issuer(
    pki: TestPKI, trust: TrustStore, form: etree._Element, name: str
) -> None:
    signed = reparse(sign(form, pki.credential(name), signature_parent="Cky"))
    assert reject(signed, trust) == {"SIG-004"}


def test_sig004_even_with_the_foreign_ca_in_keyinfo(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("foreign"), signature_parent="Cky"))
    x509_data = signed.find("Cky/ds:Signature/ds:KeyInfo/ds:X509Data", NS)
    ca = pki.authority("foreign-ca").certificate.public_bytes(Encoding.DER)
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = base64.b64encode(ca).decode()
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    (found,) = exc.value.findings
    assert found.code == "SIG-004"
    assert "no trusted CA" in found.context["detail"]
    assert "CÔNG TY NGOÀI HỆ THỐNG" in found.context["subject"]


def test_intermediate_may_come_from_keyinfo(pki: TestPKI, form: etree._Element) -> None:
    roots_only = TrustStore([pki.authority("root").certificate])
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    assert reject(signed, roots_only) == {"SIG-004"}
    x509_data = signed.find("Cky/ds:Signature/ds:KeyInfo/ds:X509Data", NS)
    issuing = pki.authority("issuing").certificate.public_bytes(Encoding.DER)
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = base64.b64encode(
        issuing
    ).decode()
    result = verify(signed, signature_parent="Cky", trust=roots_only)
    assert result.certificate == pki.credential("unit").certificate


def test_sig004_impostor_ca_with_the_issuing_ca_name(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    # Same issuer DN as the real issuing CA, different key: names alone must not suffice.
    real = pki.authority("issuing").certificate
    impostor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = pki.credential("unit").certificate
    forged = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(real.subject)
        .public_key(pki.credential("unit").private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf.not_valid_before_utc)
        .not_valid_after(leaf.not_valid_after_utc)
        .sign(impostor_key, hashes.SHA256())
    )
    credential = Credential("forged", pki.credential("unit").private_key, forged, b"")
    signed = reparse(sign(form, credential, signature_parent="Cky"))
    assert reject(signed, trust) == {"SIG-004"}


def test_sig005_expired_certificate(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    signed = reparse(sign(form, pki.credential("unit-expired"), signature_parent="Cky"))
    assert reject(signed, trust) == {"SIG-005"}


def test_sig005_gives_the_validity_period_as_values_not_an_english_sentence(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    """The finding reads the same under --lang vi: dates and names, no English text."""
    expired = pki.credential("unit-expired").certificate
    signed = reparse(sign(form, pki.credential("unit-expired"), signature_parent="Cky"))
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    (found,) = [f for f in exc.value.findings if f.code == "SIG-005"]
    assert "detail" not in found.context
    assert found.context["valid_to"] == expired.not_valid_after_utc.isoformat()
    assert found.context["valid_from"] == expired.not_valid_before_utc.isoformat()
    assert found.context["subject"] == expired.subject.rfc4514_string()
    assert found.context["signed_at"] > found.context["valid_to"]


def test_sig005_uses_signing_time_not_verification_time(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    expired = pki.credential("unit-expired").certificate
    inside = expired.not_valid_after_utc - timedelta(days=10)
    signed = sign(form, pki.credential("unit-expired"), signature_parent="Cky", signing_time=inside)
    assert verify(signed, signature_parent="Cky", trust=trust).signing_time == inside

    future = datetime.now(UTC) + timedelta(days=3 * 365)
    signed = sign(form, pki.credential("unit"), signature_parent="Cky", signing_time=future)
    assert reject(signed, trust) == {"SIG-005"}


def test_sig005_without_signing_time_uses_at(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    obj = signed.find("Cky/ds:Signature/ds:Object", NS)
    obj.getparent().remove(obj)  # the Object is not signed, so this keeps the signature valid
    assert verify(signed, signature_parent="Cky", trust=trust).signing_time is None
    later = datetime.now(UTC) + timedelta(days=3 * 365)
    assert reject(signed, trust, at=later) == {"SIG-005"}


def test_sig006_revoked_certificate(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    signed = reparse(sign(form, pki.credential("unit-revoked"), signature_parent="Cky"))
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    (found,) = exc.value.findings
    assert found.code == "SIG-006"
    assert found.context["reason"] == "keyCompromise"
    revoked_at = datetime.fromisoformat(found.context["revoked_at"])
    before = revoked_at - timedelta(minutes=5)
    signed_before = sign(
        form, pki.credential("unit-revoked"), signature_parent="Cky", signing_time=before
    )
    verify(signed_before, signature_parent="Cky", trust=trust, at=before)


def test_sig007_sha1_rejected_unless_allowed(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(
        sign(form, pki.credential("unit"), signature_parent="Cky", algorithm="rsa-sha1")
    )
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    assert codes(exc) == {"SIG-007"}
    assert {f.xpath.rsplit("/", 1)[1] for f in exc.value.findings} == {
        "ds:SignatureMethod",
        "ds:DigestMethod",
    }
    result = verify(signed, signature_parent="Cky", trust=trust, allow_sha1=True)
    assert result.algorithm == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


def _signxml_reference_to(form: etree._Element, credential: Credential) -> etree._Element:
    """A valid, trusted signature that covers only one element (``URI="#noidung"``)."""
    form.find("NoiDung").set("Id", "noidung")
    etree.SubElement(etree.SubElement(form, "Cky"), f"{{{DS}}}Signature", Id="placeholder")
    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0)
    return signer.sign(
        form,
        key=credential.private_key,
        cert=[credential.certificate],
        reference_uri="#noidung",
    )


def test_sig008_reference_to_an_id(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    signed = reparse(_signxml_reference_to(form, pki.credential("unit")))
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    assert codes(exc) == {"SIG-008"}
    assert exc.value.findings[0].context["uri"] == "#noidung"


def test_sig008_wrapping_with_a_second_signature(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    other = reparse(sign(form, pki.credential("foreign"), signature_parent="Cky"))
    cky = signed.find("Cky")
    cky.insert(0, copy.deepcopy(other.find("Cky/ds:Signature", NS)))
    assert reject(signed, trust) == {"SIG-008"}


def test_sig008_wrapping_with_a_duplicate_parent(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    signed.insert(0, copy.deepcopy(signed.find("Cky")))
    assert reject(signed, trust) == {"SIG-008"}


def test_sig008_signature_hidden_in_object(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    hidden = copy.deepcopy(signed.find("Cky/ds:Signature", NS))
    signed.find("Cky/ds:Signature/ds:Object", NS).append(hidden)
    assert reject(signed, trust) == {"SIG-008"}


def test_sig009_malformed(pki: TestPKI, trust: TrustStore, form: etree._Element) -> None:
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky"))
    for path, mutate in [
        ("Cky/ds:Signature/ds:SignedInfo", lambda e: e.getparent().remove(e)),
        ("Cky/ds:Signature/ds:SignatureValue", lambda e: setattr(e, "text", "không phải base64")),
        ("Cky/ds:Signature/ds:KeyInfo", lambda e: e.getparent().remove(e)),
        (".//ds:X509Certificate", lambda e: setattr(e, "text", "QUJD")),
        (".//ds:SigningTime", lambda e: setattr(e, "text", "25/11/2026 10:00")),
    ]:
        broken = copy.deepcopy(signed)
        mutate(broken.find(path, NS))
        assert reject(broken, trust) == {"SIG-009"}, path


def test_sig101_guid_id_with_sigid_target(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    guid = str(uuid.uuid4())
    signed = reparse(sign(form, pki.credential("unit"), signature_parent="Cky", signature_id=guid))
    signed.find(".//ds:SignatureProperty", NS).set("Target", "#sigid")

    result = verify(signed, signature_parent="Cky", trust=trust)

    assert result.signature_id == guid
    (warning,) = result.warnings
    assert (warning.code, warning.severity) == ("SIG-101", "warning")
    assert warning.context == {"target": "#sigid", "signature_id": guid}


def test_several_problems_are_all_reported(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = reparse(sign(form, pki.credential("unit-expired"), signature_parent="Cky"))
    signed.find("NoiDung/LaoDong/HoTen").text = "Người Khác"
    assert reject(signed, trust) == {"SIG-002", "SIG-005"}


@pytest.mark.skipif(not HUGE_TEXT, reason="libxml2 before 2.12 keeps its 10 MB text limit")
def test_a_form_with_a_text_node_over_10_mb_is_signed_and_verified(pki: TestPKI) -> None:
    form = etree.Element("ToKhai")
    etree.SubElement(form, "GhiChu").text = "Nguyễn " * 1_600_000  # 12.8 MB in UTF-8
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    received = parse_xml(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    assert verify(received, signature_parent="Cky", trust=pki.trust_store()).subject
