"""The simulated clock's timeline, persisted: one row every worker reads and advances.

Its own module because the clock is a pure function of four numbers
(:mod:`mock_gateway.clock`), and sharing those numbers through the database is how
several worker processes, and the processor thread, keep one timeline.
"""

from __future__ import annotations

from sqlalchemy import select, update

from mock_gateway import schema
from mock_gateway.clock import ClockState
from mock_gateway.store_base import StoreBase


class StoreClock(StoreBase):
    """Load, save and advance the shared timeline (row ``id = 1`` of ``clock``)."""

    def load_clock(self, default: ClockState) -> ClockState:
        """The shared timeline; ``default`` is stored first if there is none yet.

        Every processor tick calls this, so the common case is a plain read and only a
        missing row costs a write transaction.
        """
        t = schema.clock
        with self.read() as conn:
            row = conn.execute(select(t).where(t.c.id == 1)).first()
        if row is None:
            # Workers starting together on a new database all get here: on PostgreSQL,
            # whose writers do not queue on our lock, a plain INSERT would fail for all
            # but one of them; the first row stored wins and the others read it back.
            with self.write() as conn:
                stmt = self._dialect_insert(t).values(id=1, **_clock_values(default))
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[t.c.id]))
                row = conn.execute(select(t).where(t.c.id == 1)).one()
        return ClockState(row.origin_real, row.origin_sim, row.speed, row.offset_seconds)

    def save_clock(self, state: ClockState) -> None:
        t = schema.clock
        values = _clock_values(state)
        stmt = self._dialect_insert(t).values(id=1, **values)
        with self.write() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.id], set_=values))

    def advance_clock(self, seconds: float) -> ClockState:
        """Add ``seconds`` to the shared timeline; returns the timeline this update made.

        Read back in the same statement: two workers advancing together each learn the
        moment their own jump reached, not the sum of both read a moment later.
        """
        t = schema.clock
        stmt = (
            update(t)
            .where(t.c.id == 1)
            .values(offset_seconds=t.c.offset_seconds + seconds)
            .returning(t.c.origin_real, t.c.origin_sim, t.c.speed, t.c.offset_seconds)
        )
        with self.write() as conn:
            row = conn.execute(stmt).one()
        return ClockState(row.origin_real, row.origin_sim, row.speed, row.offset_seconds)


def _clock_values(state: ClockState) -> dict[str, float]:
    return {
        "origin_real": state.origin_real,
        "origin_sim": state.origin_sim,
        "speed": state.speed,
        "offset_seconds": state.offset,
    }
