"""Runs one scenario of the suite for one procedure and collects its :class:`Observation`.

The steps are data (``cases.yaml``); this module only knows what each step kind does:
hand jobs to the I-VAN, set or clear fault profiles on the gateway, move the simulated
clock and let the I-VAN work, wait real seconds, restart the I-VAN, ask it to recover.
Afterwards it reads, incrementally, what the gateway recorded (traffic, fault events,
log lines) and the status of every dossier the I-VAN's jobs produced.
"""

from __future__ import annotations

import contextlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from harness.catalog import Catalog
from harness.certification.connection import GatewayNotAnswering
from harness.certification.gateway import PROBE_PREFIX, CertGateway, FaultsUnavailable
from harness.certification.jobs import JobBuilder, NoDefectApplies
from harness.certification.model import (
    TERMINAL,
    AdapterContext,
    AdapterFailed,
    IvanAdapter,
    Job,
    NotSupported,
    Relay,
    RunAborted,
)
from harness.certification.observe import SUBMIT, JobRecord, Observation, RestartMark
from harness.certification.records import TrafficRow
from harness.certification.suite import (
    HANDOVER_DEFECTS,
    NEEDS,
    RESULT_DEFECTIVE,
    ScenarioSpec,
    resolve,
)
from harness.certification.window import describe, foreign_writes
from harness.client import parse_answer
from harness.errors import HarnessError
from harness.signing import TrustStore

T = TypeVar("T")
P = ParamSpec("P")
_WITHDRAWN = object()
"""What an operation the adapter turned out not to have returns (see ``_unless_unannounced``)."""


class _NotExercised(HarnessError):
    """The scenario cannot be run on this procedure (its cases are skipped, saying why)."""


