"""``run_load``: one bounded deadline load run, from options to ``reports/<run-id>/``.

Order matters and is deliberate: everything that can be wrong with the options (shape,
mix, service-level file, catalog) is checked before any process starts; the dossier
pools are signed before the clock starts, so signing never competes with the load; the
gateway (when local) is up before locust starts; and the verdict is computed from the
files locust wrote, which stay in the report as the evidence behind it.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.load.breakdown import (
    ProcedureFigures,
    breakdown,
    lifecycle_limits,
    to_json,
    total_row,
)
from harness.load.gateway import (
    LocalGateway,
    check_local_clock,
    check_remote,
    well_known_tokens,
)
from harness.load.ivan import ACK_OTHER, STEPS
from harness.load.ivan import sent as dossiers_sent
from harness.load.levels import (
    Level,
    LevelResult,
    Measurements,
    count_text,
    evaluate,
    load_levels,
    run_verdict,
    stop_grace,
)
from harness.load.lifetime import Interrupted, Watched, remove_stale_scratch, scratch_folder
from harness.load.pool import Ivan, build_pool, pool_path
from harness.load.processes import (
    SHAPE_STARTED,
    STATS_PREFIX,
    LocustOutcome,
    Master,
    check_master_address,
    run_locust,
)
from harness.load.profile import Plan, load_profile, mix_for_catalog
from harness.load.request import LoadRequest, check_scheduled, check_users, reproduce
from harness.load.result import (
    DEFAULT_SOURCE,
    FAILURES,
    FEED_AT_STOP,
    LIFECYCLE_NOTE,
    PARTIAL,
    PARTIAL_PAGE,
    LoadBundle,
    LoadResult,
    cases,
    dossier_account,
    failure_account,
    feed_account,
    feed_at_stop_account,
    lifecycle_note,
    partial_dossiers,
    partial_lines,
)
from harness.load.settings import LocustSettings, identities
from harness.load.stats import (
    AGGREGATED,
    RequestFailure,
    last_totals,
    read_exceptions,
    read_failures,
    read_history,
    read_stats,
)
from harness.load.verdict import write_verdict
from harness.owned_folders import holding
from harness.paths import report_parent, scenarios_dir
from harness.reporting import RunInfo, new_run_id

if TYPE_CHECKING:
    from harness.catalog import Catalog

Notify = Callable[[str], None]
"""Where a run says what it is doing (the CLI prints it; the library default drops it)."""

OVERSHOOT_WARNING = 1.1
"""Scheduled / asked above this: the scale is too small for whole users to follow the
shape, and the run says so."""

LIFECYCLE = "lifecycle.json"
"""The locust master's lifecycle samples and counters, in the report folder."""

LOCAL_CLOCK_SPEED = 900.0
"""A local gateway's simulated seconds per real second: 15 minutes a second, so hand-over
(15 min) and result (+60 min) come back within a few real seconds of a short run."""


def run_load(
    gateway: str = "local",
    shape: str = "month-end",
    scale: float = 1.0,
    duration: float = 60.0,
    workers: int = 0,
    *,
    notify: Notify | None = None,
    **options: Any,
) -> LoadResult:
    """Run a deadline load test; ``options`` are the other :class:`LoadRequest` fields,
    ``notify`` receives the start, progress and warning lines."""
    try:
        request = LoadRequest(gateway, shape, scale, duration, workers, **options)
    except TypeError as exc:
        raise ConfigError(f"run_load: {exc}") from None
    return execute(request, notify)


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


def _prepare_pools(
    folder: Path,
    request: LoadRequest,
    tokens: Mapping[str, str],
    weights: Mapping[str, float],
    version: str,
) -> float:
    """Sign every generator process's pool now, so no worker signs during the run."""
    started = time.perf_counter()
    ids = identities(tokens)
    for index in range(max(1, request.workers + request.remote_workers)):
        code, token = ids[index % len(ids)]
        if not pool_path(folder, code).is_file():
            build_pool(
                Ivan(code, token), sorted(weights), request.pool_size, request.seed, version
            ).save(pool_path(folder, code))
    return time.perf_counter() - started


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


WAITING_FOR_GENERATORS = "waiting for the generators (finding each I-VAN's feed end)"
"""The progress line while the shape's clock waits for the generators to get ready."""


