"""Stopping ``bhxh-harness load`` from outside leaves nothing behind.

Ctrl-C and SIGTERM (a cancelled CI job) stop the gateway and locust, remove the scratch
folder and say that no verdict was written (exit 130 / 143); SIGKILL, which no handler
sees, still takes the children down with it (Linux: they ask for SIGTERM on our death).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.paths import project_root
from harness.reporting import verify_bundle
from harness.signing import TestPKI
from mock_gateway.runs import read_run, run_folders
from tests.load.proc import alive, descendants

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path, Path]:
    scratch, reports, log = tmp_path / "tmp", tmp_path / "reports", tmp_path / "stderr.txt"
    scratch.mkdir()
    command = [sys.executable, "-m", "harness", "load", "--shape", "flat", "--workers", "1"]
    command += ["--duration", "60", "--out", str(reports)]
    with log.open("wb") as err:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=project_root(),
            env={**os.environ, "TMPDIR": str(scratch)},
        )
    deadline = time.monotonic() + 90
    while not list(reports.glob("*/locust_stats.csv")):  # locust is running and writing
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.5)
    return process, scratch, reports, log


def _gone(pids: set[int], within: float) -> set[int]:
    deadline = time.monotonic() + within
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_every_child_and_says_no_verdict_was_written(
    tmp_path: Path, pki: TestPKI, signum: int, code: int
) -> None:
    process, scratch, reports, log = _start(tmp_path)
    children = set(descendants(process.pid))
    assert len(children) >= 3  # the gateway, the locust master and its worker
    process.send_signal(signum)
    try:
        assert process.wait(timeout=60) == code, log.read_text()
    finally:
        process.kill()
    assert _gone(children, 5) == set()
    assert list(scratch.iterdir()) == []  # the scratch folder (pools, SQLite) is removed
    (folder,) = reports.iterdir()
    assert f"load run {folder.name}: flat × 1 for 60 s against http://127.0.0.1:" in log.read_text()
    assert f"interrupted: no verdict written; the report in {folder} is marked" in (log.read_text())
    assert not (folder / "verdict.html").exists()
    assert verify_bundle(folder) == []  # the folder's lock is gone, not an unlisted file


def test_children_die_with_a_killed_run(tmp_path: Path, pki: TestPKI) -> None:
    process, _scratch, reports, _log = _start(tmp_path)
    children = set(descendants(process.pid))
    assert len(children) >= 3
    process.kill()
    process.wait(timeout=10)
    try:
        assert _gone(children, 30) == set()
        # the dashboard tells the killed run's folder (locust's files only) from a live one
        ((suite, run_id, folder),) = run_folders(reports)
        assert read_run(suite, run_id, folder).problem == (
            "no results.json: the run was killed before it wrote its report "
            "(its own files are in the folder, unlisted)"
        )
    finally:
        for pid in children:  # only if the test failed: do not leave them to the machine
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
