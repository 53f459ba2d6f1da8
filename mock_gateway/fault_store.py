"""The store's fault tables besides the budgets: what every worker of ``serve --workers N``
must see alike, a hook's hits and its burst window, and the fault event log.

Kept apart from :mod:`mock_gateway.store_fault_budgets` (which imports this module so
the tables are created with the others) because they are one concept: the faults' shared
state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    Table,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from mock_gateway import schema

if TYPE_CHECKING:
    from mock_gateway.store import Store

KEEP_EVENTS = 20_000
"""How many fault events the log keeps (the newest); an in-process log keeps as many."""
EVENTS_COUNTER = "fault-events"
"""The ``counters`` row event seqs are taken from: its lock orders every worker's batches."""

fault_hooks = Table(  # a hook's state every worker shares, besides its budget
    "fault_hooks",
    schema.metadata,
    Column("plan", BigInteger, primary_key=True),  # the published fault plan's version
    Column("hook", Integer, primary_key=True),  # the hook's place in that plan
    Column("hits", BigInteger, nullable=False),  # hits not taken from ``times``
    Column("opened_at", Float),  # real epoch seconds a burst's window opened
    Column("opened_sim", Float),  # simulated epoch seconds then
)

fault_events = Table(  # what the faults did, for GET /admin/faults/log
    "fault_events",
    schema.metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),  # the event as JSON, without its seq
)


def _insert(store: Store, table: Table) -> Any:
    """``INSERT`` with ``ON CONFLICT`` clauses (both dialects spell them alike)."""
    return (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(table)


def write_batch(
    store: Store, hits: Mapping[tuple[int, int], int], events: Sequence[dict[str, Any]]
) -> None:
    """Add ``hits`` per ``(plan, hook)`` and append ``events`` in one transaction."""
    with store.write() as conn:
        for (plan, hook), count in sorted(hits.items()):  # one lock order: no deadlock
            conn.execute(_add_hits(store, plan, hook, count))
        if events:
            _append_events(store, conn, events)


def _add_hits(store: Store, plan: int, hook: int, count: int) -> Any:
    t = fault_hooks
    stmt = _insert(store, t).values(plan=plan, hook=hook, hits=count)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.plan, t.c.hook], set_={"hits": t.c.hits + count}
    )


def _append_events(store: Store, conn: Connection, events: Sequence[dict[str, Any]]) -> None:
    """Give ``events`` the next seqs and keep the newest :data:`KEEP_EVENTS`.

    The seqs come from a ``counters`` row locked until commit, so a batch committed later
    always has higher seqs: a client reading ``after=`` its last seq misses none. A missing
    row (``POST /admin/reset`` empties counters) starts after the highest seq kept.
    """
    count, t, ev = len(events), schema.counters, fault_events
    highest = select(func.coalesce(func.max(ev.c.seq), 0) + count).scalar_subquery()
    stmt = _insert(store, t).values(name=EVENTS_COUNTER, value=highest)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.name], set_={"value": t.c.value + count}
    ).returning(t.c.value)
    last = int(conn.execute(stmt).scalar_one())
    rows = [{"seq": last - count + i, "entry": json.dumps(e)} for i, e in enumerate(events, 1)]
    conn.execute(ev.insert(), rows)
    conn.execute(delete(ev).where(ev.c.seq <= last - KEEP_EVENTS))


def events(store: Store, after: int) -> list[dict[str, Any]]:
    """The kept events with a seq above ``after``, oldest first, ``seq`` their first key."""
    ev = fault_events
    query = select(ev.c.seq, ev.c.entry).where(ev.c.seq > after).order_by(ev.c.seq)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [{"seq": int(seq), **json.loads(entry)} for seq, entry in rows]


def last_event(store: Store) -> int:
    """The highest seq given so far (0: none): how many events the log has had."""
    with store.read() as conn:
        kept = conn.execute(select(func.max(fault_events.c.seq))).scalar_one()
    return int(kept or 0)


def hook_hits(store: Store, plan: int) -> dict[int, int]:
    """Hits per hook of plan ``plan`` not taken from a ``times`` (hooks never hit: missing)."""
    t = fault_hooks
    with store.read() as conn:
        rows = conn.execute(select(t.c.hook, t.c.hits).where(t.c.plan == plan)).all()
    return {int(hook): int(hits) for hook, hits in rows}


def open_window(store: Store, where: tuple[int, int], at: float, sim: float) -> tuple[float, float]:
    """Open the burst window of hook ``where`` (plan, hook) at real ``at`` and simulated
    ``sim``, unless a worker did first; returns the moments every worker then uses."""
    t, (plan, hook) = fault_hooks, where
    stmt = _insert(store, t).values(plan=plan, hook=hook, hits=0, opened_at=at, opened_sim=sim)
    kept = {c: func.coalesce(t.c[c], stmt.excluded[c]) for c in ("opened_at", "opened_sim")}
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.plan, t.c.hook], set_=kept)
    with store.write() as conn:
        row = conn.execute(stmt.returning(t.c.opened_at, t.c.opened_sim)).one()
    return float(row[0]), float(row[1])


def window(store: Store, where: tuple[int, int]) -> tuple[float, float] | None:
    """When a worker opened hook ``where``'s burst window (real, simulated), None: not yet."""
    t, (plan, hook) = fault_hooks, where
    query = select(t.c.opened_at, t.c.opened_sim).where(t.c.plan == plan, t.c.hook == hook)
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return float(row[0]), float(row[1])


__all__ = [
    "EVENTS_COUNTER",
    "KEEP_EVENTS",
    "events",
    "fault_events",
    "fault_hooks",
    "hook_hits",
    "last_event",
    "open_window",
    "window",
    "write_batch",
]
