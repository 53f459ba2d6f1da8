"""Fixtures for the load suite: a locust-like client over the real gateway core, and pools.

``CoreClient`` speaks the small client protocol of :mod:`harness.load.ivan` (locust's
``request(..., catch_response=True)``) but answers from an in-process gateway, so the
I-VAN behaviour is checked against the gateway's real headers, feed and ack routes
without starting locust (which monkey-patches the interpreter) or a server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from requests.structures import CaseInsensitiveDict

from harness.load import DossierPool, Ivan, build_pool
from harness.signing import TestPKI
from mock_gateway.testing import InProcessGateway


@dataclass
class Reply:
    """A response as locust's catch_response context hands it over."""

    status_code: int
    headers: Any
    content: bytes
    verdict: str = ""  # "success", or the failure message

    def success(self) -> None:
        self.verdict = "success"

    def failure(self, exc: Any) -> None:
        self.verdict = str(exc)


@dataclass
class Call:
    method: str
    url: str
    name: str | None
    data: bytes | None
    headers: dict[str, str]
    reply: Reply


@dataclass
class ScriptedClient:
    """Answers from a script of (status, headers) first, then from ``fallback``."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    fallback: Any = None
    calls: list[Call] = field(default_factory=list)

    @contextmanager
    def request(
        self,
        method: str,
        url: str,
        *,
        name: str | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        catch_response: bool = False,
    ) -> Iterator[Reply]:
        assert catch_response, "the load users must judge every answer themselves"
        if self.script:
            status, answer_headers = self.script.pop(0)
            reply = Reply(status, answer_headers, b"")
        else:
            reply = self.fallback(method, url, data or b"", headers or {})
        self.calls.append(Call(method, url, name, data, dict(headers or {}), reply))
        yield reply


class CoreClient(ScriptedClient):
    """A :class:`ScriptedClient` whose fallback is a real in-process gateway."""

    def __init__(self, gateway: InProcessGateway) -> None:
        super().__init__(fallback=self._answer)
        self.gateway = gateway

    def _answer(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        parts = urlsplit(url)
        answer = self.gateway.request(
            method,
            parts.path,
            ivan=None,
            body=body,
            headers=headers,
            query=dict(parse_qsl(parts.query)),
        )
        return Reply(answer.status, CaseInsensitiveDict(answer.headers), answer.body)


@pytest.fixture(scope="session")
def ivan01() -> Ivan:
    return Ivan("IVAN01", "test-token-IVAN01")


@pytest.fixture(scope="session")
def pool(pki: TestPKI, ivan01: Ivan) -> DossierPool:
    """Two signed dossiers of two procedures, checked as the gateway checks them."""
    return build_pool(ivan01, ["600", "604"], 2, seed=1, catalog_version="2026.1")


@pytest.fixture
def gateway(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gw:
        yield gw


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 someone listens on, for the refusals of a port in use."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])
