"""Deadline load test: locust users that behave like I-VANs (``bhxh-harness load`` runs it).

Each generator process is one I-VAN: its users relay dossiers (signed once, before the run,
from a pool) over the shape's procedure mix, and one feed reader polls the I-VAN's feed,
times the 02/TB-TS and 03/TB-TS messages and acknowledges each. The behaviour lives in
:mod:`harness.load.ivan`; this file only adapts it to locust.

Run it through ``bhxh-harness load``, which writes the report; by hand it is::

    BHXH_LOAD_TOKENS=IVAN01=test-token-IVAN01 locust -f scenarios/load/locustfile.py \
        --headless --host http://127.0.0.1:8080 --bhxh-shape month-end --bhxh-duration 60
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import gevent.ssl
from locust import FastHttpUser, LoadTestShape, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook
from locust.runners import MasterRunner, WorkerRunner

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


class Process:
    """What one locust process knows: its I-VAN, its pool, its log, its feed reader."""

    settings: LocustSettings | None = None
    log = LifecycleLog()
    token = ""
    picker: Picker | None = None
    reader: gevent.Greenlet | None = None
    interval = 0.0
    gaps = "jittered"


STATE = Process()


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Any, **_kw: Any) -> None:
    if isinstance(environment.runner, MasterRunner):

        @environment.events.worker_report.add_listener
        def _merge(client_id: str, data: dict[str, Any], **_: Any) -> None:
            STATE.log.merge(data.get("bhxh") or {}, client_id)

    if isinstance(environment.runner, WorkerRunner):

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
    code, STATE.token = tokens[index % len(tokens)]
    plan = settings.plan()
    profile = load_profile(settings.profile_path)
    STATE.interval = profile.per_user_interval(plan.model) if plan.model != "max" else 0.0
    STATE.gaps = profile.gaps
    weights = profile.mix(settings.mix or plan.shape.mix)
    pool = load_or_build(
        Path(settings.pool_dir) if settings.pool_dir else None,
        Ivan(code, STATE.token),
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
        reader = FeedReader(
            session,
            STATE.token,
            STATE.log,
            page=profile.feed.page,
            interval=profile.feed.interval,
            run_all=lambda jobs: _run_all(acks, jobs),
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
        reader.skip_to_end(quiet)
        STATE.reader = gevent.spawn(reader.run, lambda: True, gevent.sleep)


def _run_all(pool: gevent.pool.Pool, jobs: Sequence[Callable[[], None]]) -> None:
    """Acknowledge a page's messages concurrently (an I-VAN does not ack one by one)."""
    for _ in pool.imap_unordered(lambda job: job(), jobs):
        pass


@events.test_stop.add_listener
def _stop(environment: Any, **_kw: Any) -> None:
    if STATE.reader is not None:
        STATE.reader.kill(block=False)
        STATE.reader = None


class IvanUser(FastHttpUser):
    """One of the I-VAN's concurrent relays: a dossier per task, paced by the model."""

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
        )
        gevent.sleep(self.pacer.first_delay())

    def wait_time(self) -> float:
        return self.pacer.wait()

    @task
    def submit(self) -> None:
        self.pacer.started()
        self.submitter.submit()


class DeadlineShape(LoadTestShape):
    """The shape from ``fixtures/load/shapes.yaml``; stops the run at its duration."""

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        settings = LocustSettings.from_options(self.runner.environment.parsed_options)
        plan = settings.plan()
        elapsed = self.get_run_time()
        if elapsed >= plan.duration:
            return None
        users = plan.users(elapsed)
        return users, float(max(users, 10))
