"""A generator that cannot find its feed's end never reads the feed from 0, and a gateway
in a maintenance window is refused before the run starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from harness.errors import ConfigError, GatewayUnavailable
from harness.load import FeedReader, Ivan, LifecycleLog
from harness.load.feed import FeedEndUnknown
from harness.load.gateway import check_remote
from harness.load.ivan import FEED_START
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS
from mock_gateway.testing import InProcessGateway, ServerProcess
from tests.load.conftest import CoreClient, ScriptedClient

ADMIN = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}


def test_retry_after_is_honoured_then_the_end_is_found(
    gateway: InProcessGateway, ivan01: Ivan
) -> None:
    """Three 503s in a row once left the cursor at 0: the reads wait as told and go on."""
    reader = FeedReader(ScriptedClient(), ivan01.token, LifecycleLog())
    quiet = CoreClient(gateway)
    quiet.script = [(503, {"Retry-After": "2"})] * 3 + [(0, {})]
    sleeps: list[float] = []
    assert reader.skip_to_end(quiet, sleep=sleeps.append) == 0
    assert len(quiet.calls) == 5 and all(c.name == FEED_START for c in quiet.calls)
    assert sleeps[:3] == [2.0, 2.0, 2.0]


def test_a_feed_refused_past_the_patience_raises_instead_of_starting_at_0(
    ivan01: Ivan,
) -> None:
    reader = FeedReader(ScriptedClient(), ivan01.token, LifecycleLog())
    failing = ScriptedClient(script=[(503, {"Retry-After": "18000"})] * 50)
    sleeps: list[float] = []
    with pytest.raises(FeedEndUnknown, match="maintenance window or a fault") as raised:
        reader.skip_to_end(failing, sleep=sleeps.append, patience=20.0)
    assert isinstance(raised.value, GatewayUnavailable)
    assert "HTTP 503" in str(raised.value)
    assert sleeps == [] and len(failing.calls) == 1  # a 5 h window is not waited at all
    assert reader.cursor == 0 and not reader.client.calls  # type: ignore[attr-defined]


def test_a_feed_that_refuses_the_token_raises_at_once(ivan01: Ivan) -> None:
    reader = FeedReader(ScriptedClient(), ivan01.token, LifecycleLog())
    failing = ScriptedClient(script=[(401, {"X-BHXH-Ma-Loi": "AUTH-001"})] * 5)
    with pytest.raises(FeedEndUnknown, match="HTTP 401 AUTH-001"):
        reader.skip_to_end(failing, sleep=lambda _s: None)
    assert len(failing.calls) == 1


def test_a_dropped_connection_is_retried_within_the_patience(ivan01: Ivan) -> None:
    reader = FeedReader(ScriptedClient(), ivan01.token, LifecycleLog())
    failing = ScriptedClient(script=[(0, {})] * 200)
    sleeps: list[float] = []
    with pytest.raises(FeedEndUnknown):
        reader.skip_to_end(failing, sleep=sleeps.append, patience=5.0)
    assert 1 < len(failing.calls) < 200 and sum(sleeps) <= 5.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("fix22a-maintenance")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=900.0) as running:
        yield running


def test_a_gateway_in_maintenance_is_refused_before_the_run(served: ServerProcess) -> None:
    # 60 simulated hours at clock speed 900: Retry-After is real seconds, about 240
    spec = {"spec": "maintenance:start=0,duration=216000"}
    put = requests.put(f"{served.url}/admin/faults", json=spec, headers=ADMIN, timeout=10)
    assert put.status_code == 200, put.text
    try:
        with pytest.raises(ConfigError, match="in maintenance for ~4 min") as raised:
            check_remote(served.url, {"IVAN01": DEFAULT_IVAN_TOKENS["IVAN01"]})
        assert "clear the fault" in str(raised.value)
    finally:
        requests.delete(f"{served.url}/admin/faults", headers=ADMIN, timeout=10)
    check_remote(served.url, {"IVAN01": DEFAULT_IVAN_TOKENS["IVAN01"]})  # cleared: it starts
