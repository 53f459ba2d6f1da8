"""The store's side of the lifecycle processor: which dossiers are due, and each step's
claim, numbering and message committed together.

Its own module because this is where several workers race for the same dossier: a step
is issued only by the process whose claim moved its status, and counters are locked in
one order so PostgreSQL workers do not deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from mock_gateway import pgsql, schema
from mock_gateway.records import DOSSIER_COLUMNS, DossierRecord, Issue, dossier_record
from mock_gateway.store_base import StoreBase

_d = schema.dossiers
_CLAIM = (
    update(_d)
    .where(_d.c.ma_gdich == bindparam("key"), _d.c.status == bindparam("from_status"))
    .values(status=bindparam("to_status"), next_due_at=bindparam("next_due"))
)
"""A lifecycle step's claim: only the process whose update moves the status issues it."""
_INSERT_MESSAGE = insert(schema.messages)
_SET_SO_HSO = (
    update(_d).where(_d.c.ma_gdich == bindparam("key")).values(so_hso=bindparam("so_hso_value"))
)


class StoreLifecycle(StoreBase):
    """Due dossiers, and their next steps issued exactly once across every worker."""

    _next_statement: Any
    _lock_counter: Any

    def _prepare_lifecycle(self) -> None:
        """Build the counters' lock statement once (the increment on first use: :meth:`_next`)."""
        self._next_statement = None
        self._lock_counter = self._dialect_insert(schema.counters).values(
            name=bindparam("name"), value=0
        )
        self._lock_counter = self._lock_counter.on_conflict_do_update(
            index_elements=[schema.counters.c.name],
            set_={"value": schema.counters.c.value},  # unchanged, but the row is now locked
        )

    def due(self, now: str, limit: int = 200) -> list[DossierRecord]:
        """Dossiers whose next lifecycle step is due at simulated time ``now``."""
        t = schema.dossiers
        with self.read() as conn:
            rows = conn.execute(
                select(*DOSSIER_COLUMNS)
                .where(t.c.next_due_at.is_not(None), t.c.next_due_at <= now)
                .order_by(t.c.next_due_at)
                .limit(limit)
            ).all()
        return [dossier_record(r) for r in rows]

    def issue_many(self, steps: Sequence[Issue]) -> int:
        """Claim each step (status still ``from_status``) and store its message, all in one
        transaction (one fsync); returns how many were claimed (a step another process
        took is skipped). Run again if PostgreSQL aborts it to break a deadlock."""
        return pgsql.retrying(lambda: self._issue(steps))

    def _issue(self, steps: Sequence[Issue]) -> int:
        issued = 0
        with self.write() as conn:
            self._lock_counters(conn, steps)
            for step in steps:
                values = {
                    "key": step.ma_gdich,
                    "from_status": step.from_status,
                    "to_status": step.to_status,
                    "next_due": step.next_due_at,
                }
                if conn.execute(_CLAIM, values).rowcount != 1:
                    continue
                number = self._next(conn, step.number_scope) if step.number_scope else None
                xml, so_hso = step.render(number)
                if so_hso is not None:
                    conn.execute(_SET_SO_HSO, {"key": step.ma_gdich, "so_hso_value": so_hso})
                conn.execute(
                    _INSERT_MESSAGE,
                    {
                        "id": step.message_id,
                        "ivan": step.ivan,
                        "ma_gdich": step.ma_gdich,
                        "kind": step.kind,
                        "feed_seq": self._next(conn, f"feed:{step.ivan}"),
                        "xml": xml,
                        "created_at": step.created_at,
                    },
                )
                issued += 1
        return issued

    def _lock_counters(self, conn: Connection, steps: Sequence[Issue]) -> None:
        """Lock (creating at 0) every counter ``steps`` may bump, in name order, before any
        dossier: two workers taking a dossier's row lock and a counter's in opposite orders
        deadlocked on PostgreSQL. SQLite has one writer at a time: nothing to order."""
        if self.dialect == "sqlite":
            return
        names = {f"feed:{s.ivan}" for s in steps}
        names.update(s.number_scope for s in steps if s.number_scope)
        for name in sorted(names):
            conn.execute(self._lock_counter, {"name": name})

    def _next(self, conn: Connection, name: str) -> int:
        """Increment and return counter ``name`` (created at 1) in ``conn``'s transaction."""
        if self._next_statement is None:  # built once: building one costs more than running it
            self._next_statement = self._upsert(schema.counters.c.value, bindparam("name"))
        return int(conn.execute(self._next_statement, {"name": name}).scalar_one())
