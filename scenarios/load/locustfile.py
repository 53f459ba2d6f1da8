"""Deadline load test: locust users that behave like I-VANs (``bhxh-harness load`` runs it).

Each generator process is one I-VAN: its users relay dossiers (signed once, before the run,
from a pool) over the shape's procedure mix, and one feed reader polls the I-VAN's feed,
times the 02/TB-TS and 03/TB-TS messages and acknowledges each. The behaviour lives in
:mod:`harness.load.submitter`, :mod:`harness.load.feed` and
:mod:`harness.load.lifecycle_log`; this file only adapts it to locust.

Run it through ``bhxh-harness load``, which writes the report; by hand it is::

    BHXH_LOAD_TOKENS=IVAN01=test-token-IVAN01 locust -f scenarios/load/locustfile.py \
        --headless --host http://127.0.0.1:8080 --bhxh-shape month-end --bhxh-duration 60
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.pool
import gevent.ssl
from locust import FastHttpUser, LoadTestShape, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook
from locust.rpc import Message
from locust.runners import STATE_CLEANUP, STATE_STOPPED, MasterRunner, Runner, WorkerRunner

from harness.load import (
    FeedReader,
    Ivan,
    LifecycleLog,
    LocustSettings,
    Pacer,
    Picker,
    Submitter,
    add_arguments,
    identities,
    load_or_build,
    load_profile,
    parse_tokens,
)
from harness.load.arrivals import OpenArrivals
from harness.load.feed import FeedEndUnknown
from harness.load.ivan import ANSWERED_IN_GRACE, STOPPED, locust_stopping
from harness.load.processes import SHAPE_STARTED

READY = "bhxh_ready"
"""A generator process tells the shape it is ready (pool loaded, feed end found)."""
DRAIN = "bhxh_drain"
"""The shape tells every generator the run's duration is over: start no more dossiers."""
READY_WAIT = 30.0
"""Seconds the shape holds its clock for generators still getting ready; then it starts."""
DRAIN_MARGIN = 3.0
"""Seconds past the stop grace the shape waits for users to end before it stops anyway."""
DRAIN_NAP = 1.0
"""A draining user's wait between two tasks (it starts nothing; locust soon stops it)."""
LEFT_AT_STOP_SECONDS = 5.0
"""Real seconds, at most, a generator spends at the stop counting the feed messages it
leaves unread (a stopped run's master is killed 10 s after SIGTERM, before its report)."""
FINAL_ASK = "bhxh_final_ask"
"""The master asks each worker for its final figures: locust's own quit gives a worker
0.5 s, less than stopping its users and counting its feed take, so they were lost."""
FINAL = "bhxh_final"
"""A worker's figures are all sent (its last report went just before, on the same socket)."""
FINAL_MARGIN = 2.0
"""Seconds, past the stop grace and the feed count, the master waits for final figures."""
CSV_SETTLE = 1.2
"""Seconds the master waits after the last final figures, so locust's CSV writer (every
second) writes them before the files are closed."""


class Process:
    """What one locust process knows: its I-VAN, its pool, its log, its feed reader."""

    settings: LocustSettings | None = None
    log = LifecycleLog()
    token = ""
    code = ""  # the I-VAN this process acts as
    picker: Picker | None = None
    reader: gevent.Greenlet | None = None
    # the feed reader, its quiet session, its acks and its pages of acks: counted at the stop
    feed: tuple[FeedReader, FastHttpSession, gevent.pool.Pool, gevent.pool.Group] | None = None
    interval = 0.0
    gaps = "jittered"
    max_in_flight = 1  # the open model's cap of dossiers in flight per user
    draining = False  # the duration is over: in-flight dossiers finish, none starts
    shape_began = False  # the shape ticked once: a SIGTERM from then on ends it gently
    finishing = False  # a worker is stopping and sending its final figures (once)

    def __init__(self) -> None:
        self.ready: set[str] = set()  # ids of the generator processes ready (shape's side)
        self.finals: set[str] = set()  # ids of the workers whose final figures came (master)
        self.final_sent = gevent.event.Event()  # this worker's final figures are sent


