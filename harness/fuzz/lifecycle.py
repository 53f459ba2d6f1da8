"""The dossier lifecycle as a hypothesis state machine, against any gateway the fuzz CLI
reaches (:class:`~harness.fuzz.lifecycle_wire.LifecycleGateway`: in process or a URL).

Two I-VANs submit, resubmit (same message id and body, or same id and another body), read
their feeds, acknowledge, try to read each other's dossiers and messages, let simulated
time pass and switch a 503 burst on and off (a submission then retries under the same
message id, as a correct I-VAN does). After every step the invariants hold: every receipt
stays readable by its owner (never a lost acknowledged dossier) and invisible to the other
I-VAN, a message id answers one receipt, the feed never repeats or leaks a message, and an
acknowledged message stays acknowledged. A broken one raises :class:`LifecycleViolation`
naming the property, so hypothesis shrinks to the fewest steps that show it.

Every sequence starts with a receipt per I-VAN (else hypothesis's simplest sequence judges
nothing), and the machine logs each step in words as it runs it: a failure hypothesis cannot
replay (a URL whose state moved on) still shows its steps.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from harness.fuzz.lifecycle_wire import LifecycleGateway
from harness.fuzz.target import ACCEPTED

REQUIREMENTS = {
    "lifecycle-never-5xx": "DESIGN.md Suites/Fuzz: never 5xx",
    "lifecycle-receipt": "DESIGN.md Gateway API: a valid dossier answers 202 with a new "
    "receipt once durably stored",
    "lifecycle-idempotent": "DESIGN.md Gateway API: the same X-Message-Id with the same body "
    "returns the same receipt, with a different body 409 (one receipt per message id)",
    "lifecycle-dossier-kept": "DESIGN.md Suites/Fuzz: never a lost acknowledged dossier",
    "lifecycle-isolated": "DESIGN.md Gateway API: only the I-VAN that sent a dossier may read "
    "it, its messages or ack them",
    "lifecycle-feed": "DESIGN.md Gateway API: the feed gives each message once, as XML",
    "lifecycle-ack-kept": "DESIGN.md Gateway API: an acknowledged message stays acknowledged",
}
"""Each property the machine holds a gateway to, and the rule of DESIGN.md it comes from."""


class RunOver(BaseException):
    """The run's steps all ran, or its deadline passed (``--duration``, then ``why`` says
    it): a stop hypothesis does not catch, so no sequence runs past either."""

    def __init__(self, why: str = "") -> None:
        super().__init__(why)
        self.why = why


class LifecycleViolation(AssertionError):
    """A lifecycle property broken: ``check`` names it (a key of :data:`REQUIREMENTS`)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.reason = message


@dataclass
class Submission:
    ivan: str
    message_id: str
    body: int  # the index of the body in the I-VAN's pool
    ma_gdich: str

    def __repr__(self) -> str:  # what a failing step names, without the bytes
        return f"Submission({self.ivan}, body={self.body}, ma_gdich={self.ma_gdich!r})"


def _named(submission: Submission) -> str:
    """A submission in a step's words: its message id and receipt."""
    return f"message id {submission.message_id} (receipt {submission.ma_gdich})"


@dataclass
class Run:
    """What every machine of one run shares: the gateway, the bodies each I-VAN sends, the
    message ids' prefix (fresh per run: a URL gateway keeps earlier runs' ids) and what the
    run exercised, so a vacuous run shows as such."""

    gateway: LifecycleGateway
    bodies: dict[str, list[bytes]]
    prefix: str
    first: LifecycleViolation | None = None
    limit: int = 0
    """Steps the run may take (0: no limit), the start of each sequence aside."""
    deadline: float | None = None
    """``time.perf_counter()`` past which no further step starts (None: no deadline)."""
    first_steps: tuple[str, ...] = ()
    """The steps, as run, of the sequence that broke a property first."""
    last_steps: tuple[str, ...] = ()
    """The steps of the last sequence that broke one: hypothesis's shrunk one replays last."""
    found_stats: dict[str, int] | None = None
    """What the run exercised until the first violation (shrinking replays steps)."""
    log: list[str] = field(default_factory=list)
    """The steps of the sequence running (or the last one run), in words."""
    counter: itertools.count[int] = field(default_factory=itertools.count)
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("steps", "receipts", "resubmitted", "messages", "acked", "refused"), 0
        )
    )

    def message_id(self) -> str:
        return f"{self.prefix}-{next(self.counter):06d}"

    @property
    def ivans(self) -> tuple[str, ...]:
        return self.gateway.ivans


