"""One request through the gateway: route, authenticate, run its handler, then commit,
answer, and log and measure the exchange.

Its own module because this is the path every request takes, whatever its route:
:meth:`handle` is :meth:`start` then :meth:`finish`, the two halves the ASGI app calls
apart so it can commit several dossiers in one transaction.
"""

from __future__ import annotations

import hmac
import logging
import time

from harness.error_codes import finding
from mock_gateway import params
from mock_gateway.exchange import Exchange, GatewayRequest, GatewayResponse, PendingReceipt
from mock_gateway.gateway_submission import GatewaySubmission
from mock_gateway.intake import Rejected, reject
from mock_gateway.routes import Auth, Route, allowed, resolve

log = logging.getLogger("mock_gateway.core")  # one logger for every section of the core

SELF_REFERENTIAL = frozenset(
    {"admin_traffic", "dashboard", "dashboard_runs", "dashboard_run_file", "metrics", "openapi"}
)
"""Routes whose answers are logged without their body: views of the store or of files on
disk, and documents any request makes again (a Prometheus scrape every 15 s stored ~10 KB
each time; 300 reads of /openapi.json added 15 MB). They hold no I-VAN's data."""
_STORELESS = frozenset({"get_catalog", "healthz", "metrics", "openapi"})
"""Routes answered without the database: still served while it is lost."""


class GatewayDispatch(GatewaySubmission):
    """Requests in, answers out: routing, authentication, the handler, the traffic log."""

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
