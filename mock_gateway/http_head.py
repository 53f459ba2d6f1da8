"""A cap on the HTTP request head (request line and headers) while it is still arriving,
and structured answers to what the HTTP parser cannot read.

uvicorn's httptools parser keeps a header of any size in memory until it ends: one
100 MB header made a worker grow by 100 MB, and nothing stopped a bigger one. Here a
connection whose head passes :data:`HEAD_MAX` bytes gets the gateway's signed
``LIM-003`` answer (431) and is closed, having buffered at most one more read.

Two checks: while the head arrives, every byte read while it is incomplete counts (so
the read in which a request begins also counts what came before it on a pipelined
connection, an over-count bounded by one read); when it is complete, its exact size (URL
and headers) is checked, which catches a head that arrived whole in one read.

A slow head is refused too: uvicorn waits for a request head for ever, so a client
sending one byte a minute (or nothing after connecting) held a connection, and its
memory, indefinitely. A head must arrive within the gateway's ``client_timeout`` of its
first byte (else 408 ``REQ-005``, logged), and a connection that has not begun a request
by then is closed. A body that stalls is the ASGI app's to time out
(:func:`mock_gateway.app.read_capped`), since by then the request has a handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sys
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_gateway import loop_watch
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.intake import reject

HEAD_MAX = 64 * 1024
"""Bytes of request line and headers accepted: generous (nginx by default refuses a
request line or header line over 8 KiB), so only a broken or hostile client meets it."""
DEFAULT_CLIENT_TIMEOUT = 30.0
"""Seconds a head may take, where the app is not a gateway of ours (its config says)."""
RECEIVED_AT = "bhxh.received_at"
"""The ASGI scope extension holding the wall-clock time a request's first byte was read
(``time``) and how long before that it may have waited unread (``unread``, seconds: see
:mod:`mock_gateway.loop_watch`)."""
KEPT_BYTES = 4096
"""How much of an unreadable request the traffic log keeps."""
PATH_KEPT = 512
"""How much of an oversized head's URL the traffic log keeps as its path."""

_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) +([^ \r\n]*)")
"""A request line's method (an RFC 9110 token) and target, as far as they arrived."""

log = logging.getLogger(__name__)


def request_line(head: bytes) -> tuple[str, str]:
    """The method and target (at most :data:`PATH_KEPT` characters) of the request line
    that begins ``head``, or empty strings where it does not read as one: what the
    traffic log can say of a request the parser refused."""
    found = _REQUEST_LINE.match(head)
    if found is None:
        return "", ""
    method, target = found.group(1), found.group(2)[:PATH_KEPT]
    return method.decode("ascii"), target.decode("utf-8", "backslashreplace")


def _gateway_of(app: Any) -> Any:
    """The :class:`~mock_gateway.core.Gateway` behind ``app`` and the middlewares around it
    (each keeps the next one in ``.app``), or None for an app that is not ours."""
    for _ in range(8):
        state = getattr(app, "state", None)
        gateway = getattr(state, "gateway", None) if state is not None else None
        if gateway is not None:
            return gateway
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def client_timeout(gateway: Any) -> float:
    """The seconds ``gateway`` (or None) gives a client to send a request head."""
    return float(gateway.config.client_timeout) if gateway is not None else DEFAULT_CLIENT_TIMEOUT


def refusal(gateway: Any, code: str) -> GatewayResponse:
    """The answer for ``code`` (LIM-003, REQ-004 or REQ-005): ``gateway``'s signed rejection, or the
    same code in plain text where there is no gateway to sign it."""
    if code == "LIM-003":
        detail = f"{HEAD_MAX} bytes of request line and headers at most"
        rejected = reject(code, "/", limit=str(HEAD_MAX), detail=detail)
    elif code == "REQ-005":
        seconds = f"{client_timeout(gateway):g}"
        detail = f"the request line and headers must arrive within {seconds} s"
        rejected = reject(code, "/", timeout_s=seconds, detail=detail)
    else:
        detail = "the request line or headers are not HTTP/1.1"
        rejected = reject(code, "/", detail=detail)
    if gateway is not None:
        try:
            answer: GatewayResponse = gateway.error_response(rejected)
            return answer
        except Exception:  # signing failed: still refuse, unsigned
            log.exception("could not sign the %s answer", code)
    text = f"{code}: {detail}\n".encode()
    status = rejected.status
    return GatewayResponse(status, {"Content-Type": "text/plain; charset=utf-8"}, text, code)


def head_size(target: bytes, headers: Iterable[tuple[bytes, bytes]]) -> int:
    """The size :data:`HEAD_MAX` caps of a complete head: its target, each header with
    its ": " and CRLF, and 16 bytes for the method, the version and the line ends."""
    return len(target) + sum(len(name) + len(value) + 4 for name, value in headers) + 16


def oversized_head(gateway: Any, request: GatewayRequest) -> GatewayResponse | None:
    """For a front end with no HTTP parser (the in-process transports): ``request``'s head
    measured, refused and logged as :class:`CappedHeadProtocol` does one over
    :data:`HEAD_MAX` (431 LIM-003, ``Connection: close``), so both answer alike; else None."""
    path = request.raw_path or request.path
    target = f"{path}?{request.query_string}" if request.query_string else path
    headers = [(_wire(name), _wire(value)) for name, value in request.headers.items()]
    size = head_size(_wire(target), headers)
    if size <= HEAD_MAX:
        return None
    answer = refusal(gateway, "LIM-003")
    logged = GatewayRequest(request.method, target[:PATH_KEPT], body_size=size)
    gateway.record_refusal(logged, answer, request.received_at or time.time())
    headers_sent = {**answer.headers, "Connection": "close"}
    return GatewayResponse(answer.status, headers_sent, answer.body, answer.outcome)


