"""Click types for values a command can use: finite numbers, sendable tokens.

``click.FloatRange`` lets NaN through (every comparison with NaN is false), and a NaN
timeout or clock speed ends deep in a run, or in the database, as a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from harness.credentials import token_problem


class FiniteFloat(click.FloatRange):
    """A float in range that is not NaN or infinite."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class BearerToken(click.types.StringParamType):
    """A bearer token an HTTP header can carry (see :mod:`harness.credentials`)."""

    name = "token"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        problem = token_problem(text)
        if problem is not None:
            self.fail(f"{value!r} is not a usable token: {problem}", param, ctx)
        return text


class NonEmpty(click.types.StringParamType):
    """A name (catalog version, defect, I-VAN code): an empty one is a mistake (an unset
    shell variable, say), not a request for the default."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if not text:
            self.fail(
                "an empty value: give one, or leave the option out for its default", param, ctx
            )
        return text


NAME = NonEmpty()


class Folder(click.Path):
    """A folder to write in: an empty value (an unset shell variable, say) is refused, not
    taken for the current folder."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        NAME.convert(value, param, ctx)  # its refusal of an empty value, word for word
        return super().convert(value, param, ctx)


FOLDER = Folder(file_okay=False, path_type=Path)
"""An output folder (``--out``, ``--found``)."""
"""A non-empty name."""
TOKEN = BearerToken()
"""A bearer token: visible ASCII."""
SECONDS = FiniteFloat(min=0, min_open=True)
"""A positive, finite number of seconds."""
NOT_NEGATIVE = FiniteFloat(min=0)
"""Zero or more, finite (a clock speed, where 0 freezes the clock)."""

__all__ = ["NAME", "NOT_NEGATIVE", "SECONDS", "TOKEN", "BearerToken", "FiniteFloat", "NonEmpty"]
