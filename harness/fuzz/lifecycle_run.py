"""Run the lifecycle machine (:mod:`harness.fuzz.lifecycle`) for a number of steps with a
seed, and say what it found as a report case: the property broken and the steps, shrunk by
hypothesis, that show it.

``steps`` bounds the run: sequences of at most :data:`SEQUENCE` steps, as many as fit in
``steps`` (hypothesis may end a sequence early); a failure is then shrunk. The same seed
draws the same steps; only the message ids (fresh per run, since a URL gateway keeps
earlier runs' ids) differ.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from unittest.mock import patch

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as seed_run
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter
from hypothesis.stateful import get_state_machine_test

from harness.catalog import Catalog
from harness.fuzz.http_target import HttpTarget
from harness.fuzz.lifecycle import (
    INVARIANTS,
    POOL,
    REQUIREMENTS,
    Lifecycle,
    LifecycleViolation,
    Run,
)
from harness.fuzz.lifecycle_wire import LifecycleGateway
from harness.fuzz.pool import DossierSpec, pool_for
from harness.reporting import CaseResult, Outcome
from harness.signing import TestPKI
from harness.tls import Verify, gateway_session

SEQUENCE = 15
"""Steps of one sequence at most: long enough for a dossier's whole lifecycle (submit,
time passing, 02/TB-TS and 03/TB-TS read and acknowledged), short enough to shrink fast.
A run is at least two: hypothesis's first is its simplest, one rule over and over."""
DEFAULT_STEPS = 50
"""Steps ``bhxh-harness fuzz`` runs unless ``--lifecycle-steps`` says otherwise."""
SHRINK_SECONDS = 30.0
"""Seconds a failure is shrunk at most: each try replays steps against the gateway."""
CASE_ID = "FUZZ-lifecycle"
_STEP = re.compile(r"^(?:\w+(?:, \w+)* = )?state\b|^Draw \d+")


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

    @property
    def ok(self) -> bool:
        return self.failure is None

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
            "failure": None
            if failure is None
            else {
                "check": failure.check,
                "reason": failure.reason,
                "steps": list(failure.steps),
                "shrunk": not failure.flaky,
            },
        }

    def case(self) -> CaseResult:
        """The report's cell: passed, or failed with the property and its steps."""
        done = ", ".join(f"{k} {v}" for k, v in self.stats.items())
        title = f"dossier lifecycle, {self.steps} steps ({', '.join(self.ivans)})"
        left = "; ".join(self.left_out)
        note = f" Left out: {left}." if left else ""
        failure = self.failure
        if failure is None:
            return CaseResult(
                CASE_ID, title, Outcome.PASSED, procedure="lifecycle",
                requirement="; ".join(dict.fromkeys(REQUIREMENTS.values())),
                duration_s=self.elapsed, message=f"exercised: {done}.{note}",
            )  # fmt: skip
        shown = "steps (as run, not shrunk)" if failure.flaky else "steps (shrunk)"
        return CaseResult(
            CASE_ID, title, Outcome.FAILED, procedure="lifecycle",
            requirement=REQUIREMENTS.get(failure.check, ""), duration_s=self.elapsed,
            message=f"{failure.check}: {failure.reason}.{note}",
            evidence={f"{failure.check} {shown}": "\n".join(failure.steps)},
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
) -> LifecycleResult:
    """Run the machine for ``steps`` steps at most, then shrink a failure for
    ``shrink_seconds`` at most (the fewest steps found by then are reported)."""
    run = Run(gateway, bodies, f"lifecycle-{uuid.uuid4().hex[:12]}")
    result = LifecycleResult(steps, seed, run.ivans, tuple(gateway.left_out))
    per = min(SEQUENCE, max(1, steps // 2))  # two sequences at least: see SEQUENCE
    chosen = settings(
        max_examples=max(1, steps // per),  # never more than ``steps`` steps
        stateful_step_count=per,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=[Phase.generate, Phase.shrink],
        print_blob=False,
    )
    factory = cast(type[Lifecycle], lambda: Lifecycle(run))  # hypothesis takes any callable
    test = seed_run(seed)(get_state_machine_test(factory, settings=chosen))
    lines: list[str] = []
    started = time.perf_counter()
    try:
        with with_reporter(lambda text: lines.append(str(text))), _shrink_cap(shrink_seconds):
            test()
    except LifecycleViolation as exc:
        steps_shown = _steps([*lines, *getattr(exc, "__notes__", ())])
        result.failure = LifecycleFailure(exc.check, exc.reason, steps_shown)
    except Flaky as exc:  # the gateway's state moved on: the steps as first run, if known
        found = _violation(exc) or run.first
        if found is None:
            raise
        shown = _steps([*lines, *getattr(found, "__notes__", ())])
        result.failure = LifecycleFailure(found.check, found.reason, shown, flaky=True)
    finally:
        if gateway.faults:
            gateway.calm()
    result.elapsed = time.perf_counter() - started
    result.stats = dict(run.stats)
    return result


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


def _steps(lines: list[str]) -> tuple[str, ...]:
    """The steps of the last (shrunk) example hypothesis reported."""
    text = [line.strip() for chunk in lines for line in chunk.splitlines()]
    starts = [i for i, line in enumerate(text) if line.startswith("state = ")]
    last = text[starts[-1] :] if starts else text
    checks = tuple(f"state.{name}()" for name in INVARIANTS)  # after every step: not steps
    return tuple(line for line in last if _STEP.match(line) and line not in checks)


def _violation(exc: BaseException) -> LifecycleViolation | None:
    if isinstance(exc, LifecycleViolation):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _violation(inner)
        if found is not None:
            return found
    return None


def url_lifecycle(
    own: HttpTarget,
    own_ivan: str,
    others: dict[str, str],
    admin_token: str | None,
    verify_tls: Verify,
) -> LifecycleGateway:
    """The machine's gateway at a URL: ``own`` (the fuzz target), the second I-VAN of
    ``others`` (code -> token) if any, the admin session if ``admin_token``."""
    from harness.fuzz.http_target import http_target

    gateway = LifecycleGateway(own, own_ivan)
    for code, token in others.items():
        if code != own_ivan:
            other = http_target(own.base_url, token, verify_tls=verify_tls)
            gateway.other, gateway.other_ivan = other, code
            break
    else:
        gateway.left_out.append(
            "submit_as_other, isolation checks: no --ivan-token NAME=TOKEN of a second I-VAN"
        )
    if admin_token:
        gateway.admin = gateway_session(verify_tls)
        gateway.admin.headers["Authorization"] = f"Bearer {admin_token}"
    gateway.probe_admin()
    return gateway


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
        gateway.probe_admin()
        yield gateway


__all__ = [
    "CASE_ID",
    "DEFAULT_STEPS",
    "LifecycleFailure",
    "LifecycleResult",
    "inproc_lifecycle",
    "lifecycle_bodies",
    "run_lifecycle",
    "url_lifecycle",
]
