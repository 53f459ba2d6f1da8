"""What one scenario run left behind, arranged per job for the checks to judge.

Every fact comes from the gateway (its traffic log, its fault log, the dossier status an
I-VAN may read) or from what the I-VAN told the employer (relays, recovered bytes). The
requests that belong to a job are found by content (the unit code in the envelope), never
by trusting an identifier the I-VAN chose (only a resend whose bytes no longer parse is
matched by the X-Message-Id of a matched one), among the I-VAN's requests of this run's own
stretch of the traffic log (window.py): a unit code repeats across runs of one seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from harness.catalog import Catalog
from harness.certification.model import AdapterContext, CaseBlocked, CaseFailed, Job, Relay
from harness.certification.records import DossierStatus, TrafficRow
from harness.client import parse_answer
from harness.envelope import EnvelopeInfo, read_envelope
from harness.signing import TrustStore
from harness.xmlsafe import XMLRejected, parse_xml

SUBMIT = ("POST", "/api/v1/dossiers")
FORWARD_EVERY = "Decree 166/2016 art. 30: the I-VAN forwards every dossier handed over to it"
"""The clause a job handed over and never forwarded breaks, whichever case finds it."""


def envelope_of(row: TrafficRow) -> tuple[etree._Element, EnvelopeInfo] | None:
    """The ``Hoso`` a submission carried, or None when it is not one."""
    try:
        root = parse_xml(row.request)
    except XMLRejected:
        return None
    return (root, read_envelope(root)) if root.tag == "Hoso" else None


@dataclass
class JobRecord:
    """One job: when it was handed over, what reached the gateway, what the employer heard."""

    job: Job
    handed_at: datetime
    relays: list[Relay] = field(default_factory=list)
    attempts: list[TrafficRow] = field(default_factory=list)
    statuses: dict[str, DossierStatus] = field(default_factory=dict)
    recovered: list[bytes] | None = None
    recover_note: str = ""
    recover_outcome: str = ""
    """Why ``recovered`` is None: "unsupported" (never announced), "refused" (announced,
    then answered not supported) or "failed" (announced, and it failed)."""

    @property
    def committed(self) -> list[str]:
        """MA_GDICH of every dossier the gateway stored for this job (ideally one)."""
        found: list[str] = []
        for row in self.attempts:
            if row.status == 202:
                ma_gdich = parse_answer(202, row.response).ma_gdich
                if ma_gdich and ma_gdich not in found:
                    found.append(ma_gdich)
        return found

    def forwarded(self) -> TrafficRow:
        """The last submission of this job; fails the case if there was none: the suite
        handed the job over and nothing stopped the I-VAN, so not forwarding it is its fault."""
        if not self.attempts:
            raise CaseFailed(
                f"the I-VAN never forwarded job {self.job.job_id} to BHXH ({FORWARD_EVERY})",
                {
                    "job": self.job.job_id,
                    "handed over (simulated)": self.handed_at.isoformat(),
                    "submissions seen by the gateway": "none",
                },
            )
        return self.attempts[-1]

    def envelope(self) -> tuple[etree._Element, EnvelopeInfo]:
        """The last envelope sent: a resend matched by its X-Message-Id may not parse."""
        self.forwarded()
        parsed = (envelope_of(r) for r in reversed(self.attempts))
        found = next(p for p in parsed if p is not None)  # the first match parsed
        return found

    def accepted(self) -> DossierStatus:
        """The stored dossier (the first, if several); fails the case if the job was never
        forwarded, blocks it if it was but the gateway stored none."""
        self.forwarded()
        for ma_gdich in self.committed:
            status = self.statuses.get(ma_gdich)
            if status is not None:
                return status
        answers = sorted({r.outcome for r in self.attempts}) or ["nothing"]
        raise CaseBlocked(
            f"no dossier of job {self.job.job_id} was accepted (the gateway answered "
            f"{', '.join(answers)}), so this case could not be exercised"
        )

    def relayed(self, *kinds: str) -> list[Relay]:
        return [r for r in self.relays if not kinds or r.kind in kinds]


@dataclass
class RestartMark:
    """What the I-VAN had done when the suite restarted it, so what it does afterwards can
    be told apart: a message relayed or acknowledged again was forgotten in the restart."""

    at: datetime
    traffic_id: int
    acked: frozenset[str]
    relayed: frozenset[str]
    relays: list[Relay] = field(default_factory=list)
    """Every relay the I-VAN made after this restart."""


@dataclass
class Observation:
    """A scenario run for one procedure: the jobs and everything the gateway saw."""

    scenario: str
    procedure: str
    settings: dict[str, Any]
    catalog: Catalog
    trust: TrustStore
    context: AdapterContext
    capabilities: frozenset[str]
    jobs: list[JobRecord] = field(default_factory=list)
    traffic: list[TrafficRow] = field(default_factory=list)
    fault_events: list[dict[str, Any]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    unrouted: list[Relay] = field(default_factory=list)
    leftovers: list[TrafficRow] = field(default_factory=list)
    """Submissions of dossiers handed over before this scenario (the I-VAN resent them now)."""
    error: str = ""
    how_to_add: dict[str, str] = field(default_factory=dict)
    """Per optional operation the adapter lacks, how its vendor would add it."""
    foreign: list[TrafficRow] = field(default_factory=list)
    """Requests made under another I-VAN's token during this scenario (not the suite's)."""
    strangers: list[Relay] = field(default_factory=list)
    """Relays of BHXH messages about a MA_GDICH the gateway does not know as this I-VAN's."""
    restarts: list[RestartMark] = field(default_factory=list)

    def job(self, job_id: str) -> JobRecord | None:
        return next((j for j in self.jobs if j.job.job_id == job_id), None)

    def route(self, relays: list[Relay], at: datetime) -> None:
        """File relays under their jobs, stamped with the simulated time they were seen."""
        for relay in relays:
            stamped = Relay(**{**relay.to_json(), "at": at.isoformat()})
            record = self.job(relay.job_id)
            (record.relays if record is not None else self.unrouted).append(stamped)
            if self.restarts:
                self.restarts[-1].relays.append(stamped)

    def attach(self, rows: list[TrafficRow]) -> None:
        """Keep the I-VAN's rows and give each job its submissions (matched by unit code);
        a submission of no job of this scenario is a dossier left over from an earlier one."""
        self.traffic = rows
        self.leftovers = []
        by_unit = {j.job.unit.ma_don_vi: j for j in self.jobs}
        by_id: dict[str, JobRecord] = {}  # a resend whose bytes no longer parse: by its key
        for row in rows:
            if row.route != SUBMIT:
                continue
            parsed = envelope_of(row)
            record = by_unit.get(parsed[1].unit.ma_don_vi) if parsed else by_id.get(row.message_id)
            if record is None:
                self.leftovers.append(row)
                continue
            record.attempts.append(row)
            by_id.setdefault(row.message_id, record)

    def all_relays(self) -> list[Relay]:
        """Every relay of this scenario, whichever job (if any) it named."""
        return [r for j in self.jobs for r in j.relays] + self.unrouted

    def blocked(self, reason: str) -> CaseBlocked:
        """Why the fault did not hit this scenario's job (``reason``), naming the dossier of
        an earlier scenario that took it instead when there is one: the fault plan is
        gateway-wide, and the I-VAN's outbox outlives a scenario."""
        ids = {r.message_id for r in self.leftovers}
        hit = next((e for e in self.fault_events if e.get("message_id") in ids), None)
        if hit is None:
            return CaseBlocked(reason)
        return CaseBlocked(
            f"{reason}: a dossier of an earlier scenario (X-Message-Id {hit['message_id']}), "
            "left unsent there and resent during this one, took the fault; resend a refused "
            "dossier before the scenario that refused it ends (within that submit when the "
            "adapter has no tick operation) and run again"
        )

    def events_for(self, record: JobRecord) -> list[dict[str, Any]]:
        """Fault events that hit this job's submissions."""
        ids = {r.message_id for r in record.attempts}
        return [e for e in self.fault_events if e.get("message_id") in ids]


__all__ = ["FORWARD_EVERY", "SUBMIT", "JobRecord", "Observation", "RestartMark", "envelope_of"]
