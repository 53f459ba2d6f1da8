"""What a :class:`~mock_gateway.core.Gateway` holds, declared once with its types.

Its own module so each section of the gateway (``gateway_*.py``) is written against this
typed base and type-checks alone; ``Gateway.__init__`` (:mod:`mock_gateway.core`) builds
every part.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.signing import TestPKI
from mock_gateway.answer_signer import MessageSigner
from mock_gateway.clock import SimulatedClock
from mock_gateway.config import GatewayConfig
from mock_gateway.exchange import Handler
from mock_gateway.intake import CatalogSet, Intake
from mock_gateway.metrics import Metrics
from mock_gateway.metrics_share import MetricsShare
from mock_gateway.outage import Outage
from mock_gateway.processor import Processor
from mock_gateway.releases import ReleaseProfile
from mock_gateway.store import Store
from mock_gateway.traffic import TrafficRecorder


class GatewayParts:
    """The parts of one gateway, declared for the sections' type checks (no behaviour)."""

    config: GatewayConfig
    catalogs: CatalogSet
    release: ReleaseProfile  # a simulated faulty release, or none
    pki: TestPKI
    signer: MessageSigner
    intake: Intake
    store: Store
    outage: Outage
    clock: SimulatedClock
    processor: Processor
    traffic: TrafficRecorder
    metrics: Metrics
    metrics_share: MetricsShare | None
    closed: bool  # a session still wired to it must not get a fake 500
    on_close: list[Callable[[], None]]  # a layer's last writes, store still open
    _tokens: list[tuple[str, str]]  # (token, I-VAN code)
    _catalog_xml: bytes
    _handlers: dict[str, Handler]
