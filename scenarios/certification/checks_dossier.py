"""Checks on the dossier an I-VAN forwards: schema, signatures, certificates, envelope, content.

Each judges one :class:`~harness.certification.Observation` (a scenario run for one
procedure) against one requirement, from what the gateway recorded and what the I-VAN
told the employer. A check raises ``CaseFailed`` with the evidence a vendor needs to fix
the fault alone, ``CaseBlocked`` when its precondition did not happen (a case is not
failed for another case's fault), and returns a short note when the I-VAN passed.
"""

from __future__ import annotations

import binascii
import unicodedata
from collections.abc import Iterator

from cryptography import x509
from lxml import etree

from harness import Finding, SignatureInvalid, ensure_pki, parse_xml, validators_for, verify
from harness.certification import (
    CaseFailed,
    JobRecord,
    Observation,
    check,
)
from harness.signing import signer_certificate

DS = "http://www.w3.org/2000/09/xmldsig#"
CERTIFICATE_CODES = frozenset({"SIG-004", "SIG-005", "SIG-006"})
"""Findings about the certificate (trust, validity, revocation), not the signature itself."""


def _forms(obs: Observation, record: JobRecord) -> Iterator[tuple[str, str, etree._Element]]:
    """(file name, signature node, parsed form) for every form the I-VAN forwarded."""
    _root, info = record.envelope()
    for file in info.files:
        form = obs.catalog.forms.get(file.ma_to_khai)
        try:
            root = parse_xml(file.decode())
        except (binascii.Error, ValueError) as exc:
            raise CaseFailed(f"{file.ten_file}: the embedded form cannot be read ({exc})") from exc
        yield file.ten_file, form.signature_node if form else "Cky", root


def _signature_findings(root: etree._Element, node: str, obs: Observation) -> list[Finding]:
    try:
        verify(root, signature_parent=node, trust=obs.trust)
    except SignatureInvalid as exc:
        return [f for f in exc.findings if f.severity != "warning"]
    return []


def _report(findings: list[tuple[str, Finding]]) -> dict[str, str]:
    lines = [
        f"{where}: {f.code} at {f.xpath}: {f.message_en} / {f.message_vi}" for where, f in findings
    ]
    return {"findings": "\n".join(lines)}


def _who(certificate: x509.Certificate) -> str:
    return f"{certificate.subject.rfc4514_string()} (serial {certificate.serial_number:X})"


Stranger = tuple[str, x509.Certificate, x509.Certificate]
"""A document signed by another certificate than the employer's: (name, signer, employer)."""


def _strangers(
    obs: Observation, record: JobRecord, targets: list[tuple[str, str, etree._Element]]
) -> list[Stranger]:
    """Documents signed by another subject than the employer's certificate the job handed
    over (``signer_files``): a signature that verifies is not yet the employer's. The
    subject names who signed; whether that certificate was valid is CERT-PKI-01's."""
    employer = ensure_pki(obs.context.pki_dir).credential(record.job.signer).certificate
    signers = (
        (name, signer_certificate(root, signature_parent=node)) for name, node, root in targets
    )
    return [
        (name, c, employer)
        for name, c in signers
        if c is not None and c.subject != employer.subject
    ]


def _targets(
    obs: Observation, record: JobRecord, forms: bool
) -> list[tuple[str, str, etree._Element]]:
    if forms:
        return list(_forms(obs, record))
    return [("envelope", obs.catalog.envelope.signature_node, record.envelope()[0])]


def _signatures(obs: Observation, *, forms: bool, certificates: bool) -> str:
    found: list[tuple[str, Finding]] = []
    strangers: list[Stranger] = []
    for record in obs.jobs:
        targets = _targets(obs, record, forms)
        for name, node, root in targets:
            for finding in _signature_findings(root, node, obs):
                if (finding.code in CERTIFICATE_CODES) == certificates:
                    found.append((name, finding))
        if not certificates:  # who signed is the signature's question, not the certificate's
            strangers += _strangers(obs, record, targets)
    if found:
        what = "certificate" if certificates else "signature"
        codes = sorted({f.code for _, f in found})
        evidence = _report(found) | ({"signers": _signers_report(strangers)} if strangers else {})
        raise CaseFailed(f"{len(found)} {what} problem(s): {', '.join(codes)}", evidence)
    if strangers:
        raise _not_the_employer(strangers)
    return "verified against the test CA" + ("" if certificates else ", the employer's certificate")


def _not_the_employer(strangers: list[Stranger]) -> CaseFailed:
    """Names both subjects (the report beside it gives each certificate's serial)."""
    employer = strangers[0][2].subject.rfc4514_string()
    signers = sorted({s.subject.rfc4514_string() for _, s, _ in strangers})
    return CaseFailed(
        f"{len(strangers)} signature(s) made by {'; '.join(signers)}, not by the employer "
        f"certificate the job handed over ({employer}): sign with the job's signer_files; "
        "the I-VAN signs nothing",
        {"signers": _signers_report(strangers)},
    )


