"""Read a ds:Signature into plain values and check it against the BHXH profile.

These checks run before any cryptography so that a signature which is missing, in the
wrong place, malformed, made with a forbidden algorithm or not covering the whole
document is reported as exactly that. Generic XMLDSig verifiers would accept some of
these (a ``#id`` reference is valid XMLDSig, and the root of signature-wrapping attacks)
or fail them all with one undifferentiated exception.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
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
_SIGNED_INFO, _SIGNATURE_VALUE, _OBJECT = (
    f"{{{DS}}}{n}" for n in ("SignedInfo", "SignatureValue", "Object")
)
_C14N_METHOD, _SIGNATURE_METHOD, _REFERENCE = (
    f"{{{DS}}}{n}" for n in ("CanonicalizationMethod", "SignatureMethod", "Reference")
)
_DIGEST_VALUE, _DIGEST_METHOD, _TRANSFORMS, _TRANSFORM = (
    f"{{{DS}}}{n}" for n in ("DigestValue", "DigestMethod", "Transforms", "Transform")
)
_PROPERTIES, _PROPERTY = (f"{{{DS}}}{n}" for n in ("SignatureProperties", "SignatureProperty"))
_INCLUSIVE = f"{{{_EC}}}InclusiveNamespaces"

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
    leaf: x509.Certificate  # the signer's: the one in KeyInfo that issued none of the others
    warnings: list[Finding] = field(default_factory=list)

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
    tag = element.tag
    if isinstance(tag, str):
        return _local(tag)
    return str(etree.QName(element).localname)  # a comment or PI: lxml's ValueError


def _local(tag: str) -> str:
    """The local name in an element's tag, split where ``etree.QName`` splits it (the first
    ``}``) without building a QName, which cost more than the rest of a lookup."""
    return tag.partition("}")[2] if tag[:1] == "{" else tag


@lru_cache(maxsize=256)
def _steps(path: str) -> tuple[str, ...]:
    """The names of a simple ``A/B`` path; a catalog has a handful, looked up per dossier."""
    return tuple(s for s in path.split("/") if s not in ("", "."))


def find_children(parent: Any, path: str) -> list[Any]:
    """Elements at a simple ``A/B`` path below ``parent``, matched by local name.

    Namespaces are ignored because real envelopes use none while some forms declare
    one; the signature must be found either way.
    """
    current = [parent]
    for step in _steps(path):
        current = [
            child
            for element in current
            for child in element
            if isinstance(tag := child.tag, str) and _local(tag) == step
        ]
    return current


def signature_parent_path(root: Any, signature_parent: str) -> str:
    """The human-readable XPath of the signature's parent, used in every Finding."""
    return _parent_path(local_name(root), signature_parent)


@lru_cache(maxsize=256)
def _parent_path(root_name: str, signature_parent: str) -> str:
    return "/" + "/".join([root_name, *_steps(signature_parent)])


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
    # b64decode(cleaned, validate=True) without its argument checks; non-ASCII text is
    # its ValueError (UnicodeEncodeError) here too
    return binascii.a2b_base64(cleaned.encode("ascii"), strict_mode=True)


def _prefixes(element: Any) -> list[str] | None:
    """The PrefixList of ``element``'s first ``ec:InclusiveNamespaces`` child, if it has one."""
    for child in element:
        if child.tag == _INCLUSIVE:
            return str(child.get("PrefixList", "")).split()
    return None


class _Reference:
    """What the checks read from one ds:Reference, in one pass over its children (a path
    query per item cost several times more, and this runs for every signature)."""

    __slots__ = (
        "algorithms",
        "digest_algorithm",
        "digest_method",
        "digest_text",
        "transforms",
        "uri",
    )

    def __init__(self, reference: Any) -> None:
        digest_text: str | None = None  # the first ds:DigestValue's, as findtext reads it
        digest_method: Any = None  # the first ds:DigestMethod
        algorithm: str | None = None  # as string(ds:DigestMethod/@Algorithm): the first one
        found_value = False
        transforms: list[Any] = []  # every ds:Transforms/ds:Transform, in document order
        for child in reference:
            tag = child.tag
            if tag == _TRANSFORMS:
                transforms += child.iterchildren(_TRANSFORM)
            elif tag == _DIGEST_METHOD:
                if digest_method is None:
                    digest_method = child
                if algorithm is None:
                    algorithm = child.get("Algorithm")
            elif tag == _DIGEST_VALUE and not found_value:
                found_value, digest_text = True, child.text
        self.uri: str | None = reference.get("URI")
        self.digest_text, self.digest_method, self.transforms = (
            digest_text,
            digest_method,
            transforms,
        )
        self.digest_algorithm = "" if algorithm is None else algorithm
        self.algorithms = [t.get("Algorithm") for t in transforms]


