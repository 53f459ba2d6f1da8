"""Calls to a :class:`~mock_gateway.faulty_app.FaultyGateway` with no transport, and the
accepted dossiers they submit: shared by the fault tests of certification and gateway."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from harness.catalog import load_catalog
from harness.conformance import DossierChecker
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.faulty_app import FaultyGateway


def accepted_envelopes(pki: TestPKI, first_seed: int) -> Callable[[], bytes]:
    """A maker of distinct signed dossiers the gateway accepts (latest catalog, first
    procedure), seeds counted from ``first_seed``."""
    catalog = load_catalog()
    factory, checker = DossierFactory(catalog, pki), DossierChecker(catalog, pki.trust_store())
    procedure, seeds = next(iter(catalog.procedures)), itertools.count(first_seed)

    def make() -> bytes:
        while True:
            envelope = factory.build(procedure, next(seeds)).envelope
            if checker.check(envelope).accepted:
                return envelope

    return make


def call(
    faulty: FaultyGateway,
    method: str,
    path: str,
    *,
    token: str = "test-token-IVAN01",
    body: bytes = b"",
    query: dict[str, str] | None = None,
    **headers: str,
) -> GatewayResponse:
    """``faulty``'s answer to one request, as an I-VAN with ``token`` by default."""
    all_headers = {"Authorization": f"Bearer {token}", **headers}
    return faulty.handle(GatewayRequest(method, path, all_headers, query or {}, body))


def submit(faulty: FaultyGateway, envelope: bytes, message_id: str) -> GatewayResponse:
    """``POST /api/v1/dossiers`` of ``envelope`` under ``message_id``."""
    headers = {"Content-Type": "application/xml", "X-Message-Id": message_id}
    return call(faulty, "POST", "/api/v1/dossiers", body=envelope, **headers)
