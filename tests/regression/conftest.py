"""Fixtures for the regression suite's tests: CI-sized baselines recorded once per session.

The corpus is one seed per procedure (plus the quirk variants and the static files), which
keeps a replay around a second while still covering every procedure and form version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.regression import Baseline, LatencyThresholds, record
from harness.signing import TestPKI

FUNCTIONAL = LatencyThresholds(p50_ratio=20.0, p95_ratio=20.0, min_delta_ms=1000.0)
"""For tests about outcomes, not timing: a busy shared box must not turn them red. Latency
detection itself is proven by the ``slow-d02`` release in test_matrix.py."""
LENIENT = ["--p50-ratio", "20", "--p95-ratio", "20", "--min-delta-ms", "1000"]
"""FUNCTIONAL as ``regress`` options, for the tests that run the command."""


@pytest.fixture(scope="session")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("baselines")


@pytest.fixture(scope="session")
def reference(pki: TestPKI, baselines: Path) -> Baseline:
    """Baseline ``ref-2026.1`` of the unmodified in-process gateway (every catalog served)."""
    baseline, _ = record(
        gateway="inproc", catalog="2026.1", name="ref-2026.1", root=baselines, pki=pki
    )
    return baseline


@pytest.fixture(scope="session")
def reference_2024(pki: TestPKI, baselines: Path) -> Baseline:
    """Baseline ``ref-2024.1``: a gateway that served only catalog 2024.1, with its corpus."""
    baseline, _ = record(
        gateway="inproc", catalog="2024.1", name="ref-2024.1", root=baselines, pki=pki,
        catalogs=("2024.1",),
    )  # fmt: skip
    return baseline
