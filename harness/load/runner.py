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
import shlex
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.load.gateway import LocalGateway, check_remote, well_known_tokens
from harness.load.ivan import STEPS
from harness.load.levels import LevelResult, Measurements, evaluate, load_levels
from harness.load.pool import Ivan, build_pool, pool_path
from harness.load.processes import STATS_PREFIX, LocustOutcome, Master, run_locust
from harness.load.profile import MODELS, Plan, load_profile, mix_for_catalog
from harness.load.settings import LocustSettings, identities
from harness.load.stats import AGGREGATED, read_history, read_stats
from harness.load.verdict import write_verdict
from harness.paths import project_root, reports_dir
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, new_run_id
from harness.tls import Verify, verify_option

LOCAL_CLOCK_SPEED = 900.0
"""A local gateway's simulated seconds per real second: 15 minutes a second, so hand-over
(15 min) and result (+60 min) come back within a few real seconds of a short run."""

REQUIREMENTS = {
    "latency": "fixtures/load/service-levels.yaml latency_ms (real time per step)",
    "error_rate": "fixtures/load/service-levels.yaml error_rate",
    "lifecycle": "Decree 166 art. 25/30 (2 hours) and service-levels.yaml lifecycle_s",
    "throughput_ratio": "service-levels.yaml throughput_ratio: the gateway took the load",
}


@dataclass(frozen=True)
class LoadRequest:
    """What to run; every field has the CLI's default."""

    gateway: str = "local"
    shape: str = "month-end"
    scale: float = 1.0
    duration: float = 60.0
    workers: int = 0
    model: str = "open"
    mix: str | None = None
    users_max: int = 0
    service_levels: Path | None = None
    clock_speed: float | None = None
    ivan_tokens: Mapping[str, str] | None = None
    catalog_version: str | None = None
    pool_size: int = 8
    seed: int = 1
    fault_latency: float = 0.0
    gateway_workers: int = 1
    payload: str = "real"
    feed: bool = True
    out: Path | None = None
    locustfile: Path | None = None
    remote_workers: int = 0  # workers started by hand on other machines (README)
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    insecure: bool = False  # do not verify the gateway's TLS certificate
    ca_bundle: Path | None = None  # CA bundle (PEM) that signed it

    @property
    def verify_tls(self) -> Verify:
        """What ``requests`` takes as ``verify``, from the two TLS options."""
        return verify_option(self.insecure, str(self.ca_bundle) if self.ca_bundle else None)

    def validate(self) -> None:
        """Every problem at once, each as ``name=value``, before anything starts."""
        problems = []
        local = self.gateway == "local"
        if not local and not self.gateway.startswith(("http://", "https://")):
            problems.append(f"gateway={self.gateway!r} must be 'local' or an http(s) URL")
        if self.workers < 0:
            problems.append(f"workers={self.workers} must be 0 (one process) or more")
        if self.model not in MODELS:
            problems.append(f"model={self.model!r} must be one of {', '.join(MODELS)}")
        if self.clock_speed is not None and self.clock_speed <= 0:
            problems.append(f"clock_speed={self.clock_speed} must be positive")
        if self.fault_latency < 0 or (self.fault_latency and not local):
            problems.append(f"fault_latency={self.fault_latency} needs a local gateway, >= 0")
        if self.gateway_workers < 1:
            problems.append(f"gateway_workers={self.gateway_workers} must be at least 1")
        if (self.insecure or self.ca_bundle) and not self.gateway.startswith("https://"):
            problems.append("insecure/ca_bundle need an https:// gateway")
        if self.insecure and self.ca_bundle:
            problems.append("insecure and ca_bundle exclude each other: choose one")
        if self.remote_workers < 0:
            problems.append(f"remote_workers={self.remote_workers} must be 0 or more")
        if self.remote_workers and not self.master_port:
            problems.append("remote_workers needs master_port, so workers know where to connect")
        if self.pool_size < 1:
            problems.append(f"pool_size={self.pool_size} must be at least 1")
        if self.payload not in ("real", "trivial"):
            problems.append(f"payload={self.payload!r} must be real or trivial")
        if problems:
            raise ConfigError("invalid load run: " + "; ".join(problems))


