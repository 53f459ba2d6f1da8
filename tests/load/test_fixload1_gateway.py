"""The local gateway of a load run: it starts under a latency fault of 5 s and more, a
clock it would refuse is refused before anything starts, and a setting it refuses at
start-up is one line of its log, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from harness.errors import ConfigError
from harness.load import run_load
from harness.load.gateway import LocalGateway, well_known_tokens
from harness.signing import TestPKI
from mock_gateway.config import MAX_CLOCK_SPEED


def test_a_latency_fault_over_the_probe_timeout_still_starts(tmp_path: Path, pki: TestPKI) -> None:
    gateway = LocalGateway(
        tmp_path / "gw", well_known_tokens(2), fault_latency=5.5, startup_timeout=15
    )
    with gateway:
        answer = requests.get(gateway.url + "/healthz", timeout=15)
        assert answer.status_code == 200
        assert gateway.process is not None and gateway.process.poll() is None
    assert "fault latency 5.5 s" in gateway.log.read_text(encoding="utf-8")


def test_a_clock_the_local_gateway_refuses_is_refused_before_anything_starts(
    tmp_path: Path, pki: TestPKI
) -> None:
    said: list[str] = []
    with pytest.raises(ConfigError) as refused:
        run_load("local", "flat", duration=3, clock_speed=1e6, out=tmp_path, notify=said.append)
    message = str(refused.value)
    assert message.startswith("--clock-speed 1e+06 is too fast for the local gateway")
    assert f"at most {MAX_CLOCK_SPEED:.0f}" in message and "Hint:" in message
    assert "Traceback" not in message
    assert not any(line.startswith("signing") for line in said)  # nothing was started
    assert list(tmp_path.iterdir()) == []


def test_a_setting_the_gateway_refuses_at_start_up_is_one_line(
    tmp_path: Path, pki: TestPKI
) -> None:
    gateway = LocalGateway(tmp_path / "gw", well_known_tokens(2), clock_speed=2 * MAX_CLOCK_SPEED)
    with pytest.raises(ConfigError) as refused, gateway:
        pass
    assert "error: invalid gateway settings: clock_speed" in str(refused.value)
    assert "Traceback" not in str(refused.value)
