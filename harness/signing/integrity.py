"""Whether a cached test PKI still fits together, file by file.

A certificate copied over ``unit.crt.pem`` (or a root replaced by other bytes) loaded
"fine": ``pki init`` said so and ``dossier build`` promised "accepted" for dossiers the
gateway then refused (SIG-003/SIG-004). Each file is checked against the others here.
"""

from __future__ import annotations

from typing import NoReturn

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.errors import PKIError
from harness.signing.pki import TestPKI
from harness.signing.trust import issued_by


def check_pki(pki: TestPKI) -> None:
    """Every key matches its certificate, every certificate is signed by its recipe's issuer
    and starts its chain file, the trust store builds and every CRL is its CA's; a
    :class:`PKIError` naming the first file that does not fit, and how to regenerate.
    Files are read afresh, as on disk now, and ``pki``'s own loaded keys are left alone."""
    recipe = pki.recipe
    pki = TestPKI(pki.directory, recipe)
    loaded = {name: pki.authority(name) for name in recipe.authorities}
    loaded |= {name: pki.credential(name) for name in recipe.credentials}
    for name, held in loaded.items():
        issuer = recipe.spec(name).issuer
        signer = held.certificate if issuer == "self" else loaded[issuer].certificate
        if not issued_by(held.certificate, signer):
            _refuse(pki, f"{name}.crt.pem", f"it is not signed by {issuer}.crt.pem")
        first = _first_certificate(held.chain_pem)
        if first != held.certificate:
            _refuse(pki, f"{name}.chain.pem", f"it does not start with {name}.crt.pem")
    for name, spec in recipe.authorities.items():
        if spec.publishes_crl:
            try:
                crl = x509.load_pem_x509_crl(pki.file(f"{name}.crl.pem").read_bytes())
            except ValueError:
                _refuse(pki, f"{name}.crl.pem", "it is not a valid PEM revocation list")
            public = loaded[name].certificate.public_key()
            if not isinstance(public, rsa.RSAPublicKey) or not crl.is_signature_valid(public):
                _refuse(pki, f"{name}.crl.pem", f"it is not signed by {name}.crt.pem")
    pki.trust_store()  # as the gateway builds it from these files


def _first_certificate(pem: bytes) -> x509.Certificate | None:
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return None
    return found[0] if found else None


def _refuse(pki: TestPKI, filename: str, why: str) -> NoReturn:
    raise PKIError(
        f"{pki.directory / filename} does not fit the test PKI: {why}",
        hint=f"delete {pki.directory} to regenerate it (bhxh-harness pki init)",
    )


__all__ = ["check_pki"]
