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

Here are the properties, their registry and the requirements they hold a gateway to;
sending a case and recording what came back is :mod:`harness.fuzz.exchange`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.error_codes import describe
from harness.errors import ConformanceFinding
from harness.fuzz.observation import Observation, answered
from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Submitted
from harness.xmlsafe import XMLRejected, parse_xml


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


__all__ = [
    "BHXH_ROOT",
    "CASE_FREE",
    "CHECKS",
    "CONFLICT",
    "REQUIREMENT",
    "REQUIREMENTS",
    "PropertyFailed",
    "check",
    "failures",
    "requirement",
    "unreadable",
]
