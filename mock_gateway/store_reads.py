"""The store as I-VANs see it: their dossiers, their messages, the feed and its acks.

Its own module because every read here is scoped to the asking I-VAN (a dossier of another
reads as missing), the isolation the certification suite checks; ``dossier`` and ``feed``
are on the gateway's hot path.
"""

from __future__ import annotations

from sqlalchemy import select, update

from mock_gateway import schema
from mock_gateway.records import (
    DOSSIER_COLUMNS,
    DossierRecord,
    MessageRecord,
    dossier_record,
    message_record,
)
from mock_gateway.store_base import StoreBase


class StoreReads(StoreBase):
    """Dossiers and messages read back by their I-VAN (and by the admin, any I-VAN's)."""

    def dossier(self, ivan: str, ma_gdich: str) -> DossierRecord | None:
        """The dossier if it exists *and* belongs to ``ivan`` (else None: no existence leak)."""
        t = schema.dossiers
        with self.read() as conn:
            row = conn.execute(
                select(*DOSSIER_COLUMNS).where(t.c.ma_gdich == ma_gdich, t.c.ivan == ivan)
            ).first()
        return None if row is None else dossier_record(row)

    def dossier_any(self, ma_gdich: str) -> DossierRecord | None:
        """Admin and processor view: any I-VAN's dossier."""
        t = schema.dossiers
        with self.read() as conn:
            row = conn.execute(select(*DOSSIER_COLUMNS).where(t.c.ma_gdich == ma_gdich)).first()
        return None if row is None else dossier_record(row)

    def messages_of(self, ivan: str, ma_gdich: str) -> list[MessageRecord]:
        t = schema.messages
        with self.read() as conn:
            rows = conn.execute(
                select(t).where(t.c.ma_gdich == ma_gdich, t.c.ivan == ivan).order_by(t.c.sequence)
            ).all()
        return [message_record(r) for r in rows]

    def feed(
        self, ivan: str, after: int, limit: int, *, every_ivan: bool = False
    ) -> list[MessageRecord]:
        """``ivan``'s BHXH messages with a feed position after ``after``, oldest first
        (``every_ivan``: every I-VAN's, as a faulty release leaks them)."""
        t = schema.messages
        mine = t.c.ivan.is_not(None) if every_ivan else t.c.ivan == ivan
        with self.read() as conn:
            rows = conn.execute(
                select(t)
                .where(mine, t.c.feed_seq.is_not(None), t.c.feed_seq > after)
                .order_by(t.c.feed_seq)
                .limit(limit)
            ).all()
        return [message_record(r) for r in rows]

    def ack(self, ivan: str, message_id: str, at: str) -> MessageRecord | None:
        """Mark ``ivan``'s message as received (the first ack's time is kept); None if not its."""
        t = schema.messages
        with self.write() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.ivan == ivan, t.c.acked_at.is_(None))
                .values(acked_at=at)
            )
            row = conn.execute(select(t).where(t.c.id == message_id, t.c.ivan == ivan)).first()
        return None if row is None else message_record(row)
