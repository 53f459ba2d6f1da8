"""The intake pipeline: from the bytes of a ``Hoso`` to an accepted dossier or findings.

The checking itself is :class:`harness.conformance.DossierChecker`, the one
implementation shared with ``bhxh-harness dossier check`` and the suites, so "valid"
means the same to the gateway and to everyone testing against it. This module adds
what only a gateway needs: choosing the catalog version that governs the declared period
when several are served, binding the check to the authenticated I-VAN and the clock,
and turning the result into an acceptance or a :class:`Rejected` with its HTTP status.

Everything expensive (schemas, rule files, trust store) is compiled once, at start-up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.catalog import Catalog, FormVersion, Procedure, load_catalog, period_key
from harness.catalog import validators_for as _validators_for
from harness.conformance import DossierChecker
from harness.envelope import EmbeddedFile, EnvelopeInfo
from harness.error_codes import describe, finding
from harness.errors import ConfigError, Finding, UsageError
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


class CatalogSet:
    """The catalog versions a gateway serves; the period a dossier declares picks one.

    A dossier is judged by the latest version in effect for its ``KyKeKhai``; periods
    before every version fall to the oldest, whose in-force dates then decide.
    """

    def __init__(self, versions: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(versions))
        if not wanted:
            from harness.catalog import list_versions

            wanted = list_versions()
        try:
            loaded = [load_catalog(v) for v in wanted]
        except UsageError as exc:
            raise ConfigError(f"cannot load catalog: {exc}") from exc
        self.catalogs = sorted(loaded, key=lambda c: period_key(c.effective_from))
        for catalog in self.catalogs:
            _validators_for(catalog)  # compile every schema and rule file now, not per request

    @property
    def latest(self) -> Catalog:
        return self.catalogs[-1]

    def for_period(self, period: str) -> Catalog:
        try:
            key = period_key(period)
        except ValueError:
            return self.latest
        chosen = self.catalogs[0]
        for catalog in self.catalogs:
            if period_key(catalog.effective_from) <= key:
                chosen = catalog
        return chosen


_PERIOD = re.compile(rb"<KyKeKhai>\s*(\d{2}/\d{4})\s*</KyKeKhai>")


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

    def _not_yet_in_force(self, errors: list[Finding]) -> list[Finding]:
        """ENV-002 becomes ENV-003 when another served version knows the procedure.

        The period picks the catalog, so a procedure added later (630a from 01/2026) is
        unknown to the version governing 12/2025; the sender deserves "not in force for
        that period", which is what is wrong, rather than "no such procedure".
        """
        if [f.code for f in errors] != ["ENV-002"]:
            return errors
        code = errors[0].context.get("value", "")
        known = [c for c in self.catalogs.catalogs if c.procedure(code) is not None]
        if not known:
            return errors
        procedure = known[0].procedure(code)
        assert procedure is not None
        return [
            finding(
                "ENV-003",
                errors[0].xpath.replace("MaThuTuc", "KyKeKhai"),
                procedure=code,
                in_force_from=procedure.in_force_from,
            )
        ]

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
        self._checkers = {c.version: DossierChecker(c, trust, limits) for c in catalogs.catalogs}

    def check(self, body: bytes, ivan: str, now: datetime) -> Accepted:
        """The accepted dossier, or :class:`Rejected` with the failing stage's findings.

        The catalog is picked from a cheap scan for ``KyKeKhai`` before parsing; if the
        parsed envelope declares a period governed by another version (a decoy in a
        comment, say), the dossier is checked again under the right one.
        """
        started = time.perf_counter()
        found = _PERIOD.search(body, 0, 1 << 20)
        catalog = self.catalogs.for_period(found.group(1).decode() if found else "")
        result = self._checkers[catalog.version].check(body, ivan=ivan, at=now)
        if result.envelope is not None:
            governing = self.catalogs.for_period(result.envelope.ky_ke_khai)
            if governing is not catalog:
                catalog = governing
                result = self._checkers[catalog.version].check(body, ivan=ivan, at=now)
        if result.envelope is not None and self.release.slow_forms:  # release hook: timing
            sent = [f.ma_to_khai for f in result.envelope.files]
            self.release.slow_down(sent, time.perf_counter() - started)
        if not result.accepted or result.envelope is None:
            raise self._rejected(self._not_yet_in_force(result.errors) + result.warnings)
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
