"""Enveloped XMLDSig as BHXH uses it: sign documents and verify them with precise findings.

Profile (see DOMAIN.md, "Signatures"): one ``Reference URI=""`` with the
enveloped-signature and C14N 1.0 transforms, RSA-SHA256 over SHA-256 digests, the
signer's certificate in ``KeyInfo/X509Data``, and the signing time in
``Object/SignatureProperties/SignatureProperty[@Target='#<Id>']/SigningTime``. The
signature sits in a named child of the root (``Cky`` in forms, ``CKy_Dvi`` in the
envelope) and covers the whole document.

Signing uses signxml, with its canonicalisation routed through :mod:`._c14n` (libxml2's
subtree C14N is wrong for SignedInfo in some documents). Verification does not use
signxml's verifier: it hits the same libxml2 bug on every signature that declares the
XMLDSig namespace as default (.NET, xmlsec1, real BHXH files), copies the document three
times per call and cannot say *why* a signature fails. For this one-reference profile
the check is short: canonicalise SignedInfo and verify the RSA signature with the leaf
certificate, then remove the signature from a copy of the document and compare digests.
Everything else (location, structure, algorithms, coverage, certificate path, validity,
revocation) is checked separately so each failure gets its own SIG code.

The SigningTime Object is not covered by the signature (the profile's single reference
is the document), so a signer can claim any signing time; SIG-005 therefore relies on
a claim the document cannot prove, as the real gateway must.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureMethod,
    digest_algorithm_implementations,
)
from signxml.signer import XMLSigner

from harness.error_codes import finding
from harness.errors import Finding, SignatureInvalid, UsageError
from harness.signing._c14n import C14N_1_0, C14N_URIS, canonicalize, standalone
from harness.signing._identity import IdentityCache
from harness.signing._structure import (
    ALLOWED_SIGNATURE,
    DS,
    ENVELOPED,
    SIGNATURE,
    ParsedSignature,
    as_utc,
    ensure_parent,
    keyinfo_signer,
    parse_signature,
)
from harness.signing.pki import Credential
from harness.signing.trust import TrustStore
from harness.xmlsafe import HUGE_TEXT, parse_xml

ALGORITHMS: dict[str, tuple[SignatureMethod, DigestAlgorithm]] = {
    "rsa-sha256": (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256),
    "rsa-sha384": (SignatureMethod.RSA_SHA384, DigestAlgorithm.SHA384),
    "rsa-sha512": (SignatureMethod.RSA_SHA512, DigestAlgorithm.SHA512),
    "rsa-sha1": (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1),
}
DEFAULT_SIGNATURE_ID = "sigid"  # what real BHXH files use, and what their Targets point at


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed, with which certificate and when (the data BHXH echoes in TTCKY)."""

    subject: str
    serial: str  # upper-case hex, as Vietnamese CAs print it
    issuer: str
    signing_time: datetime | None
    certificate: x509.Certificate
    warnings: list[Finding] = field(default_factory=list)
    algorithm: str = SignatureMethod.RSA_SHA256.value
    signature_id: str | None = None


class _Signer(XMLSigner):
    """signxml's signer with correct canonicalisation of SignedInfo (see :mod:`._c14n`)."""

    def _c14n(
        self, nodes: Any, algorithm: CanonicalizationMethod, inclusive_ns_prefixes: Any = None
    ) -> bytes:
        items = nodes if isinstance(nodes, list) else [nodes]
        return b"".join(canonicalize(n, algorithm.value, inclusive_ns_prefixes) for n in items)


class _LegacySigner(_Signer):
    """A signer that agrees to SHA-1, so the harness can build legacy-algorithm cases.

    signxml refuses SHA-1 when signing and offers no setting for it; its maintainer's
    advice is to subclass and override this check (signxml issue #252).
    """

    def check_deprecated_methods(self) -> None:
        """Allow SHA-1: this signer is only built when ``algorithm="rsa-sha1"`` is asked for."""


