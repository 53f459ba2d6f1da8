"""The dossier conformance check: every rule BHXH applies to a dossier, in the gateway's order.

One implementation serves the mock gateway (which adds authentication, storage and
answers around it), the factory's self-tests and the suites, so "valid" means the same
everywhere. Stages stop at the first one that fails, as a real gateway does: a broken
envelope is not worth verifying signatures for.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from lxml import etree

from harness.catalog import Catalog, FormVersion, validators_for
from harness.envelope import EnvelopeInfo, read_envelope
from harness.error_codes import finding
from harness.errors import Finding, SignatureInvalid, UsageError
from harness.signing import TrustStore, VerifiedSignature, verify
from harness.xmlsafe import DEFAULT_LIMITS, XMLLimits, XMLRejected, parse_xml

if TYPE_CHECKING:
    from harness.dossiers.factory import DossierFactory

HOSO_INFO = "/Hoso/NoiDung/ThongTinHoSo"


@dataclass
class CheckResult:
    """What the check found; ``accepted`` when no finding is an error.

    ``defects``: of an accepted dossier, what BHXH's processing will find in it (the
    catalog's result rules), the rows its 03/TB-TS lists; they do not refuse it.
    """

    findings: list[Finding] = field(default_factory=list)
    envelope: EnvelopeInfo | None = None
    forms: list[tuple[FormVersion, bytes]] = field(default_factory=list)
    signatures: list[VerifiedSignature] = field(default_factory=list)
    stage: str = "done"
    defects: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "warning"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.errors})


def _in_file(version: FormVersion, found: Finding) -> Finding:
    """``found`` with its XPath after the form's file name (``D02-TS-505.xml:/D02-TS/...``),
    as every finding in an embedded form is located."""
    return Finding(
        found.code,
        f"{version.file_name}:{found.xpath}",
        found.message_vi,
        found.message_en,
        found.severity,
        found.context,
    )


@dataclass
class DossierChecker:
    """Checks raw dossier bytes against one catalog version and a trust store."""

    catalog: Catalog
    trust: TrustStore
    limits: XMLLimits = DEFAULT_LIMITS
    allow_sha1: bool = False

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        result = CheckResult()
        try:
            root = parse_xml(body, self.limits)
        except XMLRejected as exc:
            return self._stop(result, "parse", [exc.finding])
        validators = validators_for(self.catalog)
        if root.tag != "Hoso":
            return self._stop(
                result, "envelope", [finding("ENV-001", "/", detail=f"root is {root.tag}")]
            )
        envelope_findings = validators.envelope.validate(root)
        result.findings.extend(f for f in envelope_findings if f.severity == "warning")
        if any(f.severity != "warning" for f in envelope_findings):
            return self._stop(result, "envelope", envelope_findings)
        info = read_envelope(root)
        result.envelope = info
        problems = self._procedure_findings(info, ivan)
        if problems:
            return self._stop(result, "procedure", problems)
        forms, problems = self._decode_forms(info)
        if problems:
            return self._stop(result, "procedure", problems)
        result.forms = [(fv, content) for fv, content, _ in forms]
        # XPaths as for XSD and rule findings: the envelope's from its root, a form's after
        # its file name (``D02-TS-505.xml:/D02-TS/Cky/ds:Signature``)
        problems = self._signature(root, self.catalog.envelope.signature_node, "", result, at)
        for fv, _content, form_root in forms:
            node = self.catalog.forms[fv.form].signature_node
            problems += self._signature(form_root, node, f"{fv.file_name}:", result, at)
        if problems:
            return self._stop(result, "signature", problems)
        checked = []
        for fv, _content, form_root in forms:
            validator = validators.form(fv.form, fv.version)
            assert validator is not None
            checked.append((fv, validator, form_root))
            result.findings.extend(_in_file(fv, f) for f in validator.validate(form_root))
        if not result.errors:  # one cause per dossier: a broken form is reported as such
            result.findings.extend(self._disagreements(root, forms))
        if result.errors:
            result.stage = "rules"
            return result
        result.defects = [_in_file(fv, f) for fv, v, doc in checked for f in v.defects(doc)]
        result.stage = "done"
        return result

    def _disagreements(
        self, root: etree._Element, forms: list[tuple[FormVersion, bytes, etree._Element]]
    ) -> list[Finding]:
        """ENV-011 for each form that names another unit or period than its envelope
        (``agrees_with_forms`` in catalog.yaml): an I-VAN that wrapped another
        employer's form would otherwise file it under this one."""
        found = []
        for envelope_path, form_path in self.catalog.envelope.agrees_with_forms:
            said_node = find_path(root, envelope_path)
            if said_node is None:
                continue
            said = said_node.text or ""
            for fv, _content, form_root in forms:
                node = find_path(form_root, form_path)
                # most forms say exactly what their envelope says: no normalising then
                if node is None or said == (node.text or "") or same_text(said, node.text or ""):
                    continue
                where = f"{fv.file_name}:/{form_root.tag}/{form_path}"
                found.append(
                    finding(
                        "ENV-011",
                        where,
                        envelope=f"/{root.tag}/{envelope_path}",
                        envelope_says=said[:80],
                        form_says=(node.text or "")[:80],
                    )
                )
        return found

    @staticmethod
    def _stop(result: CheckResult, stage: str, findings: list[Finding]) -> CheckResult:
        result.findings.extend(findings)
        result.stage = stage
        return result

    def _procedure_findings(self, info: EnvelopeInfo, ivan: str | None) -> list[Finding]:
        if ivan is not None and info.ma_ivan != ivan:
            return [finding("ENV-010", "/Hoso/NoiDung/ThongTinIVAN/MaIVAN", value=info.ma_ivan)]
        procedure = self.catalog.procedure(info.ma_thu_tuc)
        if procedure is None:
            return [finding("ENV-002", f"{HOSO_INFO}/MaThuTuc", value=info.ma_thu_tuc)]
        if not procedure.in_force(info.ky_ke_khai):
            return [finding("ENV-003", f"{HOSO_INFO}/KyKeKhai", value=info.ky_ke_khai)]
        sent = [f.ma_to_khai for f in info.files]
        missing = [code for code in procedure.required_forms if code not in sent]
        if missing:
            return [finding("ENV-004", f"{HOSO_INFO}/ToKhais", missing=",".join(missing))]
        foreign = [code for code in sent if code not in procedure.forms]
        if foreign:
            return [finding("ENV-005", f"{HOSO_INFO}/ToKhais", forms=",".join(foreign))]
        return []

    def _decode_forms(
        self, info: EnvelopeInfo
    ) -> tuple[list[tuple[FormVersion, bytes, etree._Element]], list[Finding]]:
        forms = []
        for index, file in enumerate(info.files, start=1):
            where = f"{HOSO_INFO}/ToKhais/FileToKhai[{index}]"
            version = self.catalog.form_version(file.ten_file)
            if version is None or version.form != file.ma_to_khai:
                return [], [finding("ENV-009", f"{where}/TenFile", value=file.ten_file)]
            try:
                content = file.decode()
            except (binascii.Error, ValueError):
                return [], [finding("ENV-008", f"{where}/NoiDungFile")]
            try:
                form_root = parse_xml(content, self.limits)
            except XMLRejected as exc:
                f = exc.finding
                return [], [
                    Finding(
                        f.code,
                        f"{where}/NoiDungFile",
                        f.message_vi,
                        f.message_en,
                        f.severity,
                        f.context,
                    )
                ]
            forms.append((version, content, form_root))
        return forms, []

    def _signature(
        self, root: etree._Element, node: str, where: str, result: CheckResult, at: datetime | None
    ) -> list[Finding]:
        try:
            verified = verify(
                root, signature_parent=node, trust=self.trust, at=at, allow_sha1=self.allow_sha1
            )
        except SignatureInvalid as exc:
            return [
                Finding(
                    f.code,
                    f"{where}{f.xpath if f.xpath.startswith('/') else '/' + f.xpath}",
                    f.message_vi,
                    f.message_en,
                    f.severity,
                    f.context,
                )
                for f in exc.findings
            ]
        result.signatures.append(verified)
        result.findings.extend(verified.warnings)
        return []


