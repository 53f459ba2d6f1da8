"""Run the lifecycle machine (:mod:`harness.fuzz.lifecycle`) for a number of steps with a
seed, and say what it found as a report case: the property broken and the steps, shrunk by
hypothesis, that show it.

``steps`` bounds the run: sequences of at most :data:`SEQUENCE` steps, each starting with a
receipt per I-VAN, until ``steps`` steps ran (or a ``--duration`` deadline passed); a
failure is then shrunk (its replays bounded by :data:`SHRINK_SECONDS` only). The same seed
draws the same steps; only the message ids (fresh per run, since a URL gateway keeps
earlier runs' ids) differ.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from unittest.mock import patch

import requests
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as seed_run
from hypothesis.stateful import get_state_machine_test

from harness.catalog import Catalog
from harness.fuzz.http_target import HttpTarget
from harness.fuzz.lifecycle import (
    POOL,
    REQUIREMENTS,
    Lifecycle,
    LifecycleViolation,
    Run,
    RunOver,
)
from harness.fuzz.lifecycle_wire import GatewayGone, LifecycleGateway
from harness.fuzz.pool import DossierSpec, pool_for
from harness.reporting import CaseResult, Outcome
from harness.signing import TestPKI
from harness.tls import gateway_session

SEQUENCE = 15
"""Steps of one sequence at most: long enough for a dossier's whole lifecycle (submit,
time passing, 02/TB-TS and 03/TB-TS read and acknowledged), short enough to shrink fast.
A run is at least two: hypothesis's first is its simplest, one rule over and over."""
SHRINK_SECONDS = 30.0
"""Seconds a failure is shrunk at most: each try replays steps against the gateway."""
CASE_ID = "FUZZ-lifecycle"


@dataclass(frozen=True)
class LifecycleFailure:
    """A broken property, why, and the steps that show it (shrunk unless ``flaky``)."""

    check: str
    reason: str
    steps: tuple[str, ...]
    flaky: bool = False


@dataclass
class LifecycleResult:
    """What the lifecycle run did and found."""

    steps: int
    seed: int
    ivans: tuple[str, ...]
    left_out: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    failure: LifecycleFailure | None = None
    elapsed: float = 0.0
    gone: str = ""
    """Why the gateway went away during the lifecycle ("" if it did not): no verdict."""
    stopped: bool = False
    """Ctrl-C or SIGTERM stopped it: no verdict."""
    cut_short: str = ""
    """What ended it before its steps ran ("" if nothing did): the --duration deadline."""
    broke_off: str = ""
    """Why hypothesis gave up with no property broken ("" if it did not): no verdict."""
    found: str = ""
    """The file a failure's steps were saved in, if any."""
    reproduce: str = ""
    """The command that plays the same steps again (a failure's case shows it)."""

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def ran(self) -> int:
        return self.stats.get("steps", 0)

    @property
    def no_verdict(self) -> str:
        """Why the lifecycle says nothing ("" when it judged): a run with no receipt
        exercised nothing, whatever it read."""
        if self.failure is not None:
            return ""
        if self.stopped:
            return "lifecycle stopped (Ctrl-C) before it ended"
        if self.gone:
            return f"the gateway went away during the lifecycle: {self.gone}"
        if self.broke_off:
            return f"the machine broke off: {self.broke_off}"
        if not self.stats.get("receipts"):
            return "no receipt: the machine exercised nothing"
        return ""

    @property
    def unexercised(self) -> list[str]:
        """The rules that ran without the effect they judge (too few steps, or no message
        of the machine's dossiers reached a feed yet): held, but said."""
        names = {"resubmitted": "resubmission", "acked": "ack", "messages": "feed message"}
        return [name for key, name in names.items() if not self.stats.get(key)]

    def title(self) -> str:
        return f"dossier lifecycle, {self.ran} of {self.steps} steps ({', '.join(self.ivans)})"

    def line(self) -> str:
        """The run's outcome in one line of words (the report's run details)."""
        failure = self.failure
        said = self.outcome() if failure is None else f"{failure.check}: {failure.reason}"
        return f"{self.title()}: {said}"

    def outcome(self) -> str:
        """What the terminal says after "lifecycle:" when nothing broke."""
        done = ", ".join(f"{k} {v}" for k, v in self.stats.items())
        if self.no_verdict:
            return f"no verdict: {self.no_verdict} ({done})"
        short = f"; {self.cut_short}" if self.cut_short else ""
        missing = self.unexercised
        if missing:
            return f"held, but no {', no '.join(missing)} was exercised ({done}{short})"
        return f"held ({done}{short})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for results.json."""
        failure = self.failure
        return {
            "steps": self.steps,
            "steps_run": self.stats.get("steps", 0),
            "seed": self.seed,
            "ivans": list(self.ivans),
            "left_out": list(self.left_out),
            "exercised": dict(self.stats),
            "elapsed": round(self.elapsed, 3),
            "ok": self.ok,
            "no_verdict": self.no_verdict,
            "not_exercised": self.unexercised,
            "cut_short": self.cut_short,
            "failure": None
            if failure is None
            else {
                "check": failure.check,
                "reason": failure.reason,
                "steps": list(failure.steps),
                "shrunk": not failure.flaky,
                "saved": self.found,
            },
        }

    def case(self) -> CaseResult:
        """The report's cell: passed (saying what was not exercised), skipped when it gave
        no verdict, or failed with the property and its steps."""
        left = "; ".join(self.left_out)
        note = f" Left out: {left}." if left else ""
        failure = self.failure
        if failure is None:
            outcome = Outcome.SKIPPED if self.no_verdict else Outcome.PASSED
            return CaseResult(
                CASE_ID, self.title(), outcome, procedure="lifecycle",
                requirement="; ".join(dict.fromkeys(REQUIREMENTS.values())),
                duration_s=self.elapsed, message=f"{self.outcome()}.{note}",
            )  # fmt: skip
        shown = "steps (as run, not shrunk)" if failure.flaky else "steps (shrunk)"
        saved = f" Saved: {self.found}." if self.found else ""
        return CaseResult(
            CASE_ID, self.title(), Outcome.FAILED, procedure="lifecycle",
            requirement=REQUIREMENTS.get(failure.check, ""), duration_s=self.elapsed,
            message=f"{failure.check}: {failure.reason}.{note}{saved}",
            evidence={f"{failure.check} {shown}": "\n".join(failure.steps)},
            reproduce=self.reproduce,
        )  # fmt: skip


