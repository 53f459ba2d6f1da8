"""XML bodies of the read endpoints: dossier status, the message feed, the catalog.

These are listings, not BHXH decisions, so they are not signed; every BHXH message they
list is embedded byte for byte in base64 (``NOI_DUNG``), exactly as signed, so a client
can verify it without any re-serialisation changing a byte.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.catalog import Catalog
from mock_gateway.messages import ENVIRONMENT, xml_text
from mock_gateway.records import DossierRecord, MessageRecord


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, tag)
    node.text = xml_text(text) if text else ""
    return node


def _document() -> etree._Element:
    root = etree.Element("BHXH")
    _sub(root, "MOI_TRUONG", ENVIRONMENT)
    return root


def _bytes(root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data


def _message(parent: etree._Element, message: MessageRecord) -> None:
    node = _sub(parent, "THONGBAO")
    _sub(node, "ID", message.id)
    _sub(node, "LOAI", message.kind)
    _sub(node, "MA_GDICH", message.ma_gdich)
    _sub(node, "CON_TRO", "" if message.feed_seq is None else str(message.feed_seq))
    _sub(node, "NGAY_TAO", message.created_at)
    _sub(node, "NGAY_XAC_NHAN", message.acked_at)
    _sub(node, "NOI_DUNG", base64.b64encode(message.xml).decode("ascii"))


def dossier_status(dossier: DossierRecord, messages: Sequence[MessageRecord]) -> bytes:
    """``GET /api/v1/dossiers/{ma_gdich}``: where the dossier stands and its messages."""
    root = _document()
    hoso = _sub(root, "HOSO")
    _sub(hoso, "MA_GDICH", dossier.ma_gdich)
    _sub(hoso, "TRANG_THAI", dossier.status)
    _sub(hoso, "MA_THU_TUC", dossier.procedure)
    _sub(hoso, "KY_KKHAI", dossier.period)
    _sub(hoso, "MA_DVI", dossier.unit)
    _sub(hoso, "SO_HSO", dossier.so_hso)
    _sub(hoso, "NGAY_NHAN", dossier.received_at)
    _sub(hoso, "PHIEN_BAN_DANH_MUC", dossier.catalog_version)
    _sub(hoso, "X_MESSAGE_ID", dossier.message_id)
    listing = _sub(hoso, "DS_THONGBAO")
    for message in messages:
        _message(listing, message)
    return _bytes(root)


def feed(messages: Sequence[MessageRecord], after: int) -> bytes:
    """``GET /api/v1/messages``: the page of the feed and the cursor to ask from next."""
    root = _document()
    listing = _sub(root, "DS_THONGBAO")
    for message in messages:
        _message(listing, message)
    last = messages[-1].feed_seq if messages else None
    _sub(root, "CON_TRO_TIEP", str(last if last is not None else after))
    return _bytes(root)


def ack(message: MessageRecord) -> bytes:
    root = _document()
    node = _sub(root, "XACNHAN_THONGBAO")
    _sub(node, "ID", message.id)
    _sub(node, "NGAY_XAC_NHAN", message.acked_at)
    return _bytes(root)


def catalog(catalogs: Sequence[Catalog]) -> bytes:
    """``GET /api/v1/catalog``: every served version, its procedures and forms."""
    root = _document()
    for cat in catalogs:
        version = etree.SubElement(
            root, "DANH_MUC", PHIEN_BAN=cat.version, HIEU_LUC_TU=cat.effective_from
        )
        _sub(version, "TEN", cat.title)
        for proc in cat.procedures.values():
            node = etree.SubElement(
                version,
                "THU_TUC",
                MA=proc.code,
                TU_KY=proc.in_force_from,
                DEN_KY=proc.in_force_until or "",
            )
            _sub(node, "TEN", proc.name)
            for code in proc.forms:
                form = cat.forms[code]
                etree.SubElement(
                    node,
                    "TO_KHAI",
                    MA=code,
                    BAT_BUOC="1" if code in proc.required_forms else "0",
                    PHIEN_BAN=" ".join(v.version for v in form.versions),
                    TEN_FILE=" ".join(v.file_name for v in form.versions),
                )
    return _bytes(root)