_NAME_STEPS = re.compile(r"[A-Za-z_][\w.\-]*(/[A-Za-z_][\w.\-]*)*")


@lru_cache(maxsize=256)
def _first_at(path: str) -> etree.XPath | None:
    """An XPath finding what ``find(path)`` does for a path of names (the first element at
    it in document order), None for any other ``find`` path."""
    if _NAME_STEPS.fullmatch(path) is None:
        return None
    try:
        return etree.XPath(f"({path})[1]", regexp=False)
    except etree.XPathSyntaxError:  # a name ``find`` reads but XPath does not (``a²``)
        return None


def find_path(node: etree._Element, path: str) -> etree._Element | None:
    """``node.find(path)``, by one XPath evaluation in C for a path of names: ``find``
    parses and walks its path in Python (ENV-011's eight lookups took every dossier 21 us
    that way, 6 us so)."""
    compiled = _first_at(path)
    if compiled is None:
        return node.find(path)
    found = compiled(node)
    return found[0] if isinstance(found, list) and found else None


def same_text(a: str, b: str) -> bool:
    """Whether two values say the same: names compared after NFC (a sender may write them
    decomposed), runs of spaces read as one."""
    return unicodedata.normalize("NFC", " ".join(a.split())) == unicodedata.normalize(
        "NFC", " ".join(b.split())
    )


def ivan_problem(factory: DossierFactory, trust: TrustStore) -> str | None:
    """Why dossiers naming ``factory``'s I-VAN cannot pass the catalog's envelope schema
    (MaIVAN's pattern is catalog data), or None: ``--ivan ivan01`` made a baseline in which
    no dossier was accepted, recorded with exit 0."""
    procedure = next(iter(factory.catalog.procedures))
    checked = DossierChecker(factory.catalog, trust).check(factory.build(procedure, 0).envelope)
    return None if checked.accepted else "; ".join(str(f) for f in checked.errors[:2])


def factory_for_ivan(
    factory: DossierFactory, code: str, trust: TrustStore, *, what: str = ""
) -> DossierFactory:
    """``factory`` naming I-VAN ``code``, a code the user typed (``what``: the option that
    gave it, default ``--ivan CODE``); a :class:`UsageError` when the catalog's envelope
    schema cannot carry it, since every dossier would then be refused."""
    if code == factory.ivan[0]:
        return factory
    named = factory.for_ivan(code)
    problem = ivan_problem(named, trust)
    if problem is None:
        return named
    raise UsageError(
        f"{what or '--ivan ' + code}: no envelope of catalog {factory.catalog.version} can "
        f"name I-VAN {code}: {problem}",
        hint="give the I-VAN code as the gateway issued it and envelopes carry it "
        "(MaIVAN), e.g. IVAN02",
    )


__all__ = ["CheckResult", "DossierChecker", "factory_for_ivan", "ivan_problem"]
