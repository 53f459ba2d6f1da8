"""XPath extension functions that Schematron rules may call as ``fn:*``.

XPath 1.0 cannot normalise Unicode or check a calendar, so the rules get a few generic,
procedure-agnostic helpers in the ``urn:bhxh-harness:functions`` namespace, handed to each
compiled rule transform (:data:`EXTENSIONS`); :func:`register` makes them global for ad-hoc
XPath. Keep them pure and cheap, they run on the gateway's hot path.
"""

from __future__ import annotations

import binascii
import functools
import inspect
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from lxml import etree

from harness.catalog.tables import table_index, tables_for_xpath

NAMESPACE = "urn:bhxh-harness:functions"

_VN_DATE = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_PERIOD = re.compile(r"^([0-9]{2})/([0-9]{4})$")
_YEAR = re.compile(r"([0-9]{4})")
_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")

_Result = TypeVar("_Result")
_REMEMBERED = 4096
"""Texts each pure function remembers: a form repeats its values (every D02-TS row has the
same TuThang), and a bounded cache keeps memory flat whatever senders write."""


def _text(value: Any) -> str:
    """XPath may hand us a string, a number or a node-set; flatten to one string."""
    if isinstance(value, list):
        return "".join(str(v.text if hasattr(v, "text") else v) for v in value)
    return str(value)


def _ymd(text: str) -> tuple[int, int, int] | None:
    if m := _VN_DATE.match(text):
        return int(m[3]), int(m[2]), int(m[1])
    if m := _ISO_DATE.match(text):
        return int(m[1]), int(m[2]), int(m[3])
    return None


def _by_text(function: Callable[[object, str], _Result]) -> Callable[[object, Any], _Result]:
    """Remember a pure one-argument function's answer per text: a 191-row D02-TS made
    1,473 calls, most on a text already seen. The signature stays the function's own."""

    @functools.lru_cache(maxsize=_REMEMBERED)
    def on_text(text: str) -> _Result:
        return function(None, text)

    @functools.wraps(function)
    def extension(_ctx: object, value: Any) -> _Result:
        return on_text(_text(value))

    return extension


@_by_text
def is_nfc(_ctx: object, value: Any) -> bool:
    """True when the text is already in Unicode NFC (names must be compared in NFC)."""
    return unicodedata.is_normalized("NFC", _text(value))


@_by_text
def composes(_ctx: object, value: Any) -> bool:
    """True when NFC leaves no combining mark alone: Vietnamese letters all compose, so a
    loose mark is one typed out of order (``e`` + tilde + circumflex is not ``ễ``)."""
    # map() keeps the per-character loop in C: a generator cost 1.35 us a name, this 0.8
    return not any(map(unicodedata.combining, unicodedata.normalize("NFC", _text(value))))


@_by_text
def valid_date(_ctx: object, value: Any) -> bool:
    """True for a real calendar date in ``dd/MM/yyyy`` or ``yyyy-MM-dd``."""
    parts = _ymd(_text(value).strip())
    if parts is None:
        return False
    try:
        date(*parts)
    except ValueError:
        return False
    return True


@_by_text
def date_key(_ctx: object, value: Any) -> float:
    """``yyyymmdd`` as a number for comparisons; NaN when the text is no date."""
    parts = _ymd(_text(value).strip())
    return float("nan") if parts is None else float(parts[0] * 10000 + parts[1] * 100 + parts[2])


@_by_text
def period_key(_ctx: object, value: Any) -> float:
    """``yyyymm`` for an ``MM/yyyy`` period; NaN otherwise."""
    m = _PERIOD.match(_text(value).strip())
    return float("nan") if m is None else float(int(m[2]) * 100 + int(m[1]))


@_by_text
def year_of(_ctx: object, value: Any) -> float:
    """The year of a birth date at any CCNS precision (``dd/MM/yyyy``, ISO, ``MM/yyyy``, year)."""
    text = _text(value).strip()
    if m := _ISO_DATE.match(text):
        return float(m[1])
    found = _YEAR.findall(text)
    return float(found[-1]) if found else float("nan")


