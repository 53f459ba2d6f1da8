"""The fuzz properties, checked on what a target answered for one case.

A property is a named check over an :class:`Observation` that returns ``None`` when it
holds and the reason when it does not (never a bare bool, so a failure always says
why). The properties, in the order they are judged:

    no-crash                  the target answered (an exception is a crash)
    within-timeout            ... and within the per-case timeout
    no-server-error           never a 5xx, whatever was sent
    bhxh-answer               an answer is BHXH XML (BHXH/XACNHAN_GDICH) that leaks no stack
                              trace (a body that is not is judged by no code property)
    bhxh-signed               ... and carries BHXH's valid signature (receipts and refusals)
    valid-accepted            a valid dossier (or one mutated harmlessly: BOM, NFD) is
                              accepted, with the warnings the mutation implies
    rejected-as-expected      a mutant is rejected with its expected code(s)
    acknowledged-retrievable  an accepted dossier can be read back, byte for byte
    idempotent                resending it under the same message id answers the same receipt
    other-body-refused        another body under that message id is refused 409 DUP-001

``strict`` (the default) also fails a rejection that reports a code outside the expected
set: a mutant breaks exactly one thing, so any other code is a bug in the target or in
the mutation, and both are worth a look. Gateways that report cascades can be fuzzed
with ``strict=False`` (one expected code among those reported suffices).
"""

from __future__ import annotations

import itertools
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from harness.client import RetryPolicy
from harness.error_codes import describe
from harness.errors import ConformanceFinding
from harness.fuzz._watchdog import CallTimedOut, Watchdog
from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Retrieved, Submitted, Target, is_error
from harness.xmlsafe import XMLRejected, parse_xml

DEFAULT_TIMEOUT = 5.0
"""Seconds a target may take for one case (the checker needs milliseconds)."""
EXCERPT = 3000
"""Characters of a failing answer a report shows (an answer's signature block alone is
about 3 KB, after its findings)."""
_NO_ANSWER = Submitted(0, (), None)


@dataclass(frozen=True)
class Observation:
    """What happened when one case was sent: the answer, or the crash or timeout.

    ``unavailable`` says why no answer counts: the gateway kept asking to wait (429, or
    503 with ``Retry-After``) past :data:`MAX_WAIT`; no property is judged on it.
    """

    case: FuzzCase
    answer: Submitted | None
    elapsed: float
    timeout: float
    error: str | None = None
    retrieved: Retrieved | None = None
    strict: bool = True
    replayed: Submitted | None = None  # the same body resent under the same message id
    unavailable: str | None = None
    conflicting: Submitted | None = None  # another body sent under the same message id

    @property
    def timed_out(self) -> bool:
        return self.answer is None and self.error is None and self.unavailable is None

    @property
    def errors(self) -> tuple[str, ...]:
        return () if self.answer is None else tuple(c for c in self.answer.codes if is_error(c))

    @property
    def detail(self) -> str:
        """Where the first error of the answer points and what it says ("" if none)."""
        return "" if self.answer is None else self.answer.detail

    def describe(self) -> str:
        if self.error is not None:
            return f"raised {self.error.splitlines()[-1]}"
        if self.answer is None:
            return f"no answer within {self.timeout:g} s"
        return f"{answered(self.answer)} in {self.elapsed * 1000:.0f} ms"

    def body_for(self, check: str, limit: int = EXCERPT) -> str:
        """The bytes of the answer that broke ``check`` (the resent or conflicting one for
        the message-id properties), as text, cut at ``limit`` characters: the exchange
        that proved the failure, which codes alone do not show (a leaked stack trace, a
        missing signature). Empty where the target has no wire answer."""
        answer = {"idempotent": self.replayed, "other-body-refused": self.conflicting}.get(check)
        body = (answer or self.answer or _NO_ANSWER).body
        if not body:
            return ""
        text = body.decode("utf-8", "replace")
        return text if len(text) <= limit else f"{text[:limit]}\n… ({len(body)} bytes in all)"

    def answer_for(self, check: str) -> str:
        """The answer that broke ``check``: the resent one for ``idempotent``, the read
        back for ``acknowledged-retrievable``, each after the first answer it follows."""
        first = self.describe()
        if check == "idempotent" and self.replayed is not None:
            again = answered(self.replayed, receipt=True)
            return f"{first}, then resent under the same X-Message-Id: {again}"
        if check == "other-body-refused" and self.conflicting is not None:
            again = answered(self.conflicting, receipt=True)
            return f"{first}, then another body under the same X-Message-Id: {again}"
        if check == "acknowledged-retrievable":
            got = "nothing" if self.retrieved is None else f"HTTP {self.retrieved.status}"
            return f"{first}, then reading it back: {got}"
        return first


