"""The gateway's benchmark scripts still run end to end on small sizes: benchmarks do not
run in CI, so a schema or API change would otherwise break them unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=BENCHMARKS,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_dashboard_benchmark_runs_on_a_small_store() -> None:
    lines = run("bench_dashboard.py", "--dossiers", "300")
    assert lines[0].startswith("300 dossiers inserted")
    assert any(line.startswith("page=100") for line in lines)


def test_lifecycle_benchmark_issues_both_messages_of_every_dossier() -> None:
    lines = run("bench_lifecycle.py", "--count", "40", "--pool", "5")
    assert any(line.startswith("02/TB-TS hand-over") and "(40)" in line for line in lines)
    assert any(line.startswith("03/TB-TS result") and "(40)" in line for line in lines)


def test_gateway_benchmark_reports_the_lifecycle_with_a_running_clock() -> None:
    lines = run(
        *("bench_gateway.py", "--count", "20", "--http-count", "60", "--clients", "4"),
        *("--big-count", "1", "--long", "20", "--pool", "5", "--rounds", "1"),
        *("--seconds", "0.05", "--clock-speed", "3600"),
    )
    assert any(line.startswith("HTTP small, 2 workers, 4 clients") for line in lines)
    assert any(line.startswith("HTTP 200 KB, 2 workers, 4 clients") for line in lines)
    [backlog] = [line for line in lines if "lifecycle when the HTTP rounds ended" in line]
    counts = backlog.split(": ", 1)[1].split(", ")
    assert sum(int(c.split()[0]) for c in counts) == 200 + 60  # warm-up, then the round
    assert {c.split()[1] for c in counts} <= {"received", "handed_over", "accepted"}


def test_memory_benchmark_samples_every_server_process_at_each_checkpoint() -> None:
    lines = run("bench_memory.py", "--dossiers", "60", "--checkpoints", "3", "--pool", "5")
    rows = [line.split() for line in lines if line[:9].strip().isdigit()]
    assert [int(row[0]) for row in rows] == [20, 40, 60]
    assert all(len(row) == 3 + 3 for row in rows)  # supervisor and two workers
    assert any(line.startswith("server RSS from 20 to 60 dossiers") for line in lines)


def test_memory_benchmark_runs_the_server_on_postgresql(postgres_url: str) -> None:
    lines = run(
        *("bench_memory.py", "--dossiers", "40", "--checkpoints", "2", "--pool", "5"),
        *("--clock-speed", "3600", "--database-url", postgres_url),
    )
    rows = [line.split() for line in lines if line[:9].strip().isdigit()]
    assert [int(row[0]) for row in rows] == [20, 40]
    assert int(rows[-1][2]) > 0  # the PostgreSQL database's size, in MiB
    [backlog] = [line for line in lines if line.startswith("lifecycle at the end")]
    assert sum(int(c.split()[0]) for c in backlog.split(": ", 1)[1].split(", ")) >= 40
