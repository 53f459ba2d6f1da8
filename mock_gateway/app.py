"""A thin Starlette ASGI app over the framework-free :class:`mock_gateway.core.Gateway`.

It does three things the core cannot: read the body with a size cap (a 50 MB upload is
refused after the cap, not buffered whole), decide where the blocking core runs, and
commit the dossiers checked in one turn of the event loop in one transaction
(:class:`CommitBatch`). By default (``core_threads=0``) the core runs on the event loop
thread: on this project's 2-core benchmark box that cost 3.0-3.2 ms of server CPU per
accepted dossier against 3.8-5.4 ms with a pool of 4 threads, whose GIL hand-offs
outweigh the fsyncs that concurrent receipts share through group commit
(:mod:`mock_gateway.commit`). A pool (``--threads N``) keeps
the loop accepting connections while a request waits for the database; it is fixed and
warmed up at start-up because lxml compiles schemas per thread, and Starlette's default
pool of up to 40 short-lived threads made early requests pay for dozens of compilations.
One Starlette ``Route`` per entry of
:data:`mock_gateway.routes.ROUTES`; unknown paths and methods reach the core too, so
even a 404 is a signed ``XACNHAN_GDICH``.

``app_factory`` is the import string uvicorn uses with several workers: each worker
process builds its own :class:`Gateway` from ``$BHXH_GATEWAY_CONFIG``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.dashboard import ADMIN_COOKIE
from mock_gateway.exchange import Exchange, GatewayRequest, GatewayResponse
from mock_gateway.headers import joined
from mock_gateway.http_head import RECEIVED_AT
from mock_gateway.params import from_pairs
from mock_gateway.routes import ROUTES, Layer, resolve

log = logging.getLogger(__name__)

MIN_BODY_RATE = 240
"""Bytes a second a body must average once the client's pause allowance has passed: ASP.NET
Core Kestrel's default minimum request body data rate, so a real I-VAN never meets it."""


class BodyRead(NamedTuple):
    """What :func:`read_capped` got: the body, or why the core must refuse it."""

    body: bytes
    oversize: int | None = None  # bytes seen (or declared) once over the cap; body is empty
    complete: bool = True  # False: the client hung up mid-body; body is what arrived
    stalled: bool = False  # the client paused mid-body too long; body is what arrived


