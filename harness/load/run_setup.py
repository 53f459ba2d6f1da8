"""What a load run checks and decides before anything starts (:func:`prepare_run`): the plan,
its service levels, catalog and mix, the locustfile, the generators' addresses, the
I-VANs' tokens and the gateway's clock speed.

Apart from :mod:`harness.load.runner`, which starts processes: nothing here starts or
writes anything, so every mistake in the options is found before a pool is signed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ConfigError
from harness.load.gateway import check_local_clock, check_remote, well_known_tokens
from harness.load.levels import Level, load_levels
from harness.load.processes import Master, check_master_address
from harness.load.profile import Plan, load_profile, mix_for_catalog
from harness.load.request import LoadRequest, check_scheduled, check_users
from harness.paths import scenarios_dir

if TYPE_CHECKING:
    from harness.catalog import Catalog

Notify = Callable[[str], None]
"""Where a run says what it is doing (the CLI prints it; the library default drops it)."""

OVERSHOOT_WARNING = 1.1
"""Scheduled / asked above this: the scale is too small for whole users to follow the
shape, and the run says so."""

LOCAL_CLOCK_SPEED = 900.0
"""A local gateway's simulated seconds per real second: 15 minutes a second, so hand-over
(15 min) and result (+60 min) come back within a few real seconds of a short run."""


def remote_clock_speed(url: str, asked: float | None, reported: float | None) -> tuple[float, str]:
    """The remote gateway's clock speed, and where it comes from.

    Lifecycle times are real seconds times this speed, so a wrong one scales every
    hand-over and result figure: the speed the gateway reports wins, and a
    ``--clock-speed`` that contradicts it is refused rather than silently used.
    """
    if reported is None:
        if asked is None:
            return 1.0, "assumed: the gateway does not report its clock; --clock-speed sets it"
        return asked, "--clock-speed"
    if reported <= 0:
        raise ConfigError(
            f"gateway {url} has its clock frozen (clock_speed {reported:g}): no 02/TB-TS or "
            "03/TB-TS would come back during the run, so lifecycle times cannot be measured",
            hint="serve it with a running clock, e.g. bhxh-harness serve --clock-speed 900",
        )
    if asked is not None and not math.isclose(asked, reported, rel_tol=1e-9):
        raise ConfigError(
            f"--clock-speed {asked:g}, but gateway {url} runs its clock at {reported:g} "
            "simulated s per real s; lifecycle times would be scaled wrongly",
            hint="leave --clock-speed out (the gateway's speed is used), or serve the "
            f"gateway with --clock-speed {asked:g}",
        )
    return reported, "reported by the gateway"


def _mix(
    request: LoadRequest, plan: Plan, procedures: list[str], version: str, notify: Notify
) -> tuple[str, dict[str, float], list[str]]:
    """The mix's weights for this catalog version. mixes.yaml is shared by every catalog
    version (630a exists only from 2026.1), so a code another version has is left out
    with a warning; a code no version has was refused when the file was read. A procedure
    the mix does not weigh (one just added to the catalog) is not sent, and said so."""
    from harness.catalog import list_versions, load_catalog

    mix_name = request.mix or plan.shape.mix
    mix = plan.profile.mix(mix_name)
    known = {code for v in list_versions() for code in load_catalog(v).procedures}
    for name, weights in plan.profile.mixes.items():  # a typo in any mix breaks the file
        if unknown := sorted(set(weights) - known):
            raise ConfigError(
                f"{plan.profile.mix_lines.get(name, 'mixes.yaml')}: mix {name!r} names "
                f"{', '.join(unknown)}, a procedure no catalog version has",
                hint=f"procedures of the catalog versions: {', '.join(sorted(known))}",
            )
    weights, dropped = mix_for_catalog(mix, procedures)
    if dropped:
        notify(
            f"warning: mix {mix_name}: {', '.join(dropped)} not in catalog {version}; "
            "left out, the other procedures keep their relative weights"
        )
    if unweighted := [code for code in procedures if code not in mix]:
        where = plan.profile.mix_lines.get(mix_name, "mixes.yaml")
        notify(
            f"warning: mix {mix_name} gives no weight to {', '.join(unweighted)} of catalog "
            f"{version}: not sent in this run (add a weight at {where})"
        )
    return mix_name, weights, dropped


@dataclass(frozen=True)
class RunSetup:
    """Everything a run needs that is decided before anything starts."""

    plan: Plan
    peak_users: int
    levels: list[Level]
    catalog: Catalog
    mix_name: str
    weights: dict[str, float]
    dropped: list[str]
    locustfile: Path
    master: Master
    tokens: dict[str, str]
    clock_speed: float
    clock_source: str


def _check_ivan_codes(tokens: Mapping[str, str], catalog: Catalog) -> None:
    """Refuse an ``--ivan-token`` code no envelope of ``catalog`` can carry, before any pool
    is signed: every dossier naming it would be refused (the gateway took the blame)."""
    from harness.conformance import factory_for_ivan
    from harness.dossiers.factory import DossierFactory
    from harness.signing import ensure_pki

    if not tokens:
        return
    pki = ensure_pki()
    factory = DossierFactory(catalog, pki)
    for code in tokens:
        factory_for_ivan(factory, code, pki.trust_store(), what=f"--ivan-token {code}=...")


def prepare_run(request: LoadRequest, say: Notify) -> RunSetup:
    """Check and plan ``request`` (a remote gateway is asked whether it answers, takes the
    tokens and how fast its clock runs); nothing is started or written yet."""
    from harness.catalog import latest_version, load_catalog

    profile = load_profile()
    plan = Plan(
        profile,
        profile.shape(request.shape),
        request.scale,
        request.duration,
        request.model,
        request.users_max,
    )
    peak_users = check_users(plan, request)
    check_scheduled(plan, request)
    levels = load_levels(request.service_levels)
    catalog = load_catalog(request.catalog_version or latest_version())
    _check_ivan_codes(request.ivan_tokens or {}, catalog)
    mix_name, weights, dropped = _mix(request, plan, list(catalog.procedures), catalog.version, say)
    locustfile = request.locustfile or scenarios_dir() / "load" / "locustfile.py"
    if not locustfile.is_file():
        raise ConfigError(
            f"locustfile {locustfile} not found",
            hint="copy scenarios/ from a checkout of bhxh-harness beside fixtures/",
        )
    master = Master(request.master_bind, request.master_port, request.remote_workers)
    if request.workers or request.remote_workers:
        check_master_address(master)
    for warning in request.warnings():
        say(f"warning: {warning}")
    if plan.scheduled_dossiers > OVERSHOOT_WARNING * plan.expected_dossiers:
        say(
            f"warning: --scale {request.scale:g} asks for {plan.expected_dossiers:,.1f} "
            f"dossiers, but whole users (each one every "
            f"{profile.per_user_interval(plan.model):g} s) schedule "
            f"{plan.scheduled_dossiers:,.1f}; "
            + (
                "throughput_ratio is measured against the scheduled figure"
                if plan.model == "closed"
                else "they send that many, and throughput_ratio counts their arrivals"
            )
        )
    clock_speed, clock_source = request.clock_speed or LOCAL_CLOCK_SPEED, "local gateway"
    if request.local:
        check_local_clock(clock_speed)
    generators = request.generators if request.local else 2
    tokens = dict(request.ivan_tokens or well_known_tokens(generators))
    if not request.local:
        reported = check_remote(
            request.gateway,
            tokens,
            verify=request.verify_tls,
            catalog_version=request.catalog_version,
            serves=(catalog, sorted(weights)),
            say=say,
        )
        clock_speed, clock_source = remote_clock_speed(
            request.gateway, request.clock_speed, reported
        )
    return RunSetup(
        plan,
        peak_users,
        levels,
        catalog,
        mix_name,
        weights,
        dropped,
        locustfile,
        master,
        tokens,
        clock_speed,
        clock_source,
    )


__all__ = [
    "LOCAL_CLOCK_SPEED",
    "OVERSHOOT_WARNING",
    "Notify",
    "RunSetup",
    "prepare_run",
    "remote_clock_speed",
]
