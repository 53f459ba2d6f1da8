"""The gateway's durable store: SQLite file by default, PostgreSQL by URL.

The one promise that matters: a receipt is only ever sent for a dossier that is already
committed, together with its idempotency row and the receipt itself, in one transaction
(how the engine makes a commit durable: :mod:`mock_gateway.engine`).

:class:`Store` is one object, put together from one section per concept, each in its own
``store_*.py`` module on the shared :class:`~mock_gateway.store_base.StoreBase`
(connection, locks, transactions): its callers write ``store.feed(...)`` whatever section
holds it, and the hot path pays no extra call. What spans every table (counts, reset,
ping) is here.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from mock_gateway import schema
from mock_gateway.outage import quiet_pool_log
from mock_gateway.store_clock import StoreClock
from mock_gateway.store_fault_budgets import StoreFaultBudgets
from mock_gateway.store_intake import StoreIntake
from mock_gateway.store_lifecycle import StoreLifecycle
from mock_gateway.store_reads import StoreReads
from mock_gateway.store_settings import StoreSettings
from mock_gateway.store_traffic import StoreTraffic


class Store(
    StoreIntake,  # accepted dossiers, committed with their receipts: the hot path
    StoreReads,  # what an I-VAN reads back: its dossiers, messages, feed, acks
    StoreLifecycle,  # due dossiers and their next steps, issued once across workers
    StoreSettings,  # versioned values every worker follows
    StoreFaultBudgets,  # fault hooks' skip and times, counted once for every worker
    StoreClock,  # the shared simulated timeline
    StoreTraffic,  # the traffic log, numbered in commit order
):
    """Typed operations over the gateway's tables; safe to share between threads."""

    def __init__(
        self, database_url: str, *, create: bool = True, synchronous: str = "FULL"
    ) -> None:
        super().__init__(database_url, synchronous=synchronous)
        self._prepare_intake()
        self._prepare_traffic()
        self._prepare_lifecycle()
        quiet_pool_log(self.engine)
        if create:
            self._open_schema()

    # -- housekeeping: every table at once --------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per table: what tests compare to prove a rejection left the store unchanged."""
        tables = {
            "dossiers": schema.dossiers,
            "messages": schema.messages,
            "idempotency": schema.idempotency,
            "traffic": schema.traffic,
        }
        with self.read() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in tables.items()
            }

    def reset(self) -> None:
        """Forget everything (admin ``/admin/reset``); the clock starts again too."""
        with self.write() as conn:
            for table in (
                schema.counters,  # first: lifecycle steps lock counters before dossiers
                schema.messages,
                schema.idempotency,
                schema.dossiers,
                schema.traffic,
                schema.clock,
            ):
                conn.execute(delete(table))

    def ping(self) -> bool:
        try:
            with self.read() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True


__all__ = ["Store"]
