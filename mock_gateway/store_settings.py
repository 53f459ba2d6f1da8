"""Settings published through the store, so every worker of ``serve --workers N`` follows
the same value (the live fault plan is one).

Its own module because a setting is versioned: followers adopt a value once per version,
and a replacement in place must not look like a new one.
"""

from __future__ import annotations

from sqlalchemy import select, update

from mock_gateway import schema
from mock_gateway.store_base import StoreBase


class StoreSettings(StoreBase):
    """Named, versioned values shared by every worker."""

    def publish_setting(self, name: str, value: str) -> int:
        """Store ``value`` under ``name`` for every worker; returns its new version."""
        with self.write() as conn:
            return self._bump(conn, schema.settings.c.version, name, value=value)

    def setting(self, name: str) -> tuple[int, str] | None:
        """``(version, value)`` of a published setting, None if never published."""
        t = schema.settings
        with self.read() as conn:
            row = conn.execute(select(t.c.version, t.c.value).where(t.c.name == name)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def replace_setting(self, name: str, version: int, old: str, new: str) -> bool:
        """Put ``new`` in place of ``old`` at the same ``version`` (followers do not adopt it
        again); False when the setting is no longer ``old``: another worker came first."""
        t = schema.settings
        stmt = (
            update(t)
            .where(t.c.name == name, t.c.version == version, t.c.value == old)
            .values(value=new)
        )
        with self.write() as conn:
            return conn.execute(stmt).rowcount == 1
