"""Click types for numbers a command can use: finite ones only.

``click.FloatRange`` lets NaN through (every comparison with NaN is false), and a NaN
timeout or clock speed ends deep in a run, or in the database, as a traceback.
"""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteFloat(click.FloatRange):
    """A float in range that is not NaN or infinite."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


SECONDS = FiniteFloat(min=0, min_open=True)
"""A positive, finite number of seconds."""
NOT_NEGATIVE = FiniteFloat(min=0)
"""Zero or more, finite (a clock speed, where 0 freezes the clock)."""

__all__ = ["NOT_NEGATIVE", "SECONDS", "FiniteFloat"]
