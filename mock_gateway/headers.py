"""What the intake accepts in request headers, and how repeated headers reach the core.

The core sees one string per header name. HTTP lets a client send a header twice, and
RFC 9110 (section 5.3) says a recipient may join the values with ", "; the front ends
do so (:func:`joined`), so a doubled ``X-Message-Id`` or ``Content-Type`` is refused as
the malformed value it is, where keeping only the first would pick a key silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MESSAGE_ID_RULE = "1-128 visible ASCII characters, no comma"
MESSAGE_ID_PATTERN = r"[!-+\--~]{1,128}"
"""Visible ASCII but the comma: a comma is what a header sent twice looks like once
joined, and two keys cannot both be the idempotency key."""
_MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)


def valid_message_id(message_id: str) -> bool:
    """Whether ``message_id`` follows :data:`MESSAGE_ID_RULE`."""
    return _MESSAGE_ID.fullmatch(message_id) is not None


def media_type(content_type: str) -> tuple[str, str]:
    """``("application/xml", "utf-8")`` for ``Application/XML; charset="UTF-8"``."""
    media, _, parameters = content_type.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one lower-cased name to one value, repeats joined with ", "."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
