"""Fixtures for the certification tests: a small catalog slice and fast real-time settings.

Real-time waits dominate a certification run (a timeout must outlast the client's, a
burst of 503 lasts a while); the tests shorten them through the suite's settings, which
is exactly what a vendor with a fast client would do.
"""

from __future__ import annotations

from typing import Any

import pytest

FAST: dict[str, Any] = {"client_timeout": 0.5, "timeout_margin": 0.4, "burst_window": 0.6}
"""Suite settings for tests: the same cases, shorter real-time waits."""

PROCEDURE = "604"
"""One procedure of the latest catalog for the matrix (the benchmark covers all)."""


@pytest.fixture(scope="session")
def fast_settings() -> dict[str, Any]:
    return dict(FAST)
