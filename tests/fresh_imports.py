"""Which modules a statement imports, asked of a fresh interpreter: a test session has long
imported them all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def modules_loaded(statement: str, among: Iterable[str]) -> list[str]:
    """The modules of ``among``, or inside one of them, that ``statement`` leaves imported."""
    names = tuple(among)
    inside = tuple(f"{name}." for name in names)
    probe = (
        f"{statement}\nimport sys\n"
        f"print(*sorted(m for m in sys.modules if m in {names!r} or m.startswith({inside!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.split()