def _wire(text: str) -> bytes:
    """``text`` as bytes on the wire, to count them."""
    return text.encode("utf-8", "replace")


class CappedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over :data:`HEAD_MAX` bytes
    (431 LIM-003) or slower than the gateway's ``client_timeout`` (408 REQ-005), and
    answering what its parser cannot read with the gateway's signed 400 REQ-004 instead
    of uvicorn's plain-text "Invalid HTTP request received.".

    Every refusal goes to the traffic log like any exchange, with what is known of the
    request: its method and target, the size of an oversized or slow head (not its
    bytes), the first :data:`KEPT_BYTES` of an unreadable one.
    """

    _in_head = False
    _head_bytes = 0
    _reading = b""
    _started = 0.0
    _unread = 0.0
    _over = False
    _refused = False
    _bad_method = False
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch = loop_watch.watch(self.loop)
        self._arm()  # a connection that never begins a request is closed

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._started = True, 0, time.time()
        self._unread = self._watch.unread_bound()
        self._arm()

    def on_headers_complete(self) -> None:
        # A head that arrived whole in one read never tripped the count in data_received.
        size = head_size(self.url, self.headers)
        if size > HEAD_MAX:
            self._over = True
            raise ValueError("request head over the cap")  # the parser stops; see below
        super().on_headers_complete()  # may raise: the URL is unreadable, still in the head
        self._in_head = False
        arrival: dict[object, object] = {"time": self._started, "unread": self._unread}
        self.scope.setdefault("extensions", {})[RECEIVED_AT] = arrival
        self._disarm()  # a body is the app's to time out: the request has a handler now

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._reading = data
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_MAX:
                self._refuse("LIM-003")
        elif self._deadline is None and self._idle:
            # bytes that began no request (a bare CRLF after an answer): uvicorn has just
            # cancelled its keep-alive timer, so without this the connection stayed for ever
            self._arm()

    @property
    def _idle(self) -> bool:
        """No request is arriving or being answered on this connection."""
        return not self._in_head and (self.cycle is None or self.cycle.response_complete)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer when the parser fails (or a callback raised): a head over the
        cap, or too long to parse, is LIM-003."""
        if self._refused:
            return
        # uvicorn calls this while handling the parser's error: which one says whether
        # the method was read (the parser then reports DELETE, its zero, or the last one)
        error = sys.exc_info()[1]
        self._bad_method = isinstance(error, httptools.HttpParserInvalidMethodError)
        over = self._over or (self._in_head and self._head_bytes + len(self._reading) > HEAD_MAX)
        self._refuse("LIM-003" if over else "REQ-004")

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self._timeout, self._expired)

    @functools.cached_property
    def _gateway(self) -> Any:
        """The gateway behind this connection's app (None for an app not ours): looked up
        once per connection, not at every request head."""
        return _gateway_of(self.app)

    @functools.cached_property
    def _timeout(self) -> float:
        return client_timeout(self._gateway)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        """The client took too long: a head still arriving is refused (REQ-005); a
        connection that never began a request is closed, as an idle kept-alive one is."""
        self._deadline = None
        if self._refused or self.transport.is_closing():
            return
        if not self._in_head:
            if self._idle:  # connected, or answered, and began nothing since
                self.transport.close()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # a pipelined head, behind an answer still being made: not yet
            return
        self._refuse("REQ-005")

    def _refuse(self, code: str) -> None:
        self._refused = True
        gateway = self._gateway
        answer = refusal(gateway, code)
        lines = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}".encode()]
        headers = {**answer.headers, "Content-Length": str(len(answer.body))}
        headers["Connection"] = "close"
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
        body = b"" if self._method() == "HEAD" else answer.body  # HEAD: the headers only
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()
        # the traffic log keeps every refusal; a line each would flood the server's log
        log.info("refused a request (%s) from %s", code, self.client)
        if gateway is not None:
            gateway.record_refusal(self._as_request(code), answer, self._started or time.time())

    def _method(self) -> str:
        """The refused request's method, or empty where it was not one the parser read:
        never the parser's leftover (DELETE for ``GARBAGE``, a TLS hello or ``get /``)."""
        if self._bad_method:
            return ""
        parsed = ""
        with contextlib.suppress(Exception):
            parsed = str(self.parser.get_method().decode("ascii"))
        if getattr(self, "url", b""):  # this request's URL was read, so its method was
            return parsed
        read = request_line(self._reading)[0]
        return read if read == parsed else ""  # only what the parser and the bytes agree on

    def _as_request(self, code: str) -> GatewayRequest:
        """What the traffic log can say of the refused request: its method and target
        as far as they arrived, the size of an oversized or slow head, the first bytes
        of an unreadable one."""
        method = self._method()  # empty: no request line was read, so no target either
        path = request_line(self._reading)[1] if method else ""
        if self.url:  # reset when a message begins, so it is this request's
            path = bytes(self.url[:PATH_KEPT]).decode("utf-8", "backslashreplace")
        if code == "LIM-003":
            size = self._head_bytes + len(self._reading)
            return GatewayRequest(method, path, body_size=size)
        if code == "REQ-005":  # the reads so far were all counted
            return GatewayRequest(method, path, body_size=self._head_bytes)
        return GatewayRequest(method, path, body=self._reading[:KEPT_BYTES])
