"""The background lifecycle: receipts become 02/TB-TS hand-over slips, then 03/TB-TS results.

Every step is due at a simulated moment stored on the dossier (``next_due_at``), so the
processor is a loop of "what is due now?" and a test drives it deterministically:
``clock.advance(900); processor.run_due()``. A step is claimed by a conditional update
of the dossier's status in the same transaction that stores its message, so several
worker processes may run processors on one database without issuing anything twice.
Messages carry the simulated moment the step fell due, not the moment the loop noticed,
so their dates do not depend on how often the loop runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from harness.catalog.model import DEFAULT_DAYS_TO_RESULT
from harness.errors import Finding
from mock_gateway import messages
from mock_gateway.answer_signer import MessageSigner
from mock_gateway.clock import SimulatedClock, from_iso, iso
from mock_gateway.outage import Outage
from mock_gateway.records import DossierRecord, Issue
from mock_gateway.store import Store

log = logging.getLogger(__name__)

RECEIVED = "received"
HANDED_OVER = "handed_over"
ACCEPTED = "accepted"
DEFECTIVE = "defective"
"""Processed with defective rows: its 03/TB-TS lists them (MA_KQUA 2)."""
ISSUE_BATCH = 16
"""Steps per transaction. Measured per message (2,000 results, in-process): 2.44 ms of
CPU one transaction each, 1.41 ms four to a transaction, 0.92 ms sixteen. The writer
lock, which the intake's commits wait for, is then held for ~15 ms of signing."""
ADVANCE_ISSUE_LIMIT = 10_000
"""Steps a clock advance issues before answering; the background loop issues the rest."""


@dataclass(frozen=True)
class Delays:
    """Simulated seconds from receipt to 02/TB-TS, and from 02/TB-TS to 03/TB-TS."""

    handover: float = 15 * 60.0
    result: float = 60 * 60.0


class Processor:
    """Issues due lifecycle messages; ``run_due`` for tests, ``start`` for a server thread."""

    def __init__(
        self,
        store: Store,
        clock: SimulatedClock,
        signer: MessageSigner,
        delays: Delays = Delays(),
        *,
        refresh_clock: Callable[[], None] | None = None,
        date_format: Callable[[str], str] | None = None,
        outage: Outage | None = None,
    ) -> None:
        """``outage`` is shared with the gateway: a tick that finds the database gone
        warns once through it, instead of logging a traceback every tick."""
        self.store = store
        self.clock = clock
        self.signer = signer
        self.delays = delays
        self._refresh_clock = refresh_clock
        # release hook (mock_gateway.releases): how each message kind writes its dates
        self._date_format = date_format or (lambda _kind: messages.DATE_FORMAT)
        self.outage = outage or Outage("lifecycle processor", store.engine.dialect.loaded_dbapi)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()

    def first_due(self, received_at: str) -> str:
        """When the 02/TB-TS of a dossier received at ``received_at`` falls due."""
        return iso(from_iso(received_at) + timedelta(seconds=self.delays.handover))

    def run_due(self, limit: int = 500) -> int:
        """Issue every step due at the clock's now (up to ``limit``); returns how many."""
        with self._run_lock:
            issued = 0
            while issued < limit:
                batch = self.store.due(iso(self.clock.now()), min(200, limit - issued))
                steps = [s for s in map(self._plan, batch) if s is not None]
                if not steps:
                    break
                progressed = sum(
                    self.store.issue_many(steps[i : i + ISSUE_BATCH])
                    for i in range(0, len(steps), ISSUE_BATCH)
                )
                issued += progressed
                if progressed == 0:  # every due row was taken by another process
                    break
            return issued

    def _plan(self, dossier: DossierRecord) -> Issue | None:
        """The dossier's next step, rendered only once the store has claimed it."""
        if dossier.next_due_at is None:
            return None
        due = from_iso(dossier.next_due_at)
        unit = messages.UnitInfo.from_summary(dossier.summary)
        received = from_iso(dossier.received_at)
        if dossier.status == RECEIVED:
            year = due.astimezone(messages.VN_TIME).year
            agency = unit.co_quan

            def render_handover(number: int | None) -> tuple[bytes, str | None]:
                so_hso = messages.format_so_hso(number or 0, year, agency)
                tx = messages.Transaction.from_summary(
                    dossier.ma_gdich, received, dossier.summary, so_hso
                )
                # a dossier stored before catalogs said so keeps the default
                days = dossier.summary.get("days_to_result", DEFAULT_DAYS_TO_RESULT)
                handover = messages.handover(unit, tx, due, days)
                date_format = self._date_format(messages.HANDOVER)
                return self.signer.sign_answer(handover, date_format), so_hso

            return Issue(
                ma_gdich=dossier.ma_gdich,
                ivan=dossier.ivan,
                from_status=RECEIVED,
                to_status=HANDED_OVER,
                next_due_at=iso(due + timedelta(seconds=self.delays.result)),
                kind=messages.HANDOVER,
                message_id=uuid.uuid4().hex,
                created_at=iso(due),
                number_scope=f"so_hso:{year}:{agency}",
                render=render_handover,
            )
        if dossier.status == HANDED_OVER:
            # found by the catalog's result rules at intake, kept with the dossier
            defects = [Finding(**found) for found in dossier.summary.get("defects", ())]

            def render_result(_number: int | None) -> tuple[bytes, str | None]:
                tx = messages.Transaction.from_summary(
                    dossier.ma_gdich, received, dossier.summary, dossier.so_hso
                )
                answer = messages.result(unit, tx, due, defects)
                return self.signer.sign_answer(answer, self._date_format(messages.RESULT)), None

            return Issue(
                ma_gdich=dossier.ma_gdich,
                ivan=dossier.ivan,
                from_status=HANDED_OVER,
                to_status=DEFECTIVE if defects else ACCEPTED,
                next_due_at=None,
                kind=messages.RESULT,
                message_id=uuid.uuid4().hex,
                created_at=iso(due),
                number_scope=None,
                render=render_result,
            )
        return None

    # -- background thread -------------------------------------------------------------

    def start(self, interval: float) -> None:
        """Run :meth:`run_due` every ``interval`` real seconds in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), name="bhxh-processor", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.tick()

    def tick(self) -> None:
        """One round of the background loop; never raises (the next tick retries)."""
        try:
            if self._refresh_clock is not None:
                self._refresh_clock()
            self.run_due()
        except Exception as exc:
            if not self.outage.caught(exc):  # a lost database is warned about once
                log.exception("lifecycle processor failed; retrying on the next tick")
            return
        self.outage.back()