def lifecycle_bodies(catalog: Catalog, pki: TestPKI, ivan: str) -> list[bytes]:
    """:data:`POOL` valid signed dossiers naming ``ivan``, over the catalog's procedures,
    signed at the pool's pinned time (the same seed sends the same bodies)."""
    pool = pool_for(catalog, pki, ivan)
    procedures = list(catalog.procedures)
    bodies = []
    for index in range(POOL):
        code = procedures[index % len(procedures)]
        period = catalog.first_period(catalog.procedures[code])
        spec = DossierSpec(catalog.version, code, 500 + index, period, 1, False)
        bodies.append(pool.valid(spec).envelope)
    return bodies


def run_lifecycle(
    gateway: LifecycleGateway,
    bodies: dict[str, list[bytes]],
    *,
    steps: int,
    seed: int,
    shrink_seconds: float = SHRINK_SECONDS,
    deadline: float | None = None,
    on_stop: Callable[[LifecycleResult], object] | None = None,
) -> LifecycleResult:
    """Run the machine for ``steps`` steps at most and, past ``deadline`` (a
    ``time.perf_counter()``), no further step; then shrink a failure for ``shrink_seconds``
    at most (the fewest steps found by then are reported). The gateway going away ends it
    with no verdict (``gone``); a Ctrl-C calls ``on_stop`` with what ran, then goes on."""
    run = Run(gateway, bodies, f"lifecycle-{uuid.uuid4().hex[:12]}", limit=steps, deadline=deadline)
    result = LifecycleResult(steps, seed, run.ivans, tuple(gateway.left_out))
    per = min(SEQUENCE, max(1, steps // 2))  # two sequences at least: see SEQUENCE
    chosen = settings(
        max_examples=max(2, 2 * steps // per),  # room for short ones: Run.limit ends it
        stateful_step_count=per + 1,  # the start (an @initialize rule) counts as one
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=[Phase.generate, Phase.shrink],
        print_blob=False,
        verbosity=Verbosity.quiet,  # the machine logs its own steps, in words
    )
    factory = cast(type[Lifecycle], lambda: Lifecycle(run))  # hypothesis takes any callable
    test = seed_run(seed)(get_state_machine_test(factory, settings=chosen))
    started = time.perf_counter()

    def done() -> LifecycleResult:
        result.elapsed = time.perf_counter() - started
        result.stats = dict(run.found_stats or run.stats)
        return result

    try:
        with _shrink_cap(shrink_seconds):
            test()
    except LifecycleViolation as exc:  # the last sequence run is hypothesis's shrunk one
        result.failure = LifecycleFailure(exc.check, exc.reason, run.last_steps)
    except BaseException as raised:  # hypothesis may wrap an end in its Flaky: see _ending
        ended = _ending(raised)
        if isinstance(ended, RunOver):
            result.cut_short = ended.why
        elif isinstance(ended, GatewayGone):
            result.gone = str(ended.problem)
        elif not isinstance(ended, Exception | SystemExit):  # Ctrl-C, SIGTERM: keep, stop
            result.stopped = True
            if on_stop is not None:
                on_stop(done())
            raise ended from None
        elif isinstance(ended, Exception):
            _judge_broken_off(result, run, ended)
        else:
            raise
    finally:
        if gateway.faults:
            gateway.calm()
    return done()


def _ending(raised: BaseException) -> BaseException:
    """What ended the run: a :class:`RunOver`, :class:`GatewayGone` or stop (Ctrl-C) in
    ``raised``'s chain (hypothesis, seeing a sequence end early, may raise its
    FlakyStrategyDefinition from it), else ``raised`` itself."""
    seen: BaseException | None = raised
    for _ in range(20):
        if seen is None:
            break
        if isinstance(seen, RunOver | GatewayGone) or not isinstance(seen, Exception):
            return seen
        seen = seen.__cause__ or seen.__context__
    return raised


def _judge_broken_off(result: LifecycleResult, run: Run, exc: Exception) -> None:
    """A run hypothesis ended with no violation of its own: one seen first (the gateway's
    state moved on: Flaky), a dropped connection (the gateway's), or hypothesis gave up."""
    found = _violation(exc) or run.first
    why = f"{type(exc).__name__}: {_first_line(exc)}"
    if found is not None:
        result.failure = LifecycleFailure(found.check, found.reason, run.first_steps, True)
    elif isinstance(exc, requests.RequestException):  # /healthz answers: the gateway's
        why = f"the connection broke off ({why})"
        result.failure = LifecycleFailure("lifecycle-never-5xx", why, tuple(run.log), True)
    else:  # hypothesis itself gave up: no verdict, said
        result.broke_off = why


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "no message"


@contextmanager
def _shrink_cap(seconds: float) -> Iterator[None]:
    """Hypothesis's own cap on shrinking time (300 s), lowered: every try replays steps
    against the gateway. Its engine reads the cap when shrinking starts."""
    from hypothesis.internal.conjecture import engine

    if not hasattr(engine, "MAX_SHRINKING_SECONDS"):  # a private setting: gone, keep its own
        yield
        return
    with patch.object(engine, "MAX_SHRINKING_SECONDS", seconds):
        yield


def _violation(exc: BaseException) -> LifecycleViolation | None:
    if isinstance(exc, LifecycleViolation):
        return exc
    for inner in (*getattr(exc, "exceptions", ()), exc.__cause__):
        found = None if inner is None else _violation(inner)
        if found is not None:
            return found
    return None


@contextmanager
def inproc_lifecycle(
    pki: TestPKI, ivan: str, release: str | None = None, other: str = "IVAN02"
) -> Iterator[LifecycleGateway]:
    """The machine's gateway in process: the mock (simulating ``release``) behind its fault
    layer, ``ivan`` and ``other`` with their test tokens, and the admin token."""
    from harness.identities import ADMIN_TOKEN, token_of
    from mock_gateway.faulty_app import FaultyGateway
    from mock_gateway.testing import InProcessGateway
    from mock_gateway.transport import DEFAULT_BASE_URL, FaultAdapter

    other = other if other != ivan else "IVAN01"
    tokens = {ivan: token_of(ivan), other: token_of(other)}
    with InProcessGateway(pki=pki, ivan_tokens=tokens, release=release) as local:
        faulty = FaultyGateway(local.gateway)

        def session(token: str) -> Any:
            made = gateway_session(True)
            made.mount(DEFAULT_BASE_URL + "/", FaultAdapter(faulty, DEFAULT_BASE_URL))
            made.headers["Authorization"] = f"Bearer {token}"
            return made

        trust = pki.trust_store()
        own = HttpTarget(session(tokens[ivan]), DEFAULT_BASE_URL, name="inproc", trust=trust)
        second = HttpTarget(session(tokens[other]), DEFAULT_BASE_URL, name="inproc", trust=trust)
        gateway = LifecycleGateway(own, ivan, second, other, session(ADMIN_TOKEN))
        try:
            gateway.probe_admin()
            yield gateway
        finally:
            gateway.close()
            own.session.close()


__all__ = [
    "CASE_ID",
    "LifecycleFailure",
    "LifecycleResult",
    "inproc_lifecycle",
    "lifecycle_bodies",
    "run_lifecycle",
]
