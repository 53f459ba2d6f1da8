"""The intake pipeline: from the bytes of a ``Hoso`` to an accepted dossier or findings.

Stages run in the order a real gateway can afford them, cheapest first, and each stage
reports *every* finding it sees before the dossier is rejected, so a vendor fixes all
envelope problems in one round trip: hardened parse → envelope XSD + Schematron →
I-VAN match → procedure, period and forms against the catalog → signatures (envelope,
then every form) → each form's XSD + Schematron. Nothing here touches the store or the
clock's owner; the caller decides what an acceptance means.

Everything expensive (schemas, rule files, trust store) is compiled once, at start-up.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.catalog import Catalog, FormVersion, Procedure, load_catalog, period_key
from harness.catalog import validators_for as _validators_for
from harness.envelope import EmbeddedFile, EnvelopeInfo, read_envelope
from harness.error_codes import describe, finding
from harness.errors import ConfigError, Finding, SignatureInvalid, UsageError
from harness.signing import TrustStore, verify
from harness.xmlsafe import XMLLimits, XMLRejected, parse_xml

_FILES = "/Hoso/NoiDung/ThongTinHoSo/ToKhais/FileToKhai"


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


def _in_file(f: Finding, file: EmbeddedFile) -> Finding:
    return replace(f, context={**f.context, "file": file.ten_file})


def _errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


class Intake:
    """Validates envelopes for one set of catalogs against one trust store (thread-safe)."""

    def __init__(self, catalogs: CatalogSet, trust: TrustStore, limits: XMLLimits) -> None:
        self.catalogs = catalogs
        self.trust = trust
        self.limits = limits

    def check(self, body: bytes, ivan: str, now: datetime) -> Accepted:
        """The accepted dossier, or :class:`Rejected` with every finding of the failing stage."""
        try:
            root = parse_xml(body, self.limits)
        except XMLRejected as exc:
            raise Rejected([exc.finding]) from None
        period = (root.findtext("NoiDung/ThongTinHoSo/KyKeKhai") or "").strip()
        catalog = self.catalogs.for_period(period)
        validators = _validators_for(catalog)
        envelope_findings = validators.envelope.validate(root)
        if _errors(envelope_findings):
            raise Rejected(envelope_findings)
        warnings = list(envelope_findings)
        info = read_envelope(root)
        if info.ma_ivan != ivan:
            raise reject(
                "ENV-010", "/Hoso/NoiDung/ThongTinIVAN/MaIVAN", declared=info.ma_ivan, sender=ivan
            )
        procedure, versions = self._check_catalog(catalog, info)
        signer, sig_warnings, form_roots = self._check_signatures(root, catalog, info, now)
        warnings += sig_warnings
        form_findings: list[Finding] = []
        for file, version, form_root in zip(info.files, versions, form_roots, strict=True):
            validator = validators.form(version.form, version.version)
            if validator is None:  # the catalog lists the version, so this is our bug
                raise RuntimeError(f"no validator for {version.file_name}")
            form_findings += [_in_file(f, file) for f in validator.validate(form_root)]
        if _errors(form_findings):
            raise Rejected(form_findings)
        warnings += form_findings
        forms = tuple(
            CheckedForm(file, version, catalog.forms[version.form].name)
            for file, version in zip(info.files, versions, strict=True)
        )
        return Accepted(catalog, procedure, info, forms, tuple(warnings), signer)

    def _check_catalog(
        self, catalog: Catalog, info: EnvelopeInfo
    ) -> tuple[Procedure, list[FormVersion]]:
        """ENV-002/003 for the procedure, ENV-009/005/004 for the forms it carries."""
        findings: list[Finding] = []
        procedure = catalog.procedure(info.ma_thu_tuc)
        where = "/Hoso/NoiDung/ThongTinHoSo"
        if procedure is None:
            findings.append(
                finding(
                    "ENV-002",
                    f"{where}/MaThuTuc",
                    procedure=info.ma_thu_tuc,
                    catalog=catalog.version,
                )
            )
        elif not procedure.in_force(info.ky_ke_khai):
            findings.append(
                finding(
                    "ENV-003",
                    f"{where}/KyKeKhai",
                    procedure=procedure.code,
                    period=info.ky_ke_khai,
                    in_force_from=procedure.in_force_from,
                    in_force_until=procedure.in_force_until or "",
                )
            )
        versions: list[FormVersion] = []
        for index, file in enumerate(info.files, 1):
            version = catalog.form_version(file.ten_file)
            path = f"{_FILES}[{index}]"
            if version is None or version.form != file.ma_to_khai:
                findings.append(
                    finding(
                        "ENV-009",
                        f"{path}/TenFile",
                        file=file.ten_file,
                        form=file.ma_to_khai,
                        catalog=catalog.version,
                    )
                )
                continue
            versions.append(version)
            if procedure is not None and version.form not in procedure.forms:
                findings.append(
                    finding(
                        "ENV-005", f"{path}/MaToKhai", form=version.form, procedure=procedure.code
                    )
                )
        if procedure is not None:
            present = {v.form for v in versions} | {f.ma_to_khai for f in info.files}
            for required in procedure.required_forms:
                if required not in present:
                    findings.append(
                        finding(
                            "ENV-004", f"{where}/ToKhais", form=required, procedure=procedure.code
                        )
                    )
        if findings or procedure is None:
            raise Rejected(findings)
        return procedure, versions

    def _check_signatures(
        self, root: etree._Element, catalog: Catalog, info: EnvelopeInfo, now: datetime
    ) -> tuple[str, list[Finding], list[etree._Element]]:
        """The unit's envelope signature, then each form's; all failures reported together."""
        findings: list[Finding] = []
        warnings: list[Finding] = []
        signer = ""
        try:
            verified = verify(
                root, signature_parent=catalog.envelope.signature_node, trust=self.trust, at=now
            )
            signer = verified.subject
            warnings += verified.warnings
        except SignatureInvalid as exc:
            findings += exc.findings
        form_roots: list[etree._Element] = []
        for index, file in enumerate(info.files, 1):
            form_root = self._parse_form(file, index)
            form_roots.append(form_root)
            version = catalog.form_version(file.ten_file)
            assert version is not None  # checked by _check_catalog
            node = catalog.forms[version.form].signature_node
            try:
                warnings += [
                    _in_file(w, file)
                    for w in verify(
                        form_root, signature_parent=node, trust=self.trust, at=now
                    ).warnings
                ]
            except SignatureInvalid as exc:
                findings += [_in_file(f, file) for f in exc.findings]
        if _errors(findings):
            raise Rejected(findings)
        return signer, warnings + findings, form_roots

    def _parse_form(self, file: EmbeddedFile, index: int) -> etree._Element:
        """Decode and parse one embedded form with the same hardening as the envelope."""
        path = f"{_FILES}[{index}]/NoiDungFile"
        try:
            content = file.decode()
        except (binascii.Error, ValueError):
            raise reject("ENV-008", path, file=file.ten_file) from None
        try:
            return parse_xml(content, self.limits)
        except XMLRejected as exc:
            raise Rejected([_in_file(exc.finding, file)]) from None