@dataclass
class LoadResult:
    """The verdict of one run and where its report is."""

    run_id: str
    directory: Path
    results: list[LevelResult]
    measurements: Measurements
    bundle: ReportBundle
    error: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.error and all(r.passed for r in self.results)

    @property
    def failed(self) -> list[LevelResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        """Lines for a terminal or a CI log: verdict, every level with what was measured
        (a passing run's margins are news too), the missed ones' details, report path."""
        met = sum(r.passed for r in self.results)
        lines = [
            f"verdict: {'PASSED' if self.passed else 'FAILED'} "
            f"({met} of {len(self.results)} service levels met)"
        ]
        if self.error:  # the levels would only repeat that nothing was measured
            lines.append(f"the run itself failed: {self.error}")
        else:
            for r in self.results:
                level = r.level
                measured = (
                    "not measured"
                    if r.measured is None
                    else f"{_figure(r.measured)} {level.unit}".rstrip()
                )
                mark = "met   " if r.passed else "missed"
                lines.append(f"  {mark} {level.name}: {measured} ({level.describe()})")
                if r.measured is None and r.detail:  # why nothing was measured
                    lines.append(f"         {r.detail}")
        lines.append(f"report: {self.directory / 'verdict.html'}")
        return "\n".join(lines)


def _figure(value: float) -> str:
    """About three significant digits, never in exponent form: 1429, 98.4, 1.02, 0.0123."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value == 0 or abs(value) >= 0.001 else f"{value:.6f}"


def run_load(
    gateway: str = "local",
    shape: str = "month-end",
    scale: float = 1.0,
    duration: float = 60.0,
    workers: int = 0,
    **options: Any,
) -> LoadResult:
    """Run a deadline load test; ``options`` are the other :class:`LoadRequest` fields."""
    try:
        request = LoadRequest(gateway, shape, scale, duration, workers, **options)
    except TypeError as exc:
        raise ConfigError(f"run_load: {exc}") from None
    return execute(request)


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


_OPTION_NAMES = {"catalog_version": "--catalog", "ivan_tokens": "--ivan-token"}
_ALWAYS_SHOWN = ("gateway", "shape", "scale", "duration", "workers", "model")
_NOT_OPTIONS = ("out", "locustfile", "users_max", "payload", "feed")  # library-only or no effect


def _reproduce(r: LoadRequest) -> str:
    """The command line of this run: every option that differs from its default (tokens
    as ``<token>``, to be filled in: a report is shared, a credential is not)."""
    defaults = LoadRequest()
    parts = ["bhxh-harness load"]
    for name in (f.name for f in fields(r)):
        value = getattr(r, name)
        if name in _NOT_OPTIONS or (name not in _ALWAYS_SHOWN and value == getattr(defaults, name)):
            continue
        option = _OPTION_NAMES.get(name, "--" + name.replace("_", "-"))
        if value is True:
            parts.append(option)
        elif name == "ivan_tokens":
            parts += [f"{option} {shlex.quote(code + '=<token>')}" for code in value]
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"{option} {shlex.quote(shown)}")
    return " ".join(parts)


def _cases(results: list[LevelResult], reproduce: str, error: str) -> list[CaseResult]:
    cases = [
        CaseResult(
            case_id=r.level.name,
            title=r.level.describe(),
            outcome=Outcome.PASSED if r.passed else Outcome.FAILED,
            requirement=REQUIREMENTS[r.level.kind],
            message=r.detail,
            evidence={"measured": "—" if r.measured is None else f"{r.measured:.6g}"},
            reproduce=reproduce,
        )
        for r in results
    ]
    if error:
        cases.append(
            CaseResult("load-run", "the load run completes", Outcome.ERROR, message=error[:4000])
        )
    return cases


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


def execute(request: LoadRequest) -> LoadResult:
    """Run ``request`` and write its report bundle (see the module docstring)."""
    from harness.catalog import latest_version, load_catalog

    request.validate()
    profile = load_profile()
    plan = Plan(
        profile,
        profile.shape(request.shape),
        request.scale,
        request.duration,
        request.model,
        request.users_max,
    )
    levels = load_levels(request.service_levels)
    catalog = load_catalog(request.catalog_version or latest_version())
    mix_name = request.mix or plan.shape.mix
    weights, dropped = mix_for_catalog(profile.mix(mix_name), list(catalog.procedures))
    locustfile = request.locustfile or project_root() / "scenarios" / "load" / "locustfile.py"
    if not locustfile.is_file():
        raise ConfigError(f"locustfile {locustfile} not found", hint="run from a checkout")
    local = request.gateway == "local"
    clock_speed, clock_source = request.clock_speed or LOCAL_CLOCK_SPEED, "local gateway"
    generators = max(1, request.workers + request.remote_workers)
    tokens = dict(request.ivan_tokens or well_known_tokens(generators if local else 2))
    if not local:
        reported = check_remote(request.gateway, tokens, verify=request.verify_tls)
        clock_speed, clock_source = remote_clock_speed(
            request.gateway, request.clock_speed, reported
        )
    run_id = new_run_id("load")
    directory = (request.out or reports_dir()) / run_id
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="bhxh-load-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        pool_seconds = _prepare_pools(work, request, tokens, weights, catalog.version)
        url = request.gateway
        if local:
            gateway = LocalGateway(
                work / "gateway",
                tokens,
                clock_speed,
                request.fault_latency,
                request.gateway_workers,
                log_path=logs / "gateway.log",
            )
            url = stack.enter_context(gateway).url
        settings = LocustSettings(
            shape=request.shape,
            scale=request.scale,
            duration=request.duration,
            model=request.model,
            mix=mix_name,
            users_max=request.users_max,
            clock_speed=clock_speed,
            pool_dir=str(work),
            pool_size=request.pool_size,
            seed=request.seed,
            catalog=catalog.version,
            payload=request.payload,
            feed=request.feed,
            lifecycle_out=str(directory / "lifecycle.json"),
            insecure=request.insecure,
            ca_bundle=str(request.ca_bundle.resolve()) if request.ca_bundle else "",
        )
        master = Master(request.master_bind, request.master_port, request.remote_workers)
        outcome = run_locust(
            locustfile, url, settings, tokens, request.workers, directory, logs, master=master
        )
    facts = {
        "gateway": f"local (127.0.0.1, SQLite, {request.gateway_workers} process)"
        if local
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
        "mix": f"{mix_name} ({', '.join(f'{k}:{v:g}' for k, v in weights.items())})"
        + (f"; not in catalog {catalog.version}: {', '.join(dropped)}" if dropped else ""),
        "catalog": catalog.version,
        "peak target rate": f"{plan.peak_rate:.2f} dossiers/s",
        "clock speed": f"{clock_speed:g} simulated s per real s ({clock_source})",
        "fault latency": f"{request.fault_latency:g} s" if local else "n/a",
        "pool signing": f"{pool_seconds:.1f} s before the run",
        "locust wall time": f"{outcome.seconds:.1f} s",
    }
    return _finish(request, plan, levels, directory, run_id, started_at, facts, outcome)


def _finish(
    request: LoadRequest,
    plan: Plan,
    levels: list[Any],
    directory: Path,
    run_id: str,
    started_at: str,
    facts: dict[str, Any],
    outcome: LocustOutcome,
) -> LoadResult:
    stats_path = directory / f"{STATS_PREFIX}_stats.csv"
    steps = read_stats(stats_path) if stats_path.is_file() else {}
    history = read_history(directory / f"{STATS_PREFIX}_stats_history.csv")
    lifecycle_path = directory / "lifecycle.json"
    lifecycle: dict[str, Any] = {}
    if lifecycle_path.is_file():
        lifecycle = json.loads(lifecycle_path.read_text(encoding="utf-8"))
    measurements = Measurements(
        steps=steps,
        lifecycle=lifecycle.get("samples", {}),
        counts=lifecycle.get("counts", {}),
        pending=int(lifecycle.get("pending", 0)),
        expected_dossiers=plan.expected_dossiers,
    )
    results = evaluate(levels, measurements)
    counts = measurements.counts
    facts |= {
        "dossiers": f"{measurements.accepted} accepted of {plan.expected_dossiers:.0f} asked for; "
        f"{counts.get('rejected', 0)} rejected, {counts.get('abandoned', 0)} abandoned, "
        f"{counts.get('retries', 0)} retries, {counts.get('late arrivals', 0)} late arrivals",
        "results pending at the end": str(measurements.pending),
    }
    error = outcome.error
    verdict = "ERROR" if error else ("PASSED" if all(r.passed for r in results) else "FAILED")
    title = f"Load run {plan.shape.name} × {request.scale:g} — {run_id}"
    ordered = [steps[name] for name in (*STEPS, AGGREGATED) if name in steps]
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
    )
    info = RunInfo(
        run_id=run_id,
        suite="load",
        title=title,
        started_at=started_at,
        meta={**facts, "verdict page": "verdict.html", "locust report": "locust.html"},
    )
    bundle = ReportBundle(info, directory)
    for case in _cases(results, _reproduce(request), error):
        bundle.add(case)
    bundle.write()
    return LoadResult(run_id, directory, results, measurements, bundle, error, facts)


__all__ = ["LOCAL_CLOCK_SPEED", "LoadRequest", "LoadResult", "execute", "run_load"]
