"""What the gateway trusts: CA certificates and their CRLs, pre-indexed for the hot path.

Certificate paths are built and checked here with ``cryptography`` rather than through
signxml's chain verifier, because that verifier re-reads its CA file on every call and
applies Web-PKI (TLS) rules that Vietnamese document-signing certificates do not follow.
The time-independent part of a path check (issuer signatures, CA flags, the validity
dates to compare and the CRL entries to look at) is cached per leaf certificate; whether
the dates hold and whether a revocation has taken effect is decided on every call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from harness.errors import PKIError
from harness.signing._identity import IdentityCache

_MAX_DEPTH = 8
_DER = Encoding.DER
_PEM = Encoding.PEM


class UntrustedCertificate(Exception):
    """The certificate does not chain to a trust anchor (the reason is the message)."""


@dataclass(frozen=True)
class Revocation:
    """A CRL entry that matched: when and, if stated, why."""

    revoked_at: datetime
    reason: str | None


@dataclass(frozen=True)
class PathCheck:
    """What a store knows of one leaf whatever the time: its path to an anchor (or why it
    has none), each link's validity period, and the store's CRL entries for the path's
    non-anchor certificates, in path order (a store's CRLs are fixed when it is built)."""

    path: tuple[x509.Certificate, ...]
    untrusted: str | None  # why there is no path; ``path`` is then empty
    periods: tuple[tuple[datetime, datetime], ...]
    revocations: tuple[tuple[x509.Certificate, Revocation], ...]

    def valid_at(self, at: datetime) -> bool:
        """Whether every certificate of the path is valid at ``at``."""
        return all(start <= at <= end for start, end in self.periods)


_Checked = tuple[tuple[x509.Certificate, ...], PathCheck]
"""A leaf's untrusted companions and its :class:`PathCheck` (kept by :meth:`TrustStore.check`)."""


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _may_sign_certificates(cert: x509.Certificate) -> bool:
    if not _is_ca(cert):
        return False
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


def _may_sign_documents(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.digital_signature or usage.content_commitment


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


class TrustStore:
    """Trust anchors, known intermediate CAs and the CRLs they publish.

    Intermediates and CRLs are checked against the anchors once, at construction, so a
    misconfigured store fails early with :class:`PKIError` instead of rejecting every
    signature later.
    """

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        intermediates: Sequence[x509.Certificate] = (),
        crls: Sequence[x509.CertificateRevocationList] = (),
        *,
        cache_size: int = 4096,
    ) -> None:
        if not anchors:
            raise PKIError("a trust store needs at least one trust anchor (root CA)")
        self.anchors: tuple[x509.Certificate, ...] = tuple(anchors)
        self.intermediates: tuple[x509.Certificate, ...] = tuple(intermediates)
        self._anchor_der = {a.public_bytes(_DER) for a in self.anchors}
        self._by_subject: dict[x509.Name, list[tuple[x509.Certificate, bool]]] = {}
        for anchor in self.anchors:
            self._by_subject.setdefault(anchor.subject, []).append((anchor, True))
        for ca in self.intermediates:
            self._by_subject.setdefault(ca.subject, []).append((ca, False))
            try:
                self._path_to_anchor(ca, ())
            except UntrustedCertificate as exc:
                raise PKIError(f"intermediate {ca.subject.rfc4514_string()}: {exc}") from None
        self._revoked: dict[x509.Name, dict[int, Revocation]] = {}
        self.crls: tuple[x509.CertificateRevocationList, ...] = tuple(crls)
        for crl in self.crls:
            self._add_crl(crl)
        self._cached_path = lru_cache(maxsize=cache_size)(self._path_or_reason)
        self._checks: IdentityCache[x509.Certificate, _Checked] = IdentityCache(cache_size)

    @classmethod
    def from_pem(
        cls, anchors: bytes, intermediates: bytes = b"", crls: Iterable[bytes] = ()
    ) -> TrustStore:
        """Build a store from PEM bundles, e.g. the files a gateway is configured with."""
        try:
            return cls(
                x509.load_pem_x509_certificates(anchors),
                x509.load_pem_x509_certificates(intermediates) if intermediates.strip() else [],
                [x509.load_pem_x509_crl(pem) for pem in crls],
            )
        except ValueError as exc:
            raise PKIError(f"unreadable trust material: {exc}") from exc

    def pem(self) -> bytes:
        """Anchors then intermediates as one PEM bundle (for tools such as ``xmlsec1``)."""
        return b"".join(c.public_bytes(_PEM) for c in self.anchors + self.intermediates)

    def _add_crl(self, crl: x509.CertificateRevocationList) -> None:
        issuers = [c for c, _ in self._by_subject.get(crl.issuer, [])]
        if not any(crl.is_signature_valid(ca.public_key()) for ca in issuers):  # type: ignore[arg-type]
            raise PKIError(f"CRL of {crl.issuer.rfc4514_string()} is not signed by a known CA")
        entries = self._revoked.setdefault(crl.issuer, {})
        for entry in crl:
            reason: str | None = None
            with contextlib.suppress(x509.ExtensionNotFound):
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            entries[entry.serial_number] = Revocation(entry.revocation_date_utc, reason)

    def revocation(self, cert: x509.Certificate) -> Revocation | None:
        """The CRL entry for ``cert``, if its issuer's CRL lists it."""
        return self._revoked.get(cert.issuer, {}).get(cert.serial_number)

    def path(
        self, leaf: x509.Certificate, untrusted: Sequence[x509.Certificate] = ()
    ) -> tuple[x509.Certificate, ...]:
        """The path leaf → … → anchor, using ``untrusted`` certificates as possible links.

        Raises :class:`UntrustedCertificate` when no path exists. Results (including
        failures) are cached, keyed by the certificates (equal when their DER is equal).
        """
        outcome = self._cached_path(leaf, tuple(untrusted))
        if isinstance(outcome, str):
            raise UntrustedCertificate(outcome)
        return outcome

    def check(
        self, leaf: x509.Certificate, untrusted: Sequence[x509.Certificate] = ()
    ) -> PathCheck:
        """:meth:`path` and what a verification checks along it, cached by the identity of
        ``leaf``: certificates come from a decoding cache, so one signer's is one object,
        and hashing a certificate (its DER) as ``path``'s cache does costs ~2 us a call."""
        others = tuple(untrusted)
        entry = self._checks.get(leaf)
        if entry is not None and entry[0] == others:
            return entry[1]
        try:
            path = self.path(leaf, others)
        except UntrustedCertificate as exc:
            checked = PathCheck((), str(exc), (), ())
        else:
            periods = tuple((c.not_valid_before_utc, c.not_valid_after_utc) for c in path)
            revocations = [(c, self.revocation(c)) for c in path[:-1]]
            listed = tuple((c, r) for c, r in revocations if r is not None)
            checked = PathCheck(path, None, periods, listed)
        return self._checks.put(leaf, (others, checked))[1]

    def _path_or_reason(
        self, leaf: x509.Certificate, untrusted: tuple[x509.Certificate, ...]
    ) -> tuple[x509.Certificate, ...] | str:
        if _is_ca(leaf) and leaf.public_bytes(_DER) not in self._anchor_der:
            return "the signing certificate is a CA certificate"
        if not _may_sign_documents(leaf):
            return "the certificate's key usage does not allow signing"
        try:
            return self._path_to_anchor(leaf, untrusted)
        except UntrustedCertificate as exc:
            return str(exc)

    def _path_to_anchor(
        self, cert: x509.Certificate, untrusted: tuple[x509.Certificate, ...]
    ) -> tuple[x509.Certificate, ...]:
        path = [cert]
        for _ in range(_MAX_DEPTH):
            current = path[-1]
            if current.public_bytes(_DER) in self._anchor_der:
                return tuple(path)
            candidates = list(self._by_subject.get(current.issuer, []))
            candidates += [(c, False) for c in untrusted if c.subject == current.issuer]
            for issuer, is_anchor in candidates:
                if issuer in path:  # a self-signed untrusted CA would loop forever
                    continue
                if _may_sign_certificates(issuer) and issued_by(current, issuer):
                    path.append(issuer)
                    if is_anchor:
                        return tuple(path)
                    break
            else:
                name = current.issuer.rfc4514_string()
                raise UntrustedCertificate(f"no trusted CA issued the certificate (issuer {name})")
        raise UntrustedCertificate("certificate path is too long")

    def invalid_at(self, path: Sequence[x509.Certificate], at: datetime) -> dict[str, str]:
        """Empty if every certificate of ``path`` is valid at ``at``; else, for the first
        that is not, its subject and validity period and ``at``, as values rather than an
        English sentence, so a finding reads the same in Vietnamese and in English."""
        for cert in path:
            if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
                return {
                    "certificate": cert.subject.rfc4514_string(),
                    "valid_from": cert.not_valid_before_utc.isoformat(),
                    "valid_to": cert.not_valid_after_utc.isoformat(),
                    "signed_at": at.isoformat(),
                }
        return {}