_SIGNATURE_METHODS = {m.value: m for m in SignatureMethod}
_DIGEST_METHODS = {m.value: m for m in DigestAlgorithm}


def _member(kind: Any, members: dict[str, Any], value: str | None) -> Any:
    """``kind(value)`` by a dict lookup (an Enum call costs ~0.3 us); other values still
    go through the call, for its exception."""
    member = members.get(value) if value is not None else None
    return kind(value) if member is None else member


def _invalid(title: str, code: str, xpath: str, **context: str) -> SignatureInvalid:
    return SignatureInvalid(title, [finding(code, xpath, **context)])


def parse_signature(
    root: Any, signature_parent: str, *, allow_sha1: bool, title: str
) -> ParsedSignature:
    """Locate the signature under ``signature_parent`` and check it against the profile.

    Raises :class:`SignatureInvalid` with SIG-001, SIG-008, SIG-009 or SIG-007 findings.
    Children are read in single passes by exact tag, as ``find``/``findall`` with the
    ``ds`` prefix would (same first-match and document-order rules), at a third the cost.
    """
    parent_xpath = signature_parent_path(root, signature_parent)
    parents = find_children(root, signature_parent)
    if len(parents) > 1:
        detail = f"{len(parents)} elements match the parent"
        raise _invalid(title, "SIG-008", parent_xpath, detail=detail)
    signatures = [c for c in parents[0] if c.tag == SIGNATURE] if parents else []
    if not signatures:
        elsewhere = [root.getroottree().getpath(e) for e in root.iter(SIGNATURE)]
        detail = f"found elsewhere: {', '.join(elsewhere)}" if elsewhere else "none in document"
        raise _invalid(title, "SIG-001", parent_xpath, detail=detail)
    xpath = f"{parent_xpath}/ds:Signature"
    if len(signatures) > 1:
        detail = f"{len(signatures)} signatures in one parent"
        raise _invalid(title, "SIG-008", xpath, detail=detail)
    sig = signatures[0]
    if next(sig.iterdescendants(SIGNATURE), None) is not None:
        raise _invalid(title, "SIG-008", xpath, detail="a signature nested inside the signature")

    signed_infos, objects, value_element = [], [], None
    for child in sig:
        tag = child.tag
        if tag == _SIGNED_INFO:
            signed_infos.append(child)
        elif tag == _SIGNATURE_VALUE:
            if value_element is None:
                value_element = child
        elif tag == _OBJECT:
            objects.append(child)
    if len(signed_infos) != 1:
        raise _invalid(title, "SIG-009", xpath, detail="expected exactly one ds:SignedInfo")
    info = signed_infos[0]
    c14n = method = None
    references = []
    for child in info:
        tag = child.tag
        if tag == _C14N_METHOD:
            if c14n is None:
                c14n = child
        elif tag == _SIGNATURE_METHOD:
            if method is None:
                method = child
        elif tag == _REFERENCE:
            references.append(_Reference(child))
    if c14n is None or method is None or not references:
        where = f"{xpath}/ds:SignedInfo"
        raise _invalid(title, "SIG-009", where, detail="incomplete ds:SignedInfo")
    try:
        value = _b64(value_element.text if value_element is not None else None)
        digest_values = [_b64(r.digest_text) for r in references]
    except (ValueError, binascii.Error):
        detail = "SignatureValue or DigestValue not base64"
        raise _invalid(title, "SIG-009", xpath, detail=detail) from None
    certificates = []
    for text in _CERTIFICATE_TEXTS(sig):
        try:
            certificates.append(_certificate(str(text)))
        except (ValueError, binascii.Error):
            where = f"{xpath}/ds:KeyInfo"
            raise _invalid(title, "SIG-009", where, detail="bad X509Certificate") from None
    if not certificates:
        where, detail = f"{xpath}/ds:KeyInfo", "no ds:X509Data/ds:X509Certificate"
        raise _invalid(title, "SIG-009", where, detail=detail)

    c14n_algorithm, method_algorithm = c14n.get("Algorithm"), method.get("Algorithm")
    info_xpath = f"{xpath}/ds:SignedInfo"
    findings = _profile_findings(
        info_xpath, c14n_algorithm, method_algorithm, references, allow_sha1
    )
    if findings:
        raise SignatureInvalid(title, findings)
    signature_id = sig.get("Id")
    try:
        signing_time, warnings = _signing_time(objects, signature_id, xpath)
    except ValueError:
        where, detail = f"{xpath}/ds:Object", "SigningTime is not ISO 8601"
        raise _invalid(title, "SIG-009", where, detail=detail) from None
    reference = references[0]
    return ParsedSignature(
        element=sig,
        xpath=xpath,
        signed_info=info,
        c14n=(str(c14n_algorithm), _prefixes(c14n)),
        method=_member(SignatureMethod, _SIGNATURE_METHODS, method_algorithm),
        value=value,
        digest_method=_member(
            DigestAlgorithm, _DIGEST_METHODS, reference.digest_method.get("Algorithm")
        ),
        digest_value=digest_values[0],
        transforms=[
            (str(algorithm), _prefixes(transform))
            for algorithm, transform in zip(reference.algorithms, reference.transforms, strict=True)
        ],
        signature_id=signature_id,
        signing_time=signing_time,
        certificates=certificates,
        leaf=leaf_of(certificates),
        warnings=warnings,
    )