def _signers_report(strangers: list[Stranger]) -> str:
    return "\n".join(f"{n}: signed by {_who(s)}, not by {_who(e)}" for n, s, e in strangers)


@check("forms_schema_valid")
def forms_schema_valid(obs: Observation) -> str:
    validators = validators_for(obs.catalog)
    found: list[tuple[str, Finding]] = []
    for record in obs.jobs:
        for name, _node, root in _forms(obs, record):
            version = obs.catalog.form_version(name)
            if version is None:
                raise CaseFailed(f"{name} is not a form version of catalog {obs.catalog.version}")
            validator = validators.form(version.form, version.version)
            assert validator is not None
            found += [(name, f) for f in validator.validate(root) if f.severity != "warning"]
    if found:
        raise CaseFailed(
            f"{len(found)} schema or rule error(s) in the forwarded forms", _report(found)
        )
    return "every form valid"


@check("forms_signed")
def forms_signed(obs: Observation) -> str:
    return _signatures(obs, forms=True, certificates=False)


@check("envelope_signed")
def envelope_signed(obs: Observation) -> str:
    return _signatures(obs, forms=False, certificates=False)


@check("certificates_valid")
def certificates_valid(obs: Observation) -> str:
    _signatures(obs, forms=True, certificates=True)
    return _signatures(obs, forms=False, certificates=True)


COUNT_FIELDS = ("SoLuongFile", "DoDaiFile", "NoiDungFile")
COUNT_CODES = frozenset({"ENV-006", "ENV-007", "ENV-008"})
"""CERT-ENV-01's requirement: counts, lengths and base64; any other envelope finding is
about a field another case names (CERT-ENV-02)."""


def _envelope_findings(obs: Observation, record: JobRecord) -> list[Finding]:
    validator = validators_for(obs.catalog).envelope
    return [f for f in validator.validate(record.envelope()[0]) if f.severity != "warning"]


def _counts(finding: Finding) -> bool:
    """Whether a finding is about SoLuongFile, DoDaiFile or NoiDungFile."""
    last = finding.xpath.rstrip("/").rsplit("/", 1)[-1].split("[", 1)[0]
    return finding.code in COUNT_CODES or last in COUNT_FIELDS


@check("envelope_consistent")
def envelope_consistent(obs: Observation) -> str:
    found = []
    for record in obs.jobs:
        found += [("envelope", f) for f in _envelope_findings(obs, record) if _counts(f)]
    if found:
        codes = sorted({f.code for _, f in found})
        raise CaseFailed(f"the envelope is inconsistent: {', '.join(codes)}", _report(found))
    return "SoLuongFile, DoDaiFile and base64 consistent"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _stated(obs: Observation, record: JobRecord) -> dict[str, tuple[object, object]]:
    """Every envelope field the guide maps from the job or the I-VAN: (expected, got)."""
    job, info = record.job, record.envelope()[1]
    unit, told = job.unit, info.unit
    pairs: dict[str, tuple[object, object]] = {
        "MaIVAN": (obs.context.ivan, info.ma_ivan),
        "TenIVAN": (_nfc(obs.context.ivan_name), _nfc(info.ten_ivan)),
        "TenDoiTuong": (_nfc(unit.ten), _nfc(told.ten)),
        "MaSoBHXH": (unit.ma_don_vi, told.ma_don_vi),
        "LoaiDoiTuong": (unit.loai, told.loai),
        "MaSoThue": (unit.ma_so_thue, told.ma_so_thue),
        "NguoiKy": (_nfc(unit.nguoi_ky), _nfc(told.nguoi_ky)),
        "DienThoai": (unit.dien_thoai, told.dien_thoai),
        "CoQuanQuanLy": (unit.co_quan, told.co_quan),
        "TenThuTuc": (_nfc(job.procedure_name), _nfc(info.ten_thu_tuc)),
        "MaThuTuc": (job.procedure, info.ma_thu_tuc),
        "KyKeKhai": (job.period, info.ky_ke_khai),
        "NgayLap": (job.ngay_lap, info.ngay_lap),
        "files": (
            sorted(f.file_name for f in job.forms),
            sorted(f.ten_file for f in info.files),
        ),
    }
    sent = {f.ten_file: f for f in info.files}
    for form in job.forms:
        file = sent.get(form.file_name)
        if file is not None:
            where = f"{form.file_name} "
            pairs[where + "MaToKhai"] = (form.code, file.ma_to_khai)
            pairs[where + "MoTaToKhai"] = (_nfc(form.description), _nfc(file.mo_ta))
            pairs[where + "LoaiFile"] = (form.file_name.rsplit(".", 1)[-1], file.loai_file)
    return pairs