def answered(answer: Submitted, *, receipt: bool = False) -> str:
    """``HTTP 409 DUP-001`` (each code once, in the order answered), with ``receipt`` also
    the receipt or ``no receipt``."""
    codes = ",".join(dict.fromkeys(answer.codes)) or "no codes"
    text = f"HTTP {answer.status} {codes}"
    if receipt:
        text += f", receipt {answer.receipt_id}" if answer.receipt_id else ", no receipt"
    return text


class PropertyFailed(ConformanceFinding):
    """A fuzz property did not hold for one case; says which, for what and why."""

    def __init__(self, check: str, observation: Observation, reason: str) -> None:
        self.check = check
        self.observation = observation
        self.reason = reason
        case = observation.case
        super().__init__(f"{check} failed for {case!r}: {reason}")

    @property
    def case(self) -> FuzzCase:
        return self.observation.case

    @property
    def cause(self) -> tuple[str, ...] | None:
        """What makes two such failures one bug when the dossier sent plays no part (a
        leaked stack trace, an unsigned answer): the property and its reason; else None."""
        return (self.check, self.reason) if self.check in CASE_FREE else None


Check = Callable[[Observation], str | None]
CHECKS: dict[str, Check] = {}

REQUIREMENT = (
    "DESIGN.md Suites/Fuzz: valid accepted, each mutation rejected with its code, never 5xx"
)
"""What most properties hold the gateway to; :data:`REQUIREMENTS` names the others'."""
REQUIREMENTS = {
    "idempotent": "DESIGN.md Gateway API: the same X-Message-Id with the same body returns "
    "the same receipt",
    "acknowledged-retrievable": "DESIGN.md Suites/Fuzz: never a lost acknowledged dossier",
    "bhxh-answer": "DOMAIN.md BHXH's answers: every answer is a BHXH/XACNHAN_GDICH document "
    "(never the gateway's internals, such as a stack trace)",
    "bhxh-signed": "DOMAIN.md BHXH's answers: BHXH signs every answer (TTCKY_BHXH); DESIGN.md "
    "Gateway API: 202 with a signed receipt",
    "other-body-refused": "DESIGN.md Gateway API: the same X-Message-Id with a different body "
    "returns 409",
}
CASE_FREE = frozenset({"bhxh-answer", "bhxh-signed", "other-body-refused"})
"""Properties whose failure says the same whatever dossier showed it: one failure per
reason, not one per expected code (see :attr:`PropertyFailed.cause`)."""


def requirement(check: str) -> str:
    """The rule of DESIGN.md that property ``check`` holds the gateway to."""
    return REQUIREMENTS.get(check, REQUIREMENT)


def check(name: str) -> Callable[[Check], Check]:
    """Register a property under ``name`` (judged in registration order)."""

    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


@check("no-crash")
def _no_crash(obs: Observation) -> str | None:
    return None if obs.error is None else f"the target raised {obs.error.splitlines()[-1]}"


@check("within-timeout")
def _within_timeout(obs: Observation) -> str | None:
    if obs.timed_out or obs.elapsed > obs.timeout:
        return f"no answer within {obs.timeout:g} s"
    return None


