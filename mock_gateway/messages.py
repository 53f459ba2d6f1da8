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
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.error_codes import describe
from harness.errors import Finding
from harness.message_kinds import HANDOVER, RESULT

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


def sub_element(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    """A child ``tag`` of ``parent`` holding ``text`` as an answer carries it (:func:`xml_text`)."""
    node = etree.SubElement(parent, tag)
    node.text = xml_text(text) if text else ""
    return node


EMPTY = "<![CDATA[]]>"
"""An element's empty text in a template: parsed (``strip_cdata``) it is the text ``""``
of :func:`sub_element`, so the element still serialises as ``<X></X>``, never ``<X/>``."""


def _text(text: str | None) -> str:
    """``text`` as element content in a template: :func:`xml_text`, then escaped so the
    parser gives back exactly that text (``&#13;``: a raw CR would be read as LF)."""
    if not text:
        return EMPTY
    if not (text.isascii() and text.isprintable()):  # printable ASCII: xml_text is a no-op
        text = xml_text(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _leaves(*tags: str) -> str:
    """A template of leaf elements, ``<TAG>%s</TAG>`` each, to fill with :func:`_text`s."""
    return "".join(f"<{tag}>%s</{tag}>" for tag in tags)


def _texts(*texts: str | None) -> tuple[str, ...]:
    return tuple([_text(text) for text in texts])


_PARSER = threading.local()


def _parse(document: str) -> etree._Element:
    """A template filled by this module, as a tree: one parser per thread (an lxml
    parser serves one thread at a time), reading huge texts as :func:`sub_element` took them."""
    parser = getattr(_PARSER, "parser", None)
    if parser is None:
        parser = _PARSER.parser = etree.XMLParser(
            strip_cdata=True, resolve_entities=False, no_network=True, huge_tree=True
        )
    return etree.fromstring(document.encode("utf-8"), parser)


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


_LOI = _leaves("MA_LOI", "MUC_DO", "XPATH")
_TEP = _leaves("TEP")
_MOTA = _leaves("MOTA_VI", "MOTA_EN")
_CHI_TIET = _leaves("CHI_TIET")


def _findings(findings: Sequence[Finding]) -> str:
    """``DS_LOI``, one ``LOI`` per listed finding (nothing when there are none)."""
    if not findings:
        return ""
    rows = []
    for f in listed(findings):
        detail = f.detail
        rows.append(
            f"<LOI>{EMPTY}{_LOI % _texts(f.code, f.severity, f.xpath)}"
            f"{_TEP % _text(f.context['file']) if 'file' in f.context else ''}"
            f"{_MOTA % _texts(f.message_vi, f.message_en)}"
            f"{_CHI_TIET % _text(detail) if detail else ''}</LOI>"
        )
    return f"<DS_LOI>{EMPTY}{''.join(rows)}</DS_LOI>"


def _date(moment: date, date_format: str) -> str:
    """``moment`` in ``date_format``; BHXH's ``dd/MM/yyyy`` as an f-string, 3 times cheaper
    than ``strftime`` (kept for other formats and years below 1000, which ``%Y`` does
    not pad)."""
    if date_format != DATE_FORMAT or moment.year < 1000:
        return moment.strftime(date_format)
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year}"


_HEAD = (
    f"<BHXH><XACNHAN_GDICH>{EMPTY}<MOI_TRUONG>{_text(ENVIRONMENT)}</MOI_TRUONG>"
    + _leaves("LOAI_TBAO")
    + f"<TTDVI>{EMPTY}"
    + _leaves("TEN_DVI", "MA_DVI", "MST", "TEN_COQUAN", "DIADIEM", "NGAY_THONGBAO")
    + f"</TTDVI><TTGDICH>{EMPTY}"
    + _leaves("SO_HSO", "TEN_GDICH", "MALOAI_HSO", "NGAY_GDICH", "KY_KKHAI", "MA_GDICH")
    + _leaves("MA_KQUA", "KQUA", "MA_LOI", "MOTA_LOI", "GIO_NHAN", "NGAY_NHAN", "NGAY_TRA")
    + f"<CTIET_GDICH>{EMPTY}"
)
_ROW = f"<ROW_CTIET>{EMPTY}{_leaves('STT', 'TEN_HSO')}<SO_LUONG>1</SO_LUONG></ROW_CTIET>"
_TAIL = f"</CTIET_GDICH>%s</TTGDICH><TTCKY_BHXH>{EMPTY}</TTCKY_BHXH></XACNHAN_GDICH></BHXH>"
"""Every answer: :data:`_HEAD`, one :data:`_ROW` per file, :data:`_TAIL` (``%s``: DS_LOI),
filled with the texts in document order."""


def build(answer: Answer, date_format: str = DATE_FORMAT) -> etree._Element:
    """The unsigned ``BHXH`` document for ``answer``.

    ``date_format`` exists for simulated faulty releases (``mock_gateway.releases``) that
    write dates differently; BHXH's answers use ``dd/MM/yyyy``.

    The document is written from :data:`_HEAD`, every text through :func:`_text`, and
    parsed once, for the same tree as 34 ``SubElement`` and ``xml_text`` calls made
    (``tests/gateway/test_answer_bytes.py`` compares them) at two thirds of their CPU
    alone (23 us, not 35; in ``bench_pipeline``, caches cold, 52 not 57).
    """
    return _parse(document_text(answer, date_format))


def document_text(answer: Answer, date_format: str = DATE_FORMAT) -> str:
    """:func:`build`'s document as text, every empty text :data:`EMPTY`."""
    now = _vn(answer.now)
    today = _date(now, date_format)
    unit = answer.unit
    tx = answer.transaction
    about = answer.about()
    first_error = next((f for f in answer.findings if f.severity == "error"), None)
    if tx is not None:  # a receipt's dossier was received now: that instant is written once
        received = now if tx.received_at == answer.now else _vn(tx.received_at)
        received_on: str | None = today if received is now else _date(received, date_format)
        received_at: str | None = f"{received:%H:%M:%S}"
    else:
        received_on = received_at = None
    texts = [
        _LOAI[answer.kind],
        # TTDVI
        unit.ten,
        unit.ma_dvi,
        unit.mst,
        f"BHXH mã {unit.co_quan}" if unit.co_quan else "",
        unit.co_quan,
        today,
        # TTGDICH
        tx.so_hso if tx is not None else None,
        about.procedure_name,
        about.procedure,
        today,
        about.period,
        tx.ma_gdich if tx is not None else None,
        answer.ma_kqua,
        answer.kqua,
        first_error.code if first_error is not None else None,
        first_error.message_vi if first_error is not None else None,
        received_at,
        received_on,
        _date(answer.ngay_tra, date_format) if answer.ngay_tra else None,
    ]
    files = tx.files if tx is not None else ()
    for index, (name, description) in enumerate(files, 1):
        texts += (str(index), f"{description} ({name})")
    document = _HEAD + _ROW * len(files) + _TAIL
    return document % (*[_text(text) for text in texts], _findings(answer.findings))


def receipt(unit: UnitInfo, tx: Transaction, warnings: Sequence[Finding], now: datetime) -> Answer:
    """The receipt returned with 202: the dossier is stored and has its MA_GDICH."""
    return Answer(RECEIPT, now, MA_KQUA_OK, "Đã tiếp nhận hồ sơ", unit, tx, warnings)


def handover(unit: UnitInfo, tx: Transaction, now: datetime, days_to_result: int) -> Answer:
    """02/TB-TS: the hand-over slip carrying SO_HSO and the promised return date, the
    procedure's ``days_to_result`` after ``now``."""
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
    "Transaction",
    "UnitInfo",
    "build",
    "document_text",
    "format_so_hso",
    "handover",
    "receipt",
    "rejection",
    "result",
    "sub_element",
]
