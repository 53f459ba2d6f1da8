"""A pytest plugin for vendors: fixtures to write their own extra certification cases.

Loaded through the ``pytest11`` entry point (or ``-p harness.certification.plugin``)::

    def test_my_ivan_resubmits(gateway, ivan_client, dossier_factory):
        procedure = next(iter(dossier_factory.catalog.procedures))
        dossier = dossier_factory.build(procedure, seed=1)
        gateway.set_faults([{"name": "burst-503", "params": {"count": 2}}], seed=0)
        assert ivan_client.submit(dossier.envelope).accepted
        gateway.advance(2 * 3600)
        assert {m.kind for m in ivan_client.poll_and_ack()} == {"02/TB-TS", "03/TB-TS"}

* ``gateway``: a :class:`~harness.certification.CertGateway`: the mock gateway with fault
  injection on 127.0.0.1, started once per session (or ``--bhxh-gateway URL``), reset and
  without faults at the start of every test; ``advance()``, ``set_faults()``,
  ``traffic()``, ``probe()``, ``fault_events()``.
* ``ivan_client``: the reference :class:`~harness.client.IvanClient`, authenticated as the
  gateway's I-VAN.
* ``dossier_factory``: a :class:`~harness.dossiers.factory.DossierFactory` for the catalog
  (``--bhxh-catalog``, default the latest) and the test PKI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.certification.gateway import CertGateway
    from harness.client import IvanClient
    from harness.dossiers.factory import DossierFactory


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bhxh-harness", "BHXH I-VAN certification fixtures")
    group.addoption(
        "--bhxh-gateway", default=None, help="Use this gateway URL (default: start one)."
    )
    group.addoption("--bhxh-catalog", default=None, help="Catalog version (default: latest).")


@pytest.fixture(scope="session")
def bhxh_catalog(pytestconfig: pytest.Config) -> Any:
    from harness.catalog import latest_version, load_catalog

    return load_catalog(pytestconfig.getoption("bhxh_catalog") or latest_version())


@pytest.fixture(scope="session")
def bhxh_pki() -> Any:
    from harness.signing import ensure_pki

    return ensure_pki()


@pytest.fixture(scope="session")
def bhxh_gateway(
    pytestconfig: pytest.Config,
    bhxh_catalog: Any,
    bhxh_pki: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CertGateway]:
    from harness.certification.gateway import CertGateway, local_gateway

    url = pytestconfig.getoption("bhxh_gateway")
    if url:
        remote = CertGateway(url)
        yield remote
        remote.close()
        return
    with local_gateway(bhxh_catalog.version, bhxh_pki, tmp_path_factory.mktemp("bhxh")) as local:
        yield local


@pytest.fixture
def gateway(bhxh_gateway: CertGateway) -> Iterator[CertGateway]:
    """The gateway, reset and without faults for this test."""
    bhxh_gateway.reset()
    bhxh_gateway.clear_faults()
    yield bhxh_gateway
    bhxh_gateway.clear_faults()


@pytest.fixture
def ivan_client(gateway: CertGateway) -> Iterator[IvanClient]:
    """The reference I-VAN client, authenticated as the gateway's I-VAN."""
    from harness.client import IvanClient, RetryPolicy

    client = IvanClient(gateway.url, gateway.token, retry=RetryPolicy(timeout=10, base_delay=0.05))
    yield client
    client.session.close()


@pytest.fixture(scope="session")
def dossier_factory(bhxh_catalog: Any, bhxh_pki: Any) -> DossierFactory:
    """Signed dossiers of any procedure of the catalog."""
    from harness.dossiers.factory import DossierFactory

    return DossierFactory(bhxh_catalog, bhxh_pki)
