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
