"""A submitted dossier, from its checked body to its durable receipt: the gateway's hot path.

Its own module because the submission is answered in two halves: :meth:`submit` checks
and signs the receipt (the dossier comes back *pending*), :meth:`commit` stores pending
dossiers together and answers each, so no receipt leaves before its dossier is committed;
an ``X-Message-Id`` already bound is answered from its binding either way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from mock_gateway import messages
from mock_gateway.clock import iso
from mock_gateway.exchange import Exchange, GatewayRequest, GatewayResponse, PendingReceipt
from mock_gateway.gateway_answers import GatewayAnswers
from mock_gateway.headers import submission_message_id
from mock_gateway.intake import Accepted, Rejected, reject
from mock_gateway.records import NewDossier, StoredReceipt


class GatewaySubmission(GatewayAnswers):
    """POST /api/v1/dossiers: check, sign the receipt, commit, answer (or replay)."""

    def submit(self, request: GatewayRequest, ivan: str) -> GatewayResponse | PendingReceipt:
        """POST /api/v1/dossiers: limits, validation, receipt; an accepted dossier comes
        back pending its durable store, where a replay finds its message id's binding
        (:meth:`commit`); a refused one is answered from that binding if there is one."""
        message_id = submission_message_id(request, self.config.max_body_bytes)
        digest = hashlib.sha256(request.body).hexdigest()
        now = self.clock.now()
        try:
            accepted = self.intake.check(request.body, ivan, now)
        except Rejected:
            # A message id already bound answers with its binding even when the body would
            # no longer pass (a rule or a certificate changed since). An accepted one learns
            # of its binding in the commit: looking first cost every new dossier a read.
            existing = self.store.idempotent(ivan, message_id)
            if existing is None:
                raise
            return self._bound(existing, digest, replay=True)
        return self._pending(accepted, request.body, digest, ivan, message_id, now)

    def _pending(
        self,
        accepted: Accepted,
        body: bytes,
        digest: str,
        ivan: str,
        message_id: str,
        now: datetime,
    ) -> PendingReceipt:
        """An accepted dossier with its transaction code and signed receipt, to store."""
        day = now.astimezone(messages.VN_TIME)  # the code starts with BHXH's day
        ma_gdich = f"{day.year:04d}{day.month:02d}{day.day:02d}{secrets.token_hex(8).upper()}"
        summary = accepted.summary()
        tx = messages.Transaction.from_summary(ma_gdich, now, summary, None)
        unit = messages.UnitInfo.from_summary(summary)
        receipt = self.signer.sign_answer(messages.receipt(unit, tx, accepted.warnings, now))
        received_at = iso(now)
        dossier = NewDossier(
            ma_gdich=ma_gdich,
            ivan=ivan,
            message_id=message_id,
            body_sha256=digest,
            body=body,
            procedure=accepted.procedure.code,
            period=accepted.info.ky_ke_khai,
            unit=accepted.info.unit.ma_don_vi,
            received_at=received_at,
            catalog_version=accepted.catalog.version,
            next_due_at=self.processor.first_due(received_at),
            summary=summary,
        )
        lost = bool(self.release.lose_forms) and self.release.loses(
            [form.version.form for form in accepted.forms]
        )  # release hook: acknowledged, never stored
        return PendingReceipt(dossier, receipt, uuid.uuid4().hex, lost)

    def commit(self, *exchanges: Exchange) -> None:
        """Store the pending dossiers of ``exchanges`` durably, together, and set their
        answers; never raises (a lost database answers 503 SRV-001, any other store
        failure 500 SRV-002: see :meth:`failure`)."""
        waiting = [(e, e.pending) for e in exchanges if e.pending is not None]
        if not waiting:
            return
        if self.outage.down:  # lost since they were checked: nothing stored, nothing acked
            lost = reject("SRV-001", "/", detail="database unreachable")
            for exchange, _ in waiting:
                exchange.response, exchange.pending = self.error_response(lost), None
            return
        if self.release.lose_forms:  # release hook: acknowledged, never stored
            waiting = self._answer_lost(waiting)
            if not waiting:
                return
        items = [(p.dossier, p.receipt, p.receipt_id) for _, p in waiting]
        try:
            outcomes = self.store.save_many(items)
        except Exception as exc:  # the store itself failed: every one of them is our fault
            outcomes = [exc] * len(waiting)
        for (exchange, pending), outcome in zip(waiting, outcomes, strict=True):
            new = pending.dossier
            try:
                if isinstance(outcome, Exception):
                    raise outcome
                replay = outcome.ma_gdich != new.ma_gdich
                answer = self._bound(outcome, new.body_sha256, replay=replay)
            except Rejected as exc:
                answer = self.error_response(exc)
            except Exception as exc:
                answer = self.failure(exc, f"storing dossier {new.ma_gdich}")
            exchange.response, exchange.pending = answer, None

    def _answer_lost(
        self, waiting: list[tuple[Exchange, PendingReceipt]]
    ) -> list[tuple[Exchange, PendingReceipt]]:
        """Answer the dossiers a faulty release loses with their receipts, as if stored;
        the rest, to store."""
        for exchange, pending in waiting:
            if pending.lost:
                receipt = self._receipt(pending.dossier.ma_gdich, pending.receipt)
                exchange.response, exchange.pending = receipt, None
        return [(exchange, pending) for exchange, pending in waiting if not pending.lost]

    def _bound(self, stored: StoredReceipt, digest: str, *, replay: bool) -> GatewayResponse:
        """The stored receipt for a matching body, 409 DUP-001 for another body."""
        if replay and self.release.idempotency_broken:  # release hook: retries look new
            raise reject("DUP-001", "/", header="X-Message-Id")
        if not hmac.compare_digest(stored.body_sha256, digest):
            raise reject("DUP-001", "/", header="X-Message-Id")
        return self._receipt(stored.ma_gdich, stored.receipt, replay=replay)

    def _receipt(self, ma_gdich: str, receipt: bytes, *, replay: bool = False) -> GatewayResponse:
        """202 with the signed receipt of dossier ``ma_gdich`` (``replay``: sent before)."""
        return self.xml(
            receipt,
            202,
            Location=f"/api/v1/dossiers/{ma_gdich}",
            **{"X-Ma-Gdich": ma_gdich, "X-Idempotent-Replay": "true" if replay else "false"},
        )
