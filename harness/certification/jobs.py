"""The employer's side of a case: jobs built from the catalog by the dossier factory.

A job carries the forms exactly as the employer declared them, unsigned: signing, the
envelope and the transmission are the I-VAN's work, and what it does to them is what
the suite judges. Valid jobs are checked with the gateway's own rules before they are
handed over, so a case never blames the I-VAN for a dossier the factory got wrong;
defective jobs break exactly one business rule (a named defect from
``fixtures/dossiers/defects.yaml``) so the rejection case knows which ``MA_LOI`` to expect.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from harness.catalog import Catalog
from harness.certification.model import Job, JobForm
from harness.conformance import DossierChecker
from harness.dossiers.defects import applies, build_defective, defect
from harness.dossiers.envelope_fill import added_values
from harness.dossiers.factory import Dossier, DossierFactory
from harness.dossiers.form_model import form_model
from harness.envelope import build_envelope, read_envelope
from harness.errors import FactoryError
from harness.signing import TestPKI
from harness.xmlsafe import parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
FORM_STAGE_OPS = frozenset(
    {"set", "set-date", "remove", "insert-after", "flip-cccd-sex", "copy-from", "cccd-holder"}
)
"""Defects that change what the employer declares (before anyone signs)."""


class NoDefectApplies(FactoryError):
    """None of a handover's candidate defects can be built for the procedure."""


def unsigned(content: bytes) -> bytes:
    """``content`` without its ds:Signature elements: the form as the employer wrote it."""
    root = etree.fromstring(content)
    for signature in list(root.iter(f"{{{DS}}}Signature")):
        parent = signature.getparent()
        if parent is not None:
            parent.remove(signature)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


class JobBuilder:
    """Makes distinct jobs for one catalog version; seeds come from ``seed`` upwards."""

    def __init__(self, catalog: Catalog, pki: TestPKI, seed: int = 0, tag: str = "job") -> None:
        self.catalog = catalog
        self.factory = DossierFactory(catalog, pki)
        self.checker = DossierChecker(catalog, pki.trust_store())
        self.tag = tag
        self._seed = seed * 1000
        self._units: set[str] = set()
        self._count = 0

    def _next_seed(self) -> int:
        self._seed += 1
        return self._seed

    def valid(self, procedure: str, label: str) -> Job:
        """A job whose dossier, correctly signed, the gateway accepts."""
        for _ in range(40):
            seed = self._next_seed()
            dossier = self.factory.build(procedure, seed)
            if dossier.unit.ma_don_vi in self._units:
                continue
            if self.checker.check(dossier.envelope).accepted:
                return self._job(dossier, label)
        raise FactoryError(
            f"no valid {procedure} dossier in 40 seeds after {self._seed}: each broke the "
            "catalog's rules, or repeated an employer this run already used",
            hint=f"run `bhxh-harness catalog check {self.catalog.version}` to see which "
            "rule the factory breaks, or try another --seed (and report this one as a bug)",
        )

    def defective(self, procedure: str, label: str, candidates: Sequence[str], setting: str) -> Job:
        """A job breaking the first of ``candidates`` (the suite's ``setting``) that applies
        to ``procedure``."""
        name = self.first_applying(procedure, candidates)
        if name is not None:
            dossier = build_defective(self.factory, procedure, name, self._next_seed())
            return self._job(dossier, label)
        raise NoDefectApplies(
            f"none of the defects {', '.join(candidates)} applies to procedure {procedure}",
            hint=f"extend {setting} in scenarios/certification/cases.yaml",
        )

    def first_applying(self, procedure: str, candidates: Sequence[str]) -> str | None:
        """The first of ``candidates`` the job builder can break in a ``procedure`` dossier
        (None: none applies to its forms)."""
        for name in candidates:
            if defect(name).op in FORM_STAGE_OPS and applies(self.factory, procedure, name):
                return name
        return None

    def _job(self, dossier: Dossier, label: str) -> Job:
        self._units.add(dossier.unit.ma_don_vi)
        self._count += 1
        envelope = parse_xml(dossier.envelope)
        info = read_envelope(envelope)
        nodes = {code: form.signature_node for code, form in self.catalog.forms.items()}
        signature_node = self.catalog.envelope.signature_node
        bare = build_envelope(info, signature_node=signature_node)
        extra = added_values(bare, form_model(self.catalog.envelope.xsd), envelope)
        return Job(
            job_id=f"{self.tag}/{label}/{self._count}",
            catalog_version=self.catalog.version,
            procedure=dossier.procedure,
            procedure_name=info.ten_thu_tuc,
            period=dossier.period,
            ngay_lap=info.ngay_lap,
            unit=dossier.unit.as_envelope_unit(),
            forms=tuple(
                JobForm(
                    f.form.form,
                    f.description,
                    f.form.file_name,
                    nodes[f.form.form],
                    unsigned(f.content),
                )
                for f in dossier.forms
            ),
            envelope_signature_node=signature_node,
            defect=dossier.defect,
            envelope_fields=extra,
        )


__all__ = ["FORM_STAGE_OPS", "JobBuilder", "NoDefectApplies", "unsigned"]
