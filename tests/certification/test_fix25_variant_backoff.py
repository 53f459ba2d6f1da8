"""faulty:ignores-retry-after breaks only what reads Retry-After (variants.yaml): its own
waits grow like the reference's. With full jitter an early wait could outlast later ones,
and CERT-RTY-01 (waits between 503s must grow) failed it about 1 run in 30."""

from __future__ import annotations

import random

from harness.certification import faulty


def test_ignores_retry_after_waits_grow_and_ignore_the_hint() -> None:
    policy = faulty("ignores-retry-after").retry
    for seed in range(200):
        rng = random.Random(seed)
        waits = [policy.delay(attempt, 30.0, rng) for attempt in range(1, policy.attempts)]
        assert waits == sorted(waits), (seed, waits)  # each wait at least the one before
        assert max(waits) < 30.0  # the server's Retry-After is never read
