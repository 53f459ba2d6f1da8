"""BHXH's answers as ``BHXH/XACNHAN_GDICH`` documents (DOMAIN.md, "BHXH's answers").

One shape for every answer (receipt, 02/TB-TS hand-over slip, 03/TB-TS result and every
error), so a vendor parses one structure, and every document is signed by the gateway's
certificate at ``XACNHAN_GDICH/TTCKY_BHXH``. Two extensions of the known shape are ours:
``LOAI_TBAO`` (which answer this is) and ``DS_LOI`` (the findings, each with code, XPath
and Vietnamese and English text). Every document also says, twice, that it comes from a
test system: a signed ``MOI_TRUONG=THU_NGHIEM`` element and a leading XML comment, so it
can never pass for a real BHXH decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.error_codes import describe
from harness.errors import Finding
from harness.message_kinds import HANDOVER, RESULT
from harness.signing import Credential
from mock_gateway.signer import EnvelopedSigner

ENVIRONMENT = "THU_NGHIEM"
TEST_NOTICE = (
    " MÔI TRƯỜNG THỬ NGHIỆM - TEST ENVIRONMENT: issued by the bhxh-harness mock gateway, "
    "not by Vietnam Social Security (BHXH); it has no legal value. "
)
SIGNATURE_PARENT = "XACNHAN_GDICH/TTCKY_BHXH"
SO_HSO_PATTERN = re.compile(r"^[0-9]{5}/[0-9]{4}/[0-9]{5}$")
DATE_FORMAT = "%d/%m/%Y"
VN_TIME = timezone(timedelta(hours=7), "ICT")

RECEIPT = "receipt"
ERROR = "error"
_LOAI = {RECEIPT: "XACNHAN_NOP", HANDOVER: "02/TB-TS", RESULT: "03/TB-TS", ERROR: "TU_CHOI"}

MA_KQUA_OK = "0"
MA_KQUA_REJECTED = "1"
MA_KQUA_DEFECTIVE = "2"


@dataclass(frozen=True)
class UnitInfo:
    """The unit as BHXH's answers name it (TTDVI)."""

    ten: str = ""
    ma_dvi: str = ""
    mst: str = ""
    co_quan: str = ""

    @classmethod
    def from_summary(cls, data: Mapping[str, Any]) -> UnitInfo:
        return cls(**{k: str(data.get(k, "")) for k in ("ten", "ma_dvi", "mst", "co_quan")})


@dataclass(frozen=True)
class Transaction:
    """The dossier facts every answer repeats (TTGDICH)."""

    ma_gdich: str
    procedure: str
    procedure_name: str
    period: str
    received_at: datetime
    files: tuple[tuple[str, str], ...] = ()  # (TenFile, MoTaToKhai)
    so_hso: str | None = None

    @classmethod
    def from_summary(
        cls, ma_gdich: str, received_at: datetime, data: Mapping[str, Any], so_hso: str | None
    ) -> Transaction:
        return cls(
            ma_gdich=ma_gdich,
            procedure=str(data.get("procedure", "")),
            procedure_name=str(data.get("procedure_name", "")),
            period=str(data.get("period", "")),
            received_at=received_at,
            files=tuple((str(n), str(d)) for n, d in data.get("files", ())),
            so_hso=so_hso,
        )


@dataclass(frozen=True)
class Declared:
    """What a refused dossier's envelope declared (procedure, its name, period): echoed in
    the refusal so a sender sending many dossiers can tell which one it answers."""

    procedure: str = ""
    procedure_name: str = ""
    period: str = ""


@dataclass(frozen=True)
class Answer:
    """Everything that varies between answers; rendered by :func:`build`."""

    kind: str
    now: datetime
    ma_kqua: str
    kqua: str
    unit: UnitInfo = field(default_factory=UnitInfo)
    transaction: Transaction | None = None
    findings: Sequence[Finding] = ()
    ngay_tra: date | None = None
    declared: Declared | None = None  # a refusal's; an answer with a transaction has its own

    def about(self) -> Declared:
        """The procedure, its name and period this answer is about (blank when unknown)."""
        tx = self.transaction
        if tx is not None:
            return Declared(tx.procedure, tx.procedure_name, tx.period)
        return self.declared or Declared()