FORMATS = {"KyKeKhai": "MM/yyyy", "NgayLap": "dd/MM/yyyy"}
"""DOMAIN.md's date formats, named when a date field differs from the job's."""


@check("envelope_identifies")
def envelope_identifies(obs: Observation) -> str:
    for record in obs.jobs:
        wrong = {k: v for k, v in _stated(obs, record).items() if v[0] != v[1]}
        other = [("envelope", f) for f in _envelope_findings(obs, record) if not _counts(f)]
        if wrong or other:
            lines = [f"{k}: expected {e!r}, got {g!r}" + _format(k) for k, (e, g) in wrong.items()]
            evidence = {"differences": "\n".join(lines)} if lines else {}
            evidence |= _report(other) if other else {}
            named = list(wrong) + sorted({f.code for _, f in other})
            raise CaseFailed(
                f"the envelope misstates {', '.join(named)} (map each field from the job as "
                "the adapter guide's Wire formats says)",
                evidence,
            )
    return "employer, procedure, period, dates, I-VAN and files as handed over"


def _format(field: str) -> str:
    return f" ({FORMATS[field]}, DOMAIN.md)" if field in FORMATS else ""


def _canonical(content: bytes, node: str) -> tuple[bytes, etree._Element]:
    """C14N of a form without its signature (and without the emptied signature node)."""
    root = parse_xml(content)
    for signature in list(root.iter(f"{{{DS}}}Signature")):
        signature.getparent().remove(signature)
    holder = root.find(node)
    if holder is not None and len(holder) == 0 and not (holder.text or "").strip():
        holder.getparent().remove(holder)
    return etree.tostring(root, method="c14n"), root


def _first_difference(expected: etree._Element, got: etree._Element) -> str:
    tree = expected.getroottree()
    for a, b in zip(expected.iter(), got.iter(), strict=False):
        if a.tag != b.tag or (a.text or "") != (b.text or "") or dict(a.attrib) != dict(b.attrib):
            form = (
                "NFC" if unicodedata.is_normalized("NFC", b.text or "") else "NOT NFC (decomposed)"
            )
            return f"{tree.getpath(a)}: declared {a.text!r}, forwarded {b.text!r} ({form})"
    return "the element structure differs"


def _not_nfc(root: etree._Element, where: str) -> list[str]:
    """Each text element not in NFC, its code points escaped so the difference shows."""
    tree = root.getroottree()
    return [
        f"{where}:{tree.getpath(n)}: {n.text!a} should be {_nfc(n.text)!a}"
        for n in root.iter()
        if isinstance(n.tag, str) and n.text and not unicodedata.is_normalized("NFC", n.text)
    ]


@check("content_unchanged")
def content_unchanged(obs: Observation) -> str:
    changed: list[str] = []  # one line per form: missing, or its first difference
    decomposed: list[str] = []  # one line per form text element not in NFC
    envelope_text: list[str] = []  # one line per envelope text element not in NFC
    for record in obs.jobs:
        envelope, info = record.envelope()
        sent = {f.ten_file: f for f in info.files}
        envelope_text += _not_nfc(envelope, "envelope")
        for form in record.job.forms:
            if form.file_name not in sent:
                changed.append(f"{form.file_name}: declared by the employer, not forwarded")
                continue
            declared, a = _canonical(form.content, form.signature_node)
            forwarded, b = _canonical(sent[form.file_name].decode(), form.signature_node)
            if declared != forwarded:
                changed.append(f"{form.file_name}: {_first_difference(a, b)}")
            decomposed += _not_nfc(b, form.file_name)
    if changed or decomposed:
        raise CaseFailed(
            "the forwarded content differs from the declared one: "
            f"{len(changed)} form(s) changed, {len(decomposed)} text element(s) not NFC",
            {"differences": "\n".join([*changed, *decomposed, *envelope_text][:40])},
        )
    if envelope_text:
        raise _envelope_not_nfc(envelope_text)
    return "forms byte-exact after C14N; text NFC"


def _envelope_not_nfc(lines: list[str]) -> CaseFailed:
    """The forms arrived intact but the envelope's own text was decomposed: name it."""
    names = sorted({line.split(":", 2)[1].rsplit("/", 1)[-1] for line in lines})
    return CaseFailed(
        f"the forms reached BHXH unchanged, but the envelope's text is not NFC in "
        f"{', '.join(names)}: normalise the text you copy from the job to NFC (DOMAIN.md)",
        {"envelope text not NFC (code points escaped)": "\n".join(lines[:40])},
    )