def _signing_time_text(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    root: Any,
    credential: Credential,
    *,
    signature_parent: str,
    signing_time: datetime | None = None,
    signature_id: str | None = None,
    algorithm: str = "rsa-sha256",
) -> Any:
    """Return a signed copy of ``root``; ``root`` itself is left untouched.

    The signature goes into the child at ``signature_parent`` (e.g. ``"Cky"``, created at
    the end of ``root`` if absent). ``signing_time`` defaults to now, and naive values
    are taken as UTC. ``algorithm`` is one of :data:`ALGORITHMS`; ``"rsa-sha1"`` exists to
    build legacy cases that a default verifier must reject.
    """
    if algorithm not in ALGORITHMS:
        raise UsageError(
            f"unknown signature algorithm {algorithm!r}", hint=f"use one of {list(ALGORITHMS)}"
        )
    if isinstance(root, etree._ElementTree):
        root = root.getroot()
    signature_method, digest = ALGORITHMS[algorithm]
    sig_id = signature_id or DEFAULT_SIGNATURE_ID
    when = _signing_time_text(signing_time or datetime.now(UTC))

    document = copy.deepcopy(root)
    parent = ensure_parent(document, signature_parent)
    if parent.find(SIGNATURE) is not None:
        raise UsageError(
            f"{signature_parent} already holds a signature", hint="sign an unsigned copy"
        )
    # signxml replaces a placeholder with the signature and leaves it out of the digest.
    etree.SubElement(parent, SIGNATURE, Id="placeholder", nsmap={"ds": DS})

    signer_class = _LegacySigner if "SHA1" in signature_method.name else _Signer
    signer = signer_class(
        signature_algorithm=signature_method,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )

    def add_id_and_signing_time(sig_root: Any, signing_settings: Any) -> None:
        # Runs after SignedInfo is built; neither the Id nor the Object is in SignedInfo.
        sig_root.set("Id", sig_id)
        obj = etree.SubElement(sig_root, f"{{{DS}}}Object")
        props = etree.SubElement(obj, f"{{{DS}}}SignatureProperties")
        prop = etree.SubElement(props, f"{{{DS}}}SignatureProperty", Target=f"#{sig_id}")
        # In the ds namespace, like real files whose Signature declares ds as the default
        # namespace; an un-namespaced element would silently join a document's default
        # namespace when lxml serialises it (it does not write xmlns="").
        etree.SubElement(prop, f"{{{DS}}}SigningTime").text = when

    signer.signature_annotators.append(add_id_and_signing_time)
    signer._parser = _signing_parser()  # signxml re-parses what it signs
    return signer.sign(document, key=credential.private_key, cert=[credential.certificate])


def _signing_parser() -> etree.XMLParser:
    """signxml's own parser, allowed the text nodes the gateway accepts: a big employer's
    form passes libxml2's 10 MB text limit, and signing it failed with "Text node too long"."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=HUGE_TEXT)


def verify(
    root: etree._Element | etree._ElementTree | bytes,
    *,
    signature_parent: str,
    trust: TrustStore,
    at: datetime | None = None,
    allow_sha1: bool = False,
) -> VerifiedSignature:
    """Verify the signature under ``signature_parent`` against ``trust``.

    ``root`` is the document: an lxml element or tree, or its bytes as received, parsed
    with :func:`harness.xmlsafe.parse_xml` and the gateway's default limits (its
    :class:`~harness.xmlsafe.XMLRejected` says why bytes are not acceptable XML).

    ``at`` is the moment of verification (default now): certificate validity is checked
    at the document's SigningTime if it has one, else at ``at``; revocation is checked
    at ``at``, because an unsigned SigningTime must not undo a revocation. Raises
    :class:`SignatureInvalid` carrying every SIG-0xx finding; tolerated oddities come
    back as ``warnings`` (SIG-101).
    """
    root = _document_root(root)
    now = as_utc(at) if at is not None else datetime.now(UTC)
    title = (
        f"Chữ ký số tại {signature_parent} không hợp lệ / signature in {signature_parent} rejected"
    )
    parsed = parse_signature(root, signature_parent, allow_sha1=allow_sha1, title=title)
    findings = _check_cryptography(root, parsed)
    findings += _check_certificate(parsed, trust, now)
    if findings:
        raise SignatureInvalid(title, findings)
    leaf = parsed.leaf
    subject, issuer, serial = _names(leaf)
    return VerifiedSignature(
        subject=subject,
        serial=serial,
        issuer=issuer,
        signing_time=parsed.signing_time,
        certificate=leaf,
        warnings=parsed.warnings,
        algorithm=parsed.method.value,
        signature_id=parsed.signature_id,
    )


def signer_certificate(
    root: etree._Element | etree._ElementTree | bytes, *, signature_parent: str
) -> x509.Certificate | None:
    """Who made the signature under ``signature_parent``, as its KeyInfo says, whether or
    not it verifies (None when there is no certificate to read): who signed is a question
    apart from whether the signature and its certificate hold, which :func:`verify` judges."""
    return keyinfo_signer(_document_root(root), signature_parent)


def _document_root(document: object) -> Any:
    """The root element of what :func:`verify` was given; anything else is a TypeError that
    names the fix, not lxml's "All strings must be XML compatible" from deep inside."""
    if isinstance(document, bytes):
        return parse_xml(document)
    if isinstance(document, etree._ElementTree):
        return document.getroot()
    if isinstance(document, etree._Element):
        return document
    raise TypeError(
        f"verify() takes the signed document as bytes or an lxml element, not "
        f"{type(document).__name__}: pass the bytes as received, or parse them with "
        "harness.xmlsafe.parse_xml"
    )


