"""The hypothesis settings profiles fuzz suites run under (``HYPOTHESIS_PROFILE``).

``ci`` is derandomised, keeps no example database and prints the reproduction blob, so a
CI failure replays anywhere; ``nightly`` explores far more examples. These mirror the
profiles ``tests/conftest.py`` registers, for suites (``scenarios/fuzz``) that run
without the project's test configuration.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def register_profiles(load: bool = True) -> str:
    """Register ``ci`` and ``nightly``; load ``$HYPOTHESIS_PROFILE`` (default ``ci``)."""
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        print_blob=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("nightly", max_examples=1000, deadline=None)
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if load:
        settings.load_profile(name)
    return name


__all__ = ["register_profiles"]