STATE = Process()


def _ready(msg: Message, **_: Any) -> None:
    STATE.ready.add(str(msg.node_id))


def _start_draining(**_: Any) -> None:
    STATE.draining = True


def _final_came(msg: Message, **_: Any) -> None:
    STATE.finals.add(str(msg.node_id))


def _send_final(runner: WorkerRunner) -> bool:
    """Stop this worker's users (the grace, the feed left counted), then send its last
    report and say so; once only, whoever asks first (the master, or a Ctrl-C here)."""
    if STATE.finishing:
        return False
    STATE.finishing = True
    _stop_once(runner)
    runner._send_stats()  # the report locust's quit sends too late to be merged
    runner.send_message(FINAL)
    STATE.final_sent.set()
    return True


def _stop_once(runner: WorkerRunner) -> None:
    """Stop the users, or wait for the stop already under way (the master's stop message
    or locust's own drain): a second concurrent ``stop()`` kills users the first is
    killing, and locust then logs dead users "that didn't have proper args"."""
    if runner.state != STATE_CLEANUP:
        runner.stop()
        return
    grace = STATE.settings.grace if STATE.settings is not None else 0.0
    deadline = time.monotonic() + grace + FINAL_MARGIN
    while runner.state == STATE_CLEANUP and time.monotonic() < deadline:
        gevent.sleep(0.05)
    if runner.state != STATE_STOPPED:
        runner.stop()


def _final_asked(environment: Any, **_: Any) -> None:
    _send_final(environment.runner)


def _worker_interrupted(runner: WorkerRunner) -> None:
    """Ctrl-C on a worker (a terminal signals the whole run): send the final figures
    first, then quit as locust's quit message makes a worker quit. When the master's ask
    came first, its figures are still being gathered (the users' grace): quitting now
    would lose them, so the quit waits for them, bounded."""
    if not _send_final(runner):
        grace = STATE.settings.grace if STATE.settings is not None else 0.0
        STATE.final_sent.wait(timeout=_final_wait(grace))
    runner.greenlet.kill(block=True)


def _final_wait(grace: float) -> float:
    """Seconds final figures may take: the users' stop grace, the feed count left at the
    stop (a worker's and the master's view of it) and a margin."""
    return grace + 2 * LEFT_AT_STOP_SECONDS + FINAL_MARGIN


def _wait_for_finals(runner: MasterRunner, grace: float) -> None:
    """Ask every worker for its final figures and wait for them, at most the stop grace
    plus the feed count and a margin: lifecycle.json and the CSVs are written after."""
    waiting = {str(client.id) for client in runner.clients.all}
    if not waiting:
        return
    runner.send_message(FINAL_ASK)
    deadline = time.monotonic() + _final_wait(grace)
    while _missing_finals(runner, waiting) and time.monotonic() < deadline:
        gevent.sleep(0.1)
    gevent.sleep(CSV_SETTLE)


def _missing_finals(runner: MasterRunner, waiting: set[str]) -> set[str]:
    """The workers still owing final figures (one that left owes none)."""
    return {node for node in waiting - STATE.finals if node in runner.clients}


