"""The traffic log in the store: every exchange appended, numbered in commit order, and
read back in pages after an id.

Its own module because the numbering is the subtle part: ids come from a counter whose
row lock is held until commit, so an exporter paging with ``?after=<last id>`` never
skips a batch that committed late (:mod:`mock_gateway.traffic` batches the rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, insert, literal_column, select

from mock_gateway import pgsql, schema
from mock_gateway.prepared import Prepared
from mock_gateway.records import TrafficRecord
from mock_gateway.store_base import StoreBase

TRAFFIC_COUNTER = "traffic"
"""The ``counters`` row traffic ids are taken from (see :meth:`StoreTraffic.record_traffic`)."""


class StoreTraffic(StoreBase):
    """Append to and page through the traffic log."""

    _traffic_ids: Prepared
    _insert_traffic: Prepared

    def _prepare_traffic(self) -> None:
        """Compile the traffic log's statements once for this engine's dialect."""
        self._traffic_ids = Prepared(self._traffic_id_statement(), self.engine.dialect)
        self._insert_traffic = Prepared(
            insert(schema.traffic).inline(),
            self.engine.dialect,
            [c.key for c in schema.traffic.columns],  # the id too: taken from the counter
        )

    def record_traffic(self, rows: Sequence[TrafficRecord]) -> None:
        """Append ``rows`` to the traffic log, numbered in commit order (see below)."""
        if rows:
            pgsql.retrying(lambda: self._write_traffic(rows))

    def _write_traffic(self, rows: Sequence[TrafficRecord]) -> None:
        """Number ``rows`` from the ``traffic`` counter, whose row lock is held until commit.

        With a sequence, two workers' batches could commit out of id order, and an exporter
        reading ``?after=<last id>`` skipped the lower ids for good; the next batch now waits
        for this commit, so ids become visible in order (SQLite's writer lock did so already).
        """
        with self.transaction() as cursor:
            values = {"counter": TRAFFIC_COUNTER, "n": len(rows)}
            first = int(self._traffic_ids.execute(cursor, values).fetchone()[0]) - len(rows) + 1
            self._insert_traffic.execute_many(
                cursor, ({**r.__dict__, "id": first + i} for i, r in enumerate(rows))
            )

    def _traffic_id_statement(self) -> Any:
        """Add ``n`` to the traffic counter (created at the highest id already logged, and
        never below it: rows written without it stay unique) and return the new value."""
        t, c = schema.traffic, schema.counters
        n = bindparam("n", type_=BigInteger)
        highest = select(func.coalesce(func.max(t.c.id), literal_column("0"))).scalar_subquery()
        stmt = self._dialect_insert(c).values(name=bindparam("counter"), value=highest + n)
        greatest = func.greatest if self.dialect == "postgresql" else func.max
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.c.name], set_={"value": greatest(c.c.value + n, stmt.excluded.value)}
        )
        return stmt.returning(c.c.value)

    def traffic(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Traffic rows after id ``after``, oldest first, as plain dictionaries."""
        t = schema.traffic
        query = select(t).where(t.c.id > after).order_by(t.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