def format_so_hso(number: int, year: int, agency: str) -> str:
    """``NNNNN/YYYY/AAAAA``: sequence in the agency's year, year, 5-digit agency code."""
    digits = "".join(c for c in agency if c.isdigit())[-5:].rjust(5, "0")
    return f"{number % 100000:05d}/{year:04d}/{digits}"


def _vn(moment: datetime) -> datetime:
    return moment.astimezone(VN_TIME)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (clients' input is echoed),
    in NFC: a name a sender wrote decomposed is answered composed, as BHXH's answers are
    meant to be (``Unicode`` compares equal either way; byte comparisons and fonts do not)."""
    return unicodedata.normalize("NFC", _NOT_XML.sub("\ufffd", text))


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, tag)
    node.text = xml_text(text) if text else ""
    return node


MAX_FINDINGS = 100
"""Findings listed in one answer; the rest are counted by one LIM-004 finding, so no body
(a form breaking a rule on every row, say) can make an answer grow without bound."""


def listed(findings: Sequence[Finding], limit: int = MAX_FINDINGS) -> list[Finding]:
    """The first ``limit`` findings, plus one saying how many more were left out."""
    if len(findings) <= limit:
        return list(findings)
    more = len(findings) - limit
    text = describe("LIM-004")
    summary = Finding(
        code="LIM-004",
        xpath="/",
        message_vi=f"{text.vi}: còn {more} lỗi khác không được liệt kê",
        message_en=f"{text.en}: {more} more not listed",
        severity=text.severity,
        context={"listed": str(limit), "not_listed": str(more)},
    )
    return [*findings[:limit], summary]


def _findings(parent: etree._Element, findings: Sequence[Finding]) -> None:
    if not findings:
        return
    ds = _sub(parent, "DS_LOI")
    for f in listed(findings):
        loi = _sub(ds, "LOI")
        _sub(loi, "MA_LOI", f.code)
        _sub(loi, "MUC_DO", f.severity)
        _sub(loi, "XPATH", f.xpath)
        if "file" in f.context:
            _sub(loi, "TEP", f.context["file"])
        _sub(loi, "MOTA_VI", f.message_vi)
        _sub(loi, "MOTA_EN", f.message_en)
        if f.detail:
            _sub(loi, "CHI_TIET", f.detail)


def build(answer: Answer, date_format: str = DATE_FORMAT) -> etree._Element:
    """The unsigned ``BHXH`` document for ``answer``.

    ``date_format`` exists for simulated faulty releases (``mock_gateway.releases``) that
    write dates differently; BHXH's answers use ``dd/MM/yyyy``.
    """
    now = _vn(answer.now)
    root = etree.Element("BHXH")
    xn = _sub(root, "XACNHAN_GDICH")
    _sub(xn, "MOI_TRUONG", ENVIRONMENT)
    _sub(xn, "LOAI_TBAO", _LOAI[answer.kind])
    dvi = _sub(xn, "TTDVI")
    _sub(dvi, "TEN_DVI", answer.unit.ten)
    _sub(dvi, "MA_DVI", answer.unit.ma_dvi)
    _sub(dvi, "MST", answer.unit.mst)
    _sub(dvi, "TEN_COQUAN", f"BHXH mã {answer.unit.co_quan}" if answer.unit.co_quan else "")
    _sub(dvi, "DIADIEM", answer.unit.co_quan)
    _sub(dvi, "NGAY_THONGBAO", now.strftime(date_format))
    tx = answer.transaction
    gd = _sub(xn, "TTGDICH")
    received = _vn(tx.received_at) if tx is not None else None
    first_error = next((f for f in answer.findings if f.severity == "error"), None)
    about = answer.about()
    _sub(gd, "SO_HSO", tx.so_hso if tx is not None else None)
    _sub(gd, "TEN_GDICH", about.procedure_name)
    _sub(gd, "MALOAI_HSO", about.procedure)
    _sub(gd, "NGAY_GDICH", now.strftime(date_format))
    _sub(gd, "KY_KKHAI", about.period)
    _sub(gd, "MA_GDICH", tx.ma_gdich if tx is not None else None)
    _sub(gd, "MA_KQUA", answer.ma_kqua)
    _sub(gd, "KQUA", answer.kqua)
    _sub(gd, "MA_LOI", first_error.code if first_error is not None else None)
    _sub(gd, "MOTA_LOI", first_error.message_vi if first_error is not None else None)
    _sub(gd, "GIO_NHAN", received.strftime("%H:%M:%S") if received is not None else None)
    _sub(gd, "NGAY_NHAN", received.strftime(date_format) if received is not None else None)
    _sub(gd, "NGAY_TRA", answer.ngay_tra.strftime(date_format) if answer.ngay_tra else None)
    ct = _sub(gd, "CTIET_GDICH")
    for index, (name, description) in enumerate(tx.files if tx is not None else (), 1):
        row = _sub(ct, "ROW_CTIET")
        _sub(row, "STT", str(index))
        _sub(row, "TEN_HSO", f"{description} ({name})")
        _sub(row, "SO_LUONG", "1")
    _findings(gd, answer.findings)
    _sub(xn, "TTCKY_BHXH")
    return root


class MessageSigner:
    """Signs answers with the gateway's certificate and serialises them with the TEST notice."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential
        cert = credential.certificate
        self.subject = cert.subject.rfc4514_string()
        self.serial = format(cert.serial_number, "X")
        self._signer = EnvelopedSigner(credential)

    def sign(self, root: etree._Element, now: datetime) -> bytes:
        """Fill TTCKY (who signs, when), sign ``root`` in place, serialise it as UTF-8."""
        parent = root.find(SIGNATURE_PARENT)
        if parent is None:
            raise ValueError(f"answer has no {SIGNATURE_PARENT}")
        ttcky = _sub(parent, "TTCKY")
        _sub(ttcky, "SUBJECT", self.subject)
        _sub(ttcky, "SERIAL", self.serial)
        _sub(ttcky, "TIME", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._signer.sign(root, parent, now)
        root.addprevious(etree.Comment(TEST_NOTICE))
        data: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
        return data


def receipt(unit: UnitInfo, tx: Transaction, warnings: Sequence[Finding], now: datetime) -> Answer:
    """The receipt returned with 202: the dossier is stored and has its MA_GDICH."""
    return Answer(RECEIPT, now, MA_KQUA_OK, "Đã tiếp nhận hồ sơ", unit, tx, warnings)


def handover(unit: UnitInfo, tx: Transaction, now: datetime, days_to_result: int = 10) -> Answer:
    """02/TB-TS: the hand-over slip carrying SO_HSO and the promised return date."""
    ngay_tra = (_vn(now) + timedelta(days=days_to_result)).date()
    return Answer(
        HANDOVER, now, MA_KQUA_OK, "Phiếu giao nhận hồ sơ", unit, tx, (), ngay_tra=ngay_tra
    )


def result(
    unit: UnitInfo, tx: Transaction, now: datetime, defects: Sequence[Finding] = ()
) -> Answer:
    """03/TB-TS: accepted, or the defective rows (each a finding with its XPath)."""
    if defects:
        return Answer(RESULT, now, MA_KQUA_DEFECTIVE, "Hồ sơ có sai sót", unit, tx, defects)
    return Answer(RESULT, now, MA_KQUA_OK, "Hồ sơ đã được chấp nhận", unit, tx)


def rejection(
    findings: Sequence[Finding],
    now: datetime,
    unit: UnitInfo | None = None,
    declared: Declared | None = None,
) -> Answer:
    """Every non-2xx answer: MA_KQUA 1, the first error as MA_LOI/MOTA_LOI, all findings;
    ``unit`` and ``declared`` echo the envelope when the refusal came after reading it."""
    first = next((f for f in findings if f.severity == "error"), None)
    text = first.message_vi if first is not None else "Yêu cầu bị từ chối"
    return Answer(
        ERROR, now, MA_KQUA_REJECTED, text, unit or UnitInfo(), None, findings, declared=declared
    )


__all__ = [
    "DATE_FORMAT",
    "ENVIRONMENT",
    "HANDOVER",
    "RECEIPT",
    "RESULT",
    "SIGNATURE_PARENT",
    "SO_HSO_PATTERN",
    "TEST_NOTICE",
    "Answer",
    "Declared",
    "MessageSigner",
    "Transaction",
    "UnitInfo",
    "build",
    "format_so_hso",
    "handover",
    "receipt",
    "rejection",
    "result",
]