class _AdapterCrashed(Exception):
    """The adapter (third-party code) raised something of its own: kept with its traceback
    as the scenario's error, and told apart from a mistake of the harness."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


@dataclass
class Watermarks:
    """How far the run has read the gateway's logs, so each scenario sees only its own.

    ``lines`` keeps every traffic row read (NDJSON), so the report can include the whole
    log without fetching it twice.
    """

    traffic: int = 0
    events: int = 0
    logs: int = 0
    lines: list[str] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    """MA_GDICH of every 202 the gateway gave the I-VAN in this run."""
    acked: set[str] = field(default_factory=set)
    relayed: set[str] = field(default_factory=set)
    """Ids of the BHXH messages the I-VAN acknowledged (200), and relayed, in this run."""
    withdrawn: dict[str, str] = field(default_factory=dict)
    """Operations tried only because the adapter named none (a hook's bare /start) that
    answered "not supported", and what it said: it lacks them for the rest of the run."""


def _how_to_add(adapter: IvanAdapter) -> dict[str, str]:
    """How to give ``adapter`` each optional operation it lacks, for the skipped cases'
    reasons (a command adapter takes a template, a hook answers a URL, a class a method)."""
    explain = getattr(adapter, "how_to_add", None)
    return {
        op: str(explain(op)) if callable(explain) else f"give the adapter a {op} method"
        for op in NEEDS
        if op not in adapter.capabilities
    }


class ScenarioRun:
    """One scenario for one procedure, against one adapter and one gateway."""

    def __init__(
        self,
        scenario: ScenarioSpec,
        procedure: str,
        *,
        adapter: IvanAdapter,
        gateway: CertGateway,
        builder: JobBuilder,
        context: AdapterContext,
        catalog: Catalog,
        trust: TrustStore,
        settings: dict[str, Any],
        marks: Watermarks,
        seed: int,
    ) -> None:
        self.scenario, self.procedure = scenario, procedure
        self.adapter, self.gateway, self.builder = adapter, gateway, builder
        self.settings, self.marks, self.seed = settings, marks, seed
        self._rows: list[TrafficRow] = []
        self.obs = Observation(
            scenario.name,
            procedure,
            settings,
            catalog,
            trust,
            context,
            frozenset(adapter.capabilities) - set(marks.withdrawn),
            how_to_add=_how_to_add(adapter) | marks.withdrawn,
        )

    def execute(self) -> Observation:
        """Run every step; an adapter or gateway failure ends the scenario as an error (a
        bug of the harness itself is not the adapter's, and is raised)."""
        try:
            for kind, args in self.scenario.steps:  # checked when the suite was loaded
                getattr(self, f"_step_{kind}")(resolve(args, self.settings))
        except (RunAborted, GatewayNotAnswering):
            raise  # nothing later could run either: stop the whole run
        except (FaultsUnavailable, _NotExercised) as exc:
            self.obs.error = f"skipped: {exc}"
        except AdapterFailed as exc:  # in words: a class name means nothing to a vendor
            self.obs.error = f"the adapter failed: {exc}"
        except HarnessError as exc:
            self.obs.error = str(exc)
        except _AdapterCrashed as exc:  # third-party code: report it, do not crash
            self.obs.error = "".join(traceback.format_exception(exc.cause))[-4000:]
        finally:
            self._collect()
        return self.obs

    def _adapter(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(...)``, one operation of the adapter: what it raises beyond the harness's
        own errors (AdapterFailed, NotSupported, ...) is the adapter's crash, not the harness's."""
        try:
            return call(*args, **kwargs)
        except HarnessError:
            raise
        except Exception as exc:  # the adapter is third-party code
            raise _AdapterCrashed(exc) from exc

    def _checked(self, operation: str, relays: Any) -> list[Relay]:
        """What a Python adapter's ``operation`` returned, if it is a list of Relay."""
        if isinstance(relays, list) and all(isinstance(r, Relay) for r in relays):
            return relays
        items = relays if isinstance(relays, list) else []
        got = next((r for r in items if not isinstance(r, Relay)), relays)
        raise AdapterFailed(
            f"{operation}: adapter {self.adapter.spec!r} returned {type(relays).__name__} "
            f"holding {type(got).__name__} {str(got)[:200]}, not a list of Relay",
            hint="return [harness.certification.Relay(job_id=..., kind='receipt', "
            "ma_gdich=...), ...]; Relay.from_json(d) builds one from a dictionary",
        )

    # -- steps ----------------------------------------------------------------------------

    def _step_handover(self, args: dict[str, Any]) -> None:
        for _ in range(int(args.get("jobs", 1))):
            label = f"{self.scenario.name}/{self.procedure}"
            kind = args.get("kind", "valid")
            if kind in HANDOVER_DEFECTS:
                job = self._defective(kind, label)
            else:
                job = self.builder.valid(self.procedure, label)
            now = self.gateway.now()
            self.obs.jobs.append(JobRecord(job, now))
            # the defect stays the suite's: an I-VAN told it could invent the rejection
            relays = self._adapter(self.adapter.submit, replace(job, defect=None), now)
            self._route(self._checked("submit", relays), now)

    def _defective(self, kind: str, label: str) -> Job:
        """A job breaking one of the defects the kind's setting lists; a procedure none of
        the result defects applies to (its forms have no result rule) is not exercised."""
        setting = HANDOVER_DEFECTS[kind]
        try:
            return self.builder.defective(self.procedure, label, self.settings[setting], setting)
        except NoDefectApplies as exc:
            if kind != RESULT_DEFECTIVE:
                raise
            raise _NotExercised(
                f"procedure {self.procedure} has no result defect to hand over: {exc}"
            ) from None

    def _step_faults(self, profiles: list[dict[str, Any]]) -> None:
        self.gateway.set_faults(profiles, self.seed)

    def _step_clear_faults(self, _args: Any) -> None:
        self.gateway.clear_faults()

    def _unannounced(self, operation: str, exc: NotSupported) -> bool:
        """Whether ``operation`` was only assumed (never named by the vendor): its "not
        supported" then means the adapter lacks it (its cases are skipped, as for recover),
        not a broken claim; it is not asked again in this run."""
        if operation not in getattr(self.adapter, "assumed", ()):
            return False
        why = str(exc).replace("\nHint: ", "; ")
        self.marks.withdrawn[operation] = self.obs.how_to_add[operation] = why
        self.obs.capabilities = self.obs.capabilities - {operation}
        return True

    def _unless_unannounced(self, operation: str, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)`` through the adapter, or :data:`_WITHDRAWN` when it answers "not
        supported" for an ``operation`` the vendor never announced (see :meth:`_unannounced`)."""
        try:
            return self._adapter(call, *args)
        except NotSupported as exc:
            if self._unannounced(operation, exc):
                return _WITHDRAWN
            raise

    def _tick(self, now: datetime) -> None:
        if "tick" in self.obs.capabilities:
            relays = self._unless_unannounced("tick", self.adapter.tick, now)
            if relays is not _WITHDRAWN:
                self._route(self._checked("tick", relays), now)

    def _route(self, relays: list[Relay], now: datetime) -> None:
        self.obs.route(relays, now)
        self.marks.relayed |= {r.message_id for r in relays if r.message_id}

    def _step_neighbour(self, args: dict[str, Any]) -> None:
        """Put another I-VAN's dossier on the gateway (the first of ``ivans`` that is not
        the one certified): its feed then holds what the I-VAN under test must never touch."""
        other = next((i for i in args.get("ivans", ()) if i != self.gateway.ivan), None)
        if other is None:
            return
        factory = self.builder.factory.for_ivan(str(other))
        for seed in range(self.seed * 1000 + 900, self.seed * 1000 + 920):
            envelope = factory.build(self.procedure, seed).envelope
            if self.builder.checker.check(envelope).accepted:
                self.gateway.submit_as(str(other), envelope)
                return

    def _step_tick(self, _args: Any) -> None:
        self._tick(self.gateway.now())

    def _step_advance(self, args: dict[str, Any]) -> None:
        self.gateway.advance(float(args.get("minutes", 0)) * 60)

    def _settled(self) -> bool:
        return all(any(r.kind in TERMINAL for r in j.relays) for j in self.obs.jobs)

    def _step_run(self, args: dict[str, Any]) -> None:
        step = float(args.get("step", 30))
        until_settled = bool(args.get("until_settled", True))
        for _ in range(max(1, round(float(args.get("minutes", 60)) / step))):
            self._tick(self.gateway.advance(step * 60))
            if until_settled and self._settled():
                self._tick(self.gateway.now())  # one more round, as a real I-VAN keeps polling
                return

    def _step_wait(self, args: dict[str, Any]) -> None:
        time.sleep(float(args.get("seconds", 0)))

    def _step_restart(self, _args: Any) -> None:
        if "restart" in self.obs.capabilities:
            self._collect_traffic()
            marks = self.marks
            mark = RestartMark(
                self.gateway.now(), marks.traffic, frozenset(marks.acked), frozenset(marks.relayed)
            )
            if self._unless_unannounced("restart", self.adapter.restart) is not _WITHDRAWN:
                self.obs.restarts.append(mark)

    def _step_recover(self, _args: Any) -> None:
        self._collect_traffic()
        for record in self.obs.jobs:
            if not record.committed:
                record.recover_note = "no dossier was stored, nothing to recover"
                continue
            try:
                record.recovered = self._adapter(self.adapter.recover, record.committed[0])
            except NotSupported as exc:  # "refused" when announced: the vendor's own claim
                assumed = getattr(self.adapter, "assumed", ())  # a hook that named none
                announced = "recover" in self.adapter.capabilities and "recover" not in assumed
                record.recover_note = str(exc)
                record.recover_outcome = "refused" if announced else "unsupported"
            except AdapterFailed as exc:  # it announced recover and could not: the I-VAN's
                record.recover_note, record.recover_outcome = f"recovery failed: {exc}", "failed"

    # -- what the gateway saw ---------------------------------------------------------------

    def _collect_traffic(self) -> None:
        """Read the traffic log since the last read and give the I-VAN's rows to the jobs."""
        lines = self.gateway.traffic_lines(self.marks.traffic)
        self.marks.lines += lines
        fresh = [TrafficRow.from_json(json.loads(line)) for line in lines]
        self._remember([r for r in fresh if r.ivan == self.gateway.ivan])
        self._rows += fresh
        if self._rows:
            self.marks.traffic = self._rows[-1].id
        for record in self.obs.jobs:
            record.attempts.clear()
        foreign = foreign_writes(self._rows, self.gateway.tag)
        if foreign and not self.obs.error:  # the clock or faults this scenario set were not its own
            self.obs.error = (
                f"another client changed the gateway during this scenario: {describe(foreign[0])}"
                f"{f' (+{len(foreign) - 1} more)' if len(foreign) > 1 else ''}; the clock and "
                "the fault plan are gateway-wide, so what this scenario saw cannot be judged. "
                "Run certification against a gateway no one else drives at the same time"
            )
        ivan = self.gateway.ivan
        ours = [r for r in self._rows if not r.message_id.startswith(PROBE_PREFIX)]
        self.obs.attach([r for r in ours if r.ivan == ivan])
        self.obs.foreign = [r for r in ours if r.ivan not in (ivan, "admin", "")]

    def _remember(self, rows: list[TrafficRow]) -> None:
        """Note, for the whole run, the dossiers stored for the I-VAN and the messages it
        acknowledged: a later scenario judges against them."""
        for row in rows:
            method, path = row.route
            if row.route == SUBMIT and row.status == 202:
                self.marks.stored.add(parse_answer(202, row.response).ma_gdich or "")
            elif method == "POST" and path.endswith("/ack") and row.status == 200:
                self.marks.acked.add(path.split("/")[-2])

    def _strangers(self) -> list[Relay]:
        """Relays of BHXH messages about a MA_GDICH the gateway does not list as this
        I-VAN's (asked with its own token): news of another I-VAN's dossier."""
        about = [r for r in self.obs.all_relays() if r.ma_gdich and r.message_id]
        unknown = {r.ma_gdich for r in about} - self.marks.stored
        foreign = {m for m in sorted(unknown) if self.gateway.probe(m) is None}
        return [r for r in about if r.ma_gdich in foreign]

    def _collect(self) -> None:
        with contextlib.suppress(FaultsUnavailable):
            self.gateway.clear_faults()
        self._collect_traffic()
        try:
            events = self.gateway.fault_events(self.marks.events)
        except FaultsUnavailable:
            events = []
        self.obs.fault_events = events
        if events:
            self.marks.events = max(int(e["seq"]) for e in events)
        if self.gateway.logs is not None:
            self.obs.log_lines = self.gateway.logs.lines[self.marks.logs :]
            self.marks.logs = len(self.gateway.logs.lines)
        for record in self.obs.jobs:
            for ma_gdich in record.committed:
                status = self.gateway.probe(ma_gdich)
                if status is not None:
                    record.statuses[ma_gdich] = status
        self.obs.strangers = self._strangers()


__all__ = ["ScenarioRun", "Watermarks"]
