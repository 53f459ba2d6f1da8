"""A test PKI, made by code from ``fixtures/pki/recipe.yaml`` and cached on disk.

It stands in for the licensed Vietnamese CAs: a root and an issuing CA, leaf certificates
for units, I-VANs and the gateway (one expired, one revoked), and some that must never be
trusted (issued by an unrelated CA, self-signed). Generating a dozen RSA keys takes about
a second, so the material is cached in a directory and reused across runs and processes.

The cache is written to a temporary sibling directory and renamed into place under a file
lock, so concurrent test workers never see half-written material. It is regenerated when
the recipe changes or a certificate that should be valid comes within 30 days of expiry.

Files (all PEM): ``<name>.key.pem``, ``<name>.crt.pem``, ``<name>.chain.pem`` (certificate
plus intermediates, without the root) for every authority and credential, ``<ca>.crl.pem``
for CAs that publish a CRL, and ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.errors import PKIError
from harness.paths import cache_dir, fixtures_dir
from harness.signing._recipe import CertSpec, Recipe, load_recipe
from harness.signing.trust import TrustStore

_Parsed = TypeVar("_Parsed")

ENV_DIRECTORY = "BHXH_HARNESS_PKI"
_RENEW_MARGIN = timedelta(days=30)
_MANIFEST = "manifest.json"
_PEM = serialization.Encoding.PEM
# What a certificate's validity can say: cryptography writes no date before 1950 (UTCTime's
# first year), GeneralizedTime none after 9999. Dates from 2050 on are GeneralizedTime.
_X509_EARLIEST = datetime(1950, 1, 1, tzinfo=UTC)
_X509_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class Credential:
    """A signer: its private key, certificate and chain (certificate first, no root)."""

    name: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain_pem: bytes

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (for external tools)."""
        return self.private_key.private_bytes(
            _PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def cert_pem(self) -> bytes:
        """The certificate alone, as PEM."""
        return self.certificate.public_bytes(_PEM)


def default_directory() -> Path:
    """``$BHXH_HARNESS_PKI`` if set, else ``<cache>/pki`` (``.cache/pki`` in a checkout)."""
    env = os.environ.get(ENV_DIRECTORY)
    return Path(env) if env else cache_dir() / "pki"


def default_recipe() -> Path:
    """The recipe shipped with the project."""
    return fixtures_dir() / "pki" / "recipe.yaml"


class TestPKI:
    """Read access to a generated PKI directory; keys are loaded on first use."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, directory: Path, recipe: Recipe) -> None:
        self.directory = directory
        self.recipe = recipe
        self._credentials: dict[str, Credential] = {}
        self._trust: TrustStore | None = None
        self._lock = threading.Lock()

    def names(self) -> tuple[str, ...]:
        """Names accepted by :meth:`credential`, in recipe order."""
        return tuple(self.recipe.credentials)

    def credential(self, name: str) -> Credential:
        """The signer ``name`` (e.g. ``"unit"``, ``"ivan-IVAN01"``, ``"bhxh"``)."""
        if name not in self.recipe.credentials:
            raise PKIError(
                f"unknown test credential {name!r}",
                hint=f"known credentials: {', '.join(self.names())}",
            )
        return self._load(name)

    def authority(self, name: str) -> Credential:
        """A CA of the recipe (e.g. ``"issuing"``), for tests that must issue more certs."""
        if name not in self.recipe.authorities:
            raise PKIError(
                f"unknown test authority {name!r}",
                hint=f"known authorities: {', '.join(self.recipe.authorities)}",
            )
        return self._load(name)

    def file(self, filename: str) -> Path:
        """Path of one file of the PKI, e.g. ``"root.crt.pem"``; it must exist."""
        path = self.directory / filename
        if not path.is_file():
            raise PKIError(f"{path} is missing", hint=f"delete {self.directory} to regenerate it")
        return path

    def trust_store(self) -> TrustStore:
        """The gateway's view: the recipe's trust anchors, the CAs under them, their CRLs."""
        with self._lock:
            if self._trust is None:
                anchors = [self._read_cert(a) for a in self.recipe.trust_anchors]
                trusted = {
                    name
                    for name in self.recipe.authorities
                    if _root_of(self.recipe, name) in self.recipe.trust_anchors
                }
                intermediates = [
                    self._read_cert(n) for n in sorted(trusted - set(self.recipe.trust_anchors))
                ]
                crls = [
                    self._parsed(f"{n}.crl.pem", "revocation list", x509.load_pem_x509_crl)
                    for n in sorted(trusted)
                    if self.recipe.authorities[n].publishes_crl
                ]
                self._trust = TrustStore(anchors, intermediates, crls)
            return self._trust

    def _read_cert(self, name: str) -> x509.Certificate:
        return self._parsed(f"{name}.crt.pem", "certificate", x509.load_pem_x509_certificate)

    def _parsed(self, filename: str, what: str, parse: Callable[[bytes], _Parsed]) -> _Parsed:
        """One PEM file of the PKI, parsed; a damaged one (truncated, emptied, edited) is a
        :class:`PKIError` saying how to regenerate it, not a traceback."""
        path = self.file(filename)
        try:
            return parse(path.read_bytes())
        except ValueError:
            raise PKIError(
                f"{path} is not a valid PEM {what}: the test PKI is damaged",
                hint=f"delete {self.directory} to regenerate it (bhxh-harness pki init)",
            ) from None

    def _load(self, name: str) -> Credential:
        with self._lock:
            if name not in self._credentials:
                key = self._parsed(
                    f"{name}.key.pem",
                    "private key",
                    lambda data: serialization.load_pem_private_key(
                        data,
                        password=None,
                        unsafe_skip_rsa_key_validation=True,  # our own keys; saves ~ms per key
                    ),
                )
                if not isinstance(key, rsa.RSAPrivateKey):
                    raise PKIError(f"{name}: expected an RSA key")
                certificate = self._read_cert(name)
                if certificate.public_key() != key.public_key():  # another PKI's file copied in
                    raise PKIError(
                        f"{self.directory / f'{name}.crt.pem'} does not match "
                        f"{name}.key.pem: the test PKI is damaged",
                        hint=f"delete {self.directory} to regenerate it (bhxh-harness pki init)",
                    )
                self._credentials[name] = Credential(
                    name=name,
                    private_key=key,
                    certificate=certificate,
                    chain_pem=self.file(f"{name}.chain.pem").read_bytes(),
                )
            return self._credentials[name]


def _root_of(recipe: Recipe, name: str) -> str:
    seen: set[str] = set()
    while recipe.spec(name).issuer != "self":
        if name in seen:
            raise PKIError(f"{recipe.path}: issuer cycle through {name!r}")
        seen.add(name)
        name = recipe.spec(name).issuer
    return name


_LOADED: dict[tuple[Path, str], TestPKI] = {}
_LOADED_LOCK = threading.Lock()


def ensure_pki(
    directory: Path | None = None, *, recipe: Path | None = None, recheck: bool = False
) -> TestPKI:
    """Load the test PKI from ``directory``, generating it first if missing or stale, and
    check that its files fit together (:func:`~harness.signing.integrity.check_pki`).

    ``directory`` defaults to :func:`default_directory`; ``recipe`` to the project's
    ``fixtures/pki/recipe.yaml``. The check runs once a process, or again, on the files
    as they are now, with ``recheck`` (``pki init`` answers for the folder). Safe to call
    concurrently from several processes.
    """
    target = (directory if directory is not None else default_directory()).resolve()
    parsed = load_recipe(recipe if recipe is not None else default_recipe())
    key = (target, parsed.digest)
    with _LOADED_LOCK:
        if not _is_usable(target, parsed):
            try:
                with _file_lock(target):
                    if not _is_usable(target, parsed):
                        _generate(target, parsed)
            except OSError as exc:  # not a folder, not writable, no such parent...
                raise PKIError(
                    f"cannot create the test PKI in {target}: {exc.strerror or exc}",
                    hint="choose a writable folder (--dir, or $BHXH_HARNESS_PKI)",
                ) from None
            _LOADED.pop(key, None)
        if key not in _LOADED or recheck:  # checked once a process: a damaged file is named
            from harness.signing.integrity import check_pki

            loaded = TestPKI(target, parsed)
            check_pki(loaded)  # before it is kept: a damaged folder is refused every time
            _LOADED.setdefault(key, loaded)
        return _LOADED[key]


def _is_usable(directory: Path, recipe: Recipe) -> bool:
    try:
        manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
        renew_after = datetime.fromisoformat(manifest["renew_after"])
        return bool(manifest["recipe_sha256"] == recipe.digest and datetime.now(UTC) < renew_after)
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextlib.contextmanager
def _file_lock(directory: Path) -> Iterator[None]:
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refuse_foreign_directory(directory: Path) -> None:
    """Never replace a directory that is not a PKI we made (a mistyped $BHXH_HARNESS_PKI)."""
    if not directory.exists() or not any(directory.iterdir()):
        return
    try:
        json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))["recipe_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        if (directory / _MANIFEST).is_file():  # ours once, its manifest since damaged
            raise PKIError(
                f"{directory / _MANIFEST} is damaged: the test PKI cannot tell its recipe",
                hint=f"delete {directory} to regenerate it",
            ) from None
        raise PKIError(
            f"{directory} exists but is not a test PKI made by the harness",
            hint=f"choose an empty or new folder (--dir, or ${ENV_DIRECTORY})",
        ) from None


def _generate(directory: Path, recipe: Recipe) -> None:
    """Write a fresh PKI to a temporary sibling, then swap it in with renames."""
    _refuse_foreign_directory(directory)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = directory.parent / f".{directory.name}.tmp-{token}"
    staging.mkdir(parents=True)
    try:
        _Issuer(recipe, staging).issue_all()
        if directory.exists():
            retired = directory.parent / f".{directory.name}.old-{token}"
            os.rename(directory, retired)
            shutil.rmtree(retired, ignore_errors=True)
        os.rename(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class _Issuer:
    """Makes every key, certificate and CRL of a recipe into ``out``."""

    def __init__(self, recipe: Recipe, out: Path) -> None:
        self.recipe = recipe
        self.out = out
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.certs: dict[str, x509.Certificate] = {}
        self.chains: dict[str, list[x509.Certificate]] = {}

    def issue_all(self) -> None:
        for name in [*self.recipe.authorities, *self.recipe.credentials]:
            self._issue(name, set())
        for name, spec in self.recipe.authorities.items():
            if spec.publishes_crl:
                self._write(f"{name}.crl.pem", self._crl(name).public_bytes(_PEM))
        should_be_valid = [
            self.now + timedelta(days=s.valid_until_days)
            for s in [*self.recipe.authorities.values(), *self.recipe.credentials.values()]
            if s.valid_until_days > 0
        ]
        should_be_valid.append(self.now + timedelta(days=self.recipe.crl_valid_days))
        manifest = {
            "recipe": str(self.recipe.path),
            "recipe_sha256": self.recipe.digest,
            "created": self.now.isoformat(),
            "renew_after": (min(should_be_valid) - _RENEW_MARGIN).isoformat(),
            "serials": {n: format(c.serial_number, "X") for n, c in self.certs.items()},
        }
        self._write(_MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())

    def _write(self, filename: str, data: bytes) -> None:
        (self.out / filename).write_bytes(data)

    def _issue(self, name: str, visiting: set[str]) -> None:
        if name in self.certs:
            return
        if name in visiting:
            raise PKIError(f"{self.recipe.path}: issuer cycle through {name!r}")
        spec = self.recipe.spec(name)
        if spec.issuer != "self":
            self._issue(spec.issuer, visiting | {name})
        key = rsa.generate_private_key(public_exponent=65537, key_size=self.recipe.key_size)
        cert = self._certificate(spec, key)
        chain = [cert]
        if spec.issuer != "self":
            chain += [c for c in self.chains[spec.issuer] if c.issuer != c.subject]
        self.keys[name], self.certs[name], self.chains[name] = key, cert, chain
        self._write(
            f"{name}.key.pem",
            key.private_bytes(
                _PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        self._write(f"{name}.crt.pem", cert.public_bytes(_PEM))
        self._write(f"{name}.chain.pem", b"".join(c.public_bytes(_PEM) for c in chain))

    def _moment(self, spec: CertSpec, days: float) -> datetime:
        """``days`` after generation, or a :class:`PKIError` where X.509 has no such date
        (before 1950, after 9999): a recipe edit must not end in a cryptography traceback."""
        moment: datetime | None
        try:
            moment = self.now + timedelta(days=days)
        except OverflowError:  # past year 9999
            moment = None
        if moment is None or not _X509_EARLIEST <= moment <= _X509_LATEST:
            raise PKIError(
                f"{self.recipe.path}: {spec.name}: {days:.0f} days from now is outside the dates "
                f"a certificate can carry ({_X509_EARLIEST:%Y-%m-%d} to {_X509_LATEST:%Y-%m-%d})",
                hint="fix the PKI recipe (see its header comment)",
            )
        return moment

    def _certificate(self, spec: CertSpec, key: rsa.RSAPrivateKey) -> x509.Certificate:
        self_signed = spec.issuer == "self"
        issuer_key = key if self_signed else self.keys[spec.issuer]
        issuer_name = spec.subject if self_signed else self.certs[spec.issuer].subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(spec.subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._moment(spec, spec.valid_from_days))
            .not_valid_after(self._moment(spec, spec.valid_until_days))
            .add_extension(
                x509.BasicConstraints(ca=spec.is_ca, path_length=spec.path_length), critical=True
            )
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not spec.is_ca,
                    content_commitment=not spec.is_ca,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=spec.is_ca,
                    crl_sign=spec.is_ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    def _crl(self, authority: str) -> x509.CertificateRevocationList:
        key = self.keys[authority]
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certs[authority].subject)
            .last_update(self.now - timedelta(hours=1))
            .next_update(self.now + timedelta(days=self.recipe.crl_valid_days))
            .add_extension(x509.CRLNumber(1), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False
            )
        )
        for name, spec in self.recipe.credentials.items():
            if spec.issuer == authority and spec.revoked is not None:
                entry = (
                    x509.RevokedCertificateBuilder()
                    .serial_number(self.certs[name].serial_number)
                    .revocation_date(self.now - timedelta(minutes=1))
                    .add_extension(x509.CRLReason(spec.revoked), False)
                    .build()
                )
                builder = builder.add_revoked_certificate(entry)
        return builder.sign(key, hashes.SHA256())
