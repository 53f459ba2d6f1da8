"""``serve --clock-speed N`` with a maintenance window: the Retry-After a client reads over
HTTP is real seconds, the same on both workers (stop 22 tested the rule in process only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from harness.signing import TestPKI
from mock_gateway import workers
from mock_gateway.testing import ServerProcess

IVAN = {"Authorization": "Bearer test-token-IVAN01"}


@pytest.mark.skipif(not workers.supported(), reason="SO_REUSEPORT balancing is Linux")
def test_a_served_window_at_clock_speed_100_says_real_seconds(tmp_path: Path, pki: TestPKI) -> None:
    """600 simulated seconds at speed 100 close 6 real seconds later: no answer says 600."""
    del pki  # requested so $BHXH_HARNESS_PKI names the session PKI the server must trust
    extra = ("--clock-speed", "100", "--faults", "maintenance:start=0,duration=600")
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2, extra=extra) as server:
        said = []
        for _ in range(8):  # a new connection each: they reach both workers
            with requests.Session() as session:
                answer = session.get(f"{server.url}/api/v1/catalog", headers=IVAN, timeout=10)
            if answer.status_code == 503:
                said.append(int(answer.headers["Retry-After"]))
        assert said, "the window closed before any request: the server took > 6 s to answer"
        assert all(1 <= seconds <= 6 for seconds in said), said
