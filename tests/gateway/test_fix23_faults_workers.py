"""``serve --workers 2`` runs one fault plan: a maintenance window says the same
Retry-After on every worker, and ``burst-503:count=2`` refuses two requests, not two per
worker. Before, a worker counted the window from when it adopted the plan (its first
request after the PUT, or its start) and kept its own budget.

Requests go to a known worker through ``tests.serve_workers.one_per_worker``: the fault
event count no longer tells workers apart, it is every worker's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from harness.signing import TestPKI
from mock_gateway import workers
from mock_gateway.testing import ServerProcess
from tests.postgres import fresh_store_url
from tests.serve_workers import Worker, one_per_worker

pytestmark = pytest.mark.skipif(not workers.supported(), reason="SO_REUSEPORT balancing is Linux")

ADMIN = {"Authorization": "Bearer test-admin-token"}
IVAN = {"Authorization": "Bearer test-token-IVAN01"}
CLOCK_SYNC = 1.0
"""Real seconds for every worker to read an advanced clock (its processor reads the shared
clock every 0.25 s): only then does a late adoption show a different moment."""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store_url(request, tmp_path, "faults") as url:
        yield url


def state(session: requests.Session, server: ServerProcess) -> dict[str, Any]:
    answer = session.get(f"{server.url}/admin/faults", headers=ADMIN, timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    result: dict[str, Any] = answer.json()
    return result


def retry_after(session: requests.Session, server: ServerProcess) -> str | None:
    answer = session.get(f"{server.url}/api/v1/catalog", headers=IVAN, timeout=10)
    assert answer.status_code == 503, answer.text[:300]
    return answer.headers.get("Retry-After")


def advance(session: requests.Session, server: ServerProcess, seconds: int) -> None:
    url = f"{server.url}/admin/clock/advance?seconds={seconds}"
    assert session.post(url, headers=ADMIN, timeout=30).status_code == 200
    time.sleep(CLOCK_SYNC)


def test_a_burst_count_is_spent_once_by_two_workers(
    database_url: str, tmp_path: Path, pki: TestPKI
) -> None:
    del pki
    extra = ("--faults", "burst-503:count=2,retry_after=1")
    log = tmp_path / "serve.log"
    with ServerProcess(
        tmp_path / "gateway.sqlite3", workers=2, extra=extra, database_url=database_url, log=log
    ) as server:
        statuses = [  # a new connection each: they spread over both workers
            requests.post(f"{server.url}/api/v1/dossiers", headers=IVAN, timeout=10).status_code
            for _ in range(20)
        ]
        assert statuses.count(503) == 2, statuses
        with requests.Session() as session:
            assert [h["hits"] for h in state(session, server)["hits"]] == [2]


def test_a_window_put_on_one_worker_is_counted_from_then_by_both(
    tmp_path: Path, pki: TestPKI
) -> None:
    del pki
    server = ServerProcess(tmp_path / "gateway.sqlite3", workers=2)
    with server, one_per_worker(server) as (first, second):
        body = json.dumps({"spec": "maintenance:start=0,duration=600"}).encode()
        put = {**ADMIN, "Content-Type": "application/json"}
        assert first.call("PUT", "/admin/faults", put, body)[0] == 200
        assert said_retry_after(first) == "600"
        assert first.call("POST", "/admin/clock/advance?seconds=300", ADMIN)[0] == 200
        time.sleep(CLOCK_SYNC)
        # the second worker adopts the plan now, 300 s after the PUT
        assert [said_retry_after(w) for w in (second, first)] == ["300", "300"]
        assert first.call("POST", "/admin/clock/advance?seconds=400", ADMIN)[0] == 200
        time.sleep(CLOCK_SYNC)
        assert [w.call("GET", "/api/v1/catalog", IVAN)[0] for w in (first, second)] == [200, 200]


def said_retry_after(worker: Worker) -> str | None:
    status, headers, body = worker.call("GET", "/api/v1/catalog", IVAN)
    assert status == 503, body[:300]
    return str(headers["Retry-After"]) if "Retry-After" in headers else None


def test_a_restarted_worker_keeps_the_start_plan_s_moment(tmp_path: Path, pki: TestPKI) -> None:
    """A --faults plan is counted from the server's start, by a worker started later too."""
    del pki
    extra = ("--faults", "maintenance:start=0,duration=600")
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2, extra=extra) as server:
        with requests.Session() as first:
            assert retry_after(first, server) == "600"
            advance(first, server, 300)
        victim = _workers(server)[0]
        victim.kill()  # the supervisor starts another worker, 300 simulated s later
        victim.wait(timeout=10)
        _wait_for_two(server, victim.pid)
        time.sleep(CLOCK_SYNC)
        said = set()
        for _ in range(16):  # a new connection each: they reach both workers
            with requests.Session() as session:
                said.add(retry_after(session, server))
        assert said == {"300"}


def _workers(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    children = psutil.Process(server.process.pid).children()
    return [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]


def _wait_for_two(server: ServerProcess, gone: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = {w.pid for w in _workers(server)}
        if len(pids) == 2 and gone not in pids and server.listening() == 2:
            return
        time.sleep(0.1)
    raise AssertionError("the killed worker was not replaced")
