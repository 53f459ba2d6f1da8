"""Click types for values a command can use: finite numbers, sendable tokens.

``click.FloatRange`` lets NaN through (every comparison with NaN is false), and a NaN
timeout or clock speed ends deep in a run, or in the database, as a traceback.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import click

from harness.credentials import token_problem


class FiniteFloat(click.FloatRange):
    """A float in range that is not NaN or infinite."""

    name = "float"

    def __init__(self, *args: Any, must: str = "", **kwargs: Any) -> None:
        """``must``: what a usable value is, said when one is not finite ("above 0")."""
        super().__init__(*args, **kwargs)
        self.must = must

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            must = f" (give one {self.must})" if self.must else ""
            self.fail(f"{value!r} is not a finite number{must}", param, ctx)
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


class Code(NonEmpty):
    """A name that is text, never part of a path (an I-VAN code, a defect): under an ASCII
    locale (``LC_ALL=C PYTHONUTF8=0``) Python keeps an argument's UTF-8 bytes as surrogate
    escapes, and ``--ivan ĐẶNG`` then failed as text that "cannot be written" instead of
    as the I-VAN code it is. Paths keep the escapes: they are the file's bytes."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = super().convert(value, param, ctx)
        try:
            return os.fsencode(text).decode("utf-8")
        except UnicodeError:  # text the locale cannot carry, or bytes that are not UTF-8
            return text


NAME = NonEmpty()
"""A non-empty name (a catalog version, a path)."""
CODE = Code()
"""A non-empty name that is never a path, as typed whatever the locale."""


class Folder(click.Path):
    """A folder to write in: an empty value (an unset shell variable, say) is refused, not
    taken for the current folder."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        NAME.convert(value, param, ctx)  # its refusal of an empty value, word for word
        return super().convert(value, param, ctx)


FOLDER = Folder(file_okay=False, path_type=Path)
"""An output folder (``--out``, ``--found``)."""


class OutputFile(Folder):
    """A file to write, ``-`` meaning stdout; an empty value is refused, as for a folder."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, allow_dash=True, path_type=Path)


OUTPUT_FILE = OutputFile()
"""An output file (``-o``), or ``-`` for stdout."""
TOKEN = BearerToken()
"""A bearer token: visible ASCII."""
SECONDS = FiniteFloat(min=0, min_open=True)
"""A positive, finite number of seconds."""
NOT_NEGATIVE = FiniteFloat(min=0)
"""Zero or more, finite (a clock speed, where 0 freezes the clock)."""

__all__ = [
    "CODE",
    "FOLDER",
    "NAME",
    "NOT_NEGATIVE",
    "OUTPUT_FILE",
    "SECONDS",
    "TOKEN",
    "BearerToken",
    "Code",
    "FiniteFloat",
    "NonEmpty",
    "OutputFile",
]
