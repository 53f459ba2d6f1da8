"""A cap on the HTTP request head (request line and headers) while it is still arriving,
and structured answers to what the HTTP parser cannot read.

uvicorn's httptools parser keeps a header of any size in memory until it ends: one
100 MB header made a worker grow by 100 MB, and nothing stopped a bigger one. Here a
connection whose head passes :data:`HEAD_MAX` bytes gets the gateway's signed
``LIM-003`` answer (431) and is closed, having buffered at most one more read (256 KiB).

The count runs per read: every byte read while a request's head is incomplete counts,
so the read in which a request begins also counts what came before it on a pipelined
connection (the end of the previous body). That over-count is bounded by one read, and
ordinary clients wait for an answer before they send the next request.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_gateway.exchange import GatewayResponse
from mock_gateway.intake import reject

HEAD_MAX = 64 * 1024
"""Bytes of request line and headers accepted (nginx answers 431 or 414 near 32 KiB)."""

log = logging.getLogger(__name__)


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


def refusal(app: Any, code: str) -> GatewayResponse:
    """The answer for ``code`` (LIM-003 or REQ-004): the gateway's signed rejection, or the
    same code in plain text where there is no gateway to sign it."""
    if code == "LIM-003":
        detail = f"{HEAD_MAX} bytes of request line and headers at most"
        rejected = reject(code, "/", limit=str(HEAD_MAX), detail=detail)
    else:
        detail = "the request line or headers are not HTTP/1.1"
        rejected = reject(code, "/", detail=detail)
    gateway = _gateway_of(app)
    if gateway is not None:
        try:
            answer: GatewayResponse = gateway.error_response(rejected)
            return answer
        except Exception:  # signing failed: still refuse, unsigned
            log.exception("could not sign the %s answer", code)
    text = f"{code}: {detail}\n".encode()
    status = rejected.status
    return GatewayResponse(status, {"Content-Type": "text/plain; charset=utf-8"}, text, code)


class CappedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over :data:`HEAD_MAX` bytes
    (431 LIM-003) and answering what its parser cannot read with the gateway's signed
    400 REQ-004 instead of uvicorn's plain-text "Invalid HTTP request received."."""

    _in_head = False
    _head_bytes = 0
    _reading = 0
    _refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()  # may raise: the URL is unreadable, still in the head
        self._in_head = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._reading = len(data)
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_MAX:
                self._refuse("LIM-003")

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer when the parser fails: a head too long to parse is LIM-003."""
        over = self._in_head and self._head_bytes + self._reading > HEAD_MAX
        self._refuse("LIM-003" if over else "REQ-004")

    def _refuse(self, code: str) -> None:
        self._refused = True
        answer = refusal(self.app, code)
        lines = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}".encode()]
        headers = {**answer.headers, "Content-Length": str(len(answer.body))}
        headers["Connection"] = "close"
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + answer.body)
        self.transport.close()
        log.warning("refused a request (%s) from %s", code, self.client)
