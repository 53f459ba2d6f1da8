"""The feed side of an I-VAN: :func:`parse_feed` reads a page, :class:`FeedReader` polls,
times and acknowledges its messages, and finds the feed's end before the run
(:class:`FeedEndUnknown` when it cannot).

Its own module: reading the feed is a loop apart from submitting (one reader per
process, beside the users), with its own retries and its own account of the stop.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.client import RETRYABLE_STATUS
from harness.errors import GatewayUnavailable
from harness.load.ivan import (
    ACK,
    ACK_OTHER,
    FEED,
    FEED_AT_STOP,
    FEED_START,
    LOAD_RETRY,
    Client,
    Response,
    _retry_after,
    failure_text,
)
from harness.load.lifecycle_log import LifecycleLog
from harness.xmlsafe import XMLLimits, parse_xml

_FEED_LIMITS = XMLLimits(max_bytes=64 * 1024 * 1024)
LEFT_AT_STOP_PAGES = 20
"""Feed pages a generator reads, at most, to count the messages it leaves unread at the
stop: past that many the report says "at least"."""
ACK_BACKLOG_NAP = 0.05
"""Real seconds a feed reader with too many pages of acks running naps before it looks
again."""
FIND_END_PATIENCE = 20.0
"""Real seconds a generator waits in all, retrying, for its feed's end before the run: the
run's shape holds its clock 30 s for generators getting ready."""


@dataclass(frozen=True)
class FeedEntry:
    """One message of the feed, without its (large) signed content."""

    id: str
    kind: str
    ma_gdich: str


def parse_feed(body: bytes, cursor: int) -> tuple[list[FeedEntry], int]:
    """The entries of a feed page and the cursor to ask from next (``ValueError`` if bad)."""
    root = parse_xml(body, _FEED_LIMITS)
    entries = [
        FeedEntry(
            id=node.findtext("ID", ""),
            kind=node.findtext("LOAI", ""),
            ma_gdich=node.findtext("MA_GDICH", ""),
        )
        for node in root.iterfind("DS_THONGBAO/THONGBAO")
    ]
    following = root.findtext("CON_TRO_TIEP", "") or ""
    return entries, int(following) if following.isascii() and following.isdigit() else cursor


class FeedEndUnknown(GatewayUnavailable):
    """The end of an I-VAN's feed could not be found before the run: its reader must not
    start from 0, where it would re-read and re-acknowledge the gateway's whole history."""


@dataclass
class _EndFinder:
    """One-message feed reads for :meth:`FeedReader.skip_to_end`, retried within a budget
    of waiting: a gateway that refuses them for longer is not waited out."""

    client: Client
    auth: dict[str, str]
    patience: float
    sleep: Callable[[float], None]
    rng: random.Random
    waited: float = 0.0

    def next_after(self, after: int) -> int:
        """The position of the first message after ``after``, 0 for none."""
        attempt = 0
        while True:
            attempt += 1
            path = f"/api/v1/messages?after={after}&limit=1"
            with self.client.request(
                "GET", path, name=FEED_START, headers=self.auth, catch_response=True
            ) as response:
                status = response.status_code
                if status == 200:
                    return _next_position(response, after)
                why = failure_text(response)
                response.failure(why)
                asked = _retry_after(response) or 0.0
                wait = LOAD_RETRY.delay(attempt, asked, self.rng)
            if status not in RETRYABLE_STATUS and status != 0:
                raise self._unknown(why, "check the I-VAN token and the gateway's feed route")
            if self.waited + max(wait, asked) > self.patience:  # a longer wait is not waited
                raise self._unknown(why, _WAIT_HINT)
            self.waited += wait
            self.sleep(wait)

    def _unknown(self, why: str, hint: str) -> FeedEndUnknown:
        return FeedEndUnknown(
            f"the end of the I-VAN's feed could not be found before the run ({why}, "
            f"after {self.waited:.0f} s of retrying): its feed reader did not start, "
            "rather than re-read and re-acknowledge the gateway's whole history, so this "
            f"generator's lifecycle times were not measured\nHint: {hint}"
        )