def _end_shape(runner: Runner, signum: int = signal.SIGTERM) -> None:
    """SIGTERM ends a running shape as Ctrl-C does: users stopped, feed left counted,
    lifecycle.json and locust.html written. Locust installs its own SIGTERM handler only
    once a headless shape has ended, so until then a SIGTERM killed the process outright
    and a stopped run's report had no figures of what ran. Before the shape starts
    (waiting for workers) there is nothing to write: SIGTERM still kills at once. A
    master ends its shape so on Ctrl-C too, which then waits for its workers' figures."""
    shape = runner.shape_greenlet
    if shape is not None and not shape.dead:
        shape.kill(block=False)
    elif not STATE.shape_began:
        default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        signal.signal(signum, default)
        os.kill(os.getpid(), signum)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Any, **_kw: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(READY, _ready)
        gevent.signal_handler(signal.SIGTERM, _end_shape, environment.runner)
    if not isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(DRAIN, _start_draining)
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(FINAL, _final_came)
        gevent.signal_handler(signal.SIGINT, _end_shape, environment.runner, signal.SIGINT)

        @environment.events.worker_report.add_listener
        def _merge(client_id: str, data: dict[str, Any], **_: Any) -> None:
            STATE.log.merge(data.get("bhxh") or {}, client_id)

    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(FINAL_ASK, _final_asked, concurrent=True)
        gevent.signal_handler(signal.SIGINT, _worker_interrupted, environment.runner)

        @environment.events.report_to_master.add_listener
        def _drain(client_id: str, data: dict[str, Any], **_: Any) -> None:
            data["bhxh"] = STATE.log.drain()

    @environment.events.quit.add_listener
    def _write(exit_code: int, **_: Any) -> None:
        settings = STATE.settings or LocustSettings.from_options(environment.parsed_options)
        if settings.lifecycle_out and not isinstance(environment.runner, WorkerRunner):
            STATE.log.clock_speed = settings.clock_speed
            STATE.log.write(Path(settings.lifecycle_out))


def _tls(settings: LocustSettings) -> dict[str, Any]:
    """How users and the feed reader check the gateway's TLS certificate (FastHttpUser
    does not check it unless told to): like ``requests``, against the system CAs or
    ``--ca-bundle``, or not at all with ``--insecure``."""
    if settings.insecure:
        return {"insecure": True, "ssl_context_factory": None}
    bundle = settings.ca_bundle or None

    def context(*_args: Any, cafile: str | None = None, **_kw: Any) -> gevent.ssl.SSLContext:
        # geventhttpclient passes its own default bundle; --ca-bundle replaces it
        return gevent.ssl.create_default_context(cafile=bundle or cafile)

    return {"insecure": False, "ssl_context_factory": context}


@events.test_start.add_listener
def _start(environment: Any, **_kw: Any) -> None:
    settings = LocustSettings.from_options(environment.parsed_options)
    STATE.settings = settings
    STATE.log.clock_speed = settings.clock_speed
    if isinstance(environment.runner, MasterRunner):
        return
    tls = _tls(settings)
    IvanUser.insecure, IvanUser.ssl_context_factory = tls["insecure"], tls["ssl_context_factory"]
    tokens = identities(parse_tokens(settings.tokens))
    if not tokens:
        raise RuntimeError("no I-VAN token: set $BHXH_LOAD_TOKENS=NAME=TOKEN,...")
    index = getattr(environment.runner, "worker_index", 0) or 0
    STATE.code, STATE.token = tokens[index % len(tokens)]
    plan = settings.plan()
    profile = load_profile(settings.profile_path)
    STATE.interval = profile.per_user_interval(plan.model) if plan.model != "max" else 0.0
    STATE.gaps = profile.gaps
    if plan.model == "open":  # one connection per dossier in flight: none waits for one
        STATE.max_in_flight = profile.max_in_flight
        IvanUser.concurrency = max(FastHttpUser.concurrency, profile.max_in_flight)
    weights = profile.mix(settings.mix or plan.shape.mix)
    pool = load_or_build(
        Path(settings.pool_dir) if settings.pool_dir else None,
        Ivan(STATE.code, STATE.token),
        weights,
        settings.pool_size,
        settings.seed,
        settings.catalog or None,
    )
    STATE.picker = pool.picker(weights)
    if settings.feed:
        session = FastHttpSession(
            environment.host,
            request_event=environment.events.request,
            user=None,
            network_timeout=30.0,
            connection_timeout=10.0,
            concurrency=profile.feed.ack_concurrency + 1,
            **tls,
        )
        acks = gevent.pool.Pool(profile.feed.ack_concurrency)
        pages = gevent.pool.Group()  # each page's acks on its own greenlet: polls go on
        reader = FeedReader(
            session,
            STATE.token,
            STATE.log,
            page=profile.feed.page,
            interval=profile.feed.interval,
            run_all=lambda jobs: _run_all(acks, jobs),
            spawn=pages.spawn,
        )
        # Start past what the feed already holds (earlier runs' messages), with reads that
        # fire no request events, so they are not in the run's figures.
        quiet = FastHttpSession(
            environment.host,
            request_event=EventHook(),
            user=None,
            network_timeout=30.0,
            connection_timeout=10.0,
            **tls,
        )
        _start_reader(environment, reader, quiet)
        if STATE.reader is not None:
            STATE.feed = (reader, quiet, acks, pages)
    environment.runner.send_message(READY)  # the shape's clock starts now, not before


