"""What the ``gateway`` fixture hands one test: the session's gateway, seen from its start.

The gateway lives for the session, but a test must not see what came before it: the
fixture resets it, clears the fault plan, then remembers where the traffic log and the
fault event log stood, so ``traffic()`` and ``fault_events()`` show only this test's rows
(not the previous test's events, nor the fixture's own ``/admin`` calls and probes): the
rows the same test sees on ``inproc_gateway``, whose admin calls are not HTTP at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.certification.gateway import (
    ADMIN_PREFIX,
    PROBE_PREFIX,
    CertGateway,
    FaultsUnavailable,
)
from harness.certification.records import DossierStatus, TrafficRow, parse_time
from harness.errors import ConfigError


class GatewayView:
    """One test's view of the session's :class:`CertGateway` (same method names)."""

    def __init__(self, base: CertGateway, tokens: Mapping[str, str]) -> None:
        self.base = base
        self._tokens = {**tokens, base.ivan: base.token}
        self._seen_events = 0  # highest fault event seq any test has seen
        self._traffic_start = 0
        self._events_start = 0
        self.has_faults = True

    # -- per test -------------------------------------------------------------------------

    def begin(self) -> GatewayView:
        """Reset the gateway, clear its faults, and start this test's logs from here."""
        self.base.reset()
        try:
            self.base.clear_faults()
            self._seen_events = max([self._seen_events, *self._event_seqs()])
        except FaultsUnavailable:
            self.has_faults = False
        self._mark_traffic()
        self._events_start = self._seen_events
        return self

    def _mark_traffic(self) -> None:
        lines = self.base.traffic_lines()  # a few rows: the gateway was just reset
        self._traffic_start = int(json.loads(lines[-1])["id"]) if lines else 0

    def end(self) -> None:
        """Leave no fault plan behind for whatever uses the gateway next."""
        if self.has_faults:
            self.base.clear_faults()
            self._seen_events = max([self._seen_events, *self._event_seqs()])

    def _event_seqs(self) -> list[int]:
        return [int(e["seq"]) for e in self.base.fault_events(self._seen_events)]

    # -- the CertGateway API, limited to this test ----------------------------------------

    @property
    def url(self) -> str:
        return self.base.url

    @property
    def ivan(self) -> str:
        return self.base.ivan

    @property
    def token(self) -> str:
        return self.base.token

    @property
    def local(self) -> bool:
        return self.base.local

    def token_for(self, ivan: str) -> str:
        """The bearer token of another I-VAN of this gateway (``"admin"``: refused)."""
        try:
            return self._tokens[ivan]
        except KeyError:
            raise ConfigError(
                f"no token known for I-VAN {ivan!r} at {self.url}",
                hint=f"known: {', '.join(sorted(self._tokens))}; a gateway served with "
                "other tokens needs --bhxh-ivan/--bhxh-ivan-token for the one the tests use",
            ) from None

    def now(self) -> datetime:
        """The simulated now, read with this fixture's tag so ``traffic()`` leaves it out
        (``inproc_gateway.now()`` is no request at all)."""
        own = {"X-Message-Id": f"{ADMIN_PREFIX}{self.base.tag}-now"}
        answer = self.base._call("GET", "/healthz", headers=own)  # CertGateway.now, tagged
        return parse_time(answer.json()["simulated_time"])

    def advance(self, seconds: float) -> datetime:
        return self.base.advance(seconds)

    def set_faults(self, profiles: list[dict[str, Any]], seed: int = 0) -> None:
        self.base.set_faults(profiles, seed)

    def clear_faults(self) -> None:
        self.base.clear_faults()

    def traffic(self, after: int = 0) -> list[TrafficRow]:
        """This test's traffic rows (after row ``after`` if that is later), without the
        fixture's own calls: its admin writes (``set_faults``, ``advance``...), admin reads
        and ``probe`` reads, none of which ``inproc_gateway`` logs either."""
        rows = self.base.traffic(max(after, self._traffic_start))
        return [r for r in rows if not self._own(r)]

    def _own(self, row: TrafficRow) -> bool:
        """A row this fixture's handle caused: tagged writes and reads, admin GETs, probes."""
        if row.message_id.startswith(f"{ADMIN_PREFIX}{self.base.tag}-"):
            return True
        if row.ivan == "admin" and row.method == "GET":
            return True
        return row.ivan == self.base.ivan and row.message_id.startswith(PROBE_PREFIX)

    def fault_events(self, after: int = 0) -> list[dict[str, Any]]:
        """What faults did during this test (after event ``after`` if that is later)."""
        return self.base.fault_events(max(after, self._events_start))

    def probe(self, ma_gdich: str) -> DossierStatus | None:
        return self.base.probe(ma_gdich)

    def reset(self) -> None:
        """Reset again mid-test; ``traffic()`` then starts after the reset."""
        self.base.reset()
        self._mark_traffic()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


__all__ = ["GatewayView"]
