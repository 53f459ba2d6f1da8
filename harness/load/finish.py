"""After locust: read the files it wrote, judge the service levels and write the report
bundle and verdict page (:func:`finish_run`), or the partial bundle of a run a signal stopped
(:func:`write_partial_report`).

Apart from :mod:`harness.load.runner`, which starts the run: this side only reads what a
run left behind, so it is the same whether the run completed or was cut short.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.load.breakdown import (
    ProcedureFigures,
    breakdown,
    lifecycle_limits,
    to_json,
    total_row,
)
from harness.load.ivan import ACK_OTHER, STEPS
from harness.load.ivan import sent as dossiers_sent
from harness.load.levels import (
    LevelResult,
    Measurements,
    count_text,
    evaluate,
    run_verdict,
    stop_grace,
)
from harness.load.processes import STATS_PREFIX, LocustOutcome
from harness.load.profile import Plan
from harness.load.request import LoadRequest, reproduce
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
from harness.load.run_setup import RunSetup
from harness.load.settings import identities
from harness.load.stats import (
    AGGREGATED,
    RequestFailure,
    read_exceptions,
    read_failures,
    read_history,
    read_stats,
)
from harness.load.verdict import write_verdict
from harness.reporting import RunInfo

LIFECYCLE = "lifecycle.json"
"""The locust master's lifecycle samples and counters, in the report folder."""


def _levels_source(request: LoadRequest) -> str:
    """How the report names the service-level file the run was judged against."""
    return str(request.service_levels) if request.service_levels else DEFAULT_SOURCE


def run_facts(
    request: LoadRequest, setup: RunSetup, url: str, pool_seconds: float, locust_seconds: float
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


def write_partial_report(
    request: LoadRequest, setup: RunSetup, directory: Path, run: tuple[str, str], signum: int
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
    lifecycle: Mapping[str, Any], setup: RunSetup
) -> tuple[list[ProcedureFigures], ProcedureFigures]:
    """The breakdown by procedure of the mix as mixes.yaml weighs it (a code the catalog
    lacks, or weighed 0, shows 0 sent) and its totals row, both from lifecycle.json."""
    limits = lifecycle_limits(setup.levels)
    mix = setup.plan.profile.mix(setup.mix_name)
    notes = {code: f"not in catalog {setup.catalog.version}" for code in setup.dropped}
    rows = breakdown(lifecycle.get("procedures") or {}, mix, limits, notes)
    return rows, total_row(lifecycle, rows, limits)


def finish_run(
    request: LoadRequest,
    plan: Plan,
    levels: list[Any],
    directory: Path,
    run_id: str,
    started_at: str,
    facts: dict[str, Any],
    outcome: LocustOutcome,
    setup: RunSetup,
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


__all__ = ["LIFECYCLE", "finish_run", "run_facts", "write_partial_report"]
