"""``httpx`` transports to a socket-free gateway: the in-process path for httpx clients.

``inproc_gateway.httpx_transport()`` (sync) and ``.async_httpx_transport()`` hand each
request to the gateway core in this process, through its fault layer; the faults' transport
effects act as :func:`mock_gateway.transport.fault_delivery` says, raised as httpx raises
them over a socket (``ReadTimeout``, ``ReadError``), so a client's retry code runs as it
would. Imported only when a test asks for one: httpx is the vendor's dependency, not ours.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

import httpx

from mock_gateway.transport import (
    DEFAULT_BASE_URL,
    Delivery,
    answer_in_process,
    core_request,
    fault_delivery,
)

if TYPE_CHECKING:
    from mock_gateway.core import Gateway
    from mock_gateway.faulty_app import FaultyGateway


class _Route:
    """The part both transports share: which URLs are the gateway's, and its answer."""

    def __init__(self, gateway: FaultyGateway | Gateway, base_url: str) -> None:
        self.gateway = gateway
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path.rstrip("/")

    def delivery(self, request: httpx.Request, body: bytes) -> Delivery:
        """The core's answer as the faults deliver it; another host is not reachable."""
        url = str(request.url)
        if url != self.base_url and not url.startswith(self.base_url + "/"):
            raise httpx.ConnectError(
                f"{url} is not under {self.base_url}: this transport reaches only the "
                "in-process gateway; to reach other hosts too, mount it for the gateway "
                f"alone: httpx.Client(mounts={{{self.base_url!r}: transport}})",
                request=request,
            )
        core = core_request(request.method, url, request.headers, body, self._base_path)
        answer = answer_in_process(cast("Gateway", self.gateway), core)
        timeout = request.extensions.get("timeout", {}).get("read")
        return fault_delivery(answer, None if timeout is None else float(timeout))

    @staticmethod
    def raise_failure(request: httpx.Request, delivery: Delivery) -> None:
        """What httpx raises over a socket for the same fault, so retry code sees it."""
        if delivery.failure == "timeout":
            raise httpx.ReadTimeout(delivery.detail, request=request)
        if delivery.failure == "reset":
            raise httpx.ReadError(delivery.detail, request=request)

    @staticmethod
    def response(request: httpx.Request, delivery: Delivery) -> httpx.Response:
        """The answer as httpx builds it (Content-Length included)."""
        answer = delivery.answer
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=...)`` to a (faulty) gateway core in this process."""

    def __init__(self, gateway: FaultyGateway | Gateway, base_url: str = DEFAULT_BASE_URL) -> None:
        self._route = _Route(gateway, base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        delivery = self._route.delivery(request, request.read())
        time.sleep(delivery.delay)  # 0 for a timeout: that one fails at once
        self._route.raise_failure(request, delivery)
        return self._route.response(request, delivery)


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=...)`` to the same core; the core runs in a worker
    thread and a held answer is awaited, so the test's event loop keeps running."""

    def __init__(self, gateway: FaultyGateway | Gateway, base_url: str = DEFAULT_BASE_URL) -> None:
        self._route = _Route(gateway, base_url)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        delivery = await asyncio.to_thread(self._route.delivery, request, body)
        await asyncio.sleep(delivery.delay)
        self._route.raise_failure(request, delivery)
        return self._route.response(request, delivery)


__all__ = ["AsyncInProcessTransport", "InProcessTransport"]
