"""What the socket-free fixtures ``inproc_gateway`` and ``responses_gateway`` are made of.

Both answer from the real gateway core (with fault injection) in the test's own process,
a fresh one per test serving every catalog version (as ``bhxh-harness serve`` does), so a
vendor's ``requests``-based client runs against the real checks without a port, a server
or leftovers from another test; an ``httpx`` client gets the same through
:meth:`SocketFreeGateway.httpx_transport`. The handle keeps the ``gateway`` fixture's
method names (url, token, advance, set_faults, traffic...).
Like :mod:`harness.certification.gateway`, this module wires the mock gateway in
(imported only when a test asks for one of these fixtures, which :mod:`.plugin` declares:
every pytest session of an environment with the harness installed loads the plugin;
ARCHITECTURE.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import pytest
import requests

from harness.certification.records import TrafficRow
from harness.client import IvanClient, RetryPolicy
from harness.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from harness.certification.plugin_httpx import AsyncInProcessTransport, InProcessTransport
    from mock_gateway.core import Gateway
    from mock_gateway.exchange import GatewayResponse
    from mock_gateway.faulty_app import FaultyGateway
    from mock_gateway.testing import InProcessGateway


class SocketFreeGateway:
    """An :class:`~mock_gateway.testing.InProcessGateway` wrapped with fault injection.

    ``inproc`` is the InProcessGateway, ``faulty`` the fault layer every request of
    :meth:`session`, :meth:`submit` and the ``responses`` route goes through, ``mock``
    the ``responses.RequestsMock`` (``responses_gateway`` only, else None).
    """

    def __init__(self, inproc: InProcessGateway, ivan: str) -> None:
        from mock_gateway.faulty_app import FaultyGateway
        from mock_gateway.transport import DEFAULT_BASE_URL

        self.inproc = inproc
        self.faulty: FaultyGateway = FaultyGateway(inproc.gateway)
        self.url = DEFAULT_BASE_URL
        self.ivan = ivan
        self.mock: Any = None
        self.token_for(ivan)  # an unknown --bhxh-ivan fails here, with the known ones

    @property
    def token(self) -> str:
        return self.token_for(self.ivan)

    def token_for(self, ivan: str) -> str:
        """The bearer token of ``ivan`` (``"admin"`` for the admin token); an unknown one is
        a ConfigError naming the known ones."""
        return self.inproc.token(ivan)

    def now(self) -> datetime:
        return self.inproc.gateway.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Fast-forward the simulated clock, issuing what falls due; returns the new now,
        as ``gateway.advance`` does (``self.inproc.advance`` returns how many messages)."""
        self.inproc.advance(seconds)
        return self.now()

    def set_faults(self, profiles: list[dict[str, Any]], seed: int = 0) -> None:
        """Activate fault profiles (``[{"name": "burst-503", "params": {...}}]``)."""
        from mock_gateway.fault_plan import specs_from_json

        specs, _ = specs_from_json({"profiles": profiles})
        self.faulty.set_plan(specs, seed)

    def clear_faults(self) -> None:
        self.faulty.clear()

    def traffic(self, after: int = 0) -> list[TrafficRow]:
        from mock_gateway.admin import traffic_line

        rows = self.inproc.gateway.traffic_log(after)
        return [TrafficRow.from_json(json.loads(traffic_line(row))) for row in rows]

    def fault_events(self, after: int = 0) -> list[dict[str, Any]]:
        return self.faulty.events(after)

    def session(self, ivan: str | None = None) -> requests.Session:
        """A ``requests`` session to :attr:`url` through the faults, as ``ivan`` (default
        the fixture's I-VAN; ``""`` for no credential)."""
        from mock_gateway.transport import FaultAdapter

        session = requests.Session()
        session.mount(self.url + "/", FaultAdapter(self.faulty, self.url))
        if ivan != "":
            session.headers["Authorization"] = f"Bearer {self.token_for(ivan or self.ivan)}"
        return session

    def submit(self, envelope: bytes, *, message_id: str | None = None) -> GatewayResponse:
        """POST a dossier as the fixture's I-VAN through the faults (a held or reset
        answer comes back with its marker header, not as an exception); one over the size
        cap is logged as the served gateway logs it (its size, not its bytes)."""
        from mock_gateway.exchange import GatewayRequest
        from mock_gateway.transport import answer_in_process

        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/xml",
            "X-Message-Id": message_id or f"inproc-{time.time_ns()}",
        }
        request = GatewayRequest("POST", "/api/v1/dossiers", headers, {}, envelope)
        return answer_in_process(cast("Gateway", self.faulty), request)

    def httpx_transport(self) -> httpx.BaseTransport:
        """An ``httpx`` transport to :attr:`url` through the faults, no socket:
        ``httpx.Client(transport=gw.httpx_transport())``; a held answer raises
        ``httpx.ReadTimeout`` against the client's read timeout, a reset ``httpx.ReadError``."""
        sync, _ = _httpx_transports()
        return sync(self.faulty, self.url)

    def async_httpx_transport(self) -> httpx.AsyncBaseTransport:
        """:meth:`httpx_transport` for ``httpx.AsyncClient``, with the same faults."""
        _, asynchronous = _httpx_transports()
        return asynchronous(self.faulty, self.url)

    def client(self, retry: RetryPolicy | None = None) -> IvanClient:
        """The reference I-VAN client on :meth:`session`; its back-off advances the
        simulated clock instead of sleeping."""
        retry = retry or RetryPolicy(timeout=10, base_delay=0.05)
        session = self.session(ivan="")
        return IvanClient(self.url, self.token, session=session, retry=retry, sleep=sim_sleep(self))