@check("no-server-error")
def _no_server_error(obs: Observation) -> str | None:
    if obs.answer is not None and obs.answer.status >= 500:
        return f"server error: {obs.describe()}"
    return None


_LEAKS = (
    ("Python", re.compile(rb"Traceback \(most recent call last\)|File \"[^\"\n]+\", line \d+")),
    ("Java", re.compile(rb"\bat [\w$.<>]+\([\w$]+\.(?:java|kt|scala):\d+\)")),
    (".NET", re.compile(rb"\bat [\w.`<>]+\(.*\) in \S+\.cs:line \d+")),
    ("Go", re.compile(rb"goroutine \d+ \[running\]")),
)
"""Stack-trace shapes by runtime: an answer carrying one shows the gateway's code."""
BHXH_ROOT = ("BHXH", "XACNHAN_GDICH")
"""The root and first element of every BHXH answer (DOMAIN.md)."""


def _leak(body: bytes) -> str | None:
    """The runtime whose stack trace ``body`` carries (None: none found)."""
    return next((runtime for runtime, pattern in _LEAKS if pattern.search(body)), None)


def _not_bhxh_xml(body: bytes) -> str | None:
    """Why ``body`` is not a BHXH answer document (None: it is); case-independent words."""
    try:
        root = parse_xml(body)
    except (XMLRejected, ValueError):
        return "not XML"
    if root.tag != BHXH_ROOT[0] or root.find(BHXH_ROOT[1]) is None:
        return f"XML rooted at <{root.tag}>, not <{BHXH_ROOT[0]}><{BHXH_ROOT[1]}>"
    return None


def unreadable(answer: Submitted | None) -> bool:
    """Whether ``answer`` came as bytes that are no BHXH answer (then its codes, read from
    nothing, judge nothing: ``bhxh-answer`` reports it once)."""
    if answer is None or answer.body is None or answer.status >= 500:
        return False
    return _not_bhxh_xml(answer.body) is not None


@check("bhxh-answer")
def _bhxh_answer(obs: Observation) -> str | None:
    answer = obs.answer
    if answer is None or answer.body is None:
        return None
    runtime = _leak(answer.body)
    shape = _not_bhxh_xml(answer.body) if answer.status < 500 else None
    if runtime is not None:
        inside = f"a body that is {shape}" if shape else "its body"
        return f"the HTTP {answer.status} answer leaks a {runtime} stack trace in {inside}"
    if shape is not None:
        return f"the HTTP {answer.status} answer is not BHXH's answer document: {shape}"
    return None


@check("bhxh-signed")
def _bhxh_signed(obs: Observation) -> str | None:
    answer = obs.answer
    if answer is None or not answer.signature or unreadable(answer):
        return None
    return f"BHXH's signature of the HTTP {answer.status} answer is {answer.signature}"


@check("valid-accepted")
def _valid_accepted(obs: Observation) -> str | None:
    case, answer = obs.case, obs.answer
    if answer is None or not case.must_accept or unreadable(answer):
        return None
    if not 200 <= answer.status < 300 or obs.errors or answer.receipt_id is None:
        return f"must be accepted, got {obs.describe()}"
    missing = case.expected_warnings - set(answer.codes)
    if missing:
        return f"accepted without warning {','.join(sorted(missing))}: {obs.describe()}"
    return None


@check("rejected-as-expected")
def _rejected_as_expected(obs: Observation) -> str | None:
    case, answer = obs.case, obs.answer
    if answer is None or case.must_accept or unreadable(answer):
        return None
    expected = ",".join(sorted(case.expected_codes))
    errors = set(obs.errors)
    if not 400 <= answer.status < 500 or not errors:
        return f"must be rejected with {expected}, got {obs.describe()}"
    if not errors & case.expected_codes:
        return f"expected {expected}, got {obs.describe()}"
    if obs.strict and not errors <= case.expected_codes:
        others = ",".join(sorted(errors - case.expected_codes))
        return f"expected only {expected}, also got {others}: {obs.describe()}"
    return None