async def read_capped(request: Request, cap: int, pause: float) -> BodyRead:
    """The body, read up to ``cap`` bytes, waiting at most ``pause`` seconds for each part.

    The rest of an oversized body is left unread; uvicorn discards it on a kept-alive
    connection, so the client still receives the 413 after it finishes sending. A client
    that hangs up mid-body gets nothing, but its exchange is still logged (REQ-003); one
    that stops sending gets REQ-005 once ``pause`` has passed, instead of holding the
    connection (and what it sent) for ever; so does one trickling its body slower than
    :data:`MIN_BODY_RATE` on average once ``pause`` has passed (a byte a second never
    pauses, and would hold the connection for months).
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > cap:
        return BodyRead(b"", oversize=int(declared))
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(pause) as deadline:
            async for chunk in request.stream():
                now = loop.time()
                deadline.reschedule(now + pause)
                size += len(chunk)
                if size > cap:
                    return BodyRead(b"", oversize=size)
                chunks.append(chunk)
                if now - started > pause and size < MIN_BODY_RATE * (now - started):
                    return BodyRead(b"".join(chunks), stalled=True)
    except ClientDisconnect:
        return BodyRead(b"".join(chunks), complete=False)
    except TimeoutError:
        return BodyRead(b"".join(chunks), stalled=True)
    return BodyRead(b"".join(chunks))


def _refused_unread(gateway: Gateway, head: GatewayRequest) -> int | None:
    """The declared body size when the client waits for ``100 Continue`` and the request
    is refused whatever its body (no route, no valid credential), else None.

    Answering at once spares the client uploading a body (up to 50 MB) only to hear
    401 or 404; .NET's HttpClient, common among I-VANs, sends ``Expect: 100-continue``
    on every POST by default.
    """
    if "100-continue" not in (head.header("expect") or "").lower():
        return None
    if not gateway.refuses_before_body(head):
        return None
    declared = head.header("content-length") or ""
    return int(declared) if declared.isascii() and declared.isdigit() else 0


_QUERY_TOKEN_ROUTES = tuple(r for r in ROUTES if r.query_token)


def _arrival(request: Request) -> tuple[float | None, float | None]:
    """When the request's first byte was read, and how long it may have waited unread
    before, if the HTTP protocol said (see :class:`mock_gateway.http_head.CappedHeadProtocol`)."""
    extension = request.scope.get("extensions", {}).get(RECEIVED_AT) or {}
    received, unread = extension.get("time"), extension.get("unread")
    return (
        float(received) if isinstance(received, int | float) else None,
        float(unread) if isinstance(unread, int | float) else None,
    )


def _headers(request: Request) -> dict[str, str]:
    """The request headers, with ``?token=`` (or the cookie the dashboard set from it) as
    the bearer credential where a route allows it.

    Only for pages a person opens in a browser (``Route.query_token``), and only when no
    ``Authorization`` header was sent: the header always wins, and the core keeps a
    single way to authenticate. The page answers a ``?token=`` with a redirect that moves
    the token into an HttpOnly cookie (:func:`mock_gateway.dashboard.token_redirect`). A
    header sent twice reaches the core joined with ", " (:func:`mock_gateway.headers.joined`).
    """
    headers = joined(request.headers.items())
    path = request.url.path
    browser_page = any(r.match(path) is not None for r in _QUERY_TOKEN_ROUTES)
    if "authorization" in headers or not browser_page:
        return headers
    token = request.query_params.get("token") or unquote(request.cookies.get(ADMIN_COOKIE, ""))
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


PLAN_LOG_MAX = 500
"""Most characters of a fault plan said in the log (a plan may list many routes)."""


def _spec_text(spec: object) -> str:
    """One active fault as a ``--faults`` spec part (``burst-503:count=5``)."""
    if not isinstance(spec, dict):
        return str(spec)
    values = spec.get("params") or {}
    options = ",".join(f"{k}={json.dumps(v)}" for k, v in values.items())
    return f"{spec.get('name')}:{options}" if options else str(spec.get("name"))


def note_plan_change(head: GatewayRequest, answer: GatewayResponse) -> None:
    """Log a fault plan the admin set or cleared (the fault layer answers the plan as it
    now is): the server log said nothing of it. Other answers pass unsaid."""
    route, _, _ = resolve(head.method, head.path, Layer.FAULTS)
    if route is None or route.method == "GET" or answer.status != 200:
        return
    try:
        state = json.loads(answer.body)
        active, seed = list(state["active"]), state["seed"]
    except (ValueError, KeyError, TypeError):  # not the fault layer's answer: nothing to say
        return
    plan = "; ".join(_spec_text(s) for s in active)
    if len(plan) > PLAN_LOG_MAX:
        plan = plan[: PLAN_LOG_MAX - 3] + "..."
    if active:
        log.info("admin set the fault plan of every worker: %s (seed %s)", plan, seed)
    else:
        log.info("admin cleared the fault plan of every worker (%s %s)", head.method, head.path)


WRITER_WAIT_ON_LOOP = 0.004
"""Seconds a flush keeps the loop serving while another process writes to the database,
before it waits for the writer lock as it always could."""

WRITER_LOOK_AGAIN = 0.001
"""Seconds between a deferred flush's looks at the writer lock. A timer, not the next
turn: with nothing else ready the loop spun through about 50 looks per flush, CPU the
other worker wanted (about 3% per dossier at 16 clients; the loop still serves whatever
arrives meanwhile)."""


class CommitBatch:
    """Commits the dossiers checked in one turn of the event loop in one transaction.

    The first request to reach its commit schedules the flush with ``call_soon``, which
    runs after the requests already ready in this turn: those check their dossiers and
    join, so under load one fsync covers several receipts; alone, a request waits one
    empty turn. It all stays on the loop's thread: handing commits to a thread pool cost
    0.7 ms more CPU per dossier (GIL hand-offs) than the fsync it took off the loop.

    While another process (the other worker) writes to the database, the flush does not
    block the loop on the writer lock: it looks again :data:`WRITER_LOOK_AGAIN` later,
    and the requests that arrive meanwhile are checked and join the batch. With two
    workers, blocking left a core idle through the other's fsync. After
    :data:`WRITER_WAIT_ON_LOOP` it waits for the lock, so a busy database cannot defer a
    batch for ever. A thread of this worker (its traffic log) holding the lock is waited
    for at once: it needs the GIL to finish.
    """

    def __init__(self, gateway: Gateway, writer_wait: float = WRITER_WAIT_ON_LOOP) -> None:
        self.gateway = gateway
        self.writer_wait = writer_wait
        self._waiting: list[tuple[Exchange, asyncio.Future[None]]] = []
        self._busy_since: float | None = None  # loop time the writer was first found busy
        self.flushes = 0  # for tests: transactions that served commits,
        self.committed = 0  # and how many commits they served
        self.deferred = 0  # and how many times a flush looked again (another process wrote)

    async def commit(self, exchange: Exchange) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((exchange, done))
        await done

    def _flush(self) -> None:
        if self._look_again():
            self.deferred += 1
            asyncio.get_running_loop().call_later(WRITER_LOOK_AGAIN, self._flush)
            return
        batch, self._waiting = self._waiting, []
        try:
            self.gateway.commit(*(exchange for exchange, _ in batch))  # never raises
        finally:
            self.flushes += 1
            self.committed += len(batch)
            for _, done in batch:
                if not done.done():  # a cancelled request (client gone) is still stored
                    done.set_result(None)

    def _look_again(self) -> bool:
        """Whether to look again later: another process writes to the database, and
        the flush has not yet waited :attr:`writer_wait` for it."""
        if not self.gateway.store.writer_elsewhere():
            self._busy_since = None
            return False
        now = asyncio.get_running_loop().time()
        if self._busy_since is None:
            self._busy_since = now
        if now - self._busy_since < self.writer_wait:
            return True
        self._busy_since = None  # waited long enough: take the lock, waiting if need be
        return False


async def _dispatch(
    gateway: Gateway, request: Request, executor: ThreadPoolExecutor | None, batch: CommitBatch
) -> Response:
    query, repeated = from_pairs(request.query_params.multi_items())
    received_at, unread_for = _arrival(request)
    head = GatewayRequest(
        method=request.method,
        path=request.url.path,
        headers=_headers(request),
        query=query,
        repeated_query=repeated,
        query_string=request.url.query,
        received_at=received_at,
        unread_for=unread_for,
        raw_path=request.scope.get("raw_path", b"").decode("utf-8", "backslashreplace"),
    )
    unread = _refused_unread(gateway, head)
    if unread is not None:  # answered before the client sends its body, then closed
        answer = gateway.handle(dataclasses.replace(head, body_size=unread))
        headers = {**answer.headers, "Connection": "close"}
        return Response(content=answer.body, status_code=answer.status, headers=headers)
    config = gateway.config
    read = await read_capped(request, config.max_body_bytes, config.client_timeout)
    core_request = dataclasses.replace(
        head,
        body=read.body,
        body_size=read.oversize,
        complete=read.complete,
        stalled=read.stalled,
    )
    if executor is None:
        exchange = gateway.start(core_request)
        if exchange.pending is not None:
            try:
                await batch.commit(exchange)
            except asyncio.CancelledError:  # shutting down: still stored, still logged
                gateway.finish(exchange)
                raise
        answer = gateway.finish(exchange)
    else:
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(executor, gateway.handle, core_request)
    note_plan_change(head, answer)
    headers = answer.headers
    if read.stalled:  # the rest of the body may still come: it must not read as a request
        headers = {**headers, "Connection": "close"}
    return Response(content=answer.body, status_code=answer.status, headers=headers)


async def _warm_up(gateway: Gateway, executor: ThreadPoolExecutor | None, threads: int) -> None:
    """Compile every validator in every pool thread before the first request.

    lxml's compiled schemas are per thread, so each pool thread compiles its own on first
    use (tens of milliseconds per form); a barrier makes each warm-up task run in a
    distinct thread so no request pays for it.
    """
    if executor is None:
        gateway.warm_up()
        return
    barrier = threading.Barrier(threads)

    def warm() -> None:
        # A thread that misses the rendezvous just compiles on its first request.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        gateway.warm_up()

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(executor, warm) for _ in range(threads)))


def create_app(
    gateway: Gateway,
    *,
    background: bool = True,
    close: bool = True,
    threads: int | None = None,
) -> Starlette:
    """The ASGI app over ``gateway``.

    ``background`` starts the processor and traffic threads at start-up; ``close`` closes
    the gateway at shutdown (leave False when the caller owns it); ``threads`` is the size
    of the fixed pool running the core (0: run it on the event loop thread; default: the
    gateway's ``core_threads`` setting).
    """
    if threads is None:
        threads = gateway.config.core_threads
    executor = (
        ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bhxh-gateway")
        if threads > 0
        else None
    )

    batch = CommitBatch(gateway)

    async def endpoint(request: Request) -> Response:
        return await _dispatch(gateway, request, executor, batch)

    async def fallback(request: Request, _exc: Exception) -> Response:
        return await _dispatch(gateway, request, executor, batch)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await _warm_up(gateway, executor, threads)
        if background:
            gateway.start_background()
        try:
            yield
        finally:
            if executor is not None:
                executor.shutdown(wait=True)
            if close:
                await run_in_threadpool(gateway.close)

    routes = [Route(r.template, endpoint, methods=[r.method], name=r.name) for r in ROUTES]
    app = Starlette(
        routes=routes,
        exception_handlers={404: fallback, 405: fallback},
        lifespan=lifespan,
    )
    # A wrong path gets the core's signed NF-001, never a 307 to a near miss: a strict
    # gateway must not hide a client's trailing-slash bug that the real portal rejects.
    app.router.redirect_slashes = False
    app.state.gateway = gateway
    app.state.commit_batch = batch
    return app


def app_factory() -> Starlette:
    """Build a gateway and its app from ``$BHXH_GATEWAY_CONFIG`` (one per worker process)."""
    return create_app(Gateway(GatewayConfig.from_env()))
