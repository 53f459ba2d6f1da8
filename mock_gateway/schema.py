"""The gateway's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Times are stored as ISO-8601 UTC text so both databases sort and compare them the same
way and exports need no conversion. Large payloads are ``LargeBinary`` because the
traffic log must keep the exact bytes that crossed the wire.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger would be BIGINT there.
_SerialId = BigInteger().with_variant(Integer(), "sqlite")

dossiers = Table(
    "dossiers",
    metadata,
    Column("ma_gdich", String(40), primary_key=True),
    Column("ivan", String(20), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("procedure", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("catalog_version", String(20), nullable=False),
    Column("so_hso", String(20), nullable=True),
    Column("next_due_at", String(32), nullable=True),  # when the processor acts next
    Column("summary", Text, nullable=False),  # JSON: what later messages repeat
    Index("ix_dossiers_ivan", "ivan", "received_at"),
    Index("ix_dossiers_due", "next_due_at"),
    # the dashboard's newest-first pages, whole or by procedure, over 100,000 dossiers
    Index("ix_dossiers_received", "received_at", "ma_gdich"),
    Index("ix_dossiers_procedure", "procedure", "received_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("sequence", _SerialId, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("ivan", String(20), nullable=False),
    Column("ma_gdich", String(40), ForeignKey("dossiers.ma_gdich"), nullable=False),
    Column("kind", String(20), nullable=False),  # receipt | 02/TB-TS | 03/TB-TS
    Column("feed_seq", BigInteger, nullable=True),  # per-I-VAN cursor; NULL: not in the feed
    Column("xml", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("acked_at", String(32), nullable=True),
    UniqueConstraint("ivan", "feed_seq", name="uq_messages_feed"),
    Index("ix_messages_dossier", "ma_gdich", "sequence"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("ivan", String(20), primary_key=True),
    Column("message_id", String(128), primary_key=True),
    Column("ma_gdich", String(40), nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("receipt", LargeBinary, nullable=False),
)

traffic = Table(
    "traffic",
    metadata,
    Column("id", _SerialId, primary_key=True, autoincrement=True),
    Column("ivan", String(20), nullable=True),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("message_id", String(128), nullable=True),
    Column("status", Integer, nullable=False),
    Column("request_size", BigInteger, nullable=False),
    Column("request", LargeBinary, nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("started", String(32), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("outcome", String(20), nullable=False),
    # added after the first release: a database from before gets it on opening (nullable)
    Column("unread_ms", Float, nullable=True),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

settings = Table(  # live settings every worker follows (the fault plan); versioned
    "settings",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("value", Text, nullable=False),
)

fault_budgets = Table(  # a fault hook's skip and times, shared by every worker
    "fault_budgets",
    metadata,
    Column("plan", BigInteger, primary_key=True),  # the published fault plan's version
    Column("hook", Integer, primary_key=True),  # the hook's place in that plan
    Column("seen", BigInteger, nullable=False),  # matching requests counted against skip
    Column("used", BigInteger, nullable=False),  # hits counted against times
)

clock = Table(
    "clock",
    metadata,
    Column("id", Integer, primary_key=True),  # a single row, id 1
    Column("origin_real", Float, nullable=False),
    Column("origin_sim", Float, nullable=False),
    Column("speed", Float, nullable=False),
    Column("offset_seconds", Float, nullable=False),
)


def create_or_upgrade(conn: Connection, tables: MetaData = metadata) -> None:
    """Create the missing tables of ``tables``, and the columns and indexes added since the
    database was created; the caller holds whatever keeps other processes out meanwhile."""
    tables.create_all(conn)
    _add_missing_columns(conn, tables)
    for table in tables.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _add_missing_columns(conn: Connection, tables: MetaData) -> None:
    """Add the columns of ``tables`` added since the database was created (``create_all``
    only creates missing tables); each is nullable, so the old rows need no value."""
    preparer = conn.dialect.identifier_preparer
    found = inspect(conn)
    for table in tables.sorted_tables:
        present = {c["name"] for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:  # a release adding one must give the old rows a value
                raise AssertionError(f"{table.name}.{column.name} must be nullable")
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} "
                    f"ADD COLUMN {preparer.format_column(column)} {kind}"
                )
            )
