"""Fault budgets: a hook's ``skip`` and ``times`` counted once for every worker.

Its own module because each count is one atomic upsert, so ``--workers N`` neither
multiplies a hook's hits nor skips too few; :mod:`mock_gateway.fault_budget` uses it.
The hooks' other shared state is :mod:`mock_gateway.fault_store`, whose tables this
import registers, so the store creates them with the others.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from mock_gateway import fault_store, schema
from mock_gateway.store_base import StoreBase


class StoreFaultBudgets(StoreBase):
    """Requests seen and hits taken per fault hook, shared by every worker."""

    def count_fault_request(self, plan: int, hook: int) -> int:
        """Count one more request matching hook ``hook`` of plan ``plan``; returns how many
        every worker counted so far (what the hook's ``skip`` is compared with)."""
        t = schema.fault_budgets
        stmt = self._dialect_insert(t).values(plan=plan, hook=hook, seen=1, used=0)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.plan, t.c.hook], set_={"seen": t.c.seen + 1}
        ).returning(t.c.seen)
        with self.write() as conn:
            return int(conn.execute(stmt).scalar_one())

    def claim_fault_hit(self, plan: int, hook: int, budget: int) -> int | None:
        """Take one of the ``budget`` hits of hook ``hook`` of plan ``plan`` in one atomic
        statement; returns the hits used with this one, None when every one was taken."""
        if budget < 1:
            return None
        t = schema.fault_budgets
        stmt = self._dialect_insert(t).values(plan=plan, hook=hook, seen=0, used=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.plan, t.c.hook],
            set_={"used": t.c.used + 1},
            where=t.c.used < budget,
        ).returning(t.c.used)
        with self.write() as conn:
            used = conn.execute(stmt).scalar_one_or_none()
        return None if used is None else int(used)

    def fault_hits(self, plan: int) -> dict[int, int]:
        """Hits taken so far per hook of plan ``plan`` (hooks never hit are missing)."""
        t = schema.fault_budgets
        with self.read() as conn:
            rows = conn.execute(select(t.c.hook, t.c.used).where(t.c.plan == plan)).all()
        return {int(hook): int(used) for hook, used in rows}

    def forget_fault_budgets(self, before: int) -> None:
        """Drop the counts, hits and windows of plans older than ``before``: unused now."""
        with self.write() as conn:
            for t in (schema.fault_budgets, fault_store.fault_hooks):
                conn.execute(delete(t).where(t.c.plan < before))