def _profile_findings(
    info: str,
    c14n: str | None,
    method: str | None,
    references: list[_Reference],
    allow_sha1: bool,
) -> list[Finding]:
    """SIG-007 for algorithms outside the profile (``c14n`` and ``method`` are SignedInfo's
    ``Algorithm`` attributes), SIG-008 for partial coverage."""
    signature_ok, digest_ok = allowed_algorithms(allow_sha1)
    found: list[Finding] = []
    if c14n not in C14N_URIS:
        where = f"{info}/ds:CanonicalizationMethod"
        found.append(finding("SIG-007", where, algorithm=str(c14n)))
    if method not in signature_ok:
        where = f"{info}/ds:SignatureMethod"
        found.append(finding("SIG-007", where, algorithm=str(method)))
    for reference in references:
        if reference.digest_algorithm not in digest_ok:
            where = f"{info}/ds:Reference/ds:DigestMethod"
            found.append(finding("SIG-007", where, algorithm=reference.digest_algorithm))
    if len(references) != 1:
        found.append(finding("SIG-008", info, detail=f"{len(references)} references, expected 1"))
    for reference in references:
        if reference.uri != "":
            found.append(finding("SIG-008", f"{info}/ds:Reference/@URI", uri=str(reference.uri)))
        transforms = reference.algorithms
        if ENVELOPED not in transforms:
            where = f"{info}/ds:Reference/ds:Transforms"
            found.append(finding("SIG-008", where, detail="no enveloped-signature transform"))
        narrowing = [str(t) for t in transforms if t != ENVELOPED and t not in C14N_URIS]
        if narrowing:
            where = f"{info}/ds:Reference/ds:Transforms"
            found.append(finding("SIG-008", where, detail=f"transforms {' '.join(narrowing)}"))
    return found


def _signing_time(
    objects: list[Any], signature_id: str | None, xpath: str
) -> tuple[datetime | None, list[Finding]]:
    """SigningTime from ds:Object/ds:SignatureProperties/ds:SignatureProperty (``objects``
    are the signature's ds:Object children), and SIG-101 if its Target is off.

    SigningTime is matched by local name: real files put it in the ds namespace, other
    signers in none. Raises ``ValueError`` when the value is not an ISO 8601 time.
    """
    for obj in objects:
        for properties in obj.iterchildren(_PROPERTIES):
            for prop in properties.iterchildren(_PROPERTY):
                # the first SigningTime below the property, in any namespace or none
                element = next(prop.iterdescendants("{*}SigningTime"), None)
                if element is None:
                    continue
                value = as_utc(datetime.fromisoformat((element.text or "").strip()))
                target = prop.get("Target")
                if target == f"#{signature_id}":
                    return value, []
                context = {"target": str(target), "signature_id": str(signature_id)}
                where = f"{xpath}/ds:Object/ds:SignatureProperties/ds:SignatureProperty"
                return value, [finding("SIG-101", f"{where}/@Target", **context)]
    return None, []
