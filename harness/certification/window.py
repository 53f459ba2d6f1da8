"""Where a run starts in a shared gateway's logs, and whether someone else drives it.

A gateway given with ``--gateway URL`` keeps every earlier run's traffic and fault
events; a run must judge only what came after its own start. Its state-changing admin
requests (clock, fault plan) carry ``X-Message-Id: cert-admin-<run id>-<n>`` (the last
one ``...-end``), so another run's requests are recognised in the log: the fault plan
and the clock are gateway-wide, and two runs at once take each other's faults.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from harness.catalog import Catalog
from harness.certification.gateway import ADMIN_PREFIX, CertGateway
from harness.certification.model import DEFAULT_SIGNER
from harness.certification.records import TrafficRow
from harness.errors import ConfigError
from harness.served_versions import check_serves, dossier_periods
from harness.signing import TestPKI

BUSY_SECONDS = 20.0
"""A run whose last clock or fault change is this recent (and did not end) is active."""
END = "end"


def last_traffic_id(gateway: CertGateway) -> int:
    """The newest traffic row's id, found with O(log n) one-row reads of ``?after=``
    (the export has no "newest first", and reading the whole log of a busy gateway is
    gigabytes)."""
    if not gateway.traffic_lines(0, limit=1):
        return 0
    low, high = 0, 1  # a row exists after ``low``; is there one after ``high``?
    while gateway.traffic_lines(high, limit=1):
        low, high = high, high * 2
    while high - low > 1:  # invariant: rows after low, none after high
        middle = (low + high) // 2
        if gateway.traffic_lines(middle, limit=1):
            low = middle
        else:
            high = middle
    return high


def is_admin_write(row: TrafficRow) -> bool:
    """A request that changes the gateway for everyone (clock, fault plan, reset)."""
    return row.ivan == "admin" and row.path.startswith("/admin") and row.method != "GET"


def run_tag(message_id: str) -> str:
    """The run an admin request's ``X-Message-Id`` names ("" for an untagged one)."""
    if not message_id.startswith(ADMIN_PREFIX):
        return ""
    return message_id[len(ADMIN_PREFIX) :].rpartition("-")[0]


def foreign_writes(rows: Iterable[TrafficRow], tag: str) -> list[TrafficRow]:
    """Clock or fault-plan changes in ``rows`` that this run (``tag``) did not make."""
    return [r for r in rows if is_admin_write(r) and run_tag(r.message_id) != tag]


def describe(row: TrafficRow) -> str:
    who = f"X-Message-Id {row.message_id}" if row.message_id else "no X-Message-Id"
    return f"{row.method} {row.path} at {row.started.isoformat(timespec='seconds')} ({who})"


def refuse_if_busy(gateway: CertGateway, last_id: int) -> None:
    """Stop before the first case when another client changed the clock or the fault plan
    in the last :data:`BUSY_SECONDS` and, for a certification run, has not ended."""
    if last_id == 0:
        return
    rows = gateway.traffic(max(0, last_id - 500))
    if not rows:
        return
    since = rows[-1].started - timedelta(seconds=BUSY_SECONDS)
    ended = {run_tag(r.message_id) for r in rows if r.message_id.endswith(f"-{END}")}
    recent = [
        r
        for r in rows
        if is_admin_write(r)
        and r.started >= since
        and (not run_tag(r.message_id) or run_tag(r.message_id) not in ended)
    ]
    if recent:
        raise ConfigError(
            f"another client is driving the gateway at {gateway.url}: "
            f"{describe(recent[-1])}; a certification run needs the gateway's clock and "
            "fault plan to itself (they are gateway-wide, and two runs take each other's faults)",
            hint="wait until the other run ends, or serve a gateway of your own "
            "(bhxh-harness serve --port ... --database-url ...)",
        )


@dataclass(frozen=True)
class RunStart:
    """Where this run begins in the gateway's traffic log and fault-event log."""

    traffic: int
    events: int
    note: str | None = None
    """Why it could not be checked that the gateway serves the run's catalog, if it could not."""


def refuse_several_workers(gateway: CertGateway) -> None:
    """Stop before the first case when more than one worker process serves the gateway:
    each draws its own chance faults and writes its fault hits and events to the store in
    0.1 s batches, so a case would judge faults another worker applied a moment later (four
    runs of the reference I-VAN against ``--workers 2`` gave four different verdicts, when
    each worker also kept its own log)."""
    workers = gateway.worker_count()
    if workers > 1:
        raise ConfigError(
            f"the gateway at {gateway.url} is served by {workers} worker processes; a "
            "certification run needs one: the fault plan and log are shared, but each worker "
            "draws its own chance faults and writes what they did in 0.1 s batches",
            hint="serve the gateway for certification with --workers 1 "
            "(bhxh-harness serve --workers 1 --port ... --database-url ...)",
        )


CLOCK_MARGIN = timedelta(days=1)
"""How far past its start a run may take the simulated clock (the cases advance it by at
most 12 hours)."""


def refuse_clock_outside(gateway: CertGateway, pki: TestPKI) -> None:
    """Stop before the first case when the gateway's simulated now is outside the validity
    of the certificate that signs the jobs: an I-VAN signs at ``{now}``, so every dossier
    would be refused SIG-005 whatever the I-VAN does (a served gateway whose fast clock ran
    for a while, say)."""
    certificate = pki.credential(DEFAULT_SIGNER).certificate
    now = gateway.now()
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if start <= now and now + CLOCK_MARGIN <= end:
        return
    raise ConfigError(
        f"the gateway's simulated clock reads {now:%Y-%m-%d %H:%M} UTC, outside the test "
        f"employer's certificate ({start:%Y-%m-%d} to {end:%Y-%m-%d}): an I-VAN signs at the "
        "gateway's time, so every dossier would be refused SIG-005 whatever it does",
        hint="bring the gateway's clock back to the present (POST /admin/reset with the "
        "admin token, or restart it), then certify again",
    )


def refuse_unserved(
    gateway: CertGateway, catalog: Catalog, procedures: Sequence[str] = ()
) -> str | None:
    """Stop before anything is sent when the gateway would judge the run's dossiers by
    another catalog version than ``catalog`` (:func:`harness.served_versions.check_serves`):
    every valid dossier refused, or a report titled ``catalog`` about another version."""
    periods = dossier_periods(catalog, procedures or None)
    return check_serves(catalog, gateway.served_catalogs(), periods)


def run_start(
    gateway: CertGateway, catalog: Catalog | None = None, procedures: Sequence[str] = ()
) -> RunStart:
    """Check that the URL is a gateway serving ``catalog`` (when given) and taking the I-VAN
    credential, refuse a busy or multi-worker gateway, and mark where this run starts."""
    gateway.check_is_gateway()
    note = None if catalog is None else refuse_unserved(gateway, catalog, procedures)
    gateway.check_ivan_token()
    refuse_several_workers(gateway)
    last = last_traffic_id(gateway)
    refuse_if_busy(gateway, last)
    try:
        events = gateway.fault_events()
    except ConfigError:  # a gateway without fault injection: no events to skip
        events = []
    return RunStart(last, max((int(e["seq"]) for e in events), default=0), note)


__all__ = [
    "BUSY_SECONDS",
    "RunStart",
    "describe",
    "foreign_writes",
    "last_traffic_id",
    "refuse_clock_outside",
    "refuse_if_busy",
    "refuse_unserved",
    "run_start",
    "run_tag",
]
