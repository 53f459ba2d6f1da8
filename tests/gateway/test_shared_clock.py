"""Workers sharing one database share one simulated clock, and say so at once.

Two workers advancing together both answered the moment both jumps reached, and a
``/healthz`` on the other worker showed the time before the jump until its processor's
next tick.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.signing import TestPKI
from mock_gateway.clock import ClockState, iso
from mock_gateway.testing import InProcessGateway

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _advance(gw: InProcessGateway, seconds: int) -> dict[str, object]:
    answer = gw.request(
        "POST", "/admin/clock/advance", ivan="admin", query={"seconds": str(seconds)}
    )
    assert answer.status == 200, answer.body[:300]
    body: dict[str, object] = json.loads(answer.body)
    return body


def test_the_other_worker_s_healthz_shows_an_advance_at_once(tmp_path: Path, pki: TestPKI) -> None:
    with (
        InProcessGateway(pki=pki, directory=tmp_path, start=START) as first,
        InProcessGateway(pki=pki, directory=tmp_path, start=START) as second,
    ):
        _advance(first, 3600)
        health = json.loads(second.request("GET", "/healthz", ivan=None).body)
        assert health["simulated_time"] == iso(START + timedelta(hours=1))


def test_an_advance_answers_the_moment_its_own_jump_reached(tmp_path: Path, pki: TestPKI) -> None:
    with (
        InProcessGateway(pki=pki, directory=tmp_path, start=START) as first,
        InProcessGateway(pki=pki, directory=tmp_path, start=START) as second,
    ):
        store = first.gateway.store
        own_jump = store.advance_clock

        def raced(seconds: float) -> ClockState:
            """The other worker jumps a day just after this worker's jump commits."""
            state = own_jump(seconds)
            second.gateway.store.advance_clock(86_400)
            return state

        store.advance_clock = raced  # type: ignore[method-assign]
        assert _advance(first, 3600)["now"] == iso(START + timedelta(hours=1))
        store.advance_clock = own_jump  # type: ignore[method-assign]
        assert _advance(second, 60)["now"] == iso(START + timedelta(hours=25, minutes=1))


def test_the_store_returns_the_timeline_each_advance_made(tmp_path: Path, pki: TestPKI) -> None:
    with InProcessGateway(pki=pki, directory=tmp_path, start=START) as gw:
        offsets = [gw.gateway.store.advance_clock(600).offset for _ in range(3)]
        assert offsets == [600.0, 1200.0, 1800.0]


def test_a_refresh_read_before_a_jump_never_takes_the_clock_back(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The processor's refresh read the timeline, an admin jump landed, then the refresh
    adopted what it had read: the clock went back 30 simulated minutes (seen under load in
    the certification matrix: a fault window reopened for a request the I-VAN sent after
    the advance). A jump now waits for a refresh in flight, and the reverse."""
    with InProcessGateway(pki=pki, directory=tmp_path, start=START) as gw:
        gateway = gw.gateway
        stored = gateway.store.load_clock
        armed = [True]

        def load_then_jump(state: ClockState) -> ClockState:
            read = stored(state)
            if armed:  # once: a jump lands between this read and its adoption
                armed.clear()
                jump = threading.Thread(target=gateway.jump_clock, args=(1800,))
                jump.start()
                jump.join(timeout=0.5)  # finishes here unless it waits for this refresh
                jumps.append(jump)
            return read

        jumps: list[threading.Thread] = []
        monkeypatch.setattr(gateway.store, "load_clock", load_then_jump)
        gateway.refresh_clock()
        jumps[0].join(timeout=10)
        assert not jumps[0].is_alive()
        assert gateway.clock.now() >= START + timedelta(minutes=30)
