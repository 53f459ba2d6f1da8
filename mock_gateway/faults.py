"""Fault injection: named, parameterised profiles (``fixtures/faults/*.yaml``) and their hooks.

A suite must see how an I-VAN copes with a gateway that is slow, refuses, drops the line,
commits and then fails, repeats or reorders its messages, goes into maintenance, or rolls
its signing key over. Those behaviours are data (profiles with parameters); each hook is
one of two small shapes (STYLE.md, after pytest-httpserver's composable hooks):

* a *gate* ``(request) -> response | None`` answers instead of the core (503, maintenance,
  a reset before the core saw anything), and
* an *after* hook ``(request, response) -> response`` changes what the core answered
  (latency, timeout or reset after the commit, 500 after the commit, feed rewriting).

Hooks match by route and fire by probability from a seeded RNG, so a run is reproducible.
Effects only a transport can produce (a reset connection, a late answer) travel as the
:data:`FAULT_HEADER` marker, which :mod:`mock_gateway.faulty_app` turns into the real thing;
its :class:`~mock_gateway.faulty_app.FaultyGateway` applies the hooks around the core.
Each hook reads its values through :class:`~mock_gateway.hook_params.HookParams` when it is
built, so a bad plan is refused when it is set.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any, ClassVar, Protocol

from harness.errors import ConfigError, PKIError
from harness.signing import TestPKI
from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.fault_budget import LocalBudget
from mock_gateway.hook_params import HookParams, reaches
from mock_gateway.intake import reject
from mock_gateway.routes import MAX_CLOCK_ADVANCE, SUBMISSIONS, Route

Req = GatewayRequest
Resp = GatewayResponse

FAULT_HEADER = "X-Bhxh-Fault"
"""Transport effect marker: ``reset`` and/or ``delay=<seconds>``, comma separated."""


def marker_effects(value: str | None) -> tuple[float, bool]:
    """``(delay seconds, reset)`` from a :data:`FAULT_HEADER` value."""
    tokens = [t.strip() for t in (value or "").split(",")]
    delay = sum(float(t[6:]) for t in tokens if t.startswith("delay="))
    return delay, "reset" in tokens


class FaultHost(Protocol):
    """What a hook may use: the wrapped gateway, simulated time, the fault event log."""

    gateway: Gateway

    def sim_now(self) -> float: ...

    def event(self, fault: Fault, request: Req, action: str) -> None: ...


class Fault:
    """One active hook: matches by route, fires by ``skip``/``times``/``probability``."""

    kind: ClassVar[str] = ""
    commits_first: ClassVar[bool] = False  # acts only once a dossier is stored (a 202)
    fires: ClassVar[bool] = True  # decides by fire(), so skip and times apply

    def __init__(self, profile: str, spec: dict[str, Any], rng: random.Random, at: float) -> None:
        """Read and check every value now: a bad one is a ConfigError when the plan is set
        (``--faults`` at start, ``PUT /admin/faults``), never an error on some later request."""
        self.profile, self.spec, self.rng = profile, spec, rng
        self.params = params = HookParams(profile, spec)
        self.activated = at  # simulated epoch seconds when the plan was set
        self.routes = params.routes(self.acts_on(params))
        self.probability = params.number("probability", 1.0, maximum=1.0, why="")
        self.times = params.optional_count("times")
        self.skip = params.count("skip", 0)
        self.hits = 0  # what this worker hit
        self.budget: LocalBudget = LocalBudget(self.skip, self.times)

    def share(self, budget: LocalBudget) -> None:
        """Count ``skip``, ``times``, hits and a window in ``budget`` (one every worker
        shares)."""
        self.budget = budget

    def reported_hits(self) -> int:
        """The hits ``GET /admin/faults`` shows: every worker's for a shared plan."""
        shared = self.budget.hits()
        return self.hits if shared is None else shared

    def hit(self) -> None:
        """Count a hit not decided by :meth:`fire` (a window's, a maintenance's)."""
        self.hits += 1
        self.budget.tally()

    def acts_on(self, params: HookParams) -> tuple[Route, ...] | None:
        """The routes this hook can act on (None: any); a plan aiming elsewhere is refused."""
        after_commit = self.commits_first or params.spec.get("when") == "after"  # a reset's
        return SUBMISSIONS if after_commit else None

    def matches(self, request: Req) -> bool:
        """``"*"`` is every I-VAN route (``/api/...``); else ``"METHOD /path"`` globs."""
        return any(reaches(r, request.method, request.path) for r in self.routes)

    def fire(self) -> bool:
        """Count a matching request and decide (seeded) whether the fault hits it."""
        if self.budget.skipped() or self.budget.spent():
            return False
        if self.probability < 1.0 and self.rng.random() >= self.probability:
            return False
        if not self.budget.claim():  # another worker took the last hit
            return False
        self.hits += 1
        return True

    def gate(self, request: Req, host: FaultHost) -> Resp | None:
        """Answer instead of the core, or None to let the request through."""
        return None

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        """Change what was answered (the identity by default)."""
        return response

    def prepare(self, pki: TestPKI) -> None:
        """Check what needs the gateway's PKI, before the plan replaces the active one."""

    def activate(self, host: FaultHost) -> None:
        """Called when the plan is set (state-changing faults act here)."""

    def deactivate(self, host: FaultHost) -> None:
        """Called when the plan is replaced or cleared."""


