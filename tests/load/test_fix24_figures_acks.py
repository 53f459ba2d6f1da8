"""The feed reader polls on while a page's acks run: ack latency is not lifecycle time."""

from __future__ import annotations

from collections.abc import Callable

from harness.load.feed import FeedReader
from harness.load.lifecycle_log import LifecycleLog
from harness.message_kinds import HANDOVER
from tests.load.test_fix24_figures_early import FeedClient, page


def test_polls_do_not_wait_for_the_acks_of_the_page_before() -> None:
    started: list[Callable[[], None]] = []
    client = FeedClient(page(("1", HANDOVER, "A"), ("2", HANDOVER, "B")))
    reader = FeedReader(client, "tok", LifecycleLog(), spawn=started.append)
    assert reader.poll_once() == 2
    reader.poll_once()  # the acks of the first page have not run yet
    assert client.names.count("feed") == 2 and "ack (not this run's)" not in client.names
    assert reader.acking == 1
    started.pop()()
    assert client.names.count("ack (not this run's)") == 2 and reader.acking == 0
    assert not reader.outstanding


def test_a_reader_too_far_behind_on_its_acks_waits_for_them() -> None:
    started: list[Callable[[], None]] = []
    naps: list[float] = []
    client = FeedClient(page(("1", HANDOVER, "A")))
    reader = FeedReader(client, "tok", LifecycleLog(), spawn=started.append, ack_backlog=1)
    reader.poll_once()
    polls = iter([True, False])

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if started:
            started.pop()()  # the acks finish while the reader naps

    reader.run(lambda: next(polls), sleep)
    assert naps[0] < reader.interval  # it waited for the acks before polling again
    assert client.names.count("feed") == 2 and reader.acking == 0
