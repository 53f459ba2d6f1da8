"""Schemathesis against ``/openapi.json``: no 5xx and no answer the document does not allow.

The schema is the hand-written document itself (the one ``/openapi.json`` serves, which
``test_openapi`` pins); cases go over HTTP to the real ASGI app (behind its fault layer) on a
:class:`~mock_gateway.local.LocalServer`, each with the credential its operation asks
for, so the checks reach the handlers instead of stopping at 401. Bounded and
derandomised so it is a quick, repeatable CI test, not a fuzzing campaign.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.signing import TestPKI
from mock_gateway.faulty_app import FaultyGateway, create_faulty_app
from mock_gateway.local import LocalServer
from mock_gateway.openapi import document
from mock_gateway.testing import InProcessGateway

schema = schemathesis.openapi.from_dict(document())
# Valid and invalid inputs: a client's mistake must be a documented 4xx, never a 5xx.
schema.config.generation.update(modes=list(schemathesis.GenerationMode))

CHECKS = [
    not_a_server_error,
    negative_data_rejection,  # what the document forbids is refused (e.g. ?after= empty)
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(pki: TestPKI) -> Iterator[tuple[LocalServer, InProcessGateway]]:
    """The app ``bhxh-harness serve`` runs: the core behind the fault layer, which answers
    ``/admin/faults`` (its operations are in the document too)."""
    with InProcessGateway(pki=pki) as gw:
        app = create_faulty_app(FaultyGateway(gw.gateway), close=False)
        with LocalServer(gw.gateway, app=app) as running:
            yield running, gw


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_gateway_conforms_to_its_openapi_document(
    case: schemathesis.Case,
    server: tuple[LocalServer, InProcessGateway],
    session: requests.Session,
) -> None:
    running, gw = server
    security = case.operation.definition.raw.get("security") or []
    names = {name for requirement in security for name in requirement}
    headers = dict(case.headers or {})
    if "ivanBearer" in names:
        headers.setdefault("Authorization", f"Bearer {gw.token('IVAN01')}")
    elif "adminBearer" in names:
        headers.setdefault("Authorization", f"Bearer {gw.token('admin')}")
    case.call_and_validate(
        base_url=running.url, session=session, headers=headers, checks=CHECKS, timeout=30
    )