def marked(response: Resp, effect: str) -> Resp:
    """``response`` with one more transport effect in its :data:`FAULT_HEADER`."""
    headers = dict(response.headers)
    previous = headers.get(FAULT_HEADER)
    headers[FAULT_HEADER] = f"{previous},{effect}" if previous else effect
    return GatewayResponse(response.status, headers, response.body, response.outcome)


def unavailable(host: FaultHost, request: Req, retry_after: Any, why: str) -> Resp:
    """A signed 503 SRV-001, ``why``, with ``Retry-After`` (whole seconds) or without (None)."""
    answer = host.gateway.error_response(reject("SRV-001", request.path, detail=why))
    headers = {k: v for k, v in answer.headers.items() if k != "Retry-After"}
    if retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(float(retry_after))))
    return GatewayResponse(answer.status, headers, answer.body, answer.outcome)


class Delay(Fault):
    """Latency: the answer leaves ``seconds`` (+ up to ``jitter``) late."""

    kind = "delay"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seconds = self.params.number("seconds", 0.0)
        self.jitter = self.params.number("jitter", 0.0)

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        if not self.fire():
            return response
        seconds = self.seconds + self.rng.random() * self.jitter
        host.event(self, request, f"answer {response.status} held {seconds:.3f} s")
        return marked(response, f"delay={seconds:.3f}")


class Unavailable(Fault):
    """503 bursts: ``times`` requests, or all of them for ``window`` seconds after the first.

    A window closes after ``window`` real seconds or as soon as the simulated clock has
    moved that far, so a client that comes back "30 simulated minutes later" (one step of
    a suite's fast-forward) finds the burst over, as it would in real life. It is one for
    every worker: the first hit of any opens it (its budget keeps the moment, wall-clock
    time since workers share no monotonic clock), and once closed the burst is over.
    """

    kind = "unavailable"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.window = self.params.optional_number("window")
        self.retry_after = self.params.optional_number("retry_after")

    def refuses(self, sim: float) -> bool:
        """Whether the burst takes this request: a hit of ``times``, or one inside the
        window, which the first hit opens and which, once closed, never opens again."""
        if self.window is None:
            return self.fire()
        opened = self.budget.window()
        if opened is None:
            if not self.fire():
                return False
            self.budget.open_window((time.time(), sim))
            return True
        if time.time() >= opened[0] + self.window or sim >= opened[1] + self.window:
            return False
        self.hit()
        return True

    def gate(self, request: Req, host: FaultHost) -> Resp | None:
        if not self.refuses(host.sim_now()):
            return None
        retry_after = self.retry_after  # real seconds, as given: see fixtures/faults/README.md
        shown = "no Retry-After" if retry_after is None else f"Retry-After: {retry_after:g}"
        host.event(self, request, f"refused 503 SRV-001 ({shown}) before the core")
        return unavailable(host, request, retry_after, "temporarily unavailable")


_SIMULATED = (
    "; a maintenance window is in simulated seconds, at most what /admin/clock/advance "
    "can skip (about 10 years)"
)


