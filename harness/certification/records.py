"""What the gateway recorded, as plain values: traffic rows, a dossier's status, its messages.

Kept apart from :mod:`harness.certification.gateway` (the HTTP access) so the checks, the
evidence and the pytest plugin read the same values without the code that fetches them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from harness.xmlsafe import parse_xml

SIGNING_SERIAL = "XACNHAN_GDICH/TTCKY_BHXH/TTCKY/SERIAL"
"""Where a BHXH message names the serial of the certificate that signed it."""


def parse_time(text: str) -> datetime:
    """The gateway's ISO-8601 UTC timestamps (``...Z``) as aware datetimes."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class TrafficRow:
    """One exchange from the gateway's traffic log, raw bytes included."""

    id: int
    ivan: str
    method: str
    path: str
    message_id: str
    status: int
    request: bytes
    response: bytes
    started: datetime
    duration_ms: float
    outcome: str
    unread_ms: float = 0.0
    """How long the request may have waited before the gateway read it (0 where the gateway
    does not say): its sender's clock started that much before ``started``."""

    @property
    def ended(self) -> datetime:
        return self.started + timedelta(milliseconds=self.duration_ms)

    @property
    def route(self) -> tuple[str, str]:
        """Method and path without the query (``path`` is the target as it was sent)."""
        return self.method, self.path.partition("?")[0]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrafficRow:
        return cls(
            id=int(data["id"]),
            ivan=data.get("ivan") or "",
            method=data["method"],
            path=data["path"],
            message_id=data.get("message_id") or "",
            status=int(data["status"]),
            request=base64.b64decode(data.get("request_b64") or ""),
            response=base64.b64decode(data.get("response_b64") or ""),
            started=parse_time(data["started"]),
            duration_ms=float(data["duration_ms"]),
            outcome=data.get("outcome") or "",
            unread_ms=float(data.get("unread_ms") or 0.0),
        )


@dataclass(frozen=True)
class FeedEntry:
    """A BHXH message as the dossier status lists it, with its exact signed bytes."""

    id: str
    kind: str
    cursor: str  # '' for what is not in the feed (the receipt)
    created_at: str
    acked_at: str
    content: bytes

    @property
    def signing_serial(self) -> str:
        """The serial (hex) of the certificate the message says signed it, '' if it names
        none: which of BHXH's keys (current, next, untrusted) a check's message came from.
        Read, not verified; content that is not XML raises :class:`XMLRejected`."""
        return parse_xml(self.content).findtext(SIGNING_SERIAL) or ""

    @classmethod
    def from_xml(cls, node: etree._Element) -> FeedEntry:
        """One ``THONGBAO`` of a dossier status (``NOI_DUNG`` is the message, base64)."""
        return cls(
            id=node.findtext("ID") or "",
            kind=node.findtext("LOAI") or "",
            cursor=node.findtext("CON_TRO") or "",
            created_at=node.findtext("NGAY_TAO") or "",
            acked_at=node.findtext("NGAY_XAC_NHAN") or "",
            content=base64.b64decode(node.findtext("NOI_DUNG") or ""),
        )


@dataclass(frozen=True)
class DossierStatus:
    """``GET /api/v1/dossiers/{ma_gdich}`` as values."""

    ma_gdich: str
    status: str
    received_at: datetime
    message_id: str
    messages: tuple[FeedEntry, ...]

    @property
    def feed(self) -> list[FeedEntry]:
        """BHXH's messages in the I-VAN's feed (02/TB-TS, 03/TB-TS), not the receipt."""
        return [m for m in self.messages if m.cursor]

    @classmethod
    def from_answer(cls, ma_gdich: str, body: bytes) -> DossierStatus | None:
        """The status from the gateway's 200 answer; None when it holds no ``HOSO``."""
        hoso = parse_xml(body).find("HOSO")
        if hoso is None:
            return None
        return cls(
            ma_gdich=ma_gdich,
            status=hoso.findtext("TRANG_THAI") or "",
            received_at=parse_time(hoso.findtext("NGAY_NHAN") or ""),
            message_id=hoso.findtext("X_MESSAGE_ID") or "",
            messages=tuple(map(FeedEntry.from_xml, hoso.iterfind("DS_THONGBAO/THONGBAO"))),
        )


__all__ = ["SIGNING_SERIAL", "DossierStatus", "FeedEntry", "TrafficRow", "parse_time"]
