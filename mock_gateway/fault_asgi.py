"""ASGI middleware acting on the fault marker: a late answer, or a reset TCP connection.

:class:`~mock_gateway.faulty_app.FaultyGateway` marks an answer with
:data:`~mock_gateway.faults.FAULT_HEADER`; this layer sleeps without holding a worker thread
and resets the connection for real, as ``FaultAdapter`` does in-process.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mock_gateway.faults import marker_effects

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FaultMiddleware:
    """ASGI: turns the fault marker into a late answer or a reset TCP connection.

    The reset reaches the socket through uvicorn's ``send`` (its request cycle holds the
    transport): SO_LINGER 0 then ``abort()`` sends an RST, which a client sees as
    "connection reset by peer". Under another server the connection is just dropped.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropped = False

        async def faulty_send(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                marker = next((v for k, v in headers if k.lower() == b"x-bhxh-fault"), None)
                if marker is not None:
                    delay, reset = marker_effects(marker.decode("latin-1"))
                    if delay:
                        await asyncio.sleep(delay)
                    if reset:
                        dropped = True
                        _abort(send)
                        return
                    kept = [(k, v) for k, v in headers if k.lower() != b"x-bhxh-fault"]
                    message = {**message, "headers": kept}
            await send(message)

        await self.app(scope, receive, faulty_send)


def _abort(send: Send) -> None:
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("fault: connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    cycle.disconnected = True  # type: ignore[union-attr]  # uvicorn: say nothing more


__all__ = ["FaultMiddleware"]
