"""Plain values the store takes and returns, so callers never handle SQLAlchemy rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_gateway import schema


@dataclass(frozen=True)
class NewDossier:
    """An accepted dossier, ready to be stored with its receipt."""

    ma_gdich: str
    ivan: str
    message_id: str
    body_sha256: str
    body: bytes
    procedure: str
    period: str
    unit: str
    received_at: str
    catalog_version: str
    next_due_at: str | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class StoredReceipt:
    """What an ``X-Message-Id`` is bound to: the dossier, the body's hash, the receipt."""

    ma_gdich: str
    body_sha256: str
    receipt: bytes


@dataclass(frozen=True)
class DossierRecord:
    ma_gdich: str
    ivan: str
    message_id: str
    procedure: str
    period: str
    unit: str
    status: str
    received_at: str
    catalog_version: str
    so_hso: str | None
    next_due_at: str | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class MessageRecord:
    sequence: int
    id: str
    ivan: str
    ma_gdich: str
    kind: str
    feed_seq: int | None
    xml: bytes
    created_at: str
    acked_at: str | None


@dataclass(frozen=True)
class TrafficRecord:
    """One exchange as it crossed the wire (request bodies over the size cap are not kept)."""

    ivan: str | None
    method: str
    path: str
    message_id: str | None
    status: int
    request_size: int
    request: bytes
    response: bytes
    started: str
    duration_ms: float
    outcome: str
    unread_ms: float | None = None  # how long it may have waited unread before ``started``


@dataclass(frozen=True)
class Issue:
    """A lifecycle step for the processor: move a dossier on and issue one message."""

    ma_gdich: str
    ivan: str
    from_status: str
    to_status: str
    next_due_at: str | None
    kind: str
    message_id: str
    created_at: str
    number_scope: str | None  # counter for SO_HSO, e.g. "so_hso:2024:00100"; None: no number
    render: Callable[[int | None], tuple[bytes, str | None]]  # (number) -> (xml, so_hso)


DOSSIER_COLUMNS = tuple(c for c in schema.dossiers.columns if c.key != "body")
"""What :func:`dossier_record` reads: every column but the body (8 KB or more a row),
which is kept as evidence and never shown by the API, the processor or the dashboard."""


def dossier_record(row: Any) -> DossierRecord:
    return DossierRecord(
        ma_gdich=row.ma_gdich,
        ivan=row.ivan,
        message_id=row.message_id,
        procedure=row.procedure,
        period=row.period,
        unit=row.unit,
        status=row.status,
        received_at=row.received_at,
        catalog_version=row.catalog_version,
        so_hso=row.so_hso,
        next_due_at=row.next_due_at,
        summary=json.loads(row.summary),
    )


def message_record(row: Any) -> MessageRecord:
    return MessageRecord(
        sequence=row.sequence,
        id=row.id,
        ivan=row.ivan,
        ma_gdich=row.ma_gdich,
        kind=row.kind,
        feed_seq=row.feed_seq,
        xml=bytes(row.xml),
        created_at=row.created_at,
        acked_at=row.acked_at,
    )
