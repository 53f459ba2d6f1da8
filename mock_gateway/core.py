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
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.catalog import validators_for
from harness.error_codes import finding
from harness.errors import CatalogError, ConfigError
from harness.signing import TestPKI, ensure_pki
from harness.xmlsafe import XMLLimits
from mock_gateway import admin, answer_signer, api, messages, params, views
from mock_gateway.clock import LATEST, SimulatedClock, iso
from mock_gateway.commit import StoreInterrupted
from mock_gateway.config import GatewayConfig
from mock_gateway.exchange import (
    XML,
    Exchange,
    GatewayRequest,
    GatewayResponse,
    Handler,
    PendingReceipt,
)
from mock_gateway.headers import submission_message_id
from mock_gateway.intake import Accepted, CatalogSet, Intake, Rejected, reject
from mock_gateway.metrics import Metrics
from mock_gateway.metrics_share import MetricsShare
from mock_gateway.outage import RETRY_AFTER, Outage
from mock_gateway.processor import ADVANCE_ISSUE_LIMIT, Delays, Processor
from mock_gateway.releases import load_release
from mock_gateway.routes import MAX_CLOCK_ADVANCE, Auth, Route, allowed, resolve
from mock_gateway.store import NewDossier, Store, StoredReceipt
from mock_gateway.traffic import TrafficRecorder
from mock_gateway.urls import redact_url

log = logging.getLogger(__name__)

SELF_REFERENTIAL = frozenset(
    {"admin_traffic", "dashboard", "dashboard_runs", "dashboard_run_file", "metrics", "openapi"}
)
"""Routes whose answers are logged without their body: views of the store or of files on
disk, and documents any request makes again (a Prometheus scrape every 15 s stored ~10 KB
each time; 300 reads of /openapi.json added 15 MB). They hold no I-VAN's data."""
_STORELESS = frozenset({"get_catalog", "healthz", "metrics", "openapi"})
"""Routes answered without the database: still served while it is lost."""


