"""Core statements compiled once for the engine's dialect, run on its DBAPI cursor.

Every accepted dossier costs a lookup and three inserts. Through SQLAlchemy's
``Connection.execute`` each statement spent 0.1-0.2 ms of Python on cache lookups,
events and result wrapping, and the transaction as much again: together four times what
SQLite's own work costs. Compiling the Core statement once keeps the schema in one place
and the SQL portable (``?`` for SQLite, ``%(name)s`` for psycopg) while the hot path
pays only for the driver call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import ClauseElement


class Prepared:
    """One statement, compiled for one dialect, with its parameters in driver order."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql = str(compiled)
        order = getattr(compiled, "positiontup", None)  # SQLCompiler: names, in driver order
        self._order: tuple[str, ...] | None = tuple(order) if order else None

    def args(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """``values`` as the driver wants them: a tuple in order, or the mapping itself."""
        if self._order is None:
            return values
        return tuple(values[name] for name in self._order)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        cursor.execute(self.sql, self.args(values))
        return cursor

    def execute_many(self, cursor: Any, rows: Iterable[Mapping[str, Any]]) -> None:
        batch = [self.args(row) for row in rows]
        if len(batch) == 1:  # a single row skips the driver's executemany set-up
            cursor.execute(self.sql, batch[0])
        elif batch:
            cursor.executemany(self.sql, batch)