def _start_reader(environment: Any, reader: FeedReader, quiet: FastHttpSession) -> None:
    """Start the feed reader past the feed's end; if that end cannot be found, start none
    (reading from 0 re-reads and re-acknowledges the gateway's whole history) and report
    why as an error in the users, which makes the run an ERROR."""
    try:
        reader.skip_to_end(quiet, sleep=gevent.sleep)
    except FeedEndUnknown as exc:
        environment.events.user_error.fire(user_instance=None, exception=exc, tb=exc.__traceback__)
        return
    STATE.reader = gevent.spawn(reader.run, lambda: True, gevent.sleep)


def _run_all(pool: gevent.pool.Pool, jobs: Sequence[Callable[[], None]]) -> None:
    """Acknowledge a page's messages concurrently (an I-VAN does not ack one by one)."""
    for _ in pool.imap_unordered(lambda job: job(), jobs):
        pass


@events.test_stop.add_listener
def _stop(environment: Any, **_kw: Any) -> None:
    """A generator stops its feed reader and counts what it leaves (once, though locust
    may stop it twice); a master first collects its workers' final figures."""
    if isinstance(environment.runner, MasterRunner):
        settings = STATE.settings or LocustSettings.from_options(environment.parsed_options)
        _wait_for_finals(environment.runner, settings.grace)
    reader, STATE.reader = STATE.reader, None
    if reader is not None:
        reader.kill(block=True, timeout=LEFT_AT_STOP_SECONDS)
    feed, STATE.feed = STATE.feed, None
    if feed is not None:
        _count_left(*feed)


def _count_left(
    reader: FeedReader, quiet: FastHttpSession, acks: gevent.pool.Pool, pages: gevent.pool.Group
) -> None:
    """Record what the feed reader leaves at the stop, so the report tells messages left
    unread or unacknowledged by the stop (expected) from lost ones; the reads fire no
    request events, and a gateway that does not answer in time leaves them uncounted."""
    pages.kill(block=True, timeout=LEFT_AT_STOP_SECONDS)  # no page starts acks after it
    acks.kill(block=True, timeout=LEFT_AT_STOP_SECONDS)  # no ack lands after the count
    unread, counted = 0, False
    with gevent.Timeout(LEFT_AT_STOP_SECONDS, False):
        unread, counted = reader.left_at_stop(quiet)
    STATE.log.left_at_stop(STATE.code, unread, counted, len(reader.outstanding))


