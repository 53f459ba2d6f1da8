"""``serve --workers 2`` shows one fault state, whichever worker answers: the hits of a hook
without ``count``/``times``, the fault event log (``after=`` works across workers) and a
503 burst's ``window``, opened by the first hit of any worker and closed for all at once.

Before, each of those was the answering worker's own: ``/admin/faults`` showed about half
the hits, ``/admin/faults/log`` half the events, and a ``count=1`` window refused only the
requests of the worker that had opened it.

Each request goes on a keep-alive connection whose worker is known (by its pid, from the
sockets psutil lists), so the tests say exactly which worker did what.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.signing import TestPKI
from mock_gateway import workers
from mock_gateway.testing import ServerProcess
from tests.postgres import fresh_store_url
from tests.serve_workers import one_per_worker

pytestmark = pytest.mark.skipif(not workers.supported(), reason="SO_REUSEPORT balancing is Linux")

ADMIN = {"Authorization": "Bearer test-admin-token"}
IVAN = {"Authorization": "Bearer test-token-IVAN01"}
PATIENCE = 10.0
"""Real seconds a figure may take to include the other worker's (it writes every 0.1 s)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store_url(request, tmp_path, "fix24") as url:
        yield url


def eventually(figure: Callable[[], Any], expected: Any) -> Any:
    """``figure()`` once it equals ``expected`` (the last value seen after PATIENCE s)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        value = figure()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def serve(tmp_path: Path, database_url: str, faults: str) -> ServerProcess:
    return ServerProcess(
        tmp_path / "gateway.sqlite3",
        workers=2,
        extra=("--faults", faults),
        database_url=database_url,
        log=tmp_path / "serve.log",
    )


def test_hits_and_the_fault_log_of_a_hook_without_a_budget_are_every_worker_s(
    database_url: str, tmp_path: Path, pki: TestPKI
) -> None:
    """Hits are counted once for all workers, and the log has one cursor for all."""
    del pki
    with (
        serve(tmp_path, database_url, "latency:seconds=0") as server,
        one_per_worker(server) as pair,
    ):
        first, second = pair
        for worker, times in ((first, 2), (second, 3), (first, 1)):
            for _ in range(times):
                assert worker.call("GET", "/api/v1/catalog", IVAN)[0] == 200
        for worker in (first, second):
            assert eventually(lambda w=worker: [h["hits"] for h in w.state()["hits"]], [6]) == [6]
        events = eventually(lambda: [e["seq"] for e in first.log()], [1, 2, 3, 4, 5, 6])
        assert events == [1, 2, 3, 4, 5, 6]
        assert [e["seq"] for e in second.log(after=4)] == [5, 6]
        assert first.state()["events"] == second.state()["events"] == 6
        assert {e["kind"] for e in second.log()} == {"delay"}


def test_a_burst_window_is_open_and_closed_for_both_workers_at_once(
    database_url: str, tmp_path: Path, pki: TestPKI
) -> None:
    """count=1: one worker's first hit opens the window; the other refuses too, until the
    window closes (here by the simulated clock moving past it) for both together."""
    del pki
    with (
        serve(tmp_path, database_url, "burst-503:count=1,window=600,retry_after=1") as server,
        one_per_worker(server) as pair,
    ):
        first, second = pair
        submit = ("POST", "/api/v1/dossiers", IVAN)
        assert [w.call(*submit)[0] for w in (first, second, first, second)] == [503] * 4
        hits = eventually(lambda: [h["hits"] for h in second.state()["hits"]], [4])
        assert hits == [4]
        status, _, _ = first.call("POST", "/admin/clock/advance?seconds=601", ADMIN)
        assert status == 200

        def statuses() -> list[int]:
            return [w.call(*submit)[0] for w in (first, second)]

        after = eventually(lambda: 503 in statuses(), False)
        assert after is False and 503 not in statuses() + statuses()
