"""The store's intake: an accepted dossier, its idempotency row and its receipt committed
together, and the binding a replayed message id finds.

Its own module because this is the gateway's hot path and its one promise: a receipt is
only ever sent for a dossier already committed with it (group commit:
:mod:`mock_gateway.commit`).
"""

from __future__ import annotations

from collections.abc import Sequence

from mock_gateway import pgsql
from mock_gateway.commit import GroupCommit, IntakeSQL
from mock_gateway.records import NewDossier, StoredReceipt
from mock_gateway.store_base import StoreBase


class StoreIntake(StoreBase):
    """Idempotent, group-committed storage of accepted dossiers."""

    _sql: IntakeSQL
    _group: GroupCommit

    def _prepare_intake(self) -> None:
        """Compile the intake's statements once for this engine's dialect."""
        self._sql = IntakeSQL(self.engine.dialect)
        self._group = GroupCommit(self.transaction, self._sql, self.idempotent)

    def idempotent(self, ivan: str, message_id: str) -> StoredReceipt | None:
        """The receipt already bound to ``(ivan, message_id)``, if any."""
        with self._reader_lock():
            dbapi = self.engine.raw_connection()  # one autocommitted read: no BEGIN/COMMIT
            try:
                return self._sql.bound(dbapi.cursor(), ivan, message_id)
            finally:
                dbapi.close()

    def save_accepted(self, d: NewDossier, receipt: bytes, receipt_id: str) -> StoredReceipt:
        """Commit dossier, idempotency row and receipt together; return what is bound.

        Returns only after the commit (group-committed with concurrent requests, see
        :mod:`mock_gateway.commit`). If the message id is already bound, nothing is
        written and the existing binding is returned: the caller compares body hashes.
        """
        outcome = self.save_many([(d, receipt, receipt_id)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def save_many(
        self, items: Sequence[tuple[NewDossier, bytes, str]]
    ) -> list[StoredReceipt | Exception]:
        """:meth:`save_accepted` for several dossiers at once, in as few transactions as
        possible; each gets what its message id is bound to, or the error that stopped it.

        Dossiers whose transaction PostgreSQL aborted to break a deadlock are saved again.
        """
        outcomes = self._group.save_many(items)
        for _ in range(pgsql.ATTEMPTS - 1):
            again = [
                i for i, o in enumerate(outcomes) if isinstance(o, Exception) and pgsql.transient(o)
            ]
            if not again:
                break
            retried = self._group.save_many([items[i] for i in again])
            for i, outcome in zip(again, retried, strict=True):
                outcomes[i] = outcome
        return outcomes
