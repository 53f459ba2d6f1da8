"""A lean enveloped-XMLDSig signer for the gateway's own answers (the receipt is hot path).

It writes exactly the profile :func:`harness.signing.sign` writes (one ``Reference
URI=""``, enveloped-signature + C14N 1.0, RSA-SHA256, the certificate in KeyInfo, the
signing time in ``Object/SignatureProperties``), but does only the arithmetic: the
document is built by the gateway and never carries a signature yet, so the enveloped
transform is "canonicalise the document as it is now", and everything constant
(certificate, algorithm URIs; the ``Signature`` element and the canonical ``SignedInfo``
but for their three texts) is prepared once, as bytes, from element code. The tests verify
every answer with :func:`harness.signing.verify`, so the two cannot drift apart unnoticed.
:meth:`EnvelopedSigner.signature` works on bytes alone: a document whose serialisation is
its C14N form (:func:`canonical_form`, every answer ``messages.build`` makes) is signed
without touching a tree.

Only whole-document C14N and a ``SignedInfo`` canonicalised as its own document root are
used, which sidesteps libxml2's subtree-C14N bugs (see ``harness/signing/_c14n.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.signing import Credential

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N_1_0 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNATURE_ID = "sigid"


def _ds(parent: etree._Element | None, tag: str, **attrib: str) -> etree._Element:
    if parent is None:
        return etree.Element(f"{{{DS}}}{tag}", attrib, nsmap={"ds": DS})
    return etree.SubElement(parent, f"{{{DS}}}{tag}", attrib)


def utc_stamp(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; an f-string, 3 times cheaper than
    ``strftime`` (which stays for years below 1000, where ``%Y`` does not pad)."""
    t = moment.astimezone(UTC)
    if t.year < 1000:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{t.year}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _signed_info(digest: str) -> etree._Element:
    """``SignedInfo`` as its own document root."""
    signed_info = _ds(None, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=C14N_1_0)
    _ds(signed_info, "SignatureMethod", Algorithm=RSA_SHA256)
    reference = _ds(signed_info, "Reference", URI="")
    transforms = _ds(reference, "Transforms")
    _ds(transforms, "Transform", Algorithm=ENVELOPED)
    _ds(transforms, "Transform", Algorithm=C14N_1_0)
    _ds(reference, "DigestMethod", Algorithm=SHA256)
    _ds(reference, "DigestValue").text = digest
    return signed_info


def _signature(digest: str, value: str, certificate: str, signing_time: str) -> etree._Element:
    """The ``Signature`` element every answer carries."""
    signature = etree.Element(f"{{{DS}}}Signature", Id=SIGNATURE_ID, nsmap={"ds": DS})
    signature.append(_signed_info(digest))
    _ds(signature, "SignatureValue").text = value
    data = _ds(_ds(signature, "KeyInfo"), "X509Data")
    _ds(data, "X509Certificate").text = certificate
    prop = _ds(
        _ds(_ds(signature, "Object"), "SignatureProperties"),
        "SignatureProperty",
        Target=f"#{SIGNATURE_ID}",
    )
    _ds(prop, "SigningTime").text = signing_time
    return signature


def slots(data: bytes, *names: str) -> tuple[bytes, ...]:
    """``data`` cut at each placeholder ``names`` (in order, each exactly once): the
    constant pieces of a template that only those texts vary."""
    pieces: list[bytes] = []
    for name in names:
        head, found, data = data.partition(name.encode("ascii"))
        if not found or name.encode("ascii") in data:
            raise AssertionError(f"template slot {name} is not there exactly once")
        pieces.append(head)
    return (*pieces, data)


def canonical_form(serialised: bytes) -> bytes | None:
    """The C14N 1.0 form of a document from ``etree.tostring(tree, encoding="UTF-8")``,
    when the bytes show that the two differ only in CR (lxml writes ``&#13;``, C14N
    ``&#xD;``): no attribute or namespace (``="``), self-closed element, DOCTYPE,
    comment, CDATA, PI or entity reference. Else None (a text holding ``="`` too: that
    only costs the caller the tree). ``in`` and ``count``: a regex took 7 us of 40."""
    if b'="' in serialised or b"/>" in serialised or b"<!" in serialised or b"<?" in serialised:
        return None
    if b"&" not in serialised:
        return serialised
    escapes = sum(serialised.count(e) for e in (b"&amp;", b"&lt;", b"&gt;", b"&#13;"))
    if serialised.count(b"&") != escapes:
        return None
    return serialised.replace(b"&#13;", b"&#xD;")


def _b64(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False)


class EnvelopedSigner:
    """Signs unsigned documents with one credential (thread-safe: the prepared parts are
    only read)."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        der = credential.certificate.public_bytes(serialization.Encoding.DER)
        certificate = base64.b64encode(der).decode("ascii")
        # The canonical SignedInfo varies only in its DigestValue, the Signature element in
        # three texts, all base64 or digits: nothing to escape.
        self._signed_info = slots(
            etree.tostring(_signed_info("@DIGEST@"), method="c14n"), "@DIGEST@"
        )
        self._signature = slots(
            etree.tostring(
                _signature("@DIGEST@", "@VALUE@", certificate, "@TIME@"), encoding="UTF-8"
            ),
            "@DIGEST@",
            "@VALUE@",
            "@TIME@",
        )
        self._sha256 = hashlib.sha256()  # copied per document: no digest lookup each time
        self._padding, self._hash = padding.PKCS1v15(), hashes.SHA256()  # immutable

    def signature(self, canonical: bytes, signing_time: str) -> bytes:
        """The ``ds:Signature`` element, serialised, over the document whose C14N form is
        ``canonical`` (without that signature); ``signing_time`` as :func:`utc_stamp`
        writes it."""
        sha = self._sha256.copy()
        sha.update(canonical)
        digest = _b64(sha.digest())
        head, tail = self._signed_info
        value = self.credential.private_key.sign(head + digest + tail, self._padding, self._hash)
        before, between, after, end = self._signature
        when = signing_time.encode("ascii")
        return b"".join((before, digest, between, _b64(value), after, when, end))

    def sign(self, root: etree._Element, parent: etree._Element, signing_time: str) -> None:
        """Append a ds:Signature over ``root``'s document (which must hold none) to ``parent``.

        What ``Reference URI=""`` and the declared C14N take: the whole document, PIs beside
        the root included, comments left out (the root alone with its comments was digested
        before, so such a document's signature never verified)."""
        canonical = etree.tostring(root.getroottree(), method="c14n", with_comments=False)
        parent.append(etree.fromstring(self.signature(canonical, signing_time)))
