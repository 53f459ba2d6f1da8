"""``run_certification``: every selected case of the suite, per procedure, into a report.

The runner emits typed, past-tense events (STYLE.md); the CLI's progress bar and the
report bundle are listeners, and the runner knows neither. One gateway and one adapter
serve the whole run; each scenario reads only the traffic and fault events that came
after the previous one, and each case of the scenario judges that same run.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.catalog import Catalog, latest_version, load_catalog
from harness.certification.applicability import left_out_note, left_out_pairs
from harness.certification.connection import GatewayNotAnswering, gateway_base, ivan_probe_for
from harness.certification.engine import ScenarioRun, Watermarks
from harness.certification.evidence import reproduce
from harness.certification.gateway import CertGateway, local_gateway
from harness.certification.jobs import JobBuilder
from harness.certification.judge import judge
from harness.certification.model import AdapterContext, IvanAdapter
from harness.certification.progress import (
    CaseFinished,
    Event,
    Listener,
    RunFinished,
    RunStarted,
    ScenarioStarted,
)
from harness.certification.suite import CaseSpec, Suite, load_suite
from harness.certification.verdict import (
    NOT_APPLICABLE_KEY,
    SCOPE_KEY,
    CertificationBundle,
    scope_left_out,
    scope_note,
    with_first_finding,
)
from harness.certification.window import RunStart, refuse_clock_outside, run_start
from harness.errors import ConfigError, GatewayUnavailable
from harness.identities import ADMIN_TOKEN, DEFAULT_IVAN_CODE, token_of
from harness.json_lines import json_line
from harness.paths import report_parent
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, new_run_id
from harness.signing import TestPKI, ensure_pki
from harness.suggestions import did_you_mean
from harness.tls import Verify


def _catalog(catalog: Catalog | str | None) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog or latest_version())


def _procedures(catalog: Catalog, wanted: Sequence[str] | None) -> list[str]:
    if not wanted:
        return list(catalog.procedures)
    unknown = [p for p in wanted if p not in catalog.procedures]
    if unknown:
        raise ConfigError(
            f"procedure {', '.join(unknown)} is not in catalog {catalog.version}",
            hint=f"{did_you_mean(unknown[0], catalog.procedures)}"
            f"its procedures: {', '.join(catalog.procedures)}",
        )
    return [p for p in catalog.procedures if p in wanted]


def _check_settings(settings: dict[str, Any]) -> None:
    """A client timeout of 0 or less would end every case in the same odd error."""
    value: Any = settings.get("client_timeout")
    try:
        ok = 0 < float(value) < float("inf")
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"client_timeout {value!r} is not a positive number of seconds",
            hint="e.g. --client-timeout 30",
        )


@contextmanager
def _gateway(
    url: str | None,
    catalog: Catalog,
    pki: TestPKI,
    folder: Path,
    tokens: dict[str, str],
    verify_tls: Verify = True,
    tag: str = "run",
    probe: bytes | None = None,
) -> Iterator[CertGateway]:
    if url is None:
        with local_gateway(catalog.version, pki, folder, tag) as gateway:
            yield gateway
        return
    base = gateway_base(url)
    ivan = tokens.get("ivan", DEFAULT_IVAN_CODE)
    gateway = CertGateway(
        base,
        ivan=(ivan, tokens.get("ivan_name", ivan), tokens.get("token", token_of(ivan))),
        admin_token=tokens.get("admin_token", ADMIN_TOKEN),
        verify_tls=verify_tls,
        tag=tag,
        ivan_probe=probe,
    )
    try:
        yield gateway
    finally:
        gateway.close()


@dataclass
class _Session:
    """What every scenario of one run shares: suite, catalog, adapter, gateway, jobs, logs."""

    suite: Suite
    catalog: Catalog
    adapter: IvanAdapter
    gateway: CertGateway
    context: AdapterContext
    builder: JobBuilder
    pki: TestPKI
    seed: int
    gateway_url: str | None
    marks: Watermarks = field(default_factory=Watermarks)
    extra: tuple[str, ...] = ()  # options every reproduce line carries (I-VAN, timeout)

    def results(self, name: str, procedure: str, cases: list[CaseSpec]) -> Iterator[CaseResult]:
        """Run scenario ``name`` for ``procedure`` once and judge each of its cases."""
        started = time.perf_counter()
        run = ScenarioRun(
            self.suite.scenarios[name],
            procedure,
            adapter=self.adapter,
            gateway=self.gateway,
            builder=self.builder,
            context=self.context,
            catalog=self.catalog,
            trust=self.pki.trust_store(),
            settings=self.suite.resolved,
            marks=self.marks,
            seed=self.seed,
        )
        capabilities = run.obs.capabilities
        # every case lacks an operation: each is skipped saying which, so nothing is run
        obs = run.obs if all(c.missing(capabilities) for c in cases) else run.execute()
        took = (time.perf_counter() - started) / len(cases)
        for case in cases:
            repro = reproduce(
                self.adapter.spec,
                procedure,
                case.id,
                seed=self.seed,
                catalog=self.catalog.version,
                gateway_url=self.gateway_url,
                options=getattr(self.adapter, "options", None),
                verify_tls=self.context.verify_tls,
                extra=self.extra,
            )
            yield with_first_finding(judge(case, obs, self.suite, took, repro))


def _reproduce_options(
    tokens: dict[str, str], settings: dict[str, Any] | None, out: Path | None = None
) -> tuple[str, ...]:
    """The run's own options a case's reproduce line needs; credentials as ``<token>``."""
    words: list[str] = []
    if tokens.get("ivan", DEFAULT_IVAN_CODE) != DEFAULT_IVAN_CODE:
        words.append(f"--ivan {shlex.quote(tokens['ivan'])}")
    if "token" in tokens:
        words.append("--ivan-token '<token>'")
    if "admin_token" in tokens:
        words.append("--admin-token '<token>'")
    if settings and settings.get("client_timeout") is not None:
        words.append(f"--client-timeout {float(settings['client_timeout']):g}")
    if out is not None:
        words.append(f"--out {shlex.quote(str(out))}")
    return tuple(words)


def _adapter_options(adapter: IvanAdapter) -> str:
    """Every ``--adapter-option`` the adapter was given, as typed (for the run's meta)."""
    options: dict[str, str] = getattr(adapter, "options", None) or {}
    return " ".join(shlex.quote(f"{k}={v}") for k, v in options.items()) or "none"


def run_certification(
    adapter: IvanAdapter | str,
    procedures: Sequence[str] | None = None,
    gateway_url: str | None = None,
    catalog: Catalog | str | None = None,
    seed: int = 0,
    *,
    cases: Sequence[str] | None = None,
    out: Path | None = None,
    settings: dict[str, Any] | None = None,
    listener: Listener | None = None,
    suite: Suite | None = None,
    pki: TestPKI | None = None,
    tokens: dict[str, str] | None = None,
    verify_tls: Verify = True,
) -> ReportBundle:
    """Certify ``adapter`` (an adapter or an ``--adapter`` spec) and write its report bundle.

    ``procedures`` defaults to every procedure of ``catalog`` (default: the latest);
    ``gateway_url`` None starts the mock gateway with fault injection on 127.0.0.1;
    ``cases`` selects case ids; ``settings`` overrides the suite's (e.g. client_timeout);
    ``verify_tls`` is how the harness and the reference I-VAN check an https:// gateway.
    The bundle (``reports/<run-id>/`` or under ``out``) is written before returning.
    """
    from harness.certification.adapters import resolve_adapter

    emit = listener or (lambda _event: None)
    if gateway_url is not None:  # a mistyped URL is told before anything loads or starts
        gateway_base(gateway_url)
    suite = (suite or load_suite()).with_settings(**(settings or {}))
    _check_settings(suite.settings)
    cat = _catalog(catalog)
    procs = _procedures(cat, procedures)
    selected = suite.select(cases)
    parent = report_parent(out)
    ivan = resolve_adapter(adapter) if isinstance(adapter, str) else adapter
    pki = pki or ensure_pki()
    tokens = tokens or {}
    probe = ivan_probe_for(cat, pki, tokens.get("ivan", DEFAULT_IVAN_CODE), gateway_url)
    run_id = new_run_id("certify")
    directory = parent / run_id
    info = RunInfo(
        run_id=run_id,
        suite="certification",
        title=f"Chứng nhận I-VAN / I-VAN certification — {ivan.name} — catalog {cat.version}",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        meta={
            "suite name": suite.name,
            "suite version": suite.version,
            "harness version": __version__,
            "catalog version": cat.version,
            "seed": seed,
            "seeds": f"dossiers from {seed * 1000 + 1}, fault RNG {seed}, I-VAN RNG {seed}",
            "adapter": ivan.spec,
            "adapter options": _adapter_options(ivan),
            "gateway": gateway_url or "local (127.0.0.1, SQLite, fault injection)",
            "procedures": ", ".join(procs),
            "cases": ", ".join(c.id for c in selected),
            "settings": json.dumps(suite.settings, sort_keys=True),
        },
    )
    order = [s for s in suite.scenarios if any(c.scenario == s for c in selected)]
    builder = JobBuilder(cat, pki, seed, tag=run_id)
    inapplicable = left_out_pairs(suite, order, procs, builder)
    planned = [
        CaseResult(f"{c.id}@{p}", c.title, Outcome.SKIPPED, p, c.requirement)
        for name in order
        for p in procs
        for c in selected
        if c.scenario == name and (name, p) not in inapplicable
    ]
    if inapplicable:  # left out, not skipped: no I-VAN could meet them (said with why)
        said = left_out_note(inapplicable, selected)
        info = replace(info, meta={**info.meta, NOT_APPLICABLE_KEY: said})
    left_out = scope_left_out(
        list(suite.cases), [c.id for c in selected], list(cat.procedures), procs
    )
    if left_out:  # said wherever the verdict is: a narrowed run certifies nothing
        note = scope_note(left_out, len(selected), len(procs))
        info = replace(info, meta={**info.meta, SCOPE_KEY: note})
    bundle = CertificationBundle(info, directory, planned=planned, left_out=left_out)
    emit(RunStarted(run_id, len(planned), directory))
    with (
        _no_half_folder(bundle),
        tempfile.TemporaryDirectory(prefix="bhxh-certify-") as scratch,
    ):
        work = Path(scratch)
        folder = work / "gateway"
        with _gateway(gateway_url, cat, pki, folder, tokens, verify_tls, run_id, probe) as gateway:
            start = run_start(gateway, cat, procs)  # before the adapter starts: nothing of ours
            refuse_clock_outside(gateway, pki)
            if start.note is not None:  # a gateway whose /healthz does not say what it serves
                info = replace(info, meta={**info.meta, "catalog check": start.note})
            context = AdapterContext(
                gateway_url=gateway.url,
                ivan=gateway.ivan,
                ivan_name=gateway.ivan_name,
                token=gateway.token,
                workdir=work / "ivan",
                pki_dir=pki.directory,
                catalog_version=cat.version,
                client_timeout=float(suite.settings["client_timeout"]),
                seed=seed,
                verify_tls=verify_tls,
            )
            session = _Session(suite, cat, ivan, gateway, context, builder, pki, seed, gateway_url)
            session.marks = Watermarks(traffic=start.traffic, events=start.events)
            session.extra = _reproduce_options(tokens, settings, out)
            ivan.start(context)  # a hook says only now which operations it has
            operations = ", ".join(["submit", *sorted(ivan.capabilities)])
            bundle.info = replace(info, meta={**info.meta, "adapter operations": operations})
            try:
                for name in order:
                    mine = [c for c in selected if c.scenario == name]
                    for procedure in procs:
                        if (name, procedure) in inapplicable:
                            continue
                        emit(ScenarioStarted(name, procedure))
                        for result in session.results(name, procedure, mine):
                            bundle.add(result)
                            emit(CaseFinished(result))
            finally:
                ivan.stop()
                if session.marks.withdrawn:  # tried, never named, "not supported": lacked
                    tried = sorted(session.marks.withdrawn)
                    kept = ["submit", *sorted(ivan.capabilities - set(tried))]
                    said = f"{', '.join(kept)} ({', '.join(tried)} tried: not supported)"
                    bundle.info = replace(
                        bundle.info, meta={**bundle.info.meta, "adapter operations": said}
                    )
                with contextlib.suppress(ConfigError):  # a gateway without fault injection
                    gateway.clear_faults(last=True)  # tells later runs this one ended
                _export(gateway, session.marks, directory, start)
    bundle.write()
    emit(RunFinished(bundle))
    return bundle


@contextmanager
def _no_half_folder(bundle: CertificationBundle) -> Iterator[None]:
    """An error that stops the run once its folder exists settles the folder (:func:`_stopped`);
    a gateway lost then is :class:`GatewayUnavailable` (exit 3, as for every command); Ctrl-C
    is the CLI's, which marks the report interrupted."""
    try:
        yield
    except Exception as exc:
        if not bundle.directory.is_dir():
            raise
        _stopped(bundle, exc)
        if isinstance(exc, GatewayNotAnswering):  # lost mid-run: no verdict (exit 3), not
            raise GatewayUnavailable(f"the run could not conclude: {exc}") from exc  # usage
        raise


def _stopped(bundle: CertificationBundle, exc: Exception) -> None:
    """A run ended by an error leaves no folder read as still running: none when no case
    finished, else its report with the cases that did not run as skipped and what stopped it."""
    if not bundle.cases:
        shutil.rmtree(bundle.directory, ignore_errors=True)
        return
    why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    bundle.skip_unrun(f"not run: the run stopped before it ({why})")
    bundle.info = replace(bundle.info, meta={**bundle.info.meta, "stopped": why})
    with contextlib.suppress(OSError):  # on the way out already: do not mask the error
        bundle.write()


def _export(gateway: CertGateway, marks: Watermarks, directory: Path, start: RunStart) -> None:
    """The run's traffic, fault events and log lines (none from before it), beside the report."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = marks.lines + gateway.traffic_lines(marks.traffic)
    (directory / "traffic.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    try:
        events = gateway.fault_events(start.events)
    except ConfigError:
        events = []
    (directory / "fault-events.jsonl").write_text(
        "".join(json_line(e) + "\n" for e in events), encoding="utf-8"
    )
    if gateway.logs is not None:
        (directory / "gateway.log").write_text("\n".join(gateway.logs.lines) + "\n", "utf-8")


__all__ = [
    "CaseFinished",
    "Event",
    "Listener",
    "RunFinished",
    "RunStarted",
    "ScenarioStarted",
    "judge",
    "run_certification",
]
