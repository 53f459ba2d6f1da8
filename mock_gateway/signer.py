"""A lean enveloped-XMLDSig signer for the gateway's own answers (the receipt is hot path).

It writes exactly the profile :func:`harness.signing.sign` writes (one ``Reference
URI=""``, enveloped-signature + C14N 1.0, RSA-SHA256, the certificate in KeyInfo, the
signing time in ``Object/SignatureProperties``), but does only the arithmetic: the
document is built by the gateway and never carries a signature yet, so the enveloped
transform is "canonicalise the document as it is now", and everything constant
(certificate, algorithm URIs) is prepared once. That halves the cost of a receipt
signature. The tests verify every answer with :func:`harness.signing.verify`, so the two
cannot drift apart unnoticed.

Only whole-document C14N and a ``SignedInfo`` canonicalised as its own document root are
used, which sidesteps libxml2's subtree-C14N bugs (see ``harness/signing/_c14n.py``).
"""

from __future__ import annotations

import base64
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


class EnvelopedSigner:
    """Signs unsigned documents in place with one credential (thread-safe)."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        der = credential.certificate.public_bytes(serialization.Encoding.DER)
        self._certificate = base64.b64encode(der).decode("ascii")

    def sign(self, root: etree._Element, parent: etree._Element, signing_time: datetime) -> None:
        """Append a ds:Signature over ``root`` (which must hold none) to ``parent``."""
        digest = hashlib.sha256(etree.tostring(root, method="c14n")).digest()
        signed_info = _ds(None, "SignedInfo")
        _ds(signed_info, "CanonicalizationMethod", Algorithm=C14N_1_0)
        _ds(signed_info, "SignatureMethod", Algorithm=RSA_SHA256)
        reference = _ds(signed_info, "Reference", URI="")
        transforms = _ds(reference, "Transforms")
        _ds(transforms, "Transform", Algorithm=ENVELOPED)
        _ds(transforms, "Transform", Algorithm=C14N_1_0)
        _ds(reference, "DigestMethod", Algorithm=SHA256)
        _ds(reference, "DigestValue").text = base64.b64encode(digest).decode("ascii")
        value = self.credential.private_key.sign(
            etree.tostring(signed_info, method="c14n"), padding.PKCS1v15(), hashes.SHA256()
        )
        signature = etree.SubElement(
            parent, f"{{{DS}}}Signature", Id=SIGNATURE_ID, nsmap={"ds": DS}
        )
        signature.append(signed_info)
        _ds(signature, "SignatureValue").text = base64.b64encode(value).decode("ascii")
        data = _ds(_ds(signature, "KeyInfo"), "X509Data")
        _ds(data, "X509Certificate").text = self._certificate
        prop = _ds(
            _ds(_ds(signature, "Object"), "SignatureProperties"),
            "SignatureProperty",
            Target=f"#{SIGNATURE_ID}",
        )
        when = signing_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _ds(prop, "SigningTime").text = when
