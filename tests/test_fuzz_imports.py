"""Registering ``fuzz`` (``import harness.fuzz.cli``) stays cheap: the libraries a fuzz
session needs load when one starts, not for every ``bhxh-harness`` command or ``--help``."""

from __future__ import annotations

import subprocess
import sys

import harness.fuzz

HEAVY = ("xmlschema", "hypothesis", "signxml", "sqlalchemy")


def test_importing_the_fuzz_command_loads_no_heavy_library() -> None:
    code = (
        f"import sys, harness.fuzz.cli\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"


def test_every_public_name_of_the_facade_resolves() -> None:
    """The facade imports lazily: each name of ``__all__`` must still be reachable."""
    missing = [name for name in harness.fuzz.__all__ if not hasattr(harness.fuzz, name)]
    assert missing == []