@check("acknowledged-retrievable")
def _retrievable(obs: Observation) -> str | None:
    answer = obs.answer
    if answer is None or answer.receipt_id is None or not 200 <= answer.status < 300:
        return None
    got = obs.retrieved
    if got is None or got.status != 200:
        status = "nothing" if got is None else f"HTTP {got.status}"
        return f"receipt {answer.receipt_id} was acknowledged but reading it back gave {status}"
    if got.body is not None and got.body != obs.case.body:
        return f"receipt {answer.receipt_id} reads back different bytes"
    return None


@check("idempotent")
def _idempotent(obs: Observation) -> str | None:
    answer, again = obs.answer, obs.replayed
    if answer is None or answer.receipt_id is None or again is None:
        return None
    if again.status != answer.status or again.receipt_id != answer.receipt_id:
        return (
            f"resending under the same message id answered {answered(again, receipt=True)}, "
            f"not HTTP {answer.status} with receipt {answer.receipt_id}"
        )
    return None


CONFLICT = "DUP-001"
"""The code of a message id reused for another body (DESIGN.md idempotency rule)."""


@check("other-body-refused")
def _other_body_refused(obs: Observation) -> str | None:
    other = obs.conflicting
    if other is None:
        return None
    status = describe(CONFLICT).http
    if other.status != status or CONFLICT not in other.codes:
        return (
            f"another body under the same message id answered {answered(other)}, "
            f"not HTTP {status} {CONFLICT}"
        )
    return None


def other_body(body: bytes) -> bytes:
    """``body`` with a comment after its root element: other bytes, the same dossier and
    signatures, so only the reused message id can make a gateway refuse it."""
    return body + b"\n<!-- fuzz: another body under the same X-Message-Id -->\n"


_WATCHDOG = Watchdog()
_MESSAGES = itertools.count(1)

MAX_WAIT = 60.0
"""Seconds one request may spend waiting out a gateway that asks to wait (429, 503 with
``Retry-After``) before the gateway counts as unavailable and the run ends, no verdict."""
RETRY = RetryPolicy(base_delay=0.5, max_delay=MAX_WAIT)
"""How such a request is sent again: as many tries as the reference client's policy, the
first retry of a 429 that names no ``Retry-After`` after ``base_delay`` (then doubled), no
wait beyond :data:`MAX_WAIT`. Its ``timeout`` is unused: a case has its own."""


class _StillUnavailable(Exception):
    """The gateway kept asking to wait past :data:`MAX_WAIT` or ``RETRY.attempts`` tries."""


Answered = TypeVar("Answered", Submitted, Retrieved)


def _wait(seconds: float) -> None:
    """Sleep (a seam: tests wait no real time)."""
    time.sleep(seconds)


def _pause(attempt: int, asked: float) -> float:
    """Seconds before the try after ``attempt``: the ``Retry-After`` asked, else ``RETRY``'s
    backoff, both capped. Not ``RETRY.delay``: its full jitter may crowd the tries into less
    than a second of a short 429 burst, and it may wait longer than the gateway asked."""
    backoff = RETRY.base_delay * 2 ** (attempt - 1)
    return min(asked or backoff, RETRY.max_delay)


def _patiently(dog: Watchdog, call: Callable[[], Answered], timeout: float) -> Answered:
    """``call()``'s answer once the gateway stops asking to wait, as ``regress`` and ``load``
    retry: the same request again, after ``Retry-After`` (capped), bounded in total."""
    waited = 0.0
    for attempt in range(1, RETRY.attempts + 1):
        answer: Answered = dog.call(call, timeout)
        if answer.retry_after is None:
            return answer
        pause = _pause(attempt, answer.retry_after)
        if attempt == RETRY.attempts or waited + pause > MAX_WAIT:
            break
        _wait(pause)
        waited += pause
    asked = "" if not answer.retry_after else f" (Retry-After: {answer.retry_after:g})"
    raise _StillUnavailable(
        f"it answered HTTP {answer.status}{asked} {attempt} time(s) in a row, "
        f"over {waited:.0f} s of waiting"
    )


