"""``verify`` on the document shapes its shortcuts depend on.

Canonical SignedInfo takes one of three routes (libxml2's subtree C14N, a deep copy, or
the subtree serialised and re-parsed) and each must give what the plain route gives; the
document's digest is taken on a copy, so the caller's tree stays exactly as it was.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from harness.errors import SignatureInvalid
from harness.signing import ALGORITHMS, TestPKI, TrustStore, sign, verify
from harness.signing._c14n import C14N_1_0, canonicalize
from harness.signing.xmldsig import _Signer
from harness.xmlsafe import HUGE_TEXT, parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
XML_NS = "{http://www.w3.org/XML/1998/namespace}"
C14N_ALGORITHMS = [m.value for m in CanonicalizationMethod]


def reparse(element: etree._Element) -> etree._Element:
    return parse_xml(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


def codes(document: Any, trust: TrustStore, **kwargs: Any) -> set[str]:
    try:
        verify(document, signature_parent="Cky", trust=trust, **kwargs)
    except SignatureInvalid as exc:
        return {f.code for f in exc.findings}
    return set()


def signed_with_default_ds(pki: TestPKI, document: str) -> bytes:
    """``document`` signed the way .NET and xmlsec1 sign: ``<Signature xmlns="…dsig#">``."""
    root = etree.fromstring(document.encode())
    cky = etree.SubElement(root, "Cky")
    # signxml puts its signature in place of the one with Id="placeholder"
    etree.SubElement(cky, f"{{{DS}}}Signature", Id="placeholder", nsmap={None: DS})
    signer = _Signer(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signer.namespaces = {None: DS}  # type: ignore[dict-item]  # signxml accepts a default
    credential = pki.credential("unit")
    signed = signer.sign(root, key=credential.private_key, cert=[credential.certificate])
    return bytes(etree.tostring(signed))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_verifies_and_its_digest_sees_a_change(
    pki: TestPKI, trust: TrustStore, form: etree._Element, algorithm: str
) -> None:
    signed = reparse(
        sign(form, pki.credential("unit"), signature_parent="Cky", algorithm=algorithm)
    )
    sha1 = algorithm == "rsa-sha1"
    result = verify(signed, signature_parent="Cky", trust=trust, allow_sha1=sha1)
    assert result.algorithm == ALGORITHMS[algorithm][0].value
    signed.find("NoiDung/LaoDong/TienLuong").text = "1"
    assert codes(signed, trust, allow_sha1=sha1) == {"SIG-002"}


def test_a_tree_where_moving_the_signature_renames_prefixes_is_left_alone(
    pki: TestPKI, trust: TrustStore
) -> None:
    """The root declares ``ds:`` and the signature the same namespace as default: taking the
    signature out of the tree and back in (instead of copying) makes lxml rewrite it to
    ``ds:`` prefixes, and the next verification of the same tree fails SIG-003."""
    body = signed_with_default_ds(
        pki, f'<D02-TS xmlns:ds="{DS}"><NoiDung>Nguyễn</NoiDung></D02-TS>'
    )
    document = parse_xml(body)
    assert codes(document, trust) == set()
    assert etree.tostring(document) == etree.tostring(parse_xml(body))
    assert codes(document, trust) == set()


@pytest.mark.parametrize(
    ("before", "after", "found"),
    [
        ("<!-- xuất từ phần mềm kê khai -->", "<!-- hết -->", set()),
        ('<?xml-stylesheet href="to-khai.xsl"?>', "", {"SIG-002"}),  # PIs are in the octets
    ],
    ids=["comments", "processing-instruction"],
)
def test_what_surrounds_the_root_counts_as_the_document_does(
    pki: TestPKI, trust: TrustStore, form: etree._Element, before: str, after: str, found: set[str]
) -> None:
    signed = etree.tostring(sign(form, pki.credential("unit"), signature_parent="Cky"))
    body = f"<?xml version='1.0' encoding='UTF-8'?>\n{before}\n".encode() + signed
    document = parse_xml(body + f"\n{after}".encode())
    before_verify = etree.tostring(document.getroottree())
    assert codes(document, trust) == found
    assert etree.tostring(document.getroottree()) == before_verify


def test_a_signed_document_inside_another_is_checked_as_itself(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = sign(form, pki.credential("unit"), signature_parent="Cky")
    wrapper = parse_xml(b"<GoiTin><Ma>1</Ma>" + etree.tostring(signed) + b"</GoiTin>")
    inner = wrapper[1]
    before = etree.tostring(wrapper)
    assert codes(inner, trust) == set()
    inner.find("NoiDung/LaoDong/HoTen").text = "Người Khác"
    assert codes(inner, trust) == {"SIG-002"}
    inner.find("NoiDung/LaoDong/HoTen").text = "Nguyễn Thị Ánh Tuyết"
    assert etree.tostring(wrapper) == before


@pytest.mark.skipif(not HUGE_TEXT, reason="libxml2 before 2.12 keeps its 10 MB text limit")
@pytest.mark.parametrize("shape", ["ds prefix", "ds default", "form namespace"])
def test_a_signed_info_over_10_mb_is_a_finding_not_a_parser_error(
    pki: TestPKI, trust: TrustStore, shape: str
) -> None:
    """Each of the three routes to canonical SignedInfo: the re-parse used to refuse the
    text node that :func:`parse_xml` had accepted, and ``verify`` raised XMLSyntaxError."""
    if shape == "ds default":
        body = signed_with_default_ds(pki, "<D02-TS><NoiDung>Nguyễn</NoiDung></D02-TS>")
    else:
        xmlns = ' xmlns="urn:bhxh:d02"' if shape == "form namespace" else ""
        form = etree.fromstring(f"<D02-TS{xmlns}><NoiDung>Nguyễn</NoiDung></D02-TS>".encode())
        body = etree.tostring(sign(form, pki.credential("unit"), signature_parent="Cky"))
    document = parse_xml(body)
    signed_info = document.find(".//ds:SignedInfo", NS)
    etree.SubElement(signed_info, f"{{{DS}}}GhiChu").text = "A" * 10_500_000
    assert codes(parse_xml(etree.tostring(document)), trust) == {"SIG-003"}


def test_a_prefixed_subtree_still_inherits_xml_attributes() -> None:
    """No default namespace, so no copy; ``xml:lang`` must still reach the apex."""
    doc = etree.fromstring(
        b'<a xml:lang="vi"><ds:S xmlns:ds="urn:ds" Id="s"><ds:I><ds:R/></ds:I></ds:S></a>'
    )
    apex = doc.find("{urn:ds}S/{urn:ds}I")
    assert canonicalize(apex, C14N_1_0) == (
        b'<ds:I xmlns:ds="urn:ds" xml:lang="vi"><ds:R></ds:R></ds:I>'
    )


def _plain_route(element: etree._Element, algorithm: str) -> bytes:
    """Canonical form the obvious way: serialise, re-parse, add inherited ``xml:*``."""
    copy = etree.fromstring(etree.tostring(element, with_tail=False))
    exclusive = "exc-c14n" in algorithm
    if not exclusive:
        for ancestor in element.iterancestors():
            for name, value in ancestor.attrib.items():
                if name.startswith(XML_NS) and name not in copy.attrib:
                    copy.set(name, value)
    with_comments = algorithm.endswith("#WithComments")
    return bytes(
        etree.tostring(copy, method="c14n", exclusive=exclusive, with_comments=with_comments)
    )


URIS = ["urn:a", "urn:b", DS]


def _random_element(rng: random.Random, depth: int, parent: Any) -> Any:
    """A random subtree under ``parent``: mixes of the cases libxml2's subtree C14N gets
    wrong (default namespaces, ``xml:*``) and those the shortcuts must keep."""
    nsmap = {
        rng.choice(["a", "b", "ds", None]): rng.choice(URIS)
        for _ in range(rng.choice([0, 0, 1, 2]))
    }
    scope = {**(parent.nsmap if parent is not None else {}), **nsmap}
    uri = rng.choice([None, *scope.values()])
    tag = f"{{{uri}}}e{rng.randint(0, 2)}" if uri else f"e{rng.randint(0, 2)}"
    element = (
        etree.Element(tag, nsmap=nsmap)
        if parent is None
        else etree.SubElement(parent, tag, nsmap=nsmap)
    )
    for _ in range(rng.choice([0, 1, 2])):
        attribute_uri = rng.choice([None, None, *scope.values()])
        name = f"t{rng.randint(0, 2)}"
        element.set(
            f"{{{attribute_uri}}}{name}" if attribute_uri else name,
            rng.choice(["v", "a\tb\r\n", "<&>\"'", "Việt"]),
        )
    if rng.random() < 0.15:
        element.set(f"{XML_NS}{rng.choice(['lang', 'space'])}", rng.choice(["vi", "en"]))
    if rng.random() < 0.5:
        element.text = rng.choice(["x", " \r\n ", "<&>", "Đ"])
    if rng.random() < 0.3:
        element.tail = rng.choice(["t", "\n  "])
    for _ in range(rng.choice([0, 1, 2, 3]) if depth else 0):
        kind = rng.random()
        if kind < 0.1:
            element.append(etree.Comment("c<>"))
        elif kind < 0.2:
            element.append(etree.ProcessingInstruction("pi", "d<>"))
        else:
            _random_element(rng, depth - 1, element)
    return element


def test_every_route_to_a_canonical_subtree_agrees_with_the_plain_one() -> None:
    """Generated subtrees: default namespaces inherited or not, prefixes redeclared,
    namespaced attributes, ``xml:*`` on ancestors, comments, PIs, CR and tabs."""
    rng = random.Random(20241)
    compared = 0
    for _ in range(250):
        root = _random_element(rng, 4, None)
        root.tail = None
        try:
            document = etree.fromstring(etree.tostring(root))
        except etree.XMLSyntaxError:  # one prefix bound twice for one attribute name
            continue
        for element in document.iter(etree.Element):
            if element.getparent() is None:
                continue
            for algorithm in C14N_ALGORITHMS:
                assert canonicalize(element, algorithm) == _plain_route(element, algorithm), (
                    etree.tostring(document),
                    etree.tostring(element, with_tail=False),
                    algorithm,
                )
                compared += 1
    assert compared > 1000


def test_a_repeated_enveloped_transform_is_a_finding_not_a_crash(pki: TestPKI) -> None:
    """A second enveloped-signature transform has nothing left to remove; it raised
    AttributeError, which the gateway answered 500 SRV-002 (a client's mistake)."""
    signed = sign(etree.fromstring(b"<Doc><A>1</A><Cky/></Doc>"), pki.credential("unit"),
                  signature_parent="Cky")  # fmt: skip
    transforms = signed.find(
        f"Cky/{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}Transforms"
    )
    transforms.insert(1, copy.deepcopy(transforms[0]))
    with pytest.raises(SignatureInvalid) as raised:
        verify(signed, signature_parent="Cky", trust=pki.trust_store())
    assert [f.code for f in raised.value.findings] == ["SIG-003"]
