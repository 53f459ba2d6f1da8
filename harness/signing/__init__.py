"""XMLDSig signing and verification for BHXH documents, and the test PKI behind them::

pki = ensure_pki()
signed = sign(form, pki.credential("unit"), signature_parent="Cky")
verify(signed, signature_parent="Cky", trust=pki.trust_store()).subject
"""

from harness.signing.pki import Credential, TestPKI, default_directory, ensure_pki
from harness.signing.trust import Revocation, TrustStore, UntrustedCertificate
from harness.signing.xmldsig import ALGORITHMS, VerifiedSignature, sign, verify

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
    "verify",
]
