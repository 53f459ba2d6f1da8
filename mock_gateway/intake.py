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

import dataclasses
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
from mock_gateway.messages import Declared, UnitInfo
from mock_gateway.releases import NO_RELEASE, ReleaseProfile


class Rejected(Exception):
    """The dossier (or request) is refused; ``findings`` say why, ``status`` is the HTTP status.

    ``unit`` and ``declared`` are what the envelope said, when it could be read, for the
    refusal to echo (TTDVI, MALOAI_HSO, KY_KKHAI).
    """

    def __init__(
        self,
        findings: Sequence[Finding],
        status: int | None = None,
        *,
        unit: UnitInfo | None = None,
        declared: Declared | None = None,
    ) -> None:
        self.findings = list(findings)
        self.unit = unit
        self.declared = declared
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
    """A dossier that passed the whole pipeline, with the warnings its receipt must carry
    and the defects its 03/TB-TS will list (the catalog's result rules)."""

    catalog: Catalog
    procedure: Procedure
    info: EnvelopeInfo
    forms: tuple[CheckedForm, ...]
    warnings: tuple[Finding, ...]
    unit_signer: str
    defects: tuple[Finding, ...] = ()

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
            "days_to_result": self.procedure.days_to_result,
            "period": self.info.ky_ke_khai,
            "files": [[f.file.ten_file, f.description] for f in self.forms],
            "signer": self.unit_signer,
            "defects": [dataclasses.asdict(f) for f in self.defects],
        }


def _unit(info: EnvelopeInfo) -> UnitInfo:
    """The unit as the envelope names it, as answers name it (TTDVI)."""
    unit = info.unit
    return UnitInfo(unit.ten, unit.ma_don_vi, unit.ma_so_thue, unit.co_quan)


def _declared(info: EnvelopeInfo, catalogs: Sequence[Catalog]) -> Declared:
    """The procedure and period the envelope declares, named by the first of ``catalogs``
    knowing the procedure (one not in force for the period is still BHXH's procedure);
    blank for one none knows: the sender's own text is not BHXH's name."""
    known = (c.procedure(info.ma_thu_tuc) for c in catalogs)
    procedure = next((p for p in known if p is not None), None)
    name = procedure.name if procedure is not None else ""
    return Declared(info.ma_thu_tuc, name, info.ky_ke_khai)


class CatalogSet(ServedCatalogs):
    """The served versions, compiled at start; a catalog that cannot load is a ConfigError."""

    def __init__(self, versions: Iterable[str]) -> None:
        wanted = list(versions)
        try:
            super().__init__(wanted, compile_now=True)
        except UsageError as exc:
            raise self._unloadable(wanted, exc) from exc

    @staticmethod
    def _unloadable(wanted: list[str], exc: UsageError) -> ConfigError:
        """The error, saying which versions do load: serving those still works while the
        broken one is fixed (one bad new version need not stop the gateway)."""
        from harness.catalog import list_versions, load_catalog, validators_for

        message = str(exc).partition("\nHint: ")[0]
        good: list[str] = []
        bad: list[str] = []
        try:
            for version in wanted or list_versions():
                try:
                    validators_for(load_catalog(version))
                    good.append(version)
                except UsageError:
                    bad.append(version)
        except UsageError:  # the versions on disk clash: nothing to say of each one
            return ConfigError(f"cannot load catalog: {message}", hint=exc.hint)
        hints = [exc.hint] if exc.hint else []
        if bad:
            hints.append(f"`bhxh-harness catalog check {' '.join(bad)}` says what to fix")
        if bad and good:
            chosen = " ".join(f"--catalog {v}" for v in good)
            hints.append(f"to serve the versions that load meanwhile, start with {chosen}")
        return ConfigError(f"cannot load catalog: {message}", hint="; ".join(hints) or None)


class Intake:
    """Validates envelopes for one set of catalogs against one trust store (thread-safe)."""

    def _rejected(
        self, findings: list[Finding], catalog: Catalog, info: EnvelopeInfo | None
    ) -> Rejected:
        """The rejection, under the codes of the release being simulated (if any), echoing
        the envelope ``info`` when it was read."""
        status = None
        if self.release.renumber_codes:  # release hook: renumbered error codes
            status = self.release.status_for(findings)
            findings = self.release.renumber(findings)
        elif any(f.code in self.release.escalate_warnings for f in findings):
            status = self.release.status_for(findings)
        if info is None:
            return Rejected(findings, status)
        namers = [catalog, *reversed([c for c in self.catalogs.catalogs if c is not catalog])]
        return Rejected(findings, status, unit=_unit(info), declared=_declared(info, namers))

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
            raise self._rejected(result.findings, catalog, result.envelope)
        added = self.release.review(result, self.catalogs)  # release hook: extra errors
        if added:
            raise self._rejected(added + result.warnings, catalog, result.envelope)
        info = result.envelope
        procedure = catalog.procedure(info.ma_thu_tuc)
        if procedure is None:  # the checker rejects unknown procedures: our bug if reached
            raise RuntimeError(f"accepted a dossier for unknown procedure {info.ma_thu_tuc}")
        forms = tuple(
            CheckedForm(file, version, catalog.forms[version.form].name)
            for file, (version, _content) in zip(info.files, result.forms, strict=True)
        )
        signer = result.signatures[0].subject if result.signatures else ""
        warnings, defects = tuple(result.warnings), tuple(result.defects)
        if self.release.skips_result_rules:  # release hook: no defective rows
            defects = ()
        return Accepted(catalog, procedure, info, forms, warnings, signer, defects)
