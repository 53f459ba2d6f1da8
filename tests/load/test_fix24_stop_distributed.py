"""Ctrl-C on a distributed run (a terminal signals every process of the run): each worker
sends its final figures before it quits and the master waits for them, so the partial
report counts every worker's last dossiers and the feed each one leaves at the stop; the
master writes locust's CSV (every second) once more after the last figures came, so its
request counts are those of lifecycle.json; and no locust process logs an error."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.load import run_load
from harness.load.ivan import ABANDONED, ACCEPTED, REJECTED
from harness.load.lifetime import Interrupted
from harness.load.stats import last_totals, read_stats
from harness.signing import TestPKI
from tests.load.logs import locust_errors
from tests.load.proc import descendants


def _ctrl_c_once_sent(out: Path) -> Callable[[str], None]:
    """A ``notify`` that, once locust counted a request, does what a terminal's Ctrl-C
    does: SIGINT to every locust process, KeyboardInterrupt here."""

    def notify(_line: str) -> None:
        rows = [last_totals(path) for path in out.glob("*/locust_stats_history.csv")]
        if any(row is not None and row.total_requests > 0 for row in rows):
            for pid, command in descendants(os.getpid()).items():
                if "locust" in command:
                    os.kill(pid, signal.SIGINT)
            raise KeyboardInterrupt

    return notify


def test_ctrl_c_on_a_distributed_run_keeps_every_workers_last_figures(
    tmp_path: Path, pki: TestPKI
) -> None:
    with pytest.raises(Interrupted) as stopped:
        run_load(
            "local",
            "flat",
            duration=40,
            workers=2,
            out=tmp_path,
            fault_latency=1.0,  # dossiers in flight at the stop, answered in its grace
            notify=_ctrl_c_once_sent(tmp_path),
        )

    folder = stopped.value.directory
    assert folder is not None
    lifecycle = json.loads((folder / "lifecycle.json").read_text(encoding="utf-8"))
    assert sorted(lifecycle["feed_at_stop"]) == ["IVAN01", "IVAN02"]  # each worker's count
    counts = lifecycle["counts"]
    answered = sum(counts.get(k, 0) for k in (ACCEPTED, REJECTED, ABANDONED))
    assert answered > 0, counts
    # locust's CSV holds every request the final figures hold, to the last one
    steps = read_stats(folder / "locust_stats.csv")
    samples, failed = lifecycle["latency_ms"], lifecycle["failed_requests"]
    held = {step: len(samples.get(step, [])) + failed.get(step, 0) for step in {*samples, *failed}}
    assert held["submit"] > 0
    assert {step: steps[step].requests if step in steps else 0 for step in held} == held
    assert locust_errors(folder) == []
