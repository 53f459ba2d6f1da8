"""Checks on how an I-VAN exchanges with BHXH: timing, retries, maintenance, messages.

Each judges one :class:`~harness.certification.Observation` (a scenario run for one
procedure) against one requirement, from what the gateway recorded and what the I-VAN
told the employer. A check raises ``CaseFailed`` with the evidence a vendor needs to fix
the fault alone, ``CaseBlocked`` when its precondition did not happen (a case is not
failed for another case's fault), and returns a short note when the I-VAN passed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from harness import XMLRejected, ensure_pki, parse_xml
from harness.certification import (
    ALERT,
    RECEIPT,
    REJECTED,
    CaseBlocked,
    CaseFailed,
    CaseUnsupported,
    FeedEntry,
    JobRecord,
    Observation,
    Relay,
    TrafficRow,
    check,
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@check("forwarded_in_time")
def forwarded_in_time(obs: Observation) -> str:
    limit = timedelta(hours=float(obs.settings["forward_limit_hours"]))
    for record in obs.jobs:
        status = record.accepted()  # fails the case if the job was never forwarded
        took = status.received_at - record.handed_at
        evidence = {"handed over (simulated)": record.handed_at.isoformat(),
                    "received by BHXH (simulated)": status.received_at.isoformat()}  # fmt: skip
        if took > limit:
            raise CaseFailed(
                f"forwarded {took} after the employer handed it over (limit {limit})", evidence
            )
        receipts = [r for r in record.relayed(RECEIPT) if r.ma_gdich == status.ma_gdich]
        if not receipts:
            raise CaseFailed(
                f"the employer never got the receipt of MA_GDICH {status.ma_gdich}", evidence
            )
        if _at(receipts[0].at) - record.handed_at > limit:
            raise CaseFailed(f"the receipt reached the employer at {receipts[0].at}", evidence)
    return f"forwarded and receipt relayed within {limit}"


@check("messages_acknowledged")
def messages_acknowledged(obs: Observation) -> str:
    for record in obs.jobs:
        status = record.accepted()
        if not status.feed:
            raise CaseBlocked(f"BHXH issued no message for MA_GDICH {status.ma_gdich} yet")
        distrusted = [m for m in status.feed if m.acked_at and _alerts(record, m, status.ma_gdich)]
        if distrusted:  # an ack tells BHXH the message arrived intact: it contradicts an alert
            raise CaseFailed(
                f"acknowledged {len(distrusted)} BHXH message(s) it told the employer it did not "
                "trust (relayed as alert): an unverified message is alerted and not acknowledged",
                {"alerted and acknowledged": _fates(record, distrusted, status.ma_gdich)},
            )
        unacked = [f"{m.kind} {m.id}" for m in status.feed if not m.acked_at]
        if unacked:
            raise CaseFailed(
                f"{len(unacked)} of {len(status.feed)} BHXH message(s) never acknowledged",
                {"unacknowledged": "\n".join(unacked)},
            )
        unrelayed = [m for m in status.feed if not _relayed(record, m, status.ma_gdich)]
        if unrelayed:  # acknowledged, so the I-VAN read it: the employer must hear of it
            raise CaseFailed(
                f"BHXH's {_listed(unrelayed)} of MA_GDICH {status.ma_gdich} never reached the "
                f"employer as issued: {_fates(record, unrelayed, status.ma_gdich, '; ')}",
                {"not relayed": _fates(record, unrelayed, status.ma_gdich),
                 "relays": "\n".join(f"{r.kind} {r.message_id}" for r in record.relays)},
            )  # fmt: skip
    return "every message acknowledged and relayed to the employer"


@check("recovered_after_restart")
def recovered_after_restart(obs: Observation) -> str:
    if "recover" not in obs.capabilities:  # a suite copy whose case lacks needs: [recover]
        how = obs.how_to_add.get("recover", "")
        raise CaseUnsupported("no recover operation" + (f" ({how})" if how else ""))
    for record in obs.jobs:
        status = record.accepted()
        if record.recover_outcome == "unsupported":
            raise CaseUnsupported(record.recover_note)
        if record.recover_outcome == "failed":  # announced, asked, and it could not
            raise CaseFailed(
                f"the I-VAN announced recover but could not recover MA_GDICH "
                f"{status.ma_gdich}: {record.recover_note}",
                {"recovery": record.recover_note},
            )
        if record.recovered is None:
            raise CaseBlocked(record.recover_note or "recovery was not asked")
        sent = next(
            r for r in record.attempts if r.status == 202 and status.ma_gdich.encode() in r.response
        )
        wanted = {"the forwarded dossier": sent.request, "the receipt": sent.response}
        wanted |= {f"{m.kind} {m.id}": m.content for m in status.feed}
        missing = [name for name, data in wanted.items() if data not in record.recovered]
        if missing:
            raise CaseFailed(
                f"after a restart the I-VAN could not recover: {', '.join(missing)}",
                {"recovered": f"{len(record.recovered)} message(s) for MA_GDICH {status.ma_gdich}"},
            )
    return "dossier, receipt and every message recovered byte for byte"


@check("idempotent_retry")
def idempotent_retry(obs: Observation) -> str:
    for record in obs.jobs:
        if not record.committed:
            record.accepted()  # raises CaseBlocked with what the gateway answered
        hits = obs.events_for(record)
        ids = list(dict.fromkeys(r.message_id for r in record.attempts))
        receipts = [r for r in record.relayed(RECEIPT) if r.ma_gdich in record.committed]
        if hits and len(record.attempts) < 2 and receipts:
            raise CaseBlocked(
                "the I-VAN waited out the held answer; rerun with a shorter --client-timeout"
            )
        if hits and len(record.attempts) < 2:
            raise _not_resent(
                obs, "the I-VAN lost the answer and neither retried nor relayed a receipt"
            )
        evidence = {
            "X-Message-Id per attempt": "\n".join(
                f"#{r.id}: {r.message_id} -> {r.status}" for r in record.attempts
            )
        }
        if len(ids) > 1:
            raise CaseFailed(f"the retries used {len(ids)} different X-Message-Id values", evidence)
        if len(record.committed) > 1:
            raise CaseFailed(f"the dossier was stored {len(record.committed)} times", evidence)
        bodies = {hashlib.sha256(r.request).hexdigest() for r in record.attempts}
        if len(bodies) > 1:
            raise CaseFailed(
                "the same X-Message-Id was sent with different bodies (409 DUP-001)", evidence
            )
        if not receipts:
            raise CaseFailed("the receipt never reached the employer after the retry", evidence)
        if not hits:
            raise obs.blocked("the fault never hit this I-VAN's submission")
    return "retried with the same X-Message-Id and body; stored once; receipt relayed"


@check("backs_off")
def backs_off(obs: Observation) -> str:
    limit = int(obs.settings["burst_max_attempts"])
    for record in obs.jobs:
        record.forwarded()  # a job never forwarded fails, whatever the burst did
        refused = [r for r in record.attempts if r.status == 503]
        if not refused:
            raise obs.blocked("no submission met the 503 burst")
        if len(refused) > limit:
            span = (refused[-1].started - refused[0].started).total_seconds()
            raise CaseFailed(
                f"{len(refused)} attempts in {span:.2f} s of 503 (at most {limit} expected)"
            )
        if all(r.status == 503 for r in record.attempts):
            raise _not_resent(obs, "the dossier was never sent again after the burst")
    return f"at most {limit} attempts during the burst"


@check("honours_retry_after")
def honours_retry_after(obs: Observation) -> str:
    wanted = float(obs.settings["retry_after"])
    for record in obs.jobs:
        record.forwarded()  # a job never forwarded fails, whatever the 503 did
        refused = [i for i, r in enumerate(record.attempts) if r.status == 503]
        if not refused:
            raise obs.blocked("no submission met the 503 with Retry-After")
        late = [i for i in refused if not _reached_ivan(obs, record.attempts[i])]
        if len(late) == len(refused):
            raise CaseBlocked(
                "the 503 was answered after the I-VAN's timeout, so its Retry-After was never "
                "read (a busy machine?); run the suite again"
            )
        refused = [i for i in refused if i not in late]
        for index in refused:
            if index + 1 >= len(record.attempts):
                raise _not_resent(obs, "the dossier was never sent again after the 503")
            gap = (
                record.attempts[index + 1].started - record.attempts[index].ended
            ).total_seconds()
            if gap < 0.9 * wanted:
                raise CaseFailed(f"retried {gap:.3f} s after a 503 with Retry-After: {wanted:g}")
    return f"waited at least Retry-After ({wanted:g} s)"


@check("respects_maintenance")
def respects_maintenance(obs: Observation) -> str:
    refused = sorted(
        (r for rec in obs.jobs for r in rec.attempts if r.outcome == "SRV-001"),
        key=lambda r: r.started,
    )
    read = [r for r in refused if _reached_ivan(obs, r)]
    ignored = [r for r in refused if read and r.started >= read[0].ended]
    if ignored:
        lines = "\n".join(_attempt_line(r) for r in refused)
        raise CaseFailed(
            f"{len(ignored)} submission(s) during the maintenance window after its "
            "Retry-After reached the I-VAN (none expected)",
            {"refused (start, answer time)": lines},
        )
    for record in obs.jobs:
        if not any(r.status != 503 for r in record.attempts):
            raise CaseFailed(f"job {record.job.job_id} was not submitted after the window closed")
    return "deferred during the window, resumed after it" if refused else "never met the window"


def _not_resent(obs: Observation, what: str) -> CaseFailed | CaseBlocked:
    """A failure, unless the adapter has no tick: then the I-VAN's only later chance to
    resend is its next call, which this scenario never makes, so the case is not exercised."""
    if "tick" in obs.capabilities:
        return CaseFailed(what)
    how = obs.how_to_add.get("tick", "")
    return CaseBlocked(
        f"{what} within submit, and without a tick operation the I-VAN gets no later call "
        "to resend it in; resend within submit or give the adapter a tick operation"
        + (f" ({how})" if how else "")
    )


def _reached_ivan(obs: Observation, row: TrafficRow) -> bool:
    """Whether an answer came within the I-VAN's timeout: one slower than that (a busy
    machine) was never read, so what the I-VAN did next does not ignore what it said."""
    return row.duration_ms <= 1000 * float(obs.settings["client_timeout"])


def _attempt_line(row: TrafficRow) -> str:
    answered = f"answered in {row.duration_ms:.0f} ms"
    return f"#{row.id} {row.started.isoformat()} {row.message_id} {answered}"


def _about(record: JobRecord, message: FeedEntry, ma_gdich: str) -> list[Relay]:
    """Every relay about ``message``: naming its id, or (naming none) its kind and MA_GDICH."""
    return [
        r
        for r in record.relays
        if r.message_id == message.id
        or (not r.message_id and r.kind == message.kind and r.ma_gdich == ma_gdich)
    ]


def _relayed(record: JobRecord, message: FeedEntry, ma_gdich: str) -> list[Relay]:
    """The relays that deliver ``message`` to the employer: under its own kind (LOAI). An
    alert says it was not trusted, and another kind tells the employer something else."""
    return [r for r in _about(record, message, ma_gdich) if r.kind == message.kind]


def _alerts(record: JobRecord, message: FeedEntry, ma_gdich: str) -> list[Relay]:
    return [r for r in _about(record, message, ma_gdich) if r.kind == ALERT]


def _listed(messages: list[FeedEntry]) -> str:
    return ", ".join(f"{m.kind} {m.id}" for m in messages)


def _fates(record: JobRecord, messages: list[FeedEntry], ma_gdich: str, sep: str = "\n") -> str:
    """What the employer got of each message: relayed as which kinds (an alert with its
    reason), or nothing, so a wrong kind names both the message's and the relay's."""
    lines = []
    for message in messages:
        got = [
            r.kind + (f" ({r.detail})" if r.kind == ALERT and r.detail else "")
            for r in _about(record, message, ma_gdich)
        ]
        fate = f"relayed as {', '.join(got)}" if got else "never relayed"
        lines.append(f"{message.kind} {message.id}: {fate}")
    return sep.join(lines)


def _hit(obs: Observation, kind: str) -> None:
    if not any(
        e.get("kind") == kind and e.get("ivan") == obs.context.ivan for e in obs.fault_events
    ):
        raise CaseBlocked(f"the {kind} fault never hit this I-VAN's feed")


@check("relayed_once")
def relayed_once(obs: Observation) -> str:
    _hit(obs, "duplicate-messages")
    for record in obs.jobs:
        status = record.accepted()
        counts = {
            f"{m.kind} {m.id}": len(_relayed(record, m, status.ma_gdich)) for m in status.feed
        }
        wrong = {k: n for k, n in counts.items() if n != 1}
        if wrong:
            lines = "\n".join(f"{k}: relayed {n} time(s)" for k, n in wrong.items())
            missing = [m for m in status.feed if not _relayed(record, m, status.ma_gdich)]
            raise CaseFailed(
                "duplicate deliveries reached the employer as separate messages"
                if max(wrong.values()) > 1
                else "message(s) never reached the employer as issued: "
                + _fates(record, missing, status.ma_gdich, "; "),
                {
                    "relays": lines,
                    "what the employer got": _fates(record, status.feed, status.ma_gdich),
                },
            )
    return "each message relayed exactly once"


@check("relayed_despite_order")
def relayed_despite_order(obs: Observation) -> str:
    _hit(obs, "reorder-messages")
    for record in obs.jobs:
        status = record.accepted()
        missing = [m for m in status.feed if not _relayed(record, m, status.ma_gdich)]
        if missing:
            raise CaseFailed(
                "messages delivered out of order never reached the employer as issued: "
                + _fates(record, missing, status.ma_gdich, "; "),
                {"missing": _fates(record, missing, status.ma_gdich)},
            )
    return "every message relayed"


def _serial(content: bytes) -> str:
    return parse_xml(content).findtext("XACNHAN_GDICH/TTCKY_BHXH/TTCKY/SERIAL") or ""


@check("accepts_rollover")
def accepts_rollover(obs: Observation) -> str:
    pki = ensure_pki(obs.context.pki_dir)
    certificate = pki.credential(str(obs.settings["rollover_credential"])).certificate
    rolled_serial = format(certificate.serial_number, "X")
    for record in obs.jobs:
        status = record.accepted()
        rolled = [m for m in status.feed if _serial(m.content) == rolled_serial]
        if not rolled:
            raise CaseBlocked("no message was signed with the gateway's next certificate")
        alerts = [r.detail for r in record.relayed(ALERT)]
        missing = [  # trusted is the question here: a relay under another kind still is
            f"{m.kind} {m.id}"
            for m in rolled
            if not [r for r in _about(record, m, status.ma_gdich) if r.kind != ALERT]
        ]
        if missing:
            raise CaseFailed(
                "messages signed with BHXH's next certificate were not relayed",
                {"missing": "\n".join(missing), "I-VAN alerts": "\n".join(alerts) or "none"},
            )
    return "messages under the rolled-over key accepted and relayed"


@check("surfaces_rejection")
def surfaces_rejection(obs: Observation) -> str:
    for record in obs.jobs:
        record.forwarded()
        refused = [r for r in record.attempts if 400 <= r.status < 500]
        if not refused:
            raise CaseBlocked(
                f"the gateway did not refuse the defective dossier ({record.job.defect})"
            )
        try:
            ma_loi = parse_xml(refused[-1].response).findtext("XACNHAN_GDICH/TTGDICH/MA_LOI") or ""
        except XMLRejected:
            raise CaseBlocked("the gateway's rejection is not readable XML") from None
        told = record.relayed(REJECTED)
        evidence = {
            "relays": "\n".join(f"{r.kind} MA_LOI={r.ma_loi!r} {r.detail}" for r in record.relays)
            or "none"
        }
        if not told:
            raise CaseFailed(
                f"BHXH refused the dossier with {ma_loi}; the employer was never told", evidence
            )
        if not any(r.ma_loi == ma_loi for r in told):
            raise CaseFailed(
                f"the employer was told of a rejection without BHXH's MA_LOI {ma_loi}", evidence
            )
    return "MA_LOI relayed to the employer"
