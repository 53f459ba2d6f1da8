"""benchmarks/bench_dashboard.py still fills a store the dashboard can read, and every page
it times answers 200 over the rows it inserts (a schema change would otherwise break it
unnoticed, since benchmarks do not run in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dashboard.py"


def test_dashboard_benchmark_runs_on_a_small_store() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--dossiers", "300"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("300 dossiers inserted")
    assert any(line.startswith("page=100") for line in lines)