def _progress(
    directory: Path, duration: float, notify: Notify, scratch: Path
) -> Callable[[float], None]:
    """A progress line from the history file locust is writing; the seconds count from
    the shape's start (``scratch``/:data:`SHAPE_STARTED`), as the duration does."""

    def report(elapsed: float) -> None:
        row = last_totals(directory / f"{STATS_PREFIX}_stats_history.csv")
        began = _shape_began(scratch / SHAPE_STARTED)
        if began is None:
            doing = "starting locust" if row is None else WAITING_FOR_GENERATORS
            notify(f"  {elapsed:4.0f} s: {doing}")
            return
        users, sent, failed = (
            (row.users, row.total_requests, row.total_failures) if row else (0, 0, 0)
        )
        notify(
            f"  {max(0.0, time.time() - began):4.0f} s of about {duration:g}: {users} users, "
            f"{sent:,} requests, {failed:,} failed"
        )

    return report


def _shape_began(marker: Path) -> float | None:
    """When the shape's clock started (the marker's time), or None if it has not yet."""
    try:
        return marker.stat().st_mtime
    except OSError:
        return None


@dataclass(frozen=True)
class _Setup:
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


def _setup(request: LoadRequest, say: Notify) -> _Setup:
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
    return _Setup(
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


def execute(request: LoadRequest, notify: Notify | None = None) -> LoadResult:
    """Run ``request`` and write its report bundle (see the module docstring).

    Ctrl-C or SIGTERM (see :func:`harness.load.lifetime.sigterm_interrupts`) stop every
    child and remove the scratch folder; :class:`Interrupted` then carries the report
    folder, which holds no verdict.
    """
    say: Notify = notify or (lambda _line: None)
    request = _absolute_levels(request.validate())
    parent = report_parent(request.out).absolute()  # locust runs in another folder
    setup = _setup(request, say)
    plan, catalog = setup.plan, setup.catalog
    run_id = new_run_id("load")
    directory = parent / run_id
    logs = directory / "logs"
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        logs.mkdir(parents=True, exist_ok=True)
        if stale := remove_stale_scratch():
            say(f"removed {len(stale)} scratch folder(s) that killed load runs left behind")
        # the report folder is locked while locust writes into it: a run killed before its
        # report leaves the lock unheld, and the dashboard says so (not "still running?")
        with holding(directory, release=True), scratch_folder() as work, ExitStack() as stack:
            watch: list[Watched] = []
            say(f"signing the dossier pools ({request.generators} I-VAN process(es))")
            pool_seconds = _prepare_pools(
                work, request, setup.tokens, setup.weights, catalog.version
            )
            url = request.gateway
            if request.local:
                gateway = LocalGateway(
                    work / "gateway",
                    setup.tokens,
                    setup.clock_speed,
                    request.fault_latency,
                    request.gateway_workers,
                    log_path=logs / "gateway.log",
                    on_start=watch.append,
                )
                url = stack.enter_context(gateway).url
            settings = LocustSettings(
                shape=request.shape,
                scale=request.scale,
                duration=request.duration,
                model=request.model,
                mix=setup.mix_name,
                users_max=request.users_max,
                clock_speed=setup.clock_speed,
                pool_dir=str(work),
                pool_size=request.pool_size,
                seed=request.seed,
                catalog=catalog.version,
                payload=request.payload,
                feed=request.feed,
                lifecycle_out=str(directory / LIFECYCLE),
                insecure=request.insecure,
                ca_bundle=str(request.ca_bundle.resolve()) if request.ca_bundle else "",
                grace=stop_grace(setup.levels),
            )
            say(
                f"load run {run_id}: {plan.shape.name} × {request.scale:g} for "
                f"{request.duration:g} s against {url} (up to {setup.peak_users:,} users, "
                f"{count_text(plan.scheduled_dossiers)} dossiers scheduled); report in {directory}"
            )
            outcome = run_locust(
                setup.locustfile,
                url,
                settings,
                setup.tokens,
                request.workers,
                directory,
                logs,
                master=setup.master,
                progress=_progress(directory, request.duration, say, work),
                watch=watch,
            )
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        if _discard_unmeasured(directory):
            raise Interrupted(signum) from None
        # locust measured something: its statistics get a results.json (no case judged, the
        # figures of what ran, labelled partial) and a manifest, so the folder does not read
        # as a run still going
        figures = _write_partial(request, setup, directory, (run_id, started_at), signum)
        raise Interrupted(signum, directory, figures) from None
    except Exception:
        _discard_unmeasured(directory)  # failed before locust measured: no empty folder
        raise
    facts = _facts(request, setup, url, pool_seconds, outcome.seconds)
    return _finish(
        request, plan, setup.levels, directory, run_id, started_at, facts, outcome, setup
    )


def _absolute_levels(request: LoadRequest) -> LoadRequest:
    """The request with its ``--service-levels`` file as an absolute path, so the report
    and its ``reproduce`` line name the file used wherever they are read from."""
    if request.service_levels is None:
        return request
    return replace(request, service_levels=request.service_levels.absolute())


def _levels_source(request: LoadRequest) -> str:
    """How the report names the service-level file the run was judged against."""
    return str(request.service_levels) if request.service_levels else DEFAULT_SOURCE


def _discard_unmeasured(directory: Path) -> bool:
    """Remove the run's folder if locust measured nothing in it (it would read as a run
    still going); True if it was removed."""
    if (directory / f"{STATS_PREFIX}_stats.csv").is_file():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def _facts(
    request: LoadRequest, setup: _Setup, url: str, pool_seconds: float, locust_seconds: float
) -> dict[str, str]:
    """What the verdict page says of how the run was made."""
    plan, profile = setup.plan, setup.plan.profile
    weights = ", ".join(f"{k}:{v:g}" for k, v in setup.weights.items())
    dropped = ", ".join(setup.dropped)
    unweighted = ", ".join(c for c in setup.catalog.procedures if c not in setup.weights)
    return {
        "gateway": f"local (127.0.0.1, SQLite, {request.gateway_workers} process)"
        if request.local
        else url,
        "shape": f"{plan.shape.name}: {plan.shape.title}",
        "scale": f"{request.scale:g} × national ({request.scale * profile.base.units:,.0f} units, "
        f"{request.scale * profile.base.dossiers_per_day:,.0f} dossiers/day)",
        "model": request.model,
        "duration": f"{request.duration:g} s",
        "generators": (
            f"master + {request.workers} local + {request.remote_workers} remote workers"
            if request.workers or request.remote_workers
            else "1 process"
        ),
        "I-VANs": f"{', '.join(_ivans_used(setup.tokens, request.generators))} "
        f"({'--ivan-token' if request.ivan_tokens else 'the test tokens'})",
        "mix": f"{setup.mix_name} ({weights})"
        + (f"; not in catalog {setup.catalog.version}: {dropped}" if dropped else "")
        + (f"; not sent (no weight in the mix): {unweighted}" if unweighted else ""),
        "catalog": setup.catalog.version,
        "peak target rate": f"{plan.peak_rate:.2f} dossiers/s",
        "clock speed": f"{setup.clock_speed:g} simulated s per real s ({setup.clock_source})",
        "service levels": _levels_source(request),
        "fault latency": f"{request.fault_latency:g} s" if request.local else "n/a",
        "pool signing": f"{pool_seconds:.1f} s before the run",
        "locust wall time": f"{locust_seconds:.1f} s",
        "stop grace": f"{stop_grace(setup.levels):g} s for dossiers in flight at the end to be "
        "answered (the slowest latency level, within 2-10 s); none starts after the end",
    }


def _ivans_used(tokens: Mapping[str, str], generators: int) -> list[str]:
    """The I-VANs the generator processes act as (process i takes identity i, round robin,
    as the locustfile does): a one-process run uses one, whatever the gateway knows."""
    codes = [code for code, _token in identities(tokens)]
    return sorted({codes[i % len(codes)] for i in range(generators)}) if codes else []


def _title(plan: Plan, request: LoadRequest, run_id: str) -> str:
    """The run's title: the same on its verdict page and in its report, interrupted or not."""
    return f"Load run {plan.shape.name} × {request.scale:g} — {run_id}"


def _asked(request: LoadRequest, catalog: str) -> dict[str, Any]:
    """What an interrupted run's report says of it: what was asked, not what was measured."""
    return {
        "gateway": request.gateway,
        "shape": request.shape,
        "scale": f"{request.scale:g}",
        "duration": f"{request.duration:g} s (asked)",
        "catalog": catalog,
        "reproduce": reproduce(request),
        "locust statistics": f"{STATS_PREFIX}_*.csv, as far as the run went",
    }


def _write_partial(
    request: LoadRequest, setup: _Setup, directory: Path, run: tuple[str, str], signum: int
) -> list[str]:
    """Write the bundle of a run stopped by ``signum`` once locust measured something: what
    was asked, and what ran up to the stop (dossiers, failed requests, the feed, the table
    by procedure, on ``partial.html`` too), each labelled partial; no level is judged.
    Returns the terminal lines of those figures."""
    run_id, started_at = run
    lifecycle, unreadable = _read_lifecycle(directory / LIFECYCLE)
    name = signal.Signals(signum).name
    label = f"partial: what ran before {name} stopped the run; no service level is judged"
    if unreadable or not lifecycle:
        label += f"; {unreadable or f'{LIFECYCLE} was not written by the stop'}"
    failures = read_failures(directory / f"{STATS_PREFIX}_failures.csv")
    procedures, total = _by_procedure(lifecycle, setup)
    facts = {PARTIAL: label, **_partial_facts(request, lifecycle, failures, setup.clock_speed)}
    title = _title(setup.plan, request, run_id)
    if lifecycle:
        stats = read_stats(directory / f"{STATS_PREFIX}_stats.csv")
        write_verdict(
            directory / PARTIAL_PAGE,
            title=title,
            verdict="INTERRUPTED",
            results=[],
            facts=facts,
            steps=[stats[n] for n in (*STEPS, ACK_OTHER, AGGREGATED) if n in stats],
            history=read_history(directory / f"{STATS_PREFIX}_stats_history.csv"),
            plan=setup.plan,
            procedures=procedures,
            procedures_total=total,
            failures=failures,
            interrupted=label,
        )
        facts[PARTIAL] += f" (figures page: {PARTIAL_PAGE})"
    meta = {**_asked(request, setup.catalog.version), **facts}
    bundle = LoadBundle(
        RunInfo(run_id, "load", title, started_at, meta),
        directory,
        procedures=to_json(procedures) if lifecycle else {},
        failures=[{"name": f.name, "error": f.error, "count": f.count} for f in failures],
        feed_at_stop=dict(lifecycle.get("feed_at_stop") or {}),
        partial=facts[PARTIAL],
    )
    bundle.write_interrupted(signum)
    rows = (procedures, total) if lifecycle else None
    return partial_lines(facts, rows)


def _partial_facts(
    request: LoadRequest,
    lifecycle: Mapping[str, Any],
    failures: list[RequestFailure],
    clock_speed: float,
) -> dict[str, str]:
    """The accounts of a stopped run, as far as it went (no schedule to measure against)."""
    counts = lifecycle.get("counts", {})
    facts = {
        "dossiers": partial_dossiers(counts),
        FAILURES: failure_account(failures),
        "feed messages": feed_account(counts, shared=request.shares_ivans),
    }
    if left := feed_at_stop_account(lifecycle.get("feed_at_stop") or {}):
        facts[FEED_AT_STOP] = left
    facts[LIFECYCLE_NOTE] = lifecycle_note(clock_speed)  # the table's limits are simulated
    return facts if lifecycle else {FAILURES: facts[FAILURES]}


def _user_errors(directory: Path) -> str:
    """Exceptions raised inside locust users: the generator broke, the run is in error."""
    raised = read_exceptions(directory / f"{STATS_PREFIX}_exceptions.csv")
    if not raised:
        return ""
    lines = [f"{e.count} × {e.message}" for e in raised[:5]]
    more = f" (+{len(raised) - 5} more)" if len(raised) > 5 else ""
    return (
        f"{sum(e.count for e in raised)} exception(s) inside the load users{more}; see "
        f"{STATS_PREFIX}_exceptions.csv:\n" + "\n".join(lines)
    )


def _nothing_sent(counts: Mapping[str, int], plan: Plan) -> str:
    """Why a run that sent no dossier has no verdict: its levels (feed latency, error
    rate...) could all be met by a generator that never started, so it must not pass."""
    if dossiers_sent(counts):  # waiting out a Retry-After counts as sent
        return ""
    return (
        f"no dossier was sent ({count_text(plan.scheduled_dossiers)} scheduled over "
        f"{plan.duration:g} s), so the run judges nothing; see logs/ for why the users did "
        "not start, and run again with a longer --duration"
    )


def _read_lifecycle(path: Path) -> tuple[dict[str, Any], str]:
    """What the locust master wrote as the run ended, or why it cannot be read: the run is
    then an ERROR (its lifecycle was not measured) and its report is still written."""
    if not path.is_file():
        return {}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError too
        data = exc
    if isinstance(data, dict):
        return data, ""
    why = data if isinstance(data, Exception) else f"a JSON {type(data).__name__}, not an object"
    return {}, (
        f"{path} could not be read ({why}), so lifecycle times and dossiers still pending "
        "were not measured; locust was probably stopped while writing it: run again"
    )


def _by_procedure(
    lifecycle: Mapping[str, Any], setup: _Setup
) -> tuple[list[ProcedureFigures], ProcedureFigures]:
    """The breakdown by procedure of the mix as mixes.yaml weighs it (a code the catalog
    lacks, or weighed 0, shows 0 sent) and its totals row, both from lifecycle.json."""
    limits = lifecycle_limits(setup.levels)
    mix = setup.plan.profile.mix(setup.mix_name)
    notes = {code: f"not in catalog {setup.catalog.version}" for code in setup.dropped}
    rows = breakdown(lifecycle.get("procedures") or {}, mix, limits, notes)
    return rows, total_row(lifecycle, rows, limits)


def _finish(
    request: LoadRequest,
    plan: Plan,
    levels: list[Any],
    directory: Path,
    run_id: str,
    started_at: str,
    facts: dict[str, Any],
    outcome: LocustOutcome,
    setup: _Setup,
) -> LoadResult:
    stats_path = directory / f"{STATS_PREFIX}_stats.csv"
    steps = read_stats(stats_path) if stats_path.is_file() else {}
    history = read_history(directory / f"{STATS_PREFIX}_stats_history.csv")
    lifecycle, unreadable = _read_lifecycle(directory / LIFECYCLE)
    measurements = Measurements(
        steps=steps,
        lifecycle=lifecycle.get("samples", {}),
        counts=lifecycle.get("counts", {}),
        pending=int(lifecycle.get("pending", 0)),
        expected_dossiers=plan.scheduled_dossiers,
        latency=lifecycle.get("latency_ms", {}),
        pending_ages=lifecycle.get("pending_ages", {}),
    )
    results = evaluate(levels, measurements)
    counts = measurements.counts
    failures = read_failures(directory / f"{STATS_PREFIX}_failures.csv")
    facts |= {
        "dossiers": dossier_account(
            counts,
            plan.scheduled_dossiers,
            plan.expected_dossiers,
            plan.model,
            plan.profile.max_in_flight,
        ),
        FAILURES: failure_account(failures),
        "feed messages": feed_account(counts, shared=request.shares_ivans),
        "results pending at the end": str(measurements.pending),
    }
    if left := feed_at_stop_account(lifecycle.get("feed_at_stop") or {}):
        facts[FEED_AT_STOP] = left
    problems = (outcome.error, unreadable, _user_errors(directory), _nothing_sent(counts, plan))
    error = "\n".join(e for e in problems if e)
    if _lifecycle_judged(results, error):
        facts[LIFECYCLE_NOTE] = lifecycle_note(setup.clock_speed)
    verdict = run_verdict(results, error)
    title = _title(plan, request, run_id)
    ordered = [steps[name] for name in (*STEPS, ACK_OTHER, AGGREGATED) if name in steps]
    procedures, total = _by_procedure(lifecycle, setup)
    write_verdict(
        directory / "verdict.html",
        title=title,
        verdict=verdict,
        results=results,
        facts=facts,
        steps=ordered,
        history=history,
        plan=plan,
        error=error,
        procedures=procedures,
        procedures_total=total,
        failures=failures,
    )
    info = RunInfo(
        run_id=run_id,
        suite="load",
        title=title,
        started_at=started_at,
        meta={**facts, "verdict page": "verdict.html", "locust report": "locust.html"},
    )
    bundle = LoadBundle(
        info,
        directory,
        procedures=to_json(procedures),
        failures=[{"name": f.name, "error": f.error, "count": f.count} for f in failures],
        load_verdict=verdict,
        feed_at_stop=dict(lifecycle.get("feed_at_stop") or {}),
    )
    source = _levels_source(request)
    for case in cases(results, reproduce(request), error, outcome.seconds, source):
        bundle.add(case)
    bundle.write()
    return LoadResult(
        run_id, directory, results, measurements, bundle, error, facts, procedures, total
    )


def _lifecycle_judged(results: list[LevelResult], error: str) -> bool:
    """Whether a lifecycle level was judged: the report then says its times are simulated."""
    return not error and any(r.judged and r.level.kind == "lifecycle" for r in results)


_reproduce = reproduce  # the name tests and older callers use

__all__ = ["LOCAL_CLOCK_SPEED", "LoadRequest", "LoadResult", "Notify", "execute", "run_load"]
