"""The gateway with fault profiles: a core wrapper, its admin endpoint, and the transports.

:class:`FaultyGateway` stands wherever a :class:`~mock_gateway.core.Gateway` does (it
delegates all but ``handle``), applies the hooks of :mod:`mock_gateway.faults` around the
core and serves ``/admin/faults`` itself, so route table and core stay untouched. Effects
come back as the :data:`~mock_gateway.faults.FAULT_HEADER` marker: :class:`FaultMiddleware`
(ASGI) sleeps without holding a worker thread and resets the TCP connection for real;
:class:`~mock_gateway.transport.FaultAdapter` (``requests``) does the same in-process.
``GET /admin/traffic`` is served without logging the export itself (the core logs its
answer, so each export would embed the previous one: the log grew geometrically).
``app_factory`` builds the app per uvicorn worker from ``$BHXH_GATEWAY_CONFIG`` and
``$BHXH_GATEWAY_FAULTS`` (a spec line).

For a request the core answered, the traffic log keeps the core's status and body: what
it decided and committed, which the certification suite counts stored dossiers by. What
a fault made of it (held, reset, replaced by a 500) is marked in the row and counted in
``/metrics`` (:mod:`mock_gateway.fault_evidence`); the fault event log says which fault
did it. Plans live in :mod:`mock_gateway.fault_plan` and are shared by workers through
the store.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any, cast

from harness.errors import ConfigError
from mock_gateway import fault_admin, fault_plan
from mock_gateway import fault_evidence as evidence
from mock_gateway.app import create_app
from mock_gateway.clock import iso
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.exchange import Exchange, GatewayRequest, GatewayResponse
from mock_gateway.fault_asgi import FaultMiddleware
from mock_gateway.fault_budget import SharedBudget
from mock_gateway.fault_journal import FaultJournal
from mock_gateway.fault_log import FaultLog
from mock_gateway.fault_plan import (
    PLAN_SETTING,
    FaultSpec,
    parse_spec,
    plan_json,
    publish_plan,
    published_plan,
    settle_start,
    specs_from_json,
)
from mock_gateway.fault_profiles import FaultProfile, build_plan, load_profiles
from mock_gateway.fault_request import ADMIN_PATH
from mock_gateway.faults import Fault, marker_effects
from mock_gateway.intake import Rejected
from mock_gateway.routes import Layer, resolve
from mock_gateway.transport import FaultAdapter

log = logging.getLogger("mock_gateway.faults")

"""The query parameters of ``GET /admin/traffic``, which this layer answers itself."""
ENV_FAULTS = "BHXH_GATEWAY_FAULTS"
ENV_FAULTS_SEED = "BHXH_GATEWAY_FAULTS_SEED"


class FaultyGateway:
    """A gateway with an active fault plan; ``handle()`` never raises, like the core's.

    The plan is shared through the store: ``PUT /admin/faults`` lands on one worker,
    which publishes it with the simulated moment it was set, and every other worker adopts
    it before the first request it answers :data:`fault_plan.PLAN_POLL_SECONDS` or more
    after its last look (and before answering ``GET /admin/faults``, so that never shows
    a plan already replaced), counting a maintenance window from that same moment. A
    hook's ``skip`` and ``times`` are spent once for all workers, its hits, a burst's
    window and the fault event log are theirs too (all in the store; hits and events
    written in batches, :mod:`mock_gateway.fault_journal`). The admin routes are the
    :data:`~mock_gateway.routes.Layer.FAULTS` entries of the route table, so the OpenAPI
    document and the 405s' ``Allow`` come from it.
    """

    def __init__(
        self,
        gateway: Gateway,
        specs: list[FaultSpec] | None = None,
        *,
        seed: int = 0,
        profiles: dict[str, FaultProfile] | None = None,
        follow: bool = False,
    ) -> None:
        """``specs`` is the start plan, shared with every worker (:meth:`start_plan`);
        ``follow`` (a worker of ``serve``) adopts the published plan instead, if any."""
        self.gateway = gateway
        self.profiles = profiles if profiles is not None else load_profiles()
        self.seed = seed
        self.specs: list[FaultSpec] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._log = FaultLog()
        self._journal = FaultJournal(gateway.store, self._lost, lambda: gateway.closed)
        gateway.on_close.append(self._journal.flush)  # a stopped worker's last batch
        self._ivans = {token: ivan for ivan, token in gateway.config.ivan_tokens.items()}
        self._plan_version = 0
        published = gateway.store.setting(PLAN_SETTING)
        if follow and published is not None:
            self._adopt(*published)
        elif specs:
            self.start_plan(specs, seed, published)
        else:
            self._plan_version = published[0] if published is not None else 0
        self._next_poll = time.monotonic() + fault_plan.PLAN_POLL_SECONDS

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)

    def set_plan(
        self,
        specs: list[FaultSpec],
        seed: int | None = None,
        *,
        at: float | None = None,
        version: int | None = None,
    ) -> None:
        """Replace the active faults; a bad plan raises ConfigError and leaves the old one.

        ``at`` is the simulated moment the plan was set (default: now); ``version`` that of
        the published plan, whose budgets every worker then shares (None: this one's own).
        """
        seed = self.seed if seed is None else seed
        at = self.gateway.clock.timestamp() if at is None else at
        self._install(specs, seed, self._build(specs, seed, at), version)

    def _build(self, specs: list[FaultSpec], seed: int, at: float) -> list[Fault]:
        return build_plan(specs, self.profiles, seed, at, self.gateway.pki)

    def _install(
        self, specs: list[FaultSpec], seed: int, built: list[Fault], version: int | None
    ) -> None:
        """Make ``built`` the active faults; with a ``version``, their counts and the
        event log are every worker's."""
        if version is not None:
            store, journal = self.gateway.store, self._journal
            for hook, fault in enumerate(built):
                where = (store, version, hook)
                fault.share(SharedBudget(fault.skip, fault.times, where, self._lost, journal))
            self._log.share(journal)
        with self._lock:
            for fault in reversed(self._faults):
                fault.deactivate(self)
            self.specs, self.seed, self._faults = list(specs), seed, built
            for fault in built:
                fault.activate(self)
            if version is not None:
                self._plan_version = version

    def _lost(self, exc: Exception) -> None:
        """A fault count or event the store could not keep: warned about once, like the core."""
        if not self.gateway.outage.caught(exc):
            log.error("could not count a fault or log its event in the store: %s", exc)

    def clear(self) -> None:
        self.set_plan([])

    def publish(self, specs: list[FaultSpec], seed: int | None = None) -> None:
        """Set the plan here and publish it, with the moment it was set, to every worker
        sharing the store: they count a maintenance window and the budgets alike."""
        seed = self.seed if seed is None else seed
        at = self.gateway.clock.timestamp()
        built = self._build(specs, seed, at)  # a bad plan is refused before it is published
        version = publish_plan(self.gateway.store, specs, seed, at)
        self._install(specs, seed, built, version)

    def start_plan(
        self, specs: list[FaultSpec], seed: int, published: tuple[int, str] | None
    ) -> None:
        """Run ``specs`` from the start: the published plan if it is this one (``serve``
        publishes it before its workers start), counted from the moment the first worker
        settled; else this plan, published for the others."""
        if published is not None:
            try:
                same = published_plan(published[1])[:2] == (specs, seed)
            except (ConfigError, ValueError, TypeError):
                same = False
            if same:
                self._adopt(*published)
                if self._plan_version == published[0]:
                    return
        self.publish(specs, seed)

    def follow_published(self) -> None:
        """Adopt a plan another worker published since this one last looked.

        Never raises: a store that cannot be read is tried again at the next poll; a plan
        this worker cannot build (a profile it does not know) is reported once and skipped.
        """
        try:
            published = self.gateway.store.setting(PLAN_SETTING)
        except Exception as exc:  # a lost database is warned about once, not every poll
            if not self.gateway.outage.caught(exc):
                log.exception("could not read the published fault plan; will try again")
            return
        if published is None or published[0] == self._plan_version:
            return
        self._adopt(*published)

    def _adopt(self, version: int, text: str) -> None:
        """Run published plan ``version`` from the moment it was set, settling that moment
        if no worker did yet; a plan this worker cannot build is reported and skipped."""
        try:
            specs, seed, at = published_plan(text)
            if at is None and specs:  # an empty plan has no moment to agree on
                at = settle_start(self.gateway.store, version, text, self.sim_now())
                if at is None:  # replaced while we settled it: the next poll adopts that
                    return
            self.set_plan(specs, seed, at=at, version=version)
        except (ConfigError, ValueError, TypeError) as exc:
            log.error("published fault plan %d not adopted: %s", version, exc)
        self._plan_version = version

    def sim_now(self) -> float:
        return self.gateway.clock.timestamp()

    def event(self, fault: Fault, request: GatewayRequest, action: str) -> None:
        """Log what a fault did: kept for ``/admin/faults/log`` and sent to ``logging``."""
        entry = {
            "at": iso(datetime.now(UTC)),
            "sim": iso(self.gateway.clock.now()),
            "profile": fault.profile,
            "kind": fault.kind,
            "ivan": self.ivan_of(request) or "",
            "method": request.method,
            "path": request.path,
            "message_id": request.header("x-message-id") or "",
            "action": action,
        }
        self._log.append(entry)
        log.info("fault %(profile)s/%(kind)s %(method)s %(path)s: %(action)s", entry)

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        """The fault events after seq ``after``: every worker's when the plan is shared."""
        return self._log.after(after)

    def ivan_of(self, request: GatewayRequest) -> str | None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        return self._ivans.get(token.strip()) if scheme.lower() == "bearer" else None

    def handle(self, request: GatewayRequest) -> GatewayResponse:
        """Answer as the gateway would, with the active faults applied."""
        return self.gateway.finish(self.start(request))

    def start(self, request: GatewayRequest) -> Exchange:
        """The core's :meth:`~Gateway.start` when no fault is set (its commit may then be
        shared with other requests); with faults, or for the fault admin, the whole answer."""
        started, t0 = request.arrival()
        if request.path == fault_admin.TRAFFIC_PATH and request.method == "GET":
            # an export that logged itself would grow without end: measured, not logged
            answer = self._admin(request)
            seconds = time.perf_counter() - t0
            evidence.measure(self.gateway, "admin_traffic", request, answer, seconds)
            return Exchange.answered(request, answer)
        if request.path == ADMIN_PATH or request.path.startswith(ADMIN_PATH + "/"):
            answer = self._admin(request)
            route, _, _ = resolve(request.method, request.path, Layer.FAULTS)
            name = route.name if route is not None else "unmatched"
            self._record(request, name, answer, answer, started, t0)
            return Exchange.answered(request, answer)
        if time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + fault_plan.PLAN_POLL_SECONDS
            self.follow_published()
        if not self._faults:  # no plan: the core's answer as it is, without the lock
            return self.gateway.start(request)
        with self._lock:
            faults = [f for f in self._faults if f.matches(request)]
            gated = next(filter(None, (f.gate(request, self) for f in faults)), None)
        if gated is None:
            exchange = self.gateway.start(request)
            self.gateway.commit(exchange)  # a fault acts on the answer the client would get
        else:  # the core never saw it
            route = resolve(request.method, request.path)[0]
            exchange = Exchange(request, route, started=started, t0=t0, response=gated)
        return self._faulted(exchange, faults, by_core=gated is None)

    def _faulted(self, exchange: Exchange, faults: list[Fault], *, by_core: bool) -> Exchange:
        """The answer (the core's, or a gate's) after the faults' after-hooks, logged with
        what they made of it; a core answer no fault touched is left to the core to log."""
        request, answer = exchange.request, exchange.response
        if answer is None:  # commit() always sets one
            raise RuntimeError("an exchange finished without an answer")
        with self._lock:
            sent = answer
            for fault in faults:
                sent = fault.after(request, sent, self)
        if by_core and sent is answer:  # the core's finish() logs and measures it
            return exchange
        name = exchange.route.name if exchange.route is not None else "unmatched"
        self._record(request, name, answer, sent, exchange.started, exchange.t0)
        return Exchange.answered(request, sent)

    def _record(
        self,
        request: GatewayRequest,
        route: str,
        answer: GatewayResponse,
        sent: GatewayResponse,
        started: float,
        t0: float,
    ) -> None:
        """:func:`fault_evidence.record` with this request's I-VAN (the admin's on /admin)."""
        ivan = "admin" if request.path.startswith("/admin/") else self.ivan_of(request)
        evidence.record(self.gateway, request, route, answer, sent, ivan, started, t0)

    def refuses_before_body(self, head: GatewayRequest) -> bool:
        """As the core's, for the fault admin's routes too: a ``PUT /admin/faults`` with
        ``Expect: 100-continue`` (curl sends it for a body over 1 KiB) must get its body
        read, not be answered at once as if it had no route."""
        route, _, known = resolve(head.method, head.path, Layer.FAULTS)
        if route is None and not known:
            return bool(self.gateway.refuses_before_body(head))
        try:
            if route is None:
                return True
            self.gateway.authenticate(route.auth, head)
        except Rejected:
            return True
        return False

    def _admin(self, request: GatewayRequest) -> GatewayResponse:
        try:
            answer = fault_admin.answer(self, request)
        except Rejected as exc:
            return self.gateway.error_response(exc)
        except Exception as exc:  # 503 SRV-001 for a lost database, else 500 SRV-002
            return self.gateway.failure(exc, f"answering {request.method} {request.path}")
        return answer

    def state(self) -> dict[str, Any]:
        """The active plan, hits per hook, the event count and every known profile."""
        items = self.profiles.items()
        with self._lock:
            faults = list(self._faults)
            state = {"seed": self.seed, "active": [s.to_dict() for s in self.specs]}
        # shared counts are read from the store (this worker's written first), outside the
        # lock requests take
        self._journal.flush()
        events = self._log.count()
        hits = [{"profile": f.profile, "kind": f.kind, "hits": f.reported_hits()} for f in faults]
        state |= {"hits": hits, "events": events}
        known = {n: {"description": p.description, "params": p.params} for n, p in items}
        return state | {"profiles": known}


def create_faulty_app(gateway: FaultyGateway, **options: Any) -> FaultMiddleware:
    """``create_app`` over the faulty gateway, inside :class:`FaultMiddleware`."""
    return FaultMiddleware(create_app(cast(Gateway, gateway), **options))


def app_factory() -> FaultMiddleware:
    """One worker's app from ``$BHXH_GATEWAY_CONFIG`` and ``$BHXH_GATEWAY_FAULTS``."""
    specs = parse_spec(os.environ.get(ENV_FAULTS, ""))
    seed = int(os.environ.get(ENV_FAULTS_SEED, "0") or 0)
    gateway = Gateway(GatewayConfig.from_env())
    return create_faulty_app(FaultyGateway(gateway, specs, seed=seed, follow=True))


__all__ = [
    "ADMIN_PATH",
    "ENV_FAULTS",
    "ENV_FAULTS_SEED",
    "FaultAdapter",
    "FaultMiddleware",
    "FaultSpec",
    "FaultyGateway",
    "app_factory",
    "create_faulty_app",
    "marker_effects",
    "parse_spec",
    "plan_json",
    "publish_plan",
    "specs_from_json",
]
