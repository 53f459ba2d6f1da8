"""The simulated clock stops at 2200-01-01 UTC instead of running off the calendar.

Ten-year advances, or ``--clock-speed 1e12``, used to carry it past year 9999, after
which every route, even ``/healthz``, answered 500 SRV-002, and the broken clock was
kept in the database, so a restart did not help.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway.clock import ClockState, SimulatedClock, iso
from mock_gateway.config import GatewayConfig
from mock_gateway.routes import MAX_CLOCK_ADVANCE
from mock_gateway.store import Store
from mock_gateway.testing import Answer, InProcessGateway

TEN_YEARS = str(int(MAX_CLOCK_ADVANCE))
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # the documented limit (mock_gateway.clock)
MAX_CLOCK_SPEED = 100_000.0  # a simulated year in about 5 real minutes (config.py)


def _health(gw: InProcessGateway) -> dict[str, object]:
    answer = gw.request("GET", "/healthz", ivan=None)
    assert answer.status == 200, answer.body[:300]
    body: dict[str, object] = json.loads(answer.body)
    return body


def test_an_advance_past_the_limit_is_refused_and_says_the_limit(pki: TestPKI) -> None:
    with InProcessGateway(pki=pki, start=datetime(2195, 6, 1, tzinfo=UTC)) as gw:
        refused = gw.request(
            "POST", "/admin/clock/advance", ivan="admin", query={"seconds": TEN_YEARS}
        )
        assert (refused.status, Answer.parse(refused).ma_loi) == (400, "REQ-002")
        detail = Answer.parse(refused).findings()[0]["CHI_TIET"]
        assert "2200-01-01T00:00:00" in detail and "POST /admin/reset" in detail
        assert gw.gateway.clock.now() == datetime(2195, 6, 1, tzinfo=UTC)  # not moved

        room = (LATEST - gw.gateway.clock.now()).total_seconds()
        ok = gw.request("POST", "/admin/clock/advance", ivan="admin", query={"seconds": str(room)})
        assert ok.status == 200 and json.loads(ok.body)["now"] == iso(LATEST)
        health = _health(gw)
        assert health["clock_stopped"] is True and health["clock_limit"] == iso(LATEST)
        with pytest.raises(ConfigError, match="stops at 2200-01-01"):
            gw.advance(1)


def test_repeated_ten_year_advances_never_break_the_gateway(pki: TestPKI) -> None:
    with InProcessGateway(pki=pki) as gw:
        statuses = set()
        for _ in range(20):  # 200 years from now: past the limit
            answer = gw.request(
                "POST", "/admin/clock/advance", ivan="admin", query={"seconds": TEN_YEARS}
            )
            statuses.add(answer.status)
        assert statuses == {200, 400}
        assert _health(gw)["clock_stopped"] is False  # the last allowed step fell short
        assert gw.request("GET", "/api/v1/catalog").status == 200


def test_a_running_clock_stops_at_the_limit() -> None:
    real = [1000.0]
    clock = SimulatedClock(
        MAX_CLOCK_SPEED, start=datetime(2199, 12, 31, tzinfo=UTC), real=lambda: real[0]
    )
    assert not clock.stopped
    real[0] += 10**9  # far past the limit at this speed
    assert clock.now() == LATEST and clock.stopped
    clock.rebase(1.0)
    assert clock.now() == LATEST


def test_a_stored_clock_past_the_limit_reads_as_the_limit_until_reset(
    pki: TestPKI, tmp_path: Path
) -> None:
    """An older gateway could store year 10043; this one must still answer every route."""
    store = Store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    store.save_clock(ClockState(origin_real=0.0, origin_sim=0.0, speed=0.0, offset=1e12))
    store.close()
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        health = _health(gw)
        assert health["simulated_time"] == iso(LATEST) and health["clock_stopped"] is True
        assert gw.request("GET", "/api/v1/messages").status == 200
        assert gw.request("POST", "/admin/reset", ivan="admin").status == 200
        assert _health(gw)["clock_stopped"] is False


@pytest.mark.parametrize("speed", [MAX_CLOCK_SPEED * 10, 1e12])
def test_a_clock_speed_over_the_maximum_is_refused(speed: float) -> None:
    with pytest.raises(ConfigError, match="clock_speed"):
        GatewayConfig(clock_speed=speed)


def test_a_lifecycle_delay_that_would_overflow_is_refused() -> None:
    with pytest.raises(ConfigError, match="delays must be from 0"):
        GatewayConfig(handover_delay=1e20)