_WAIT_HINT = (
    "run again once the gateway answers its feed (a maintenance window or a fault: on the "
    "mock gateway, DELETE /admin/faults clears it)"
)


def _next_position(response: Response, after: int) -> int:
    """What a one-message page says: the next message's position past ``after``, or 0."""
    try:
        entries, following = parse_feed(response.content or b"", after)
    except ValueError as exc:
        response.failure("unreadable feed page")
        raise FeedEndUnknown(
            f"the end of the I-VAN's feed could not be found before the run: an unreadable "
            f"feed page ({str(exc)[:200]}); its feed reader did not start"
        ) from None
    response.success()
    return following if entries and following > after else 0


def run_sequentially(jobs: Sequence[Callable[[], None]]) -> None:
    for job in jobs:
        job()


@dataclass
class FeedReader:
    """One I-VAN process's feed consumer: poll after the cursor, time, acknowledge all.

    An ack that fails is tried again on the next poll: an I-VAN must acknowledge every
    message, and a load test that forgot some would leave the gateway redelivering. A
    message that is not about one of the run's dossiers is acknowledged as
    :data:`ACK_OTHER`, so the ack step's latency is the run's own.
    """

    client: Client
    ivan_token: str
    log: LifecycleLog
    page: int = 200
    interval: float = 0.5
    run_all: Callable[[Sequence[Callable[[], None]]], None] = run_sequentially
    clock: Callable[[], float] = time.time
    cursor: int = 0
    timer: Callable[[], float] = time.perf_counter
    unacked: list[str] = field(default_factory=list)
    theirs: dict[str, str] = field(default_factory=dict)  # ID → MA_GDICH, not known ours
    outstanding: set[str] = field(default_factory=set)  # IDs read and not yet acknowledged
    spawn: Callable[[Callable[[], None]], object] | None = None
    """Starts a job on its own greenlet (``gevent.spawn``): a page's acks then run while
    the reader polls on, so ack latency is not charged to the lifecycle times. None: the
    acks of a page run before the next poll."""
    ack_backlog: int = 4
    """Pages whose acks may run at once with ``spawn``; the reader waits past that many."""
    acking: int = 0  # pages whose acks are running

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ivan_token}"}

    def poll_once(self) -> int:
        """Read one page, time its messages, acknowledge them; returns how many came."""
        path = f"/api/v1/messages?after={self.cursor}&limit={self.page}"
        sent = self.timer()
        with self.client.request(
            "GET", path, name=FEED, headers=self._auth, catch_response=True
        ) as response:
            self.log.response(FEED, (self.timer() - sent) * 1000.0, response.status_code)
            if response.status_code != 200:
                response.failure(failure_text(response))
                return 0
            try:
                entries, following = parse_feed(response.content or b"", self.cursor)
            except ValueError as exc:
                response.failure(f"unreadable feed page: {str(exc)[:200]}")
                return 0
            response.success()
        now = self.clock()
        listed: dict[str, None] = {}  # a message listed twice in a page is acknowledged once
        for entry in entries:
            if not self.log.message(entry.kind, entry.ma_gdich, now):
                self.theirs[entry.id] = entry.ma_gdich
            listed[entry.id] = None
        todo = self.unacked + [message_id for message_id in listed if message_id]
        self.outstanding.update(todo)
        self.unacked = []
        self.cursor = following
        self._acknowledge([functools.partial(self.ack, message_id) for message_id in todo])
        return len(entries)

    def _acknowledge(self, jobs: list[Callable[[], None]]) -> None:
        """Run a page's acks: on their own greenlet with :attr:`spawn`, else now."""
        if self.spawn is None or not jobs:
            self.run_all(jobs)
            return
        self.acking += 1
        self.spawn(functools.partial(self._ack_page, jobs))

    def _ack_page(self, jobs: list[Callable[[], None]]) -> None:
        try:
            self.run_all(jobs)
        finally:
            self.acking -= 1

    def skip_to_end(
        self,
        client: Client | None = None,
        *,
        patience: float = FIND_END_PATIENCE,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> int:
        """Move the cursor past every message the feed holds now, and return it.

        A run then reads only its own dossiers' messages, not a long-lived gateway's whole
        history (100,000 messages were 500 pages and 100,000 acks before the run's own).
        It takes about 2·log2(N) reads of one message each: find a position past the end
        by doubling, then halve the gap. ``client`` (default: the reader's) lets the
        caller keep these reads out of the run's figures. A refused or dropped read is
        tried again as the reference client does (``Retry-After`` wins), for at most
        ``patience`` seconds of waiting in all; a feed whose end is still unknown then
        raises :class:`FeedEndUnknown`: reading from 0 would re-read and re-acknowledge
        the gateway's whole history.
        """
        ask = client or self.client
        finder = _EndFinder(ask, self._auth, patience, sleep, rng or random.Random())
        first = finder.next_after(0)
        if not first:
            return self.cursor
        low, step = first, 1  # a message sits at ``low``; is there one past ``low + step``?
        while (found := finder.next_after(low + step)) != 0:
            low, step = found, step * 2
        high = low + step  # nothing after ``high``: the end is in [low, high]
        while low < high:
            middle = (low + high) // 2
            found = finder.next_after(middle)
            low, high = (found, high) if found else (low, middle)
        self.cursor = low
        return low

    def ack(self, message_id: str) -> None:
        """Acknowledge one message, as :data:`ACK_OTHER` if it is in :attr:`theirs` and its
        dossier is still not known ours; one read before its receipt is held by the log
        and counted in the ack step if the receipt comes back."""
        about = self.theirs.get(message_id)
        name = ACK_OTHER if about is not None and not self.log.ours(about) else ACK
        sent = self.timer()
        with self.client.request(
            "POST",
            f"/api/v1/messages/{message_id}/ack",
            name=name,
            headers=self._auth,
            catch_response=True,
        ) as response:
            ms, status = (self.timer() - sent) * 1000.0, response.status_code
            if name == ACK or about is None or not self.log.early_ack(about, ms, status):
                self.log.response(name, ms, status)
            if status == 200:
                response.success()
                self._done(message_id)
                return
            response.failure(failure_text(response))
        if status != 404:  # 404: not ours or gone; retrying cannot help
            self.unacked.append(message_id)
        else:
            self._done(message_id)

    def _done(self, message_id: str) -> None:
        """The message needs no more acknowledging."""
        self.theirs.pop(message_id, None)
        self.outstanding.discard(message_id)

    def left_at_stop(
        self, client: Client | None = None, pages: int = LEFT_AT_STOP_PAGES
    ) -> tuple[int, bool]:
        """How many messages the feed holds past the cursor, read with ``client`` (default
        the reader's) and acknowledged none, and whether that is all of them: False when
        ``pages`` ran out or the gateway stopped answering (the count is then a floor)."""
        ask = client or self.client
        after, unread = self.cursor, 0
        for _ in range(pages):
            path = f"/api/v1/messages?after={after}&limit={self.page}"
            with ask.request(
                "GET", path, name=FEED_AT_STOP, headers=self._auth, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(failure_text(response))
                    return unread, False
                try:
                    entries, following = parse_feed(response.content or b"", after)
                except ValueError:
                    response.failure("unreadable feed page")
                    return unread, False
                response.success()
            unread += len(entries)
            if len(entries) < self.page or following <= after:
                return unread, True
            after = following
        return unread, False

    def run(self, keep_going: Callable[[], bool], sleep: Callable[[float], None]) -> None:
        """Poll until ``keep_going()`` is false; a full page is followed at once. With
        :attr:`spawn`, a reader :attr:`ack_backlog` pages of acks behind waits for them:
        the acks stay bounded however slowly the gateway answers them."""
        while keep_going():
            while self.spawn is not None and self.acking >= self.ack_backlog:
                sleep(min(self.interval, ACK_BACKLOG_NAP))
            if self.poll_once() < self.page:
                sleep(self.interval)


__all__ = [
    "ACK_BACKLOG_NAP",
    "FIND_END_PATIENCE",
    "LEFT_AT_STOP_PAGES",
    "FeedEndUnknown",
    "FeedEntry",
    "FeedReader",
    "parse_feed",
    "run_sequentially",
]
