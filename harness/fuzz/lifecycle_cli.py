"""``bhxh-harness fuzz``'s lifecycle part: how many steps, against which gateway, as whom.

A URL gets the machine's rules its options allow: a second I-VAN with ``--ivan-token
NAME=TOKEN`` (as ``load`` takes it), the clock and the 503 burst with ``--admin-token``
(as ``regress`` and ``certify``); the others are left out and the report says why.
``inproc`` has them all (the mock's test tokens, behind its fault layer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import UsageError

if TYPE_CHECKING:  # hypothesis and the gateway load when a run starts, not at --help
    from harness.fuzz.http_target import HttpTarget
    from harness.fuzz.lifecycle_run import LifecycleResult
    from harness.fuzz.pool import DossierPool
    from harness.tls import Verify

BUDGET_SHARE = 4
"""Without --lifecycle-steps, a run takes one lifecycle step per this many cases of its
--budget (200 cases: 50 steps), so a longer run judges the lifecycle longer too."""
DURATION_STEPS = 50
"""Steps of a run given --duration alone."""


def lifecycle_steps(steps: int | None, budget: int | None) -> int:
    """The steps to run: ``--lifecycle-steps`` (0 skips), else derived from the budget."""
    if steps is not None:
        if steps < 0:
            raise UsageError(
                f"--lifecycle-steps {steps}: give 0 (no lifecycle) or more",
                hint="e.g. --lifecycle-steps 100",
            )
        return steps
    return DURATION_STEPS if budget is None else max(1, budget // BUDGET_SHARE)


def run_cli_lifecycle(
    *,
    local: bool,
    target: HttpTarget,
    pool: DossierPool,
    steps: int,
    seed: int,
    release: str | None,
    verify: Verify,
    admin_token: str | None,
    others: dict[str, str],
) -> LifecycleResult:
    """The lifecycle machine against the gateway the run fuzzed: in process, a fresh mock
    simulating the same ``release``; at a URL, the fuzz target itself."""
    from harness.fuzz.lifecycle_run import (
        inproc_lifecycle,
        lifecycle_bodies,
        run_lifecycle,
        url_lifecycle,
    )

    ivan = pool.factory.ivan[0]
    if local:
        with inproc_lifecycle(pool.pki, ivan, release) as gateway:
            bodies = {i: lifecycle_bodies(pool.catalog, pool.pki, i) for i in _ivans(gateway)}
            return run_lifecycle(gateway, bodies, steps=steps, seed=seed)
    gateway = url_lifecycle(target, ivan, others, admin_token, verify)
    bodies = {i: lifecycle_bodies(pool.catalog, pool.pki, i) for i in _ivans(gateway)}
    return run_lifecycle(gateway, bodies, steps=steps, seed=seed)


def _ivans(gateway: object) -> tuple[str, ...]:
    own, other = getattr(gateway, "own_ivan", ""), getattr(gateway, "other_ivan", "")
    return (own, other) if getattr(gateway, "other", None) is not None else (own,)


__all__ = ["BUDGET_SHARE", "lifecycle_steps", "run_cli_lifecycle"]
