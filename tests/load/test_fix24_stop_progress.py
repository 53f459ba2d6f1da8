"""Progress lines count the duration from the shape's start: while the generators get
ready (finding each I-VAN's feed end) they say so, not "0 users" of a clock running."""

from __future__ import annotations

from pathlib import Path

from harness.load.processes import SHAPE_STARTED, STATS_PREFIX
from harness.load.runner import _progress

HISTORY = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count,"
    "Total Failure Count\n1,0,,Aggregated,0,0,0,0\n2,0,,Aggregated,0,0,0,0\n"
)


def test_progress_waits_for_the_generators_then_counts_from_the_shape(tmp_path: Path) -> None:
    (tmp_path / f"{STATS_PREFIX}_stats_history.csv").write_text(HISTORY, encoding="utf-8")
    lines: list[str] = []
    report = _progress(tmp_path, 40.0, lines.append, tmp_path)

    report(30.0)  # locust is writing, the shape's clock has not started
    (tmp_path / SHAPE_STARTED).touch()
    report(35.0)

    assert "waiting for the generators" in lines[0] and "of about" not in lines[0]
    assert lines[1].split(" s of about")[0].strip() in {"0", "1"}  # not 35 s
