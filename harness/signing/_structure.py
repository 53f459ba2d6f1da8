"""Read a ds:Signature into plain values and check it against the BHXH profile.

These checks run before any cryptography so that a signature which is missing, in the
wrong place, malformed, made with a forbidden algorithm or not covering the whole
document is reported as exactly that. Generic XMLDSig verifiers would accept some of
these (a ``#id`` reference is valid XMLDSig, and the root of signature-wrapping attacks)
or fail them all with one undifferentiated exception.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

from cryptography import x509
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from harness.error_codes import finding
from harness.errors import Finding, SignatureInvalid, UsageError
from harness.signing._c14n import C14N_URIS

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
SIGNATURE = f"{{{DS}}}Signature"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_EC = "http://www.w3.org/2001/10/xml-exc-c14n#"

ALLOWED_SIGNATURE = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
)
ALLOWED_DIGEST = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})


_WITH_SHA1 = (
    frozenset(m.value for m in ALLOWED_SIGNATURE | {SignatureMethod.RSA_SHA1}),
    frozenset(d.value for d in ALLOWED_DIGEST | {DigestAlgorithm.SHA1}),
)
_WITHOUT_SHA1 = (
    frozenset(m.value for m in ALLOWED_SIGNATURE),
    frozenset(d.value for d in ALLOWED_DIGEST),
)


def allowed_algorithms(allow_sha1: bool) -> tuple[frozenset[str], frozenset[str]]:
    """URIs of the signature and digest algorithms a verifier accepts (RSA with SHA-2,
    SHA-1 on request); built once, as they are consulted for every signature."""
    return _WITH_SHA1 if allow_sha1 else _WITHOUT_SHA1


@dataclass
class ParsedSignature:
    """A located, well-formed, profile-conforming signature, read into plain values."""

    element: Any  # the ds:Signature element (lxml)
    xpath: str
    signed_info: Any
    c14n: tuple[str, list[str] | None]  # SignedInfo's algorithm and exclusive prefix list
    method: SignatureMethod
    value: bytes
    digest_method: DigestAlgorithm
    digest_value: bytes
    transforms: list[tuple[str, list[str] | None]]
    signature_id: str | None
    signing_time: datetime | None
    certificates: list[x509.Certificate]
    warnings: list[Finding] = field(default_factory=list)

    @cached_property
    def leaf(self) -> x509.Certificate:
        """The signer's certificate: the one in KeyInfo that issued none of the others."""
        return leaf_of(self.certificates)

    @property
    def others(self) -> list[x509.Certificate]:
        """Further certificates from KeyInfo, usable as untrusted chain links."""
        leaf = self.leaf
        return [c for c in self.certificates if c is not leaf]


def leaf_of(certificates: list[x509.Certificate]) -> x509.Certificate:
    """Of a KeyInfo's certificates (not empty), the one that issued none of the others:
    the signer's (KeyInfo may carry its CA too)."""
    if len(certificates) == 1:  # the usual case; comparing names is costly
        return certificates[0]
    issuers = {c.issuer for c in certificates if c.issuer != c.subject}
    for cert in certificates:
        if cert.subject not in issuers:
            return cert
    return certificates[0]


def keyinfo_signer(root: Any, signature_parent: str) -> x509.Certificate | None:
    """The certificate that made the signature under ``signature_parent`` as its KeyInfo
    says, whether or not the signature holds; None when there is no one signature there
    or its KeyInfo holds no readable certificate (its check says why)."""
    parents = find_children(root, signature_parent)
    signatures = [c for c in parents[0] if c.tag == SIGNATURE] if len(parents) == 1 else []
    if len(signatures) != 1:
        return None
    try:
        certificates = [_certificate(str(text)) for text in _CERTIFICATE_TEXTS(signatures[0])]
    except (ValueError, binascii.Error):
        return None
    return leaf_of(certificates) if certificates else None


def local_name(element: Any) -> str:
    """``Cky`` for ``{urn:x}Cky``."""
    return str(etree.QName(element).localname)


def find_children(parent: Any, path: str) -> list[Any]:
    """Elements at a simple ``A/B`` path below ``parent``, matched by local name.

    Namespaces are ignored because real envelopes use none while some forms declare
    one; the signature must be found either way.
    """
    current = [parent]
    for step in (s for s in path.split("/") if s not in ("", ".")):
        current = [
            child
            for element in current
            for child in element
            if isinstance(child.tag, str) and local_name(child) == step
        ]
    return current


