"""Text, date and period helpers for Vietnamese dossier data.

Real BHXH traffic mixes Unicode normal forms (the gateway's own answers have been seen in
decomposed NFD Vietnamese) and two date layouts (``dd/MM/yyyy`` in forms, ``yyyy-MM-dd`` in
some templates). Everything the harness generates is NFC; these helpers are the single place
that converts and parses, so every module agrees on what "the same name" or "the same period"
means.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import NamedTuple

__all__ = [
    "Period",
    "format_period",
    "format_vn_date",
    "is_nfc",
    "parse_period",
    "parse_vn_date",
    "to_nfc",
    "to_nfd",
]

_VN_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VN_PERIOD = re.compile(r"([0-9]{2})/([0-9]{4})")
_ISO_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


class Period(NamedTuple):
    """A declaration period (kỳ kê khai): a calendar month.

    A tuple ordered (year, month) so that periods compare chronologically with ``<``.
    """

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year:04d}"

    @property
    def first_day(self) -> date:
        """The first day of the month, for comparisons with dates."""
        return date(self.year, self.month, 1)

    def shifted(self, months: int) -> Period:
        """The period ``months`` later (earlier when negative), across years."""
        year, month = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Period(year, month + 1)


def to_nfc(s: str) -> str:
    """Compose ``s`` (NFC): the form the harness generates and compares names in."""
    return unicodedata.normalize("NFC", s)


def to_nfd(s: str) -> str:
    """Decompose ``s`` (NFD): the form some real BHXH answers use, for negative tests."""
    return unicodedata.normalize("NFD", s)


def is_nfc(s: str) -> bool:
    """Whether ``s`` is already in NFC, i.e. safe to compare byte-for-byte."""
    return unicodedata.is_normalized("NFC", s)


def format_vn_date(d: date) -> str:
    """Format a date the way BHXH forms write it: ``dd/MM/yyyy``."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def parse_vn_date(s: str) -> date:
    """Parse ``dd/MM/yyyy`` (forms) or ``yyyy-MM-dd`` (ISO, some templates).

    Raises ``ValueError`` naming both accepted layouts when ``s`` matches neither or is not
    a real calendar day.
    """
    if m := _VN_DATE.fullmatch(s):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO_DATE.fullmatch(s):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise ValueError(f"not a date: {s!r}; expected dd/MM/yyyy (e.g. 31/12/2024) or yyyy-MM-dd")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a calendar date: {s!r} ({exc})") from None


def format_period(value: date | tuple[int, int]) -> str:
    """Format a period as ``MM/yyyy`` from a date or a ``(year, month)`` tuple."""
    if isinstance(value, date):
        return f"{value.month:02d}/{value.year:04d}"
    year, month = value
    _check_month(month, f"{year}-{month}")
    return f"{month:02d}/{year:04d}"


def parse_period(s: str) -> Period:
    """Parse a period written ``MM/yyyy`` (forms) or ``yyyy-MM`` (ISO).

    Raises ``ValueError`` naming both accepted layouts otherwise.
    """
    if m := _VN_PERIOD.fullmatch(s):
        month, year = int(m.group(1)), int(m.group(2))
    elif m := _ISO_PERIOD.fullmatch(s):
        year, month = int(m.group(1)), int(m.group(2))
    else:
        raise ValueError(f"not a period: {s!r}; expected MM/yyyy (e.g. 07/2024) or yyyy-MM")
    _check_month(month, s)
    return Period(year, month)


def _check_month(month: int, shown: str) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"not a period: {shown!r}; month must be 01..12")
