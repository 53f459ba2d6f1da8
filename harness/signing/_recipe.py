"""Parse ``fixtures/pki/recipe.yaml``: which certificates the test PKI holds, and how.

Kept apart from the generator so the recipe's rules (unique names, known issuers, sane
validity windows) are checked, with a clear :class:`PKIError`, before any key is made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.errors import CatalogError, PKIError
from harness.yamlfile import load_yaml

# Attribute order inside a DN follows the usual CA practice (country first, CN last but UID).
_ATTRIBUTES: dict[str, x509.ObjectIdentifier] = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "CN": NameOID.COMMON_NAME,
    "UID": NameOID.USER_ID,
    "E": NameOID.EMAIL_ADDRESS,
}


@dataclass(frozen=True)
class CertSpec:
    """One certificate to issue; day offsets are relative to the generation moment."""

    name: str
    subject: x509.Name
    issuer: str  # an authority name, or "self"
    valid_from_days: float
    valid_until_days: float
    is_ca: bool
    path_length: int | None = None
    publishes_crl: bool = False
    revoked: x509.ReasonFlags | None = None


@dataclass(frozen=True)
class Recipe:
    """The whole recipe; ``digest`` identifies it so a changed file triggers regeneration."""

    path: Path
    digest: str
    key_size: int
    crl_valid_days: float
    trust_anchors: tuple[str, ...]
    authorities: dict[str, CertSpec]
    credentials: dict[str, CertSpec]

    def spec(self, name: str) -> CertSpec:
        """The authority or credential called ``name``."""
        return self.authorities.get(name) or self.credentials[name]


def _fail(path: Path, message: str) -> PKIError:
    return PKIError(f"{path}: {message}", hint="fix the PKI recipe (see its header comment)")


def _subject(path: Path, name: str, raw: Any) -> x509.Name:
    if not isinstance(raw, dict) or "CN" not in raw:
        raise _fail(path, f"{name}: subject must be a mapping with at least CN")
    unknown = set(raw) - set(_ATTRIBUTES)
    if unknown:
        raise _fail(
            path, f"{name}: unknown subject keys {sorted(unknown)}; use {list(_ATTRIBUTES)}"
        )
    return x509.Name(
        [x509.NameAttribute(oid, str(raw[key])) for key, oid in _ATTRIBUTES.items() if key in raw]
    )


def _spec(path: Path, name: str, raw: Any, *, is_ca: bool) -> CertSpec:
    if not isinstance(raw, dict):
        raise _fail(path, f"{name}: expected a mapping")
    try:
        start = float(raw.get("valid_from_days", -1))
        if "valid_until_days" in raw:
            end = float(raw["valid_until_days"])
        else:
            end = start + float(raw["valid_days"])
    except (KeyError, TypeError, ValueError):
        raise _fail(path, f"{name}: needs numeric valid_from_days and valid_days") from None
    if end <= start:
        raise _fail(path, f"{name}: validity ends before it starts")
    revoked = raw.get("revoked")
    reason: x509.ReasonFlags | None = None
    if revoked is True:
        reason = x509.ReasonFlags.unspecified
    elif revoked:
        try:
            reason = x509.ReasonFlags(str(revoked))
        except ValueError:
            choices = [r.value for r in x509.ReasonFlags]
            raise _fail(path, f"{name}: revoked must be true or one of {choices}") from None
    path_length = raw.get("path_length")
    return CertSpec(
        name=name,
        subject=_subject(path, name, raw.get("subject")),
        issuer=str(raw.get("issuer", "")),
        valid_from_days=start,
        valid_until_days=end,
        is_ca=is_ca,
        path_length=int(path_length) if path_length is not None else None,
        publishes_crl=bool(raw.get("publishes_crl", False)),
        revoked=reason,
    )


def load_recipe(path: Path) -> Recipe:
    """Read and check the recipe at ``path``."""
    try:
        data = path.read_bytes()
        raw: Any = load_yaml(path)  # refuses a name given twice, which YAML would let pass
    except (OSError, CatalogError) as exc:
        raise _fail(path, f"cannot read the recipe: {exc}") from exc
    if not isinstance(raw, dict):
        raise _fail(path, "expected a mapping with authorities and credentials")
    sections: dict[str, dict[str, CertSpec]] = {}
    for section, is_ca in (("authorities", True), ("credentials", False)):
        entries = raw.get(section)
        if not isinstance(entries, dict) or not entries:
            raise _fail(path, f"{section}: expected a non-empty mapping")
        sections[section] = {
            str(n): _spec(path, str(n), v, is_ca=is_ca) for n, v in entries.items()
        }
    authorities, credentials = sections["authorities"], sections["credentials"]
    clash = authorities.keys() & credentials.keys()
    if clash:
        raise _fail(path, f"names used both as authority and credential: {sorted(clash)}")
    for spec in [*authorities.values(), *credentials.values()]:
        if spec.issuer != "self" and spec.issuer not in authorities:
            raise _fail(path, f"{spec.name}: issuer {spec.issuer!r} is not an authority or 'self'")
    anchors = tuple(str(a) for a in raw.get("trust_anchors", []))
    for anchor in anchors:
        if anchor not in authorities or authorities[anchor].issuer != "self":
            raise _fail(path, f"trust anchor {anchor!r} must be a self-signed authority")
    return Recipe(
        path=path,
        digest=hashlib.sha256(data).hexdigest(),
        key_size=int(raw.get("key_size", 2048)),
        crl_valid_days=float(raw.get("crl_valid_days", 400)),
        trust_anchors=anchors,
        authorities=authorities,
        credentials=credentials,
    )