def signature_parent_path(root: Any, signature_parent: str) -> str:
    """The human-readable XPath of the signature's parent, used in every Finding."""
    steps = [s for s in signature_parent.split("/") if s not in ("", ".")]
    return "/" + "/".join([local_name(root), *steps])


def ensure_parent(root: Any, signature_parent: str) -> Any:
    """The element at ``signature_parent``, creating missing steps at the end of their parent."""
    element = root
    namespace = etree.QName(root).namespace
    for step in (s for s in signature_parent.split("/") if s not in ("", ".")):
        matches = find_children(element, step)
        if len(matches) > 1:
            raise UsageError(f"signature parent {signature_parent!r} is ambiguous in this document")
        if matches:
            element = matches[0]
        else:
            element = etree.SubElement(element, f"{{{namespace}}}{step}" if namespace else step)
    return element


def as_utc(moment: datetime) -> datetime:
    """Aware UTC ``moment``; naive values are taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_CACHED_CERTIFICATE_TEXT = 16_384
# compiled once: an XPath given as a string is compiled again on every call
_CERTIFICATE_TEXTS = etree.XPath("ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()", namespaces=NS)
_DIGEST_ALGORITHM = etree.XPath("string(ds:DigestMethod/@Algorithm)", namespaces=NS)


def _certificate(text: str) -> x509.Certificate:
    """The certificate in an ``X509Certificate`` element's text.

    Cached by the text itself: one signer's certificate recurs in every dossier it signs,
    and decoding it is a noticeable part of a verification. Oversized texts (hostile
    input) are decoded but never cached.
    """
    if len(text) > _CACHED_CERTIFICATE_TEXT:
        return x509.load_der_x509_certificate(_b64(text))
    return _cached_certificate(text)


@lru_cache(maxsize=1024)
def _cached_certificate(text: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(_b64(text))


def _b64(text: str | None) -> bytes:
    cleaned = "".join((text or "").split())
    if not cleaned:
        raise ValueError("empty")
    return b64decode(cleaned, validate=True)


def _prefixes(element: Any) -> list[str] | None:
    inclusive = element.find(f"{{{_EC}}}InclusiveNamespaces")
    return str(inclusive.get("PrefixList", "")).split() if inclusive is not None else None


def parse_signature(
    root: Any, signature_parent: str, *, allow_sha1: bool, title: str
) -> ParsedSignature:
    """Locate the signature under ``signature_parent`` and check it against the profile.

    Raises :class:`SignatureInvalid` with SIG-001, SIG-008, SIG-009 or SIG-007 findings.
    """
    parent_xpath = signature_parent_path(root, signature_parent)

    def fail(code: str, xpath: str, **context: str) -> SignatureInvalid:
        return SignatureInvalid(title, [finding(code, xpath, **context)])

    parents = find_children(root, signature_parent)
    if len(parents) > 1:
        raise fail("SIG-008", parent_xpath, detail=f"{len(parents)} elements match the parent")
    signatures = [c for c in parents[0] if c.tag == SIGNATURE] if parents else []
    if not signatures:
        elsewhere = [root.getroottree().getpath(e) for e in root.iter(SIGNATURE)]
        detail = f"found elsewhere: {', '.join(elsewhere)}" if elsewhere else "none in document"
        raise fail("SIG-001", parent_xpath, detail=detail)
    xpath = f"{parent_xpath}/ds:Signature"
    if len(signatures) > 1:
        raise fail("SIG-008", xpath, detail=f"{len(signatures)} signatures in one parent")
    sig = signatures[0]
    if any(True for _ in sig.iterdescendants(SIGNATURE)):
        raise fail("SIG-008", xpath, detail="a signature nested inside the signature")

    signed_infos = sig.findall("ds:SignedInfo", NS)
    if len(signed_infos) != 1:
        raise fail("SIG-009", xpath, detail="expected exactly one ds:SignedInfo")
    info = signed_infos[0]
    c14n = info.find("ds:CanonicalizationMethod", NS)
    method = info.find("ds:SignatureMethod", NS)
    references = info.findall("ds:Reference", NS)
    if c14n is None or method is None or not references:
        raise fail("SIG-009", f"{xpath}/ds:SignedInfo", detail="incomplete ds:SignedInfo")
    try:
        value = _b64(sig.findtext("ds:SignatureValue", None, NS))
        digest_values = [_b64(r.findtext("ds:DigestValue", None, NS)) for r in references]
    except (ValueError, binascii.Error):
        raise fail("SIG-009", xpath, detail="SignatureValue or DigestValue not base64") from None
    certificates = []
    for text in _CERTIFICATE_TEXTS(sig):
        try:
            certificates.append(_certificate(str(text)))
        except (ValueError, binascii.Error):
            raise fail("SIG-009", f"{xpath}/ds:KeyInfo", detail="bad X509Certificate") from None
    if not certificates:
        raise fail("SIG-009", f"{xpath}/ds:KeyInfo", detail="no ds:X509Data/ds:X509Certificate")

    findings = _profile_findings(f"{xpath}/ds:SignedInfo", c14n, method, references, allow_sha1)
    if findings:
        raise SignatureInvalid(title, findings)
    try:
        signing_time, warnings = _signing_time(sig, xpath)
    except ValueError:
        raise fail("SIG-009", f"{xpath}/ds:Object", detail="SigningTime is not ISO 8601") from None
    reference = references[0]
    return ParsedSignature(
        element=sig,
        xpath=xpath,
        signed_info=info,
        c14n=(str(c14n.get("Algorithm")), _prefixes(c14n)),
        method=SignatureMethod(method.get("Algorithm")),
        value=value,
        digest_method=DigestAlgorithm(reference.find("ds:DigestMethod", NS).get("Algorithm")),
        digest_value=digest_values[0],
        transforms=[
            (str(t.get("Algorithm")), _prefixes(t))
            for t in reference.findall("ds:Transforms/ds:Transform", NS)
        ],
        signature_id=sig.get("Id"),
        signing_time=signing_time,
        certificates=certificates,
        warnings=warnings,
    )


def _profile_findings(
    info: str, c14n: Any, method: Any, references: list[Any], allow_sha1: bool
) -> list[Finding]:
    """SIG-007 for algorithms outside the profile, SIG-008 for partial coverage."""
    signature_ok, digest_ok = allowed_algorithms(allow_sha1)
    found: list[Finding] = []
    if c14n.get("Algorithm") not in C14N_URIS:
        where = f"{info}/ds:CanonicalizationMethod"
        found.append(finding("SIG-007", where, algorithm=str(c14n.get("Algorithm"))))
    if method.get("Algorithm") not in signature_ok:
        where = f"{info}/ds:SignatureMethod"
        found.append(finding("SIG-007", where, algorithm=str(method.get("Algorithm"))))
    for reference in references:
        algorithm = _DIGEST_ALGORITHM(reference)
        if algorithm not in digest_ok:
            where = f"{info}/ds:Reference/ds:DigestMethod"
            found.append(finding("SIG-007", where, algorithm=str(algorithm)))
    if len(references) != 1:
        found.append(finding("SIG-008", info, detail=f"{len(references)} references, expected 1"))
    for reference in references:
        uri = reference.get("URI")
        if uri != "":
            found.append(finding("SIG-008", f"{info}/ds:Reference/@URI", uri=str(uri)))
        transforms = [
            t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)
        ]
        where = f"{info}/ds:Reference/ds:Transforms"
        if ENVELOPED not in transforms:
            found.append(finding("SIG-008", where, detail="no enveloped-signature transform"))
        narrowing = [str(t) for t in transforms if t != ENVELOPED and t not in C14N_URIS]
        if narrowing:
            found.append(finding("SIG-008", where, detail=f"transforms {' '.join(narrowing)}"))
    return found


def _signing_time(sig: Any, xpath: str) -> tuple[datetime | None, list[Finding]]:
    """SigningTime from ds:Object/ds:SignatureProperties, and SIG-101 if its Target is off.

    SigningTime is matched by local name: real files put it in the ds namespace, other
    signers in none. Raises ``ValueError`` when the value is not an ISO 8601 time.
    """
    where = f"{xpath}/ds:Object/ds:SignatureProperties/ds:SignatureProperty"
    for prop in sig.iterfind("ds:Object/ds:SignatureProperties/ds:SignatureProperty", NS):
        for element in prop.iter():
            if isinstance(element.tag, str) and local_name(element) == "SigningTime":
                value = as_utc(datetime.fromisoformat((element.text or "").strip()))
                target, sig_id = prop.get("Target"), sig.get("Id")
                if target == f"#{sig_id}":
                    return value, []
                context = {"target": str(target), "signature_id": str(sig_id)}
                return value, [finding("SIG-101", f"{where}/@Target", **context)]
    return None, []