POOL = 4
"""Valid dossiers per I-VAN the machine submits (signing is the slow part)."""


class Lifecycle(RuleBasedStateMachine):
    """One sequence of lifecycle steps against :attr:`run`'s gateway."""

    submissions = Bundle("submissions")

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.gw = run.gateway
        self.receipts: dict[str, Submission] = {}  # by message id
        self.seen: dict[str, set[str]] = {i: set() for i in run.ivans}
        self.acked: dict[str, dict[str, str]] = {i: {} for i in run.ivans}  # id -> ack time
        self.cursor = {i: self.gw.feed_end(i) for i in run.ivans}
        self.started = 0
        self.dossier_of: dict[str, str] = {}  # message id -> its dossier's receipt
        self.log: list[str] = []  # the steps as run, in words: what a failure shows
        run.log = self.log

    def teardown(self) -> None:
        if self.gw.faults:
            self.gw.calm()

    # -- helpers ---------------------------------------------------------------------------

    def _expect(self, condition: bool, check: str, message: str) -> None:
        if condition:
            return
        violation = LifecycleViolation(check, message)
        if self.run.first is None:  # kept if hypothesis's replay is flaky
            self.run.first, self.run.first_steps = violation, tuple(self.log)
            self.run.found_stats = dict(self.run.stats)  # shrinking's replays aside
        self.run.last_steps = tuple(self.log)
        raise violation

    def _step(self, text: str) -> None:
        """Log a step before it runs; once the run's steps ran, or past its deadline, stop
        instead (the start of a sequence, its receipts, always runs)."""
        run = self.run
        if run.first is not None or not self.started:  # shrinking, or a sequence's start
            self.log.append(text)
            return
        if run.limit and run.stats["steps"] >= run.limit:
            raise RunOver
        if run.deadline is not None and time.perf_counter() >= run.deadline:
            raise RunOver("stopped at the --duration deadline")
        self.log.append(text)

    def _other(self, ivan: str) -> str | None:
        others = [i for i in self.run.ivans if i != ivan]
        return others[0] if others else None

    def _status(self, status: int, what: str) -> None:
        self._expect(status < 500, "lifecycle-never-5xx", f"{what} answered {status}")

    def _submit(self, ivan: str, body: int, message_id: str) -> tuple[int, str | None]:
        answer, refused = self.gw.submit(ivan, self.run.bodies[ivan][body], message_id)
        self.run.stats["refused"] += refused
        self._status(answer.status, f"POST /api/v1/dossiers as {ivan}")
        self._expect(
            answer.retry_after is None,
            "lifecycle-receipt",
            f"still {answer.status} after {refused} tries under the same message id",
        )
        return answer.status, answer.receipt_id

    def _new(self, ivan: str, body: int) -> Submission:
        message_id = self.run.message_id()
        self._step(f"submit as {ivan}: dossier {body}, message id {message_id}")
        status, receipt = self._submit(ivan, body, message_id)
        self._expect(
            status == ACCEPTED and bool(receipt),
            "lifecycle-receipt",
            f"a valid dossier of {ivan} under a new message id answered {status}",
        )
        assert receipt is not None
        known = {s.ma_gdich for s in self.receipts.values()}
        self._expect(receipt not in known, "lifecycle-receipt", f"receipt {receipt} given twice")
        submission = Submission(ivan, message_id, body, receipt)
        self.receipts[message_id] = submission
        self.run.stats["receipts"] += 1
        return submission

    # -- rules -----------------------------------------------------------------------------

    @initialize(target=submissions)
    def start(self) -> object:
        """Every sequence starts with a receipt per I-VAN: else hypothesis's simplest
        sequence (one poll over and over) judges nothing."""
        return multiple(*(self._new(ivan, 0) for ivan in self.run.ivans))

    @rule(target=submissions, body=st.integers(0, POOL - 1))
    def submit(self, body: int) -> Submission:
        return self._new(self.gw.own_ivan, body)

    @precondition(lambda self: self.gw.other is not None)
    @rule(target=submissions, body=st.integers(0, POOL - 1))
    def submit_as_other(self, body: int) -> Submission:
        return self._new(self.gw.other_ivan, body)

    @rule(submission=submissions)
    def resubmit_same(self, submission: Submission) -> None:
        self._step(f"resubmit as {submission.ivan}: {_named(submission)}, the same body")
        self.run.stats["resubmitted"] += 1
        status, receipt = self._submit(submission.ivan, submission.body, submission.message_id)
        said = f"{status} {receipt}" if receipt else str(status)
        self._expect(
            status == ACCEPTED and receipt == submission.ma_gdich,
            "lifecycle-idempotent",
            f"the same message id and body answered {said}, not 202 {submission.ma_gdich}",
        )

    @rule(submission=submissions, body=st.integers(0, POOL - 1))
    def resubmit_other_body(self, submission: Submission, body: int) -> None:
        self._step(f"resubmit as {submission.ivan}: {_named(submission)}, dossier {body}")
        self.run.stats["resubmitted"] += 1
        status, receipt = self._submit(submission.ivan, body, submission.message_id)
        if body == submission.body:
            ok, wanted = status == ACCEPTED and receipt == submission.ma_gdich, "202"
        else:
            ok, wanted = status == 409, "409"
        self._expect(
            ok, "lifecycle-idempotent", f"the same message id answered {status}, not {wanted}"
        )

    @precondition(lambda self: self.gw.faults)
    @rule(count=st.integers(1, 3))
    def fault_on(self, count: int) -> None:
        self._step(f"503 burst on: the next {count} submission(s) refused")
        self.gw.burst(count)

    @precondition(lambda self: self.gw.faults)
    @rule()
    def fault_off(self) -> None:
        self._step("503 burst off")
        self.gw.calm()

    @precondition(lambda self: self.gw.clock)
    @rule(seconds=st.sampled_from([900.0, 3600.0, 7200.0]))
    def advance(self, seconds: float) -> None:
        self._step(f"advance the clock {seconds:g} s")
        self._expect(self.gw.advance(seconds), "lifecycle-never-5xx", "the clock did not advance")

    # Hypothesis's simplest sequence repeats its first rule (no target, no argument, then by
    # name): this one, so that sequence still sees dossiers processed and their messages.
    @precondition(lambda self: self.gw.clock)
    @rule()
    def advance_and_read(self) -> None:
        self._step(f"advance the clock 3600 s and read the feed as {self.gw.own_ivan}")
        self._expect(self.gw.advance(3600), "lifecycle-never-5xx", "the clock did not advance")
        self._poll(self.gw.own_ivan)

    @rule()
    def poll(self) -> None:
        self._step(f"read the feed as {self.gw.own_ivan}")
        self._poll(self.gw.own_ivan)

    @precondition(lambda self: self.gw.other is not None)
    @rule()
    def poll_as_other(self) -> None:
        self._step(f"read the feed as {self.gw.other_ivan}")
        self._poll(self.gw.other_ivan)

    def _poll(self, ivan: str) -> None:
        after = self.cursor[ivan]
        page = self.gw.feed(ivan, after)
        self._status(page.status, f"GET /api/v1/messages as {ivan}")
        self._expect(page.status == 200, "lifecycle-feed", f"the feed answered {page.status}")
        other = self._other(ivan)
        theirs = {s.ma_gdich for s in self.receipts.values() if s.ivan == other}
        for entry in page.entries:
            self._expect(
                entry.id not in self.seen[ivan],
                "lifecycle-feed",
                f"{ivan}'s feed gave message {entry.id} again (after cursor {after})",
            )
            self._expect(
                entry.ma_gdich not in theirs,
                "lifecycle-isolated",
                f"{ivan}'s feed carries message {entry.id} of {other}'s dossier {entry.ma_gdich}",
            )
            self._expect(entry.readable, "lifecycle-feed", f"message {entry.id} is not an XML text")
            self.seen[ivan].add(entry.id)
            self.dossier_of[entry.id] = entry.ma_gdich
            self.run.stats["messages"] += 1
        self.cursor[ivan] = page.cursor

    # ``pick`` chooses among the messages read, whatever their number: a draw shaped by
    # the gateway's state (st.data) replays inconsistently, and hypothesis gives up.
    @rule(pick=st.integers(0, 255))
    def ack(self, pick: int) -> None:
        self._ack(self.gw.own_ivan, pick)

    @precondition(lambda self: self.gw.other is not None)
    @rule(pick=st.integers(0, 255))
    def ack_as_other(self, pick: int) -> None:
        self._ack(self.gw.other_ivan, pick)

    def _ack(self, ivan: str, pick: int) -> None:
        self._step(f"ack as {ivan}")
        self._poll(ivan)  # an I-VAN acks what it has read: read first, so there is something
        mine = {s.ma_gdich for s in self.receipts.values() if s.ivan == ivan}
        # its own receipts' messages only: the invariant then checks the acked dossier kept
        seen = sorted(m for m in self.seen[ivan] if self.dossier_of.get(m) in mine)
        if not seen:
            self.log[-1] += ": no message of its dossiers read yet"
            return
        message_id = seen[pick % len(seen)]
        self.log[-1] += f": message {message_id} of dossier {self.dossier_of[message_id]}"
        status, at = self.gw.ack(ivan, message_id)
        self._status(status, f"POST /api/v1/messages/{message_id}/ack as {ivan}")
        self._expect(
            status == 200, "lifecycle-ack-kept", f"its own message's ack answered {status}"
        )
        first = self.acked[ivan].setdefault(message_id, at)
        self._expect(
            at == first,
            "lifecycle-ack-kept",
            f"message {message_id} acknowledged at {first} answers a new ack with {at or '-'}",
        )
        self.run.stats["acked"] += 1
        other = self._other(ivan)
        if other is not None:
            stranger, _ = self.gw.ack(other, message_id)
            self._status(stranger, f"POST /api/v1/messages/{message_id}/ack as {other}")
            self._expect(
                stranger == 404,
                "lifecycle-isolated",
                f"{other} acknowledging {ivan}'s message {message_id} answered {stranger}",
            )

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def receipts_kept_and_isolated(self) -> None:
        for submission in self.receipts.values():
            view = self.gw.dossier(submission.ivan, submission.ma_gdich)
            self._status(view.status, f"GET /api/v1/dossiers/{submission.ma_gdich}")
            self._expect(
                view.status == 200,
                "lifecycle-dossier-kept",
                f"{submission.ivan}'s acknowledged dossier {submission.ma_gdich} answers "
                f"{view.status} to its owner",
            )
            self._expect(
                view.message_id in ("", submission.message_id),
                "lifecycle-dossier-kept",
                f"dossier {submission.ma_gdich} says message id {view.message_id}, "
                f"sent as {submission.message_id}",
            )
            for message_id, first in self.acked[submission.ivan].items():
                if message_id in view.acks:
                    self._expect(
                        view.acks[message_id] == first,
                        "lifecycle-ack-kept",
                        f"message {message_id} acknowledged at {first} now shows "
                        f"{view.acks[message_id] or 'no ack'}",
                    )
            other = self._other(submission.ivan)
            if other is not None:
                seen = self.gw.dossier(other, submission.ma_gdich).status
                self._status(seen, f"GET /api/v1/dossiers/{submission.ma_gdich} as {other}")
                self._expect(
                    seen == 404,
                    "lifecycle-isolated",
                    f"{other} reading {submission.ivan}'s dossier {submission.ma_gdich} "
                    f"answered {seen}",
                )

    @invariant()
    def one_receipt_per_message_id(self) -> None:
        self.run.stats["steps"] += self.started  # checked after the start and every step
        self.started = 1
        distinct = {s.ma_gdich for s in self.receipts.values()}
        self._expect(
            len(distinct) == len(self.receipts),
            "lifecycle-idempotent",
            f"{len(self.receipts)} message ids hold {len(distinct)} receipts",
        )


__all__ = [
    "POOL",
    "REQUIREMENTS",
    "Lifecycle",
    "LifecycleViolation",
    "Run",
    "Submission",
]
