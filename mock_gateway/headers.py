"""What the intake accepts in request headers, and how repeated headers reach the core.

The core sees one string per header name. HTTP lets a client send a header twice, and
RFC 9110 (section 5.3) says a recipient may join the values with ", "; the front ends
do so (:func:`joined`), so a doubled ``X-Message-Id`` or ``Content-Type`` is refused as
the malformed value it is, where keeping only the first would pick a key silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mock_gateway.intake import reject

if TYPE_CHECKING:
    from mock_gateway.exchange import GatewayRequest

MESSAGE_ID_RULE = "1-128 visible ASCII characters, no comma"
MESSAGE_ID_PATTERN = r"[!-+\--~]{1,128}"
"""Visible ASCII but the comma: a comma is what a header sent twice looks like once
joined, and two keys cannot both be the idempotency key."""
_MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
_XML_TYPES = ("application/xml", "text/xml")


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


def submission_message_id(request: GatewayRequest, max_body: int) -> str:
    """The idempotency key of a dossier submission whose HTTP framing is acceptable;
    raises :class:`~mock_gateway.intake.Rejected` for what is wrong before the XML is read:
    a body cut short (REQ-003) or too big (LIM-001), not XML (XML-004), not UTF-8
    (XML-003), compressed (XML-005), a missing or malformed ``X-Message-Id``."""
    if not request.complete:  # nobody hears this answer; the traffic log keeps it
        raise reject("REQ-003", "/", received=str(len(request.body)))
    if request.size > max_body:
        raise reject("LIM-001", "/", size=str(request.size), limit=str(max_body))
    media, charset = media_type(request.header("content-type") or "")
    if media not in _XML_TYPES and not media.endswith("+xml"):
        raise reject("XML-004", "/", content_type=media or "(none)")
    if charset not in ("", "utf-8", "utf8"):  # RFC 7303: the header outranks <?xml?>
        raise reject("XML-003", "/", charset=charset, detail="send UTF-8, charset=utf-8")
    coding = (request.header("content-encoding") or "identity").strip().lower()
    if coding != "identity":  # gzip bytes would otherwise be judged as broken XML
        raise reject("XML-005", "/", content_encoding=coding)
    message_id = (request.header("x-message-id") or "").strip()
    if not message_id:
        raise reject("REQ-001", "/", header="X-Message-Id")
    if not valid_message_id(message_id):
        raise reject("REQ-002", "/", header="X-Message-Id", detail=MESSAGE_ID_RULE)
    return message_id
