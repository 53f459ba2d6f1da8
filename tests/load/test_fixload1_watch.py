"""A process the load run needs that dies mid-run stops the run as an ERROR naming it.

Killing a locust worker, the locust master or the local gateway used to leave the run
going (or ending) as if the gateway had failed its service levels (FAILED, exit 1). The
run now notices within a second, stops, and its verdict is ERROR: the figures are no
judgement of the gateway. Loads are a few seconds long, on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.load import run_load
from harness.load.processes import STATS_PREFIX
from harness.signing import TestPKI
from tests.load.proc import alive, descendants

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _kill_once(
    out: Path, picks: Callable[[str], bool], orphans: set[int] | None = None
) -> Callable[[str], None]:
    """A ``notify`` that, once locust measures, SIGKILLs the first child ``picks`` (its own
    children go into ``orphans``)."""
    done: list[int] = []

    def notify(line: str) -> None:
        if done or " users, " not in line or not any(out.glob(f"*/{STATS_PREFIX}_stats.csv")):
            return
        victims = [pid for pid, command in descendants(os.getpid()).items() if picks(command)]
        assert victims, "no such process to kill"
        if orphans is not None:
            orphans.update(descendants(victims[0]))
        os.kill(victims[0], signal.SIGKILL)
        done.append(victims[0])

    return notify


def _wall_time(facts: dict[str, str]) -> float:
    return float(facts["locust wall time"].split()[0])


@pytest.fixture(autouse=True)
def _progress_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.load.processes.PROGRESS_EVERY", 0.5)  # kill soon after start


def test_a_killed_locust_worker_makes_the_run_an_error_naming_it(
    tmp_path: Path, pki: TestPKI
) -> None:
    worker = _kill_once(tmp_path, lambda c: "-m locust" in c and "--worker" in c)
    result = run_load("local", "flat", duration=30, workers=2, out=tmp_path, notify=worker)
    assert result.verdict == "ERROR", result.summary()
    assert "locust worker " in result.error and "exited, signal 9 (SIGKILL), at " in result.error
    assert "locust-worker-" in result.error  # its log
    assert _wall_time(result.facts) < 30  # stopped there, not run to the end
    assert result.summary().startswith("verdict: ERROR")


def test_a_killed_locust_master_makes_the_run_an_error(tmp_path: Path, pki: TestPKI) -> None:
    master = _kill_once(tmp_path, lambda c: "-m locust" in c and "--worker" not in c)
    result = run_load("local", "flat", duration=30, workers=1, out=tmp_path, notify=master)
    assert result.verdict == "ERROR", result.summary()
    assert "locust master (pid " in result.error and "signal 9 (SIGKILL)" in result.error
    assert _wall_time(result.facts) < 30


def test_a_killed_local_gateway_stops_the_run_as_an_error(tmp_path: Path, pki: TestPKI) -> None:
    orphans: set[int] = set()
    gateway = _kill_once(tmp_path, lambda c: "harness.load._serve" in c, orphans)
    try:
        result = run_load(
            "local", "flat", duration=30, gateway_workers=2, out=tmp_path, notify=gateway
        )
        assert result.verdict == "ERROR", result.summary()
        assert "local gateway (pid " in result.error
        assert "exited, signal 9 (SIGKILL), at " in result.error
        assert _wall_time(result.facts) < 30  # locust no longer sends to a dead port
        log = (result.directory / "logs" / "gateway.log").read_text(encoding="utf-8")
        assert "local gateway of a load run on 127.0.0.1:" in log  # no longer empty
        assert "Application startup complete" in log
        assert len(orphans) >= 2  # its uvicorn workers, which must not keep serving
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in orphans) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in orphans)
    finally:
        for pid in orphans:  # only if the test failed: do not leave them to the machine
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
