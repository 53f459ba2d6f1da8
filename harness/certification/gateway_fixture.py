"""One type for the pytest plugin's gateway fixtures, served or socket-free.

``gateway`` (:class:`~harness.certification.plugin_view.GatewayView`), ``inproc_gateway``
and ``responses_gateway`` (:class:`~harness.certification.plugin_inproc.SocketFreeGateway`)
are different classes with the same core methods, so a vendor's helper written once for
all three can say so to mypy::

    from harness.certification.gateway_fixture import GatewayFixture

    def resubmit_after_burst(gw: GatewayFixture, client: MyClient) -> None:
        gw.set_faults([{"name": "burst-503", "params": {"count": 2}}])
        ...
        assert [row.status for row in gw.traffic()][:2] == [503, 503]

Only what both kinds do alike is here: ``session()``, ``client()`` and ``submit()`` exist
in-process only, ``probe()`` and ``reset()`` on the served gateway only (annotate with the
concrete class to use those). The core API, :class:`~mock_gateway.testing.InProcessGateway`,
is not one: its ``token`` is a method and its ``advance`` counts messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from harness.certification.records import TrafficRow


class GatewayFixture(Protocol):
    """What ``gateway``, ``inproc_gateway`` and ``responses_gateway`` all offer a test."""

    @property
    def url(self) -> str:
        """The base URL requests go to (in-process: one no socket listens on)."""

    @property
    def ivan(self) -> str:
        """The I-VAN code the fixture acts as (``--bhxh-ivan``)."""

    @property
    def token(self) -> str:
        """That I-VAN's bearer token."""

    def token_for(self, ivan: str) -> str:
        """Another I-VAN's bearer token; an unknown one is a ConfigError naming the known
        ones (``"admin"`` is answered in-process only: the served fixture refuses it)."""

    def now(self) -> datetime:
        """The gateway's simulated now."""

    def advance(self, seconds: float) -> datetime:
        """Fast-forward the simulated clock, issuing what falls due; the new now."""

    def set_faults(self, profiles: list[dict[str, Any]], seed: int = 0) -> None:
        """Activate fault profiles (``[{"name": "burst-503", "params": {...}}]``)."""

    def clear_faults(self) -> None:
        """Deactivate every fault profile."""

    def traffic(self, after: int = 0) -> list[TrafficRow]:
        """This test's traffic-log rows (after row ``after``)."""

    def fault_events(self, after: int = 0) -> list[dict[str, Any]]:
        """What the faults did during this test (after event ``after``)."""


__all__ = ["GatewayFixture"]