class IvanUser(FastHttpUser):
    """One of the I-VAN's concurrent relays: a dossier per task, paced by the model; in the
    open model each dossier runs on its own greenlet, so the task only starts it."""

    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        settings = STATE.settings
        assert settings is not None and STATE.picker is not None
        rng = random.Random()
        self.pacer = Pacer(settings.plan().model, STATE.interval, rng, STATE.log, gaps=STATE.gaps)
        self.submitter = Submitter(
            self.client,
            STATE.token,
            STATE.picker,
            STATE.log,
            rng,
            trivial=settings.payload == "trivial",
            stopping=lambda: STATE.draining or locust_stopping(self.client),
        )
        self.arrivals: OpenArrivals | None = None
        if settings.plan().model == "open":
            self.arrivals = OpenArrivals(
                self.pacer,
                STATE.max_in_flight,
                STATE.log,
                stopping=lambda: STATE.draining or locust_stopping(self.client),
                on_error=self._report,
            )
        self.first: float | None = self.pacer.first_delay()

    def on_stop(self) -> None:
        """Dossiers in flight get the stop grace to be answered, then are cut off."""
        if self.arrivals is not None and STATE.settings is not None:
            self.arrivals.stop(STATE.settings.grace)

    def _report(self, exc: Exception) -> None:
        """A dossier's greenlet failed: a user error, as locust reports a failed task."""
        self.environment.events.user_error.fire(
            user_instance=self, exception=exc, tb=exc.__traceback__
        )

    def wait_time(self) -> float:
        """The first arrival's delay, then the model's waits; none once the run drains
        (an arrival after the end is not scheduled, so neither late nor dropped)."""
        if self.first is not None:
            delay, self.first = self.first, None
            return delay
        return DRAIN_NAP if STATE.draining else self.pacer.wait()

    @task
    def submit(self) -> None:
        if self.first is not None:
            self.wait()  # as locust waits: a stop meanwhile ends the user, no grace needed
        if self.arrivals is not None:
            self.arrivals.dispatch(self._send)
            return
        self.pacer.started()
        self._send()

    def _send(self) -> None:
        """One dossier, to its final answer (counted answered in the grace after the end)."""
        if self.submitter.submit() != STOPPED and STATE.draining:
            STATE.log.count(ANSWERED_IN_GRACE)


def _all_ready(runner: Runner) -> bool:
    """Whether every generator process said it is ready (the single one, or each worker)."""
    expected = len(runner.clients) if isinstance(runner, MasterRunner) else 1
    return len(STATE.ready) >= max(1, expected)


def _mark_started(settings: LocustSettings) -> None:
    """Tell ``bhxh-harness load`` the shape's clock started (its progress lines count from
    here, not from the seconds spent finding each I-VAN's feed end)."""
    if settings.pool_dir:
        (Path(settings.pool_dir) / SHAPE_STARTED).touch()


class DeadlineShape(LoadTestShape):
    """The shape from ``fixtures/load/shapes.yaml``, over its duration, then a drain.

    Its clock starts once every generator is ready (finding the feed's end on a slow
    gateway took longer than a short run: it sent nothing). At the duration it tells the
    generators to start nothing more and ramps to no user: locust's ``--stop-timeout``
    lets a user finish the dossier in flight, so its answer is counted, not lost; a
    dossier still unanswered after it is counted in flight at stop.
    """

    started: float | None = None  # run time at which every generator was ready
    drain: tuple[int, float] | None = None

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        STATE.shape_began = True
        settings = LocustSettings.from_options(self.runner.environment.parsed_options)
        plan = settings.plan()
        if self.started is None:
            if not _all_ready(self.runner) and self.get_run_time() < READY_WAIT:
                users = plan.users(0.0)  # the first tick's, so locust starts nothing new
                return users, float(max(users, 10))
            self.started = self.get_run_time()
            _mark_started(settings)
        elapsed = self.get_run_time() - self.started
        if elapsed < plan.duration:
            users = plan.users(elapsed)
            return users, float(max(users, 10))
        if self.drain is None:
            self.runner.send_message(DRAIN)
            self.drain = (0, float(max(self.runner.user_count, 10)))  # one step to none
        if self.runner.user_count == 0 or elapsed >= plan.duration + settings.grace + DRAIN_MARGIN:
            return None
        return self.drain
