"""The gateway itself, framework-free: ``Gateway.handle(GatewayRequest) -> GatewayResponse``.

The ASGI app, the ``requests`` transport adapter and the ``responses`` callbacks are all
thin shells over :meth:`Gateway.handle` (the ASGI app over its two halves,
:meth:`Gateway.start` and :meth:`Gateway.finish`, so it can commit several dossiers in
one transaction), so a vendor's unit test, the certification suite and a load test over
HTTP exercise the very same code.

Error policy: anything that is the client's fault raises :class:`~mock_gateway.intake.Rejected`
and becomes a signed ``XACNHAN_GDICH`` with a 4xx status and its stable code; a database
that cannot be reached is 503 ``SRV-001`` with ``Retry-After``, at once while it stays lost
(:mod:`mock_gateway.outage`);
anything else is our bug, is logged with its traceback and becomes 500 ``SRV-002``.

:class:`Gateway` is one object built in layers, each section in its own module on the one
below it: :mod:`~mock_gateway.gateway_parts` (what it holds, typed),
:mod:`~mock_gateway.gateway_answers` (rejections and the error policy),
:mod:`~mock_gateway.gateway_submission` (a dossier's check, receipt and commit) and
:mod:`~mock_gateway.gateway_dispatch` (a request's route, authentication and log). This
module wires the parts and holds what happens between requests: the shared clock, the
traffic export, reset, and the background threads.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.catalog import validators_for
from harness.errors import ConfigError
from harness.signing import TestPKI, ensure_pki
from harness.xmlsafe import XMLLimits
from mock_gateway import admin, answer_signer, api, views
from mock_gateway.clock import LATEST, SimulatedClock, iso
from mock_gateway.config import GatewayConfig
from mock_gateway.exchange import (
    Exchange,
    GatewayRequest,
    GatewayResponse,
    Handler,
    PendingReceipt,
)
from mock_gateway.gateway_dispatch import GatewayDispatch
from mock_gateway.intake import CatalogSet, Intake
from mock_gateway.metrics import Metrics
from mock_gateway.metrics_share import MetricsShare
from mock_gateway.outage import Outage
from mock_gateway.processor import ADVANCE_ISSUE_LIMIT, Delays, Processor
from mock_gateway.releases import load_release
from mock_gateway.routes import MAX_CLOCK_ADVANCE
from mock_gateway.store import Store
from mock_gateway.traffic import TrafficRecorder
from mock_gateway.urls import redact_url

log = logging.getLogger(__name__)


class Gateway(GatewayDispatch):
    """One gateway instance: store, catalogs, trust, clock, processor, traffic and metrics."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        store: Store | None = None,
        pki: TestPKI | None = None,
        clock: SimulatedClock | None = None,
    ) -> None:
        self.config = config or GatewayConfig()
        cfg = self.config
        self.catalogs = CatalogSet(cfg.catalog_versions)
        self.release = load_release(cfg.release)  # a simulated faulty release, or none
        self.pki = pki or ensure_pki(cfg.pki_path)
        self.signer = answer_signer.MessageSigner(self.pki.credential(cfg.signer))
        self.intake = Intake(
            self.catalogs,
            self.pki.trust_store(),
            XMLLimits(max_bytes=cfg.max_body_bytes),
            release=self.release,
        )
        self.store = store or Store(cfg.database_url, synchronous=cfg.sqlite_synchronous)
        dbapi = self.store.engine.dialect.loaded_dbapi
        self.outage = Outage(f"gateway worker {os.getpid()}", dbapi)  # logs once per outage
        self.clock = clock or SimulatedClock(cfg.clock_speed)
        self._clock_turn = threading.RLock()
        """Held from reading the stored timeline to adopting it, and through a jump: the
        processor's refresh, read before an admin jump and adopted after it, took the
        clock back 30 simulated minutes under load and reopened a maintenance window."""
        self._sync_clock()
        self.processor = Processor(
            self.store,
            self.clock,
            self.signer,
            Delays(cfg.handover_delay, cfg.result_delay),
            refresh_clock=self.refresh_clock,
            date_format=self.release.date_format,
            outage=self.outage,
        )
        self.traffic = TrafficRecorder(self.store, cfg.traffic_flush_interval, outage=self.outage)
        self.metrics = Metrics()
        self.metrics_share = (
            MetricsShare(Path(cfg.metrics_dir), self.metrics) if cfg.metrics_dir else None
        )
        self.closed = False  # a session still wired to it must not get a fake 500
        self.on_close: list[Callable[[], None]] = []  # a layer's last writes, store still open
        self._tokens = [(token, ivan) for ivan, token in cfg.ivan_tokens.items()]
        self._catalog_xml = views.catalog(self.catalogs.catalogs)
        self._handlers: dict[str, Handler] = {}
        self._handlers.update(api.handlers(self))
        self._handlers.update(admin.handlers(self))

    # -- lifecycle ------------------------------------------------------------------------

    def _sync_clock(self) -> None:
        """Join the timeline stored in the database (other workers share it)."""
        state = self.store.load_clock(self.clock.state)
        if state.speed != self.config.clock_speed:
            self.clock.adopt(state)
            state = self.clock.rebase(self.config.clock_speed)
            self.store.save_clock(state)
        self.clock.adopt(state)
        if self.clock.stopped:  # it reached the limit, or an older version passed it
            log.warning(
                "the simulated clock in %s stands still at its limit %s; "
                "POST /admin/reset restarts it at real now (and forgets every dossier)",
                redact_url(self.store.url),
                iso(LATEST),
            )

    def refresh_clock(self) -> None:
        """Follow the shared timeline as stored (another worker may have moved it)."""
        with self._clock_turn:
            self.clock.adopt(self.store.load_clock(self.clock.state))

    def advance_clock(self, seconds: float, *, limit: int = ADVANCE_ISSUE_LIMIT) -> int:
        """Fast-forward the shared simulated clock and issue what fell due; returns how many.

        Goes through the store so every worker (and the processor thread, which re-reads
        the timeline on each tick) sees the same jump.
        """
        self.jump_clock(seconds)
        return self.processor.run_due(limit=limit)

    def jump_clock(self, seconds: float) -> datetime:
        """Move the shared timeline ``seconds`` ahead; returns the moment this jump reached
        (another worker's jump made at the same time is not counted in it twice)."""
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_CLOCK_ADVANCE:
            raise ConfigError(  # the admin route answers REQ-002 before this; callers in code
                f"cannot advance the simulated clock by {seconds} s",
                hint=f"give 0 to {MAX_CLOCK_ADVANCE:.0f} seconds; it never moves back",
            )
        with self._clock_turn:
            self.refresh_clock()  # another worker may have advanced it meanwhile
            self.clock.check_advance(seconds)  # ClockLimitError past mock_gateway.clock.LATEST
            state = self.store.advance_clock(seconds)
            self.clock.adopt(state)
        return self.clock.now_on(state)

    def traffic_log(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Traffic rows after id ``after``, oldest first, including rows not yet written."""
        return list(self.traffic_rows(after, sys.maxsize if limit is None else limit))

    def traffic_rows(self, after: int, limit: int, chunk: int = 500) -> Iterator[dict[str, Any]]:
        """:meth:`traffic_log` read ``chunk`` rows at a time, so a caller that stops early
        (an export with a byte budget) never holds more than one chunk of bodies."""
        self.traffic.flush()
        while limit > 0:
            rows = self.store.traffic(after, min(chunk, limit))
            yield from rows
            if len(rows) < min(chunk, limit):
                return
            limit -= len(rows)
            after = int(rows[-1]["id"])

    def reset(self) -> None:
        """Forget every dossier, message and traffic row; the clock restarts at real now."""
        self.traffic.flush()
        self.store.reset()
        fresh = SimulatedClock(self.config.clock_speed).state
        with self._clock_turn:
            self.store.save_clock(fresh)
            self.clock.adopt(fresh)

    def warm_up(self) -> None:
        """Compile every validator in the calling thread (lxml schemas are per thread)."""
        probe = etree.Element("warm-up")
        for catalog in self.catalogs.catalogs:
            validators = validators_for(catalog)
            for validator in (validators.envelope, *validators.forms.values()):
                validator.validate(probe)

    def start_background(self) -> None:
        """Start the lifecycle processor and the traffic writer threads (servers do this)."""
        self.traffic.start()
        self.processor.start(self.config.processor_interval)
        self.outage.watched = True  # its ticks see the database back: requests never probe
        if self.metrics_share is not None:
            self.metrics_share.start()

    def close(self) -> None:
        """Stop threads, write pending traffic (and a layer's, ``on_close``), release the
        database."""
        for last_write in self.on_close:
            last_write()
        self.closed = True
        self.processor.stop()
        self.outage.watched = False
        self.traffic.stop()
        if self.metrics_share is not None:
            self.metrics_share.stop()
        self.store.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = [  # the request types are re-exported: code written against core keeps working
    "Exchange",
    "Gateway",
    "GatewayRequest",
    "GatewayResponse",
    "Handler",
    "PendingReceipt",
]
