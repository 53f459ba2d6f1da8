"""Talk to the real gateway logic from ``requests`` with no socket.

Two ways, for two kinds of test:

* :class:`GatewayAdapter`, a ``requests`` transport adapter: ``mount(session, gateway)``
  and every request the session makes under the base URL goes to
  :meth:`Gateway.handle` in-process.
* :func:`register_responses`, for code under test that makes its own sessions: with the
  ``responses`` library active, one callback per route hands each request to the core.
* :class:`FaultAdapter`, the adapter for a gateway with fault profiles: it turns their
  transport effects (a held answer, a reset) into what ``requests`` would raise.

:func:`fault_delivery` says what those effects are without naming a client library, so an
``httpx`` transport (:mod:`harness.certification.plugin_httpx`) raises its own
exceptions for the same faults. Every way goes through :func:`answer_in_process`, which
refuses and logs a head or body over the server's caps as the server does.

>>> with InProcessGateway() as gw, responses.RequestsMock(
...     assert_all_requests_are_fired=False
... ) as rsps:
...     register_responses(rsps, gw.gateway)
...     vendor_client.submit(...)  # plain requests.post(...) inside
"""

from __future__ import annotations

import http
import io
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faults import FAULT_HEADER, marker_effects
from mock_gateway.http_head import oversized_head
from mock_gateway.params import from_pairs
from mock_gateway.routes import ROUTES

if TYPE_CHECKING:
    from mock_gateway.faulty_app import FaultyGateway

