"""XMLDSig signing and verification for BHXH documents, and the test PKI behind them::

pki = ensure_pki()
signed = sign(form, pki.credential("unit"), signature_parent="Cky")
verify(signed, signature_parent="Cky", trust=pki.trust_store()).subject
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.signing.pki import Credential, TestPKI, default_directory, ensure_pki
    from harness.signing.trust import Revocation, TrustStore, UntrustedCertificate
    from harness.signing.xmldsig import (
        ALGORITHMS,
        VerifiedSignature,
        sign,
        signer_certificate,
        verify,
    )
else:  # importing the package (a submodule's parent) must not load signxml, cryptography
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.signing.pki": ("Credential", "TestPKI", "default_directory", "ensure_pki"),
            "harness.signing.trust": ("Revocation", "TrustStore", "UntrustedCertificate"),
            "harness.signing.xmldsig": (
                "ALGORITHMS",
                "VerifiedSignature",
                "sign",
                "signer_certificate",
                "verify",
            ),
        },
    )

__all__ = [
    "ALGORITHMS",
    "Credential",
    "Revocation",
    "TestPKI",
    "TrustStore",
    "UntrustedCertificate",
    "VerifiedSignature",
    "default_directory",
    "ensure_pki",
    "sign",
    "signer_certificate",
    "verify",
]
