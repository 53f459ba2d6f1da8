"""``bhxh-harness fuzz``'s lifecycle part: how many steps, against which gateway, as whom.

A URL gets the machine's rules its options allow: a second I-VAN with ``--ivan-token
NAME=TOKEN`` (as ``load`` takes it), the clock and the 503 burst with ``--admin-token``
(as ``regress`` and ``certify``); the others are left out and the report says why.
``inproc`` has them all (the mock's test tokens, behind its fault layer).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from harness.errors import ConfigError, UsageError

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
    deadline: float | None = None,
    on_stop: Callable[[LifecycleResult], object] | None = None,
) -> LifecycleResult:
    """The lifecycle machine against the gateway the run fuzzed: in process, a fresh mock
    simulating the same ``release``; at a URL, the fuzz target itself. No step starts
    past ``deadline``; a Ctrl-C calls ``on_stop`` with what ran."""
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
            return run_lifecycle(
                gateway, bodies, steps=steps, seed=seed, deadline=deadline, on_stop=on_stop
            )
    gateway = url_lifecycle(target, ivan, others, admin_token, verify)
    bodies = {i: lifecycle_bodies(pool.catalog, pool.pki, i) for i in _ivans(gateway)}
    return run_lifecycle(
        gateway, bodies, steps=steps, seed=seed, deadline=deadline, on_stop=on_stop
    )


def check_lifecycle_tokens(
    target: HttpTarget,
    token: str,
    others: dict[str, str],
    admin_token: str | None,
    pool: DossierPool,
    verify: Verify,
) -> None:
    """Refuse, before any case, a --ivan-token or --admin-token the gateway would refuse
    or that names the wrong I-VAN: the lifecycle would blame the gateway for it."""
    from harness.fuzz.pool import pool_for
    from harness.gateway_url import check_token, dossier_probe, refuse_foreign_token
    from harness.tls import gateway_session

    ivan, url = pool.factory.ivan[0], target.base_url
    session = gateway_session(verify)
    for code, other in others.items():
        if code == ivan:
            raise UsageError(
                f"--ivan-token {code}=...: {code} is --ivan, the I-VAN of --token",
                hint="give --ivan-token NAME=TOKEN of a second I-VAN, e.g. IVAN02=<its token>",
            )
        if other == token:
            raise UsageError(
                f"--ivan-token {code}=...: the same token as --token (the I-VAN {ivan})",
                hint=f"give the token the gateway issued to {code}",
            )
        check_token(
            session,
            url,
            other,
            refused=f"--ivan-token {code}=... is refused by the gateway",
            hint=f"give the token the gateway issued to {code}",
        )
        probe = dossier_probe(pool_for(pool.catalog, pool.pki, code).factory)
        if probe is not None:
            hint = f"give --ivan-token {code}=<the token the gateway issued to {code}>"
            refuse_foreign_token(session, url, other, code, probe, hint)
    if admin_token:  # advancing by 0 s moves nothing; a gateway without the routes: 404
        statuses = (
            _status(session, "POST", f"{url}/admin/clock/advance?seconds=0", admin_token),
            _status(session, "GET", f"{url}/admin/faults", admin_token),
        )
        status = next((s for s in statuses if s in (401, 403)), 0)
        if status:
            raise ConfigError(
                f"--admin-token is refused by the gateway ({status}): check it",
                hint="give the gateway's admin token, or leave --admin-token out (the "
                "lifecycle's clock and 503 rules are then left out)",
            )


def _status(session: requests.Session, method: str, url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        return session.request(method, url, headers=headers, timeout=10).status_code
    except requests.RequestException as exc:
        raise ConfigError(
            f"gateway {url} does not answer: {type(exc).__name__}",
            hint="check that it still runs and is reachable",
        ) from None


_RUN_OPTIONS = ("--budget", "--duration", "--family", "--seed", "--lifecycle-steps")


def lifecycle_reproduce(command: str, seed: int, steps: int) -> str:
    """The run's command with its cases cut to one valid dossier: the lifecycle's steps
    depend on the seed and the steps alone."""
    words, kept = shlex.split(command), []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _RUN_OPTIONS:
            skip = True
        else:
            kept.append(word)
    kept += ["--seed", str(seed), "--family", "valid", "--budget", "1"]
    kept += ["--lifecycle-steps", str(steps)]
    return " ".join(shlex.quote(w) if not w.startswith("<") else w for w in kept)


def save_failure(result: LifecycleResult, folder: Path, command: str) -> None:
    """A lifecycle failure's steps, seed, property and reproduce line, as a text file
    under the found folder (next to the cases' minimal dossiers); ``result`` names both."""
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


def _ivans(gateway: object) -> tuple[str, ...]:
    own, other = getattr(gateway, "own_ivan", ""), getattr(gateway, "other_ivan", "")
    return (own, other) if getattr(gateway, "other", None) is not None else (own,)


__all__ = [
    "BUDGET_SHARE",
    "MAX_STEPS",
    "check_lifecycle_tokens",
    "lifecycle_reproduce",
    "lifecycle_steps",
    "run_cli_lifecycle",
    "save_failure",
]