DEFAULT_BASE_URL = "http://bhxh-gateway.test"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _body_bytes(body: Any) -> bytes:
    """A prepared body (bytes, str, file or iterable of chunks) as bytes."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    raise TypeError(f"unsupported request body {type(body).__name__}")


def core_request(
    method: str, url: str, headers: Mapping[str, str], body: Any, base_path: str = ""
) -> GatewayRequest:
    """The :class:`GatewayRequest` for a URL under a base URL whose path is ``base_path``."""
    parts = urlsplit(url)
    path = parts.path
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :] or "/"
    query, repeated = from_pairs(parse_qsl(parts.query, keep_blank_values=True))
    return GatewayRequest(
        method=method,
        path=path,
        headers=dict(headers),
        query=query,
        body=_body_bytes(body),
        repeated_query=repeated,
        query_string=parts.query,
    )


class GatewayAdapter(BaseAdapter):
    """A ``requests`` transport that answers from a :class:`Gateway` in this process."""

    def __init__(self, gateway: Gateway, base_url: str = DEFAULT_BASE_URL) -> None:
        super().__init__()
        self.gateway = gateway
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path.rstrip("/")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        answer = answer_in_process(self.gateway, self.core_request(request))
        return self.build_response(request, self.deliver(request, answer, timeout))

    def deliver(
        self, request: requests.PreparedRequest, answer: GatewayResponse, timeout: Any
    ) -> GatewayResponse:
        """What reaches the client of ``answer`` (all of it; a fault layer changes that)."""
        return answer

    def core_request(self, request: requests.PreparedRequest) -> GatewayRequest:
        """The core's view of a prepared ``requests`` request, relative to ``base_url``."""
        return core_request(
            request.method or "GET",
            request.url or "/",
            request.headers,
            request.body,
            self._base_path,
        )

    def build_response(
        self, request: requests.PreparedRequest, answer: GatewayResponse
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.headers.setdefault("Content-Length", str(len(answer.body)))
        response._content = answer.body
        response.raw = io.BytesIO(answer.body)
        response.encoding = get_encoding_from_headers(response.headers)
        response.reason = _reason(answer.status)
        response.url = request.url or ""
        response.request = request
        response.connection = self  # type: ignore[assignment]  # stubs say HTTPAdapter
        return response

    def close(self) -> None:
        """Nothing to release: the gateway belongs to whoever created it."""


def answer_in_process(gateway: Gateway, request: GatewayRequest) -> GatewayResponse:
    """The core's answer to ``request`` as it would be over HTTP: a head over the server's
    cap refused as the server refuses it, a body over the size cap not handed on (only its
    size, as the served app does), so the traffic log holds the same rows. A gateway
    already closed is the test's mistake, not a 500."""
    if getattr(gateway, "closed", False):
        raise RuntimeError(
            "the in-process gateway this request was wired to is closed: make the request "
            "inside its `with InProcessGateway(...)` block"
        )
    refused = oversized_head(gateway, request)
    if refused is not None:
        return refused
    return gateway.handle(body_capped(request, gateway.config.max_body_bytes))


def body_capped(request: GatewayRequest, cap: int) -> GatewayRequest:
    """``request`` with a body over ``cap`` bytes left out, its size kept: how a front end
    hands the core a body it stopped reading (:class:`GatewayRequest`)."""
    if request.body_size is not None or len(request.body) <= cap:
        return request
    return replace(request, body=b"", body_size=len(request.body))


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def mount(
    session: requests.Session, gateway: Gateway, base_url: str = DEFAULT_BASE_URL
) -> GatewayAdapter:
    """Route every request ``session`` makes under ``base_url`` to ``gateway``."""
    adapter = GatewayAdapter(gateway, base_url)
    session.mount(adapter.base_url + "/", adapter)
    return adapter


def register_responses(
    mock: Any, gateway: FaultyGateway | Gateway, base_url: str = DEFAULT_BASE_URL
) -> None:
    """Add a ``responses`` callback per route (and a catch-all) answering from ``gateway``.

    ``mock`` is a ``responses.RequestsMock`` (or the ``responses`` module in its default
    mode); create it with ``assert_all_requests_are_fired=False``, since a test rarely
    calls every route. Unknown paths under ``base_url`` reach the core too (its 404). A
    :class:`FaultyGateway`'s transport effects act as they do through :class:`FaultAdapter`.
    """
    base = base_url.rstrip("/")
    base_path = urlsplit(base).path.rstrip("/")
    core = cast(Gateway, gateway)

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        answer = answer_in_process(
            core,
            core_request(
                request.method or "GET",
                request.url or "/",
                request.headers,
                request.body,
                base_path,
            ),
        )
        timeout = getattr(request, "req_kwargs", {}).get("timeout")  # set by responses
        delivered = deliver_faults(request, answer, timeout)
        headers = {"Content-Length": str(len(delivered.body)), **delivered.headers}
        return delivered.status, headers, delivered.body

    for route in ROUTES:
        path = route.pattern.pattern.lstrip("^").rstrip("$")
        url = re.compile("^" + re.escape(base) + path + r"(\?.*)?$")
        mock.add_callback(route.method, url, callback=callback, content_type=None)
    anything = re.compile("^" + re.escape(base) + r"(/.*)?$")
    for method in _METHODS:
        mock.add_callback(method, anything, callback=callback, content_type=None)


@dataclass(frozen=True)
class Delivery:
    """What reaches a client of an answer once its fault marker acted, in no library's
    terms: each client library raises its own exception for ``failure``."""

    answer: GatewayResponse  # without the marker
    delay: float = 0.0  # seconds the client waits before anything arrives
    failure: str | None = None  # "timeout" (raise at once, no wait) or "reset" (after delay)
    detail: str = ""  # the message for that exception


def fault_delivery(answer: GatewayResponse, read_timeout: float | None) -> Delivery:
    """A hold at least as long as the read timeout times out at once (the commit happened,
    as over HTTP), a shorter one is waited, a reset fails after it; the marker never shows."""
    if FAULT_HEADER not in answer.headers:
        return Delivery(answer)
    delay, reset = marker_effects(answer.headers.get(FAULT_HEADER))
    headers = {k: v for k, v in answer.headers.items() if k != FAULT_HEADER}
    bare = GatewayResponse(answer.status, headers, answer.body)
    if read_timeout is not None and delay >= read_timeout:
        return Delivery(bare, 0.0, "timeout", f"fault: no answer within {read_timeout:g} s")
    if reset:
        return Delivery(bare, delay, "reset", "fault: connection reset by peer")
    return Delivery(bare, delay)


def deliver_faults(
    request: requests.PreparedRequest, answer: GatewayResponse, timeout: Any
) -> GatewayResponse:
    """:func:`fault_delivery` as ``requests`` shows it: ``ReadTimeout``, a slept delay,
    ``ConnectionError``."""
    read = timeout[1] if isinstance(timeout, tuple) else timeout
    delivery = fault_delivery(answer, None if read is None else float(read))
    if delivery.failure == "timeout":
        raise requests.ReadTimeout(delivery.detail, request=request)
    time.sleep(delivery.delay)
    if delivery.failure == "reset":
        raise requests.ConnectionError(delivery.detail, request=request)
    return delivery.answer


class FaultAdapter(GatewayAdapter):
    """``requests`` transport to a faulty gateway in-process (see :func:`deliver_faults`)."""

    def __init__(self, gateway: FaultyGateway | Gateway, base_url: str = DEFAULT_BASE_URL) -> None:
        super().__init__(cast(Gateway, gateway), base_url)

    def deliver(
        self, request: requests.PreparedRequest, answer: GatewayResponse, timeout: Any
    ) -> GatewayResponse:
        return deliver_faults(request, answer, timeout)
