"""What the gateway accepts in query-string parameters, in one place.

The handlers read their parameters through :func:`integer` and :func:`text`, and the
OpenAPI document describes them with the patterns below, so the document and the
answers cannot drift apart (schemathesis checks both directions). The rules are strict
on purpose: ``?after=``, ``?after=+5``, ``?after=1_000``, ``?after=٣`` (an Arabic-Indic
digit, which Python's ``int`` reads) and a parameter given twice are client bugs a
lenient gateway would hide, so each is ``REQ-002``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from mock_gateway.exchange import GatewayRequest
from mock_gateway.intake import reject

INTEGER_PATTERN = "[0-9]{1,19}"
"""ASCII decimal digits only: no sign, space, underscore or other script's digits."""
_INTEGER = re.compile(INTEGER_PATTERN)
_DIGITS = re.compile("[0-9]+")

TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\ufffd]*$"
"""A text parameter: anything but the C0 and C1 control characters, DEL and U+FFFD
(ECMA-262 syntax, as OpenAPI wants it). U+FFFD is what the front ends decode bytes that
are not UTF-8 to (``?ivan=%ff``): such a filter could never match, so it is refused
rather than answered with an empty page."""
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ufffd]")
SHOWN_MAX = 40
"""Longest part of a refused value an error quotes; a longer one ends in "…"."""


def from_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], frozenset[str]]:
    """Decoded ``(name, value)`` pairs as one value per name, and the names given twice."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if name in values:
            repeated.add(name)
        values[name] = value
    return values, frozenset(repeated)


def refuse_unknown(request: GatewayRequest, accepted: frozenset[str]) -> None:
    """REQ-002 for a query parameter the route does not take (``accepted``)."""
    unknown = sorted(set(request.query) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "no query parameters"
        detail = f"not a parameter of this route, which takes: {takes}"
        name = cut(unknown[0])
        raise reject("REQ-002", f"?{name}", parameter=name, detail=detail)


def _raw(request: GatewayRequest, name: str) -> str | None:
    if name in request.repeated_query:
        raise reject("REQ-002", f"?{name}", parameter=name, detail="given more than once")
    return request.query.get(name)


def integer(request: GatewayRequest, name: str, default: int, low: int, high: int) -> int:
    """Parameter ``name`` as an integer in ``[low, high]`` (absent: ``default``), else REQ-002."""
    raw = _raw(request, name)
    if raw is None:
        return default
    if _INTEGER.fullmatch(raw) is None:
        if _DIGITS.fullmatch(raw) is not None:  # all digits, too many of them: out of range
            detail = f"out of range: {low}..{high}"
            raise reject("REQ-002", f"?{name}", parameter=name, value=cut(raw), detail=detail)
        detail = "decimal digits 0-9 only; leave the parameter out for its default"
        raise reject("REQ-002", f"?{name}", parameter=name, value=cut(raw), detail=detail)
    value = int(raw)
    if not low <= value <= high:
        raise reject("REQ-002", f"?{name}", parameter=name, value=cut(raw), range=f"{low}..{high}")
    return value


def text(request: GatewayRequest, name: str, max_length: int) -> str:
    """Parameter ``name`` in NFC without surrounding spaces (absent or blank: ""), else
    REQ-002 when it is longer than ``max_length`` or holds a character :data:`TEXT_PATTERN`
    refuses; the error says which rule it broke. Length is counted after NFC, as the
    catalog's XSD lengths are: a name typed decomposed is read, and refused, as composed."""
    raw = unicodedata.normalize("NFC", _raw(request, name) or "")
    found = _REFUSED.search(raw)
    if len(raw) > max_length:
        detail = f"at most {max_length} characters, got {len(raw)}"
    elif found is not None and found.group() == "\ufffd":
        detail = "not valid UTF-8 once percent-decoded (or holds U+FFFD)"
    elif found is not None:
        detail = f"no control characters, found {found.group()!a}"
    else:
        return raw.strip()
    raise reject("REQ-002", f"?{name}", parameter=name, value=_shown(cut(raw)), detail=detail)


def cut(raw: str) -> str:
    """``raw`` as an error quotes it: at most :data:`SHOWN_MAX` characters, then "…", so
    the reader knows the value went on."""
    return raw if len(raw) <= SHOWN_MAX else raw[:SHOWN_MAX] + "…"


def _shown(raw: str) -> str:
    """``raw`` quoted for an error: Vietnamese stays readable (``ascii()`` made "Tuyết" a
    row of ``\\u`` escapes), the characters refused are escaped so they can be seen."""
    return "'" + _REFUSED.sub(lambda m: m.group().encode("unicode_escape").decode(), raw) + "'"