def _httpx_transports() -> tuple[type[InProcessTransport], type[AsyncInProcessTransport]]:
    """The transport classes, or a ConfigError when httpx (the library of the vendor's
    client) is not installed here."""
    try:
        from harness.certification import plugin_httpx
    except ModuleNotFoundError as exc:
        if exc.name != "httpx":
            raise
        raise ConfigError(
            "the httpx transports need httpx, which is not installed",
            hint="python -m pip install httpx (the one your client uses)",
        ) from None
    return plugin_httpx.InProcessTransport, plugin_httpx.AsyncInProcessTransport


class _Advances(Protocol):
    def advance(self, seconds: float) -> object: ...


def sim_sleep(gateway: _Advances) -> Callable[[float], None]:
    """A ``sleep(seconds)`` for a client under test that moves ``gateway``'s simulated
    clock instead of waiting: a Retry-After of 5 s costs nothing, and a maintenance
    window or a 503 burst window still ends."""

    def sleep(seconds: float) -> None:
        if seconds > 0:
            gateway.advance(seconds)

    return sleep


@contextmanager
def in_process_gateway(pki: Any, ivan: str) -> Iterator[SocketFreeGateway]:
    """A fresh in-process gateway with fault injection, for ``ivan``; no socket. It serves
    every catalog version, as ``serve`` does (the ``inproc_gateway`` fixture)."""
    from mock_gateway.testing import InProcessGateway

    with InProcessGateway(pki=pki) as inproc:
        yield SocketFreeGateway(inproc, ivan)


RESPONSES_CLASH = (
    "{what} replaces responses_gateway's mock, so every request to the gateway would be "
    "'Connection refused by Responses'\nHint: drop {what} and register your other mocks "
    "on responses_gateway.mock (responses_gateway.mock.get(url, json=...))"
)


@contextmanager
def behind_responses(
    request: pytest.FixtureRequest, gateway: SocketFreeGateway
) -> Iterator[SocketFreeGateway]:
    """``gateway`` behind an active ``responses.RequestsMock`` for the block (the
    ``responses_gateway`` fixture); a test that starts its own mock fails at setup."""
    import responses

    from mock_gateway.transport import register_responses

    _refuse_other_responses_mock(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_responses(mock, gateway.faulty, gateway.url)
        gateway.mock = mock
        yield gateway
    gateway.mock = None


def _refuse_other_responses_mock(request: pytest.FixtureRequest) -> None:
    """Fail at setup a test that also starts its own ``responses`` mock (the decorator or
    pytest-responses' fixture): the later mock would hide this one, silently."""
    if "responses" in request.fixturenames:
        pytest.fail(RESPONSES_CLASH.format(what="the `responses` fixture"), pytrace=False)
    if _activated_by_responses(getattr(request, "function", None)):
        pytest.fail(RESPONSES_CLASH.format(what="@responses.activate"), pytrace=False)


def _activated_by_responses(function: object) -> bool:
    """Whether ``function`` is wrapped by ``responses.activate`` (or ``RequestsMock``'s
    own ``activate``): that wrapper keeps its mock in its closure."""
    import responses

    while function is not None:
        cells: Iterable[Any] = getattr(function, "__closure__", None) or ()
        if any(isinstance(_cell_value(cell), responses.RequestsMock) for cell in cells):
            return True
        function = getattr(function, "__wrapped__", None)
    return False


def _cell_value(cell: Any) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not filled yet
        return None


__all__ = [
    "SocketFreeGateway",
    "behind_responses",
    "in_process_gateway",
    "sim_sleep",
]