class Gateway:
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

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, request: GatewayRequest) -> GatewayResponse:
        """Answer one request; never raises."""
        return self.finish(self.start(request))

    def start(self, request: GatewayRequest) -> Exchange:
        """Route, authenticate and run the handler; never raises.

        An accepted dossier comes back *pending*: its receipt is signed but nothing is
        stored yet. :meth:`finish` commits it; a front end serving many requests at once
        (the ASGI app) may first :meth:`commit` several exchanges in one transaction.
        """
        started, t0 = request.arrival()
        exchange = Exchange(request, started=started, t0=t0)
        route, path_params, path_known = resolve(request.method, request.path)
        exchange.route = route
        try:
            if route is None:
                raise self._no_route(request, path_known)
            exchange.ivan = self.authenticate(route.auth, request)
            params.refuse_unknown(request, route.accepted_query)
            if request.stalled:
                raise self._stalled(request)
            if self.outage.down and self._unreachable(route):
                raise reject("SRV-001", "/", detail="database unreachable")
            answer = self._handlers[route.name](request, path_params, exchange.ivan)
        except Rejected as exc:
            answer = self.error_response(exc)
        except Exception as exc:
            answer = self.failure(exc, f"answering {request.method} {request.path}")
        if isinstance(answer, PendingReceipt):
            exchange.pending = answer
        else:
            exchange.response = answer
        return exchange

    def commit(self, *exchanges: Exchange) -> None:
        """Store the pending dossiers of ``exchanges`` durably, together, and set their
        answers; never raises (a lost database answers 503 SRV-001, any other store
        failure 500 SRV-002: see :meth:`failure`)."""
        waiting = [(e, e.pending) for e in exchanges if e.pending is not None]
        if not waiting:
            return
        if self.outage.down:  # lost since they were checked: nothing stored, nothing acked
            lost = reject("SRV-001", "/", detail="database unreachable")
            for exchange, _ in waiting:
                exchange.response, exchange.pending = self.error_response(lost), None
            return
        if self.release.lose_forms:  # release hook: acknowledged, never stored
            waiting = self._answer_lost(waiting)
            if not waiting:
                return
        items = [(p.dossier, p.receipt, p.receipt_id) for _, p in waiting]
        try:
            outcomes = self.store.save_many(items)
        except Exception as exc:  # the store itself failed: every one of them is our fault
            outcomes = [exc] * len(waiting)
        for (exchange, pending), outcome in zip(waiting, outcomes, strict=True):
            new = pending.dossier
            try:
                if isinstance(outcome, Exception):
                    raise outcome
                replay = outcome.ma_gdich != new.ma_gdich
                answer = self._bound(outcome, new.body_sha256, replay=replay)
            except Rejected as exc:
                answer = self.error_response(exc)
            except Exception as exc:
                answer = self.failure(exc, f"storing dossier {new.ma_gdich}")
            exchange.response, exchange.pending = answer, None

    def _answer_lost(
        self, waiting: list[tuple[Exchange, PendingReceipt]]
    ) -> list[tuple[Exchange, PendingReceipt]]:
        """Answer the dossiers a faulty release loses with their receipts, as if stored;
        the rest, to store."""
        for exchange, pending in waiting:
            if pending.lost:
                receipt = self._receipt(pending.dossier.ma_gdich, pending.receipt)
                exchange.response, exchange.pending = receipt, None
        return [(exchange, pending) for exchange, pending in waiting if not pending.lost]

    def finish(self, exchange: Exchange) -> GatewayResponse:
        """The answer to send (committing first if still pending), logged and measured."""
        self.commit(exchange)
        response = exchange.response
        if response is None:  # start() always sets one of response and pending
            raise RuntimeError("an exchange finished without an answer")
        if not exchange.logged:
            duration = time.perf_counter() - exchange.t0
            self._observe(
                exchange.request,
                exchange.route,
                exchange.ivan,
                response,
                exchange.started,
                duration,
            )
        if exchange.request.method == "HEAD":
            response = GatewayResponse(response.status, response.headers, b"", response.outcome)
        return response

    def _unreachable(self, route: Route) -> bool:
        """Whether ``route`` must be answered 503 while the database is lost: it needs the
        database, and no probe (one request at a time, see :meth:`Outage.probe`) found it back."""
        return route.name not in _STORELESS and not self.outage.probe(self.store.ping)

    def _stalled(self, request: GatewayRequest) -> Rejected:
        seconds = f"{self.config.client_timeout:g}"
        detail = f"the body paused for more than {seconds} s, or arrived slower than 240 B/s"
        return reject("REQ-005", "/", received=str(len(request.body)), detail=detail)

    def _no_route(self, request: GatewayRequest, path_known: bool) -> Rejected:
        if path_known:
            allow = allowed(request.path)
            return Rejected(
                [finding("REQ-002", request.path, method=request.method, allow=allow)],
                status=405,
            )
        return reject("NF-001", request.path)

    def authenticate(self, auth: Auth, request: GatewayRequest) -> str | None:
        """The I-VAN code for I-VAN access, ``"admin"`` for admin access, None for public.

        Raises :class:`Rejected` with AUTH-001 (no bearer token), AUTH-002 (unknown token),
        AUTH-003 (an I-VAN token where the admin's is needed), AUTH-004 (the admin token
        where an I-VAN's is needed) or REQ-002 (``Authorization`` sent twice: a bearer
        token has no comma, so one is the mark of two headers joined).
        """
        if auth is Auth.PUBLIC:
            return None
        header = request.header("authorization") or ""
        if "," in header:
            raise reject("REQ-002", "/", header="Authorization", detail="given more than once")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise reject("AUTH-001", "/", header="Authorization")
        is_admin = hmac.compare_digest(token.encode(), self.config.admin_token.encode())
        ivan = next(
            (i for t, i in self._tokens if hmac.compare_digest(token.encode(), t.encode())), None
        )
        if auth is Auth.ADMIN:
            if is_admin:
                return "admin"
            raise reject("AUTH-003" if ivan is not None else "AUTH-002", "/")
        if ivan is None:
            raise reject("AUTH-004" if is_admin else "AUTH-002", "/")
        return ivan

    def refuses_before_body(self, head: GatewayRequest) -> bool:
        """Whether ``head`` (a request without its body) is refused whatever the body:
        its route does not exist, or its credential is missing or wrong."""
        route, _, _ = resolve(head.method, head.path)
        if route is None:
            return True
        try:
            self.authenticate(route.auth, head)
        except Rejected:
            return True
        return False

    def record_refusal(
        self, request: GatewayRequest, response: GatewayResponse, started: float
    ) -> None:
        """Log a request the HTTP front end refused before it became one (an oversized or
        unreadable head, :mod:`mock_gateway.http_head`), as evidence like any other."""
        self._observe(request, None, None, response, started, max(0.0, time.time() - started))

    def _observe(
        self,
        request: GatewayRequest,
        route: Route | None,
        ivan: str | None,
        response: GatewayResponse,
        started: float,
        duration: float,
    ) -> None:
        name = route.name if route is not None else "unmatched"
        try:
            self.metrics.observe(name, request.method, response.status, duration, response.outcome)
            # an export of the log must not be logged with its body: each export would
            # contain the previous one and the table would grow geometrically
            answer = b"" if name in SELF_REFERENTIAL else None
            row = request.traffic_record(
                response, ivan=ivan, started=started, duration=duration, answer=answer
            )
            self.traffic.record(row)
        except Exception as exc:  # evidence is precious, but never worth failing an answer for
            if not self.outage.caught(exc):
                log.exception("could not record traffic for %s %s", request.method, request.path)

    # -- answers --------------------------------------------------------------------------

    def error_response(self, exc: Rejected) -> GatewayResponse:
        """A signed XACNHAN_GDICH rejection for ``exc``."""
        now = self.clock.now()
        answer = messages.rejection(exc.findings, now, exc.unit, exc.declared)
        body = self.signer.sign_answer(answer)
        headers = {"Content-Type": XML, "X-BHXH-Ma-Loi": exc.code}
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="bhxh"'
        if exc.status == 405:
            allow = next((f.context.get("allow") for f in exc.findings if "allow" in f.context), "")
            headers["Allow"] = allow or ""
        if exc.status == 503:
            headers["Retry-After"] = str(RETRY_AFTER)
        return GatewayResponse(exc.status, headers, body, exc.code)

    def failure(self, exc: Exception, doing: str) -> GatewayResponse:
        """The answer to an unexpected ``exc``: 503 SRV-001 when the database is lost (a
        retry later may succeed; warned once per outage) or the gateway is stopping (a
        request still in flight when it closes its store), else 500 SRV-002, logged in full."""
        if self.outage.caught(exc):
            return self.error_response(reject("SRV-001", "/", detail="database unreachable"))
        if isinstance(exc, StoreInterrupted) or self.closed:  # stopping: retry later
            log.info("%s while the gateway stops: %s", doing, exc)
            return self.error_response(reject("SRV-001", "/", detail="the gateway is stopping"))
        if isinstance(exc, CatalogError):  # the served data, not the code: say what to fix
            log.error("internal error %s: the served catalog is at fault: %s", doing, exc)
        else:
            log.exception("internal error %s", doing)
        return self.internal_error()

    def internal_error(self) -> GatewayResponse:
        """500 SRV-002, signed if signing still works, plain XML of the same shape if not."""
        try:
            return self.error_response(reject("SRV-002"))
        except Exception:
            log.exception("could not even sign the SRV-002 answer")
            now = iso(datetime.now(UTC))
            body = (
                "<?xml version='1.0' encoding='UTF-8'?>\n<!--" + messages.TEST_NOTICE + "-->\n"
                "<BHXH><XACNHAN_GDICH><MOI_TRUONG>THU_NGHIEM</MOI_TRUONG><LOAI_TBAO>TU_CHOI"
                "</LOAI_TBAO><TTGDICH><NGAY_GDICH>" + now + "</NGAY_GDICH><MA_KQUA>1</MA_KQUA>"
                "<MA_LOI>SRV-002</MA_LOI><MOTA_LOI>Lỗi hệ thống</MOTA_LOI></TTGDICH>"
                "</XACNHAN_GDICH></BHXH>"
            ).encode()
            return GatewayResponse(
                500, {"Content-Type": XML, "X-BHXH-Ma-Loi": "SRV-002"}, body, "SRV-002"
            )

    @staticmethod
    def xml(body: bytes, status: int = 200, **headers: str) -> GatewayResponse:
        return GatewayResponse(status, {"Content-Type": XML, **headers}, body)

    @property
    def catalog_xml(self) -> bytes:
        return self._catalog_xml

    # -- intake ---------------------------------------------------------------------------

    def submit(self, request: GatewayRequest, ivan: str) -> GatewayResponse | PendingReceipt:
        """POST /api/v1/dossiers: limits, validation, receipt; an accepted dossier comes
        back pending its durable store, where a replay finds its message id's binding
        (:meth:`commit`); a refused one is answered from that binding if there is one."""
        message_id = submission_message_id(request, self.config.max_body_bytes)
        digest = hashlib.sha256(request.body).hexdigest()
        now = self.clock.now()
        try:
            accepted = self.intake.check(request.body, ivan, now)
        except Rejected:
            # A message id already bound answers with its binding even when the body would
            # no longer pass (a rule or a certificate changed since). An accepted one learns
            # of its binding in the commit: looking first cost every new dossier a read.
            existing = self.store.idempotent(ivan, message_id)
            if existing is None:
                raise
            return self._bound(existing, digest, replay=True)
        return self._pending(accepted, request.body, digest, ivan, message_id, now)

    def _pending(
        self,
        accepted: Accepted,
        body: bytes,
        digest: str,
        ivan: str,
        message_id: str,
        now: datetime,
    ) -> PendingReceipt:
        """An accepted dossier with its transaction code and signed receipt, to store."""
        day = now.astimezone(messages.VN_TIME)  # the code starts with BHXH's day
        ma_gdich = f"{day.year:04d}{day.month:02d}{day.day:02d}{secrets.token_hex(8).upper()}"
        summary = accepted.summary()
        tx = messages.Transaction.from_summary(ma_gdich, now, summary, None)
        unit = messages.UnitInfo.from_summary(summary)
        receipt = self.signer.sign_answer(messages.receipt(unit, tx, accepted.warnings, now))
        received_at = iso(now)
        dossier = NewDossier(
            ma_gdich=ma_gdich,
            ivan=ivan,
            message_id=message_id,
            body_sha256=digest,
            body=body,
            procedure=accepted.procedure.code,
            period=accepted.info.ky_ke_khai,
            unit=accepted.info.unit.ma_don_vi,
            received_at=received_at,
            catalog_version=accepted.catalog.version,
            next_due_at=self.processor.first_due(received_at),
            summary=summary,
        )
        lost = bool(self.release.lose_forms) and self.release.loses(
            [form.version.form for form in accepted.forms]
        )  # release hook: acknowledged, never stored
        return PendingReceipt(dossier, receipt, uuid.uuid4().hex, lost)

    def _bound(self, stored: StoredReceipt, digest: str, *, replay: bool) -> GatewayResponse:
        """The stored receipt for a matching body, 409 DUP-001 for another body."""
        if replay and self.release.idempotency_broken:  # release hook: retries look new
            raise reject("DUP-001", "/", header="X-Message-Id")
        if not hmac.compare_digest(stored.body_sha256, digest):
            raise reject("DUP-001", "/", header="X-Message-Id")
        return self._receipt(stored.ma_gdich, stored.receipt, replay=replay)

    def _receipt(self, ma_gdich: str, receipt: bytes, *, replay: bool = False) -> GatewayResponse:
        """202 with the signed receipt of dossier ``ma_gdich`` (``replay``: sent before)."""
        return self.xml(
            receipt,
            202,
            Location=f"/api/v1/dossiers/{ma_gdich}",
            **{"X-Ma-Gdich": ma_gdich, "X-Idempotent-Replay": "true" if replay else "false"},
        )


__all__ = [  # the request types are re-exported: code written against core keeps working
    "Exchange",
    "Gateway",
    "GatewayRequest",
    "GatewayResponse",
    "Handler",
    "PendingReceipt",
]