_PKCS1V15 = padding.PKCS1v15()
_HASHES = {
    m: digest_algorithm_implementations[m]() for m in ALLOWED_SIGNATURE | {SignatureMethod.RSA_SHA1}
}
"""One (stateless) hash object per accepted signature method, not one per verification."""
_DIGESTS = {
    algorithm: getattr(
        hashlib, digest_algorithm_implementations[algorithm]().name.replace("-", "_")
    )
    for algorithm in DigestAlgorithm
}
"""hashlib's constructor for each digest: one call, where cryptography's Hash takes three."""


def _check_cryptography(root: Any, parsed: ParsedSignature) -> list[Finding]:
    """SIG-003 if SignedInfo's signature fails, SIG-002 if the document's digest differs."""
    found: list[Finding] = []
    hash_algorithm = _HASHES[parsed.method]  # the profile admits no other method
    key = parsed.leaf.public_key()
    signed_info = canonicalize(parsed.signed_info, *parsed.c14n)
    try:
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature(f"{type(key).__name__} cannot check {parsed.method.name}")
        key.verify(parsed.value, signed_info, _PKCS1V15, hash_algorithm)
    except InvalidSignature as exc:
        where = f"{parsed.xpath}/ds:SignatureValue"
        found.append(finding("SIG-003", where, detail=str(exc) or "RSA verification failed"))
    octets = _reference_octets(root, parsed)
    if _DIGESTS[parsed.digest_method](octets).digest() != parsed.digest_value:
        where = f"{parsed.xpath}/ds:SignedInfo/ds:Reference/ds:DigestValue"
        found.append(finding("SIG-002", where, digest=parsed.digest_method.name))
    return found


def _reference_octets(root: Any, parsed: ParsedSignature) -> bytes:
    """The document as ``Reference URI=""`` sees it after its transforms, on a copy.

    Not the document itself with the signature detached for the while: lxml re-declares
    namespaces whenever an element moves, and taking the signature out and back in can
    rename prefixes inside it (and so change what its SignedInfo canonicalises to).
    """
    steps = []
    element = parsed.element
    while element is not root:
        parent = element.getparent()
        steps.append(parent.index(element))
        element = parent
    if root.getparent() is None:
        document = root.getroottree().__deepcopy__(None)  # keeps PIs around the root element
    else:
        document = etree.ElementTree(standalone(root, inherit_xml_attributes=False))
    signature = document.getroot()
    for index in reversed(steps):
        signature = signature[index]
    for algorithm, prefixes in parsed.transforms:
        if algorithm == ENVELOPED:
            if signature.getparent() is not None:  # a repeated transform removes nothing more
                _remove_keeping_tail(signature)
        elif algorithm in C14N_URIS:
            return canonicalize(document, algorithm, prefixes)
    return canonicalize(document, C14N_1_0)


def _remove_keeping_tail(element: Any) -> None:
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


_NAMES: IdentityCache[x509.Certificate, tuple[str, str, str]] = IdentityCache(1024)


def _names(cert: x509.Certificate) -> tuple[str, str, str]:
    """Subject, issuer and hex serial, kept (by the certificate's identity: see
    :class:`~harness.signing._identity.IdentityCache`) because RFC 4514 rendering is costly."""
    names = _NAMES.get(cert)
    if names is None:
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        names = _NAMES.put(cert, (subject, issuer, f"{cert.serial_number:X}"))
    return names


def _check_certificate(parsed: ParsedSignature, trust: TrustStore, now: datetime) -> list[Finding]:
    """Path to a trust anchor (SIG-004), validity at signing time (SIG-005), CRL (SIG-006)."""
    where = f"{parsed.xpath}/ds:KeyInfo/ds:X509Data/ds:X509Certificate"
    leaf = parsed.leaf
    checked = trust.check(leaf, parsed.others)
    if checked.untrusted is not None:
        return [finding("SIG-004", where, subject=_names(leaf)[0], detail=checked.untrusted)]
    found: list[Finding] = []
    signed_at = parsed.signing_time or now
    if not checked.valid_at(signed_at):
        subject = _names(leaf)[0]
        invalid = trust.invalid_at(checked.path, signed_at)
        if invalid["certificate"] == subject:  # the signer's own: said once, as subject
            del invalid["certificate"]
        found.append(finding("SIG-005", where, subject=subject, **invalid))
    for cert, revocation in checked.revocations:
        if revocation.revoked_at <= now:
            found.append(
                finding(
                    "SIG-006",
                    where,
                    subject=_names(cert)[0],
                    serial=_names(cert)[2],
                    revoked_at=revocation.revoked_at.isoformat(),
                    reason=revocation.reason or "unspecified",
                )
            )
    return found