def days_between(_ctx: object, start: Any, end: Any) -> float:
    """Whole days from ``start`` to ``end`` (dates in either format); NaN if either is no date."""
    first, last = _ymd(_text(start).strip()), _ymd(_text(end).strip())
    try:
        if first is None or last is None:
            return float("nan")
        return float((date(*last) - date(*first)).days)
    except ValueError:
        return float("nan")


def is_base64(_ctx: object, value: Any) -> bool:
    """True when the text decodes as strict base64."""
    text = _text(value)
    if _whole_quads(text):
        return True
    if not _BASE64.match(text):
        return False
    text = "".join(text.split())
    if _whole_quads(text):
        return True
    try:
        binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    return True


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _whole_quads(text: str) -> bool:
    """Whether ``text`` is base64 alphabet in whole groups of four, at most two ``=`` at
    its end: text that strict decoding accepts, known without decoding (a form's 4.7 KB
    base64 took 16 us to check by decoding, 2 us so). False says nothing: decode to know."""
    if not text.isascii():
        return False
    data = text.encode("ascii")
    body = data.rstrip(b"=")
    return len(data) % 4 == 0 and len(data) - len(body) <= 2 and not body.translate(None, _ALPHABET)


def base64_length(_ctx: object, value: Any) -> float:
    """The characters of base64 text, line breaks and spaces aside (a 76-column MIME
    encoder's output counts as its unbroken form); XPath's translate() does the same
    ten times slower on a form's worth of base64, on every dossier."""
    return float(len("".join(_text(value).split())))


def in_table(_ctx: object, table: Any, value: Any, column: Any = "code") -> bool:
    """True when a row of reference table ``table`` has ``value`` in ``column`` (default code)."""
    return table_index().contains(_text(table), _text(value), _text(column))


def as_of(_ctx: object, table: Any, column: Any, period: Any) -> float:
    """The number in ``column`` of the ``table`` row in force for ``period`` (``MM/yyyy``).

    Rows are in force from their ``since`` period until the next row's. A period that is
    no ``MM/yyyy`` raises :class:`CatalogError` (the rule fails when run, naming itself):
    NaN there would make ``X >= $base`` refuse every dossier and ``not(X < $base)`` accept
    every one. NaN for a period before every row (a sender's old period: the rule's own
    code answers it, never a 5xx), or when the row in force lacks the column (one
    computed from the dossier, ``regions_<MavungLTT>``) or holds no number.
    """
    index, name, when = table_index(), _text(table), _text(period)
    found = index.as_of(name, _text(column), when)
    if found is None:
        index.check_period(name, when)
    try:
        return float("nan") if found is None else float(found)
    except ValueError:
        return float("nan")


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "is-nfc": is_nfc,
    "composes": composes,
    "valid-date": valid_date,
    "date-key": date_key,
    "period-key": period_key,
    "year-of": year_of,
    "days-between": days_between,
    "is-base64": is_base64,
    "base64-length": base64_length,
    "in-table": in_table,
    "as-of": as_of,
    "tables": tables_for_xpath,
}


def _arity(function: Callable[..., Any]) -> tuple[int, int]:
    params = list(inspect.signature(function).parameters.values())[1:]  # the XPath context
    required = sum(1 for p in params if p.default is inspect.Parameter.empty)
    return required, len(params)


ARITY: dict[str, tuple[int, int]] = {name: _arity(f) for name, f in _FUNCTIONS.items()}
"""Each ``fn:*`` function's (fewest, most) arguments, for the catalog's rule checks."""

EXTENSIONS: dict[tuple[str, str], Callable[..., Any]] = {
    (NAMESPACE, name): function for name, function in _FUNCTIONS.items()
}
"""The ``fn:*`` functions as ``etree.XSLT(..., extensions=...)`` takes them."""


def register() -> None:
    """Make the ``fn:*`` functions visible to every XPath and XSLT evaluation in this process."""
    namespace = etree.FunctionNamespace(NAMESPACE)
    for name, function in _FUNCTIONS.items():
        namespace[name] = function
