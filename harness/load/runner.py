"""``run_load``: one bounded deadline load run, from options to ``reports/<run-id>/``.

Order matters and is deliberate: everything that can be wrong with the options (shape,
mix, service-level file, catalog) is checked before any process starts; the dossier
pools are signed before the clock starts, so signing never competes with the load; the
gateway (when local) is up before locust starts; and the verdict is computed from the
files locust wrote, which stay in the report as the evidence behind it. This module holds
that order and starts the processes; the checks are :mod:`harness.load.run_setup`'s and
the judging :mod:`harness.load.finish`'s.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.load.finish import LIFECYCLE, finish_run, run_facts, write_partial_report
from harness.load.gateway import LocalGateway
from harness.load.levels import count_text, stop_grace
from harness.load.lifetime import Interrupted, Watched, remove_stale_scratch, scratch_folder
from harness.load.pool import Ivan, build_pool, pool_path
from harness.load.processes import SHAPE_STARTED, STATS_PREFIX, run_locust
from harness.load.request import LoadRequest, reproduce
from harness.load.result import LoadResult
from harness.load.run_setup import Notify, prepare_run
from harness.load.settings import LocustSettings, identities
from harness.load.stats import last_totals
from harness.owned_folders import holding
from harness.paths import report_parent
from harness.reporting import new_run_id


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


def execute(request: LoadRequest, notify: Notify | None = None) -> LoadResult:
    """Run ``request`` and write its report bundle (see the module docstring).

    Ctrl-C or SIGTERM (see :func:`harness.load.lifetime.sigterm_interrupts`) stop every
    child and remove the scratch folder; :class:`Interrupted` then carries the report
    folder, which holds no verdict.
    """
    say: Notify = notify or (lambda _line: None)
    request = _absolute_levels(request.validate())
    parent = report_parent(request.out).absolute()  # locust runs in another folder
    setup = prepare_run(request, say)
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
        figures = write_partial_report(request, setup, directory, (run_id, started_at), signum)
        raise Interrupted(signum, directory, figures) from None
    except Exception:
        _discard_unmeasured(directory)  # failed before locust measured: no empty folder
        raise
    facts = run_facts(request, setup, url, pool_seconds, outcome.seconds)
    return finish_run(
        request, plan, setup.levels, directory, run_id, started_at, facts, outcome, setup
    )


def _absolute_levels(request: LoadRequest) -> LoadRequest:
    """The request with its ``--service-levels`` file as an absolute path, so the report
    and its ``reproduce`` line name the file used wherever they are read from."""
    if request.service_levels is None:
        return request
    return replace(request, service_levels=request.service_levels.absolute())


def _discard_unmeasured(directory: Path) -> bool:
    """Remove the run's folder if locust measured nothing in it (it would read as a run
    still going); True if it was removed."""
    if (directory / f"{STATS_PREFIX}_stats.csv").is_file():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


_reproduce = reproduce  # the name tests and older callers use

__all__ = ["LoadRequest", "LoadResult", "execute", "run_load"]