class Maintenance(Fault):
    """503 SRV-001 inside a window of simulated time; Retry-After = the real seconds left.

    A client waits in real seconds: at ``--clock-speed 100`` a window with 600 simulated
    seconds left ends in 6 real ones. A frozen clock (speed 0) only moves when advanced,
    so the simulated seconds left are said then.
    """

    kind = "maintenance"
    fires = False  # the window decides, on every worker alike

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cap, why = MAX_CLOCK_ADVANCE, _SIMULATED
        self.start = self.params.number("start", 0.0, maximum=cap, why=why)
        self.duration = self.params.number("duration", 0.0, maximum=cap, why=why)

    def gate(self, request: Req, host: FaultHost) -> Resp | None:
        start, end = self.start, self.start + self.duration
        elapsed = host.sim_now() - self.activated
        if not start <= elapsed < end:
            return None
        self.hit()
        left = end - elapsed
        wait = real_seconds(left, host.gateway.clock.speed)
        said = f"Retry-After {wait} s ({math.ceil(left)} simulated s left)"
        host.event(self, request, f"maintenance: 503 SRV-001, {said}")
        return unavailable(host, request, wait, "maintenance window")


def real_seconds(simulated: float, speed: float) -> int:
    """Whole real seconds (at least 1) until ``simulated`` seconds pass at clock ``speed``;
    the simulated figure itself on a frozen clock, which only an advance moves."""
    return max(1, math.ceil(simulated / speed if speed > 0 else simulated))


def _committed(fault: Fault, response: Resp) -> bool:
    """Whether the core just stored a dossier (202) and the fault hits this answer."""
    return response.status == 202 and fault.fire()


def _ma(response: Resp) -> str:
    return f"MA_GDICH {response.headers.get('X-Ma-Gdich', '?')}"


class Reset(Fault):
    """Drop the connection before the core sees the request, or after it committed."""

    kind = "reset"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.when = self.params.choice("when", "before", ("before", "after"))

    def gate(self, request: Req, host: FaultHost) -> Resp | None:
        if self.when != "before" or not self.fire():
            return None
        host.event(self, request, "connection reset before the core saw the request")
        return GatewayResponse(0, {FAULT_HEADER: "reset"}, b"", "RESET")

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        if self.when != "after" or not _committed(self, response):
            return response
        host.event(self, request, f"committed {_ma(response)}, then reset the connection")
        return marked(response, "reset")


class Timeout(Fault):
    """Commit, then hold the answer longer than the client waits."""

    kind = "timeout"
    commits_first = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seconds = self.params.number("seconds", 35.0)

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        if not _committed(self, response):
            return response
        host.event(self, request, f"committed {_ma(response)}; answer held {self.seconds:g} s")
        return marked(response, f"delay={self.seconds:.3f}")


class ErrorAfterCommit(Fault):
    """Acknowledge-then-500: the receipt is stored, the client is told 500 SRV-002."""

    kind = "error-after-commit"
    commits_first = True

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        if not _committed(self, response):
            return response
        host.event(self, request, f"committed {_ma(response)}, answered 500 SRV-002")
        return host.gateway.internal_error()


class Rollover(Fault):
    """Swap the gateway's signing credential (receipts and messages) while active."""

    kind = "rollover"
    fires = False

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        credential = self.spec.get("credential")
        if not isinstance(credential, str) or not credential:
            raise self.params.bad("credential", "the name of a test PKI credential")
        self.credential = credential
        self.signer: Any = None
        self.previous: Any = None

    def matches(self, request: Req) -> bool:
        return False

    def reported_hits(self) -> int:
        """1 while active, on every worker alike: it hits no request."""
        return self.hits

    def prepare(self, pki: TestPKI) -> None:
        from mock_gateway.answer_signer import MessageSigner

        try:
            self.signer = MessageSigner(pki.credential(self.credential))
        except PKIError as exc:
            raise ConfigError(
                f"fault profile {self.profile!r}: no test credential {self.credential!r}",
                hint=exc.hint,
            ) from None

    def activate(self, host: FaultHost) -> None:
        gateway = host.gateway
        self.previous, self.hits = gateway.signer, 1
        gateway.signer = gateway.processor.signer = self.signer

    def deactivate(self, host: FaultHost) -> None:
        if self.previous is not None:
            host.gateway.signer = host.gateway.processor.signer = self.previous
            self.previous = None


__all__ = [
    "FAULT_HEADER",
    "Fault",
    "FaultHost",
    "marked",
    "marker_effects",
]
