"""Near the clock's limit the refusal said "at most 83080213 s more, not 83080213 s":
both numbers were rounded. The room is rounded down and the asked value shown exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.signing import TestPKI
from mock_gateway.clock import LATEST, ClockLimitError, SimulatedClock
from mock_gateway.testing import Answer, InProcessGateway

ROOM = 83_080_212.6


@pytest.mark.parametrize(
    ("asked", "shown"), [(83_080_213.0, "not 83080213 s"), (83_080_212.9, "not 83080212.9 s")]
)
def test_the_room_and_the_asked_value_always_differ(asked: float, shown: str) -> None:
    clock = SimulatedClock(0.0, start=LATEST - timedelta(seconds=ROOM), real=lambda: 1000.0)
    with pytest.raises(ClockLimitError) as refused:
        clock.check_advance(asked)
    assert f"at most 83080212 s more, {shown}" in str(refused.value)


def test_the_admin_route_answers_the_same_text(pki: TestPKI) -> None:
    start = LATEST - timedelta(seconds=ROOM)
    with InProcessGateway(pki=pki, start=start) as gw:
        response = gw.request(
            "POST", "/admin/clock/advance", ivan="admin", query={"seconds": "83080213"}
        )
    assert response.status == 400
    (loi,) = Answer.parse(response).findings()
    assert "at most 83080212 s more, not 83080213 s" in loi["CHI_TIET"] + loi["MOTA_EN"]
