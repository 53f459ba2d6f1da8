"""The intake pipeline: from the bytes of a ``Hoso`` to an accepted dossier or findings.

The checking itself is :class:`harness.conformance.DossierChecker`, the one
implementation shared with ``bhxh-harness dossier check`` and the suites, so "valid"
means the same to the gateway and to everyone testing against it; so is the choice of
the catalog version governing the declared period (:mod:`harness.served_catalogs`). This
module adds what only a gateway needs: binding the check to the authenticated I-VAN and
the clock, and turning the result into an acceptance or a :class:`Rejected` with its
HTTP status.

Everything expensive (schemas, rule files, trust store) is compiled once, at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.catalog import Catalog, FormVersion, Procedure
from harness.envelope import EmbeddedFile, EnvelopeInfo
from harness.error_codes import describe, finding
from harness.errors import ConfigError, Finding, UsageError
from harness.served_catalogs import ServedCatalogs, ServedCheck
from harness.signing import TrustStore
from harness.xmlsafe import XMLLimits
from mock_gateway.releases import NO_RELEASE, ReleaseProfile


class Rejected(Exception):
    """The dossier (or request) is refused; ``findings`` say why, ``status`` is the HTTP status."""

    def __init__(self, findings: Sequence[Finding], status: int | None = None) -> None:
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == "error"] or self.findings
        self.code = errors[0].code if errors else "SRV-002"
        self.status = status if status is not None else describe(self.code).http
        super().__init__("; ".join(str(f) for f in errors[:3]))


def reject(code: str, xpath: str = "/", *, status: int | None = None, **context: str) -> Rejected:
    """A :class:`Rejected` with one finding of ``code``."""
    return Rejected([finding(code, xpath, **context)], status)


@dataclass(frozen=True)
class CheckedForm:
    """One embedded form that passed every stage."""

    file: EmbeddedFile
    version: FormVersion
    description: str


@dataclass(frozen=True)
class Accepted:
    """A dossier that passed the whole pipeline, with the warnings its receipt must carry."""

    catalog: Catalog
    procedure: Procedure
    info: EnvelopeInfo
    forms: tuple[CheckedForm, ...]
    warnings: tuple[Finding, ...]
    unit_signer: str

    def summary(self) -> dict[str, object]:
        """What later messages repeat, stored beside the dossier as JSON."""
        unit = self.info.unit
        return {
            "ten": unit.ten,
            "ma_dvi": unit.ma_don_vi,
            "mst": unit.ma_so_thue,
            "co_quan": unit.co_quan,
            "procedure": self.procedure.code,
            "procedure_name": self.procedure.name,
            "period": self.info.ky_ke_khai,
            "files": [[f.file.ten_file, f.description] for f in self.forms],
            "signer": self.unit_signer,
        }


class CatalogSet(ServedCatalogs):
    """The served versions, compiled at start; a catalog that cannot load is a ConfigError."""

    def __init__(self, versions: Iterable[str]) -> None:
        try:
            super().__init__(versions, compile_now=True)
        except UsageError as exc:
            raise ConfigError(f"cannot load catalog: {exc}") from exc


class Intake:
    """Validates envelopes for one set of catalogs against one trust store (thread-safe)."""

    def _rejected(self, findings: list[Finding]) -> Rejected:
        """The rejection, under the codes of the release being simulated (if any)."""
        if self.release.renumber_codes:  # release hook: renumbered error codes
            status = self.release.status_for(findings)
            return Rejected(self.release.renumber(findings), status)
        if any(f.code in self.release.escalate_warnings for f in findings):
            return Rejected(findings, self.release.status_for(findings))
        return Rejected(findings)

    def __init__(
        self,
        catalogs: CatalogSet,
        trust: TrustStore,
        limits: XMLLimits,
        *,
        release: ReleaseProfile = NO_RELEASE,
    ) -> None:
        self.catalogs = catalogs
        self.trust = trust
        self.limits = limits
        self.release = release  # a faulty release's hooks (mock_gateway.releases); default none
        self._check = ServedCheck(catalogs, trust, limits)

    def check(self, body: bytes, ivan: str, now: datetime) -> Accepted:
        """The accepted dossier, or :class:`Rejected` with the failing stage's findings.

        :class:`harness.served_catalogs.ServedCheck` picks the version governing the
        declared period, as ``bhxh-harness dossier check`` does.
        """
        started = time.perf_counter()
        catalog, result = self._check.check(body, ivan=ivan, at=now)
        if result.envelope is not None and self.release.slow_forms:  # release hook: timing
            sent = [f.ma_to_khai for f in result.envelope.files]
            self.release.slow_down(sent, time.perf_counter() - started)
        if not result.accepted or result.envelope is None:
            raise self._rejected(result.findings)
        added = self.release.review(result, self.catalogs)  # release hook: extra errors
        if added:
            raise self._rejected(added + result.warnings)
        info = result.envelope
        procedure = catalog.procedure(info.ma_thu_tuc)
        if procedure is None:  # the checker rejects unknown procedures: our bug if reached
            raise RuntimeError(f"accepted a dossier for unknown procedure {info.ma_thu_tuc}")
        forms = tuple(
            CheckedForm(file, version, catalog.forms[version.form].name)
            for file, (version, _content) in zip(info.files, result.forms, strict=True)
        )
        signer = result.signatures[0].subject if result.signatures else ""
        return Accepted(catalog, procedure, info, forms, tuple(result.warnings), signer)
