"""JSON lines (one JSON value a line), written and read so that one value stays one line.

The gateway's traffic and fault-event exports, and the evidence files certify keeps, are
JSON lines whose values hold URLs any client chose. JSON may leave U+2028, U+2029 and NEL
raw, and ``str.splitlines`` (and other readers) take them for line ends: a row cut in two
is no JSON, which once let one request block certification of a gateway.
"""

from __future__ import annotations

import json
from typing import Any

_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(value: Any) -> str:
    """``value`` as one line: Vietnamese kept readable, every kind of line break escaped."""
    return json.dumps(value, ensure_ascii=False).translate(_LINE_BREAKS)


def split_json_lines(text: str) -> list[str]:
    """The non-blank lines of a JSON-lines text, split on newlines only: another writer may
    have left U+2028 or NEL raw inside a value."""
    return [line for line in text.split("\n") if line.strip()]


__all__ = ["json_line", "split_json_lines"]