def observe(
    target: Target,
    case: FuzzCase,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = True,
    watchdog: Watchdog | None = None,
) -> Observation:
    """Send ``case`` under a fresh message id and read an acknowledged dossier back; a
    gateway asking to wait is waited out (see :func:`_patiently`), the wait not timed."""
    dog = watchdog or _WATCHDOG
    message_id = f"{case.message_id}-{next(_MESSAGES)}"
    try:
        return _observe(target, case, dog, message_id, timeout, strict)
    except _StillUnavailable as exc:
        return Observation(case, None, 0.0, timeout, strict=strict, unavailable=str(exc))


def _observe(
    target: Target, case: FuzzCase, dog: Watchdog, message_id: str, timeout: float, strict: bool
) -> Observation:
    start = time.perf_counter()

    def submit() -> Submitted:
        nonlocal start
        start = time.perf_counter()  # the last attempt is the one timed
        return target.submit(case.body, message_id)

    try:
        answer: Submitted = _patiently(dog, submit, timeout)
    except CallTimedOut:
        return Observation(case, None, time.perf_counter() - start, timeout, strict=strict)
    except _StillUnavailable:
        raise
    except Exception as exc:
        text = "".join(traceback.format_exception(exc)).strip()
        return Observation(case, None, time.perf_counter() - start, timeout, text, strict=strict)
    elapsed = time.perf_counter() - start
    retrieved = replayed = conflicting = None
    if answer.receipt_id is not None:
        receipt, other = str(answer.receipt_id), other_body(case.body)
        try:
            retrieved = _patiently(dog, lambda: target.fetch(receipt), timeout)
            replayed = _patiently(dog, lambda: target.submit(case.body, message_id), timeout)
            conflicting = _patiently(dog, lambda: target.submit(other, message_id), timeout)
        except CallTimedOut:
            retrieved = retrieved or Retrieved(504, None)
        except _StillUnavailable:
            raise
        except Exception as exc:
            text = "".join(traceback.format_exception(exc)).strip()
            return Observation(case, answer, elapsed, timeout, text, strict=strict)
    return Observation(
        case, answer, elapsed, timeout, None, retrieved, strict, replayed, None, conflicting
    )


def failures(obs: Observation) -> list[PropertyFailed]:
    """Every property that does not hold for this observation, in judging order."""
    found: list[PropertyFailed] = []
    if obs.unavailable is not None:
        return found  # the gateway asked to wait: nothing was answered to judge
    for name, function in CHECKS.items():
        reason = function(obs)
        if reason is not None:
            found.append(PropertyFailed(name, obs, reason))
    return found


def assert_case(
    target: Target,
    case: FuzzCase,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = True,
    record: Callable[[PropertyFailed], None] | None = None,
) -> Observation:
    """Send ``case`` and raise the first :class:`PropertyFailed` (after ``record``-ing it)."""
    obs = observe(target, case, timeout=timeout, strict=strict)
    found = failures(obs)
    if found:
        if record is not None:
            record(found[0])
        raise found[0]
    return obs


__all__ = [
    "BHXH_ROOT",
    "CASE_FREE",
    "CHECKS",
    "CONFLICT",
    "DEFAULT_TIMEOUT",
    "MAX_WAIT",
    "REQUIREMENT",
    "REQUIREMENTS",
    "Observation",
    "PropertyFailed",
    "answered",
    "assert_case",
    "check",
    "failures",
    "observe",
    "other_body",
    "requirement",
    "unreadable",
]
