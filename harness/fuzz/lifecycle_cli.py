"""``bhxh-harness fuzz``'s lifecycle part: how many steps, against which gateway, as whom.

A URL gets the machine's rules its options allow: a second I-VAN with ``--ivan-token
NAME=TOKEN`` (as ``load`` takes it), the clock and the 503 burst with ``--admin-token``
(as ``regress`` and ``certify``); the others are left out and the report says why.
``inproc`` has them all (the mock's test tokens, behind its fault layer).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ConfigError, UsageError

if TYPE_CHECKING:  # hypothesis and the gateway load when a run starts, not at --help
    from harness.fuzz.http_target import HttpTarget
    from harness.fuzz.lifecycle_run import LifecycleResult
    from harness.fuzz.lifecycle_wire import LifecycleGateway
    from harness.fuzz.pool import DossierPool
    from harness.tls import Verify

BUDGET_SHARE = 4
"""Without --lifecycle-steps, a run takes one lifecycle step per this many cases of its
--budget (200 cases: 50 steps), so a longer run judges the lifecycle longer too."""
DURATION_STEPS = 50
"""Steps of a run given --duration alone."""
MAX_STEPS = 10_000
"""Steps --lifecycle-steps may ask at most: each is a few requests, and a run must end."""


def lifecycle_steps(steps: int | None, budget: int | None) -> int:
    """The steps to run: ``--lifecycle-steps`` (0 skips), else derived from the budget."""
    if steps is not None:
        if steps < 0:
            raise UsageError(
                f"--lifecycle-steps {steps}: give 0 (no lifecycle) or more",
                hint="e.g. --lifecycle-steps 100",
            )
        if steps > MAX_STEPS:
            raise UsageError(
                f"--lifecycle-steps {steps}: at most {MAX_STEPS:,} steps",
                hint="give fewer steps, or run the command again with another --seed",
            )
        return steps
    return DURATION_STEPS if budget is None else max(1, budget // BUDGET_SHARE)


def run_cli_lifecycle(
    gateway: LifecycleGateway | None,
    *,
    pool: DossierPool,
    steps: int,
    seed: int,
    release: str | None,
    deadline: float | None = None,
    on_stop: Callable[[LifecycleResult], object] | None = None,
) -> LifecycleResult:
    """The lifecycle machine against the gateway the run fuzzed: at a URL, ``gateway`` as
    :func:`check_lifecycle_tokens` built and probed it before the cases; in process (None),
    a fresh mock simulating the same ``release``. No step starts past ``deadline``; a
    Ctrl-C calls ``on_stop`` with what ran."""
    from harness.fuzz.lifecycle_run import inproc_lifecycle, lifecycle_bodies, run_lifecycle

    reached: AbstractContextManager[LifecycleGateway] = (
        inproc_lifecycle(pool.pki, pool.factory.ivan[0], release)
        if gateway is None
        else nullcontext(gateway)
    )
    with reached as machine:
        bodies = {i: lifecycle_bodies(pool.catalog, pool.pki, i) for i in machine.ivans}
        return run_lifecycle(
            machine, bodies, steps=steps, seed=seed, deadline=deadline, on_stop=on_stop
        )


def check_lifecycle_tokens(
    target: HttpTarget,
    token: str,
    others: dict[str, str],
    admin_token: str | None,
    pool: DossierPool,
    verify: Verify,
) -> LifecycleGateway:
    """Refuse, before any case, a --ivan-token or --admin-token the gateway would refuse
    or that names the wrong I-VAN: the lifecycle would blame the gateway for it. The URL
    gateway the lifecycle then runs against (:func:`run_cli_lifecycle`'s ``gateway``),
    built and its admin routes probed here, once; the caller closes it
    (:meth:`~harness.fuzz.lifecycle_wire.LifecycleGateway.close`)."""
    from harness.fuzz.pool import pool_for
    from harness.gateway_url import check_second_ivan, dossier_probe
    from harness.tls import gateway_session

    ivan, url = pool.factory.ivan[0], target.base_url
    with gateway_session(verify) as session:
        for code, other in others.items():
            # no probe for the fuzzed I-VAN's own code: check_second_ivan refuses it first
            probe = (
                None
                if code == ivan
                else dossier_probe(pool_for(pool.catalog, pool.pki, code).factory)
            )
            check_second_ivan(
                session, url, (code, other), (ivan, token), probe,
                own_is="--ivan, the I-VAN of --token",
            )  # fmt: skip
    return _url_gateway(target, ivan, others, admin_token, verify)


def _url_gateway(
    own: HttpTarget,
    own_ivan: str,
    others: dict[str, str],
    admin_token: str | None,
    verify: Verify,
) -> LifecycleGateway:
    """The machine's gateway at a URL: ``own`` (the fuzz target), the second I-VAN of
    ``others`` (code -> token) if any, the admin session if ``admin_token``, its admin
    routes probed; an admin token they refuse is refused (the sessions opened closed)."""
    from harness.fuzz.http_target import http_target
    from harness.fuzz.lifecycle_wire import LifecycleGateway
    from harness.tls import gateway_session

    gateway = LifecycleGateway(own, own_ivan)
    for code, token in others.items():
        if code != own_ivan:
            other = http_target(own.base_url, token, verify_tls=verify)
            gateway.other, gateway.other_ivan = other, code
            break
    else:
        gateway.left_out.append(
            "submit_as_other, isolation checks: no --ivan-token NAME=TOKEN of a second I-VAN"
        )
    if admin_token:
        gateway.admin = gateway_session(verify)
        gateway.admin.headers["Authorization"] = f"Bearer {admin_token}"
    try:
        status = gateway.probe_admin()
    except BaseException:
        gateway.close()
        raise
    if status:
        gateway.close()
        raise ConfigError(
            f"--admin-token is refused by the gateway ({status}): check it",
            hint="give the gateway's admin token, or leave --admin-token out (the "
            "lifecycle's clock and 503 rules are then left out)",
        )
    return gateway


RUN_OPTIONS = ("budget", "duration", "families", "seed", "lifecycle_steps")
"""The run's parameters a lifecycle failure's reproduce line leaves out of its command."""


def lifecycle_reproduce(command: str, seed: int, steps: int) -> str:
    """``command`` (the run's, less :data:`RUN_OPTIONS`) with its cases cut to one valid
    dossier: the lifecycle's steps depend on the seed and the steps alone."""
    return f"{command} --seed {seed} --family valid --budget 1 --lifecycle-steps {steps}"


def save_failure(result: LifecycleResult, folder: Path, command: str) -> None:
    """A lifecycle failure's steps, seed, property and reproduce line (from ``command``,
    the run's less :data:`RUN_OPTIONS`), as a text file under the found folder (next to
    the cases' minimal dossiers); ``result`` names both."""
    failure = result.failure
    if failure is None:
        return
    reproduce = result.reproduce = lifecycle_reproduce(command, result.seed, result.steps)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / "lifecycle" / f"{failure.check}-seed{result.seed}-{stamp}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = "as run (not shrunk)" if failure.flaky else "shrunk"
    lines = [
        f"check: {failure.check}",
        f"reason: {failure.reason}",
        f"seed: {result.seed}",
        f"steps: {result.steps}",
        f"reproduce: {reproduce}",
        f"steps {shown}:",
        *(f"  {step}" for step in failure.steps),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result.found = str(path)


__all__ = [
    "BUDGET_SHARE",
    "MAX_STEPS",
    "RUN_OPTIONS",
    "check_lifecycle_tokens",
    "lifecycle_reproduce",
    "lifecycle_steps",
    "run_cli_lifecycle",
    "save_failure",
]
