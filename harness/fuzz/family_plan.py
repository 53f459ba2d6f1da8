"""Which mutation families a fuzz run is to reach: a family that got no case leaves the
run INCOMPLETE, as a procedure or a form version that got none does, since the run says
nothing of what that family breaks (a --budget 10 sent the valid dossiers alone, and passed).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.fuzz.strategies import Stratum, applicable

VALID = "valid"
"""The valid dossiers, counted as one more family."""


def family_plan(plan: Sequence[Stratum], families: tuple[str, ...], valid: bool) -> tuple[str, ...]:
    """``valid`` (when mixed in), then each of ``families`` that applies to one of the
    plan's procedures (has something to break in its widest dossier), in registry order."""
    reach = (VALID,) if valid else ()
    if not plan or not families:
        return reach
    first = plan[0]
    codes = [stratum.procedure for stratum in plan]
    found = applicable(first.pool.catalog, families, first.pool, first.settings, codes)
    return reach + tuple(f for f in families if found[f])


__all__ = ["VALID", "family_plan"]
