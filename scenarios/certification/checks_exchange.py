"""Checks on how an I-VAN exchanges with BHXH: timing, retries, maintenance, messages.

Each judges one :class:`~harness.certification.Observation` (a scenario run for one
procedure) against one requirement, from what the gateway recorded and what the I-VAN
told the employer. A check raises ``CaseFailed`` with the evidence a vendor needs to fix
the fault alone, ``CaseBlocked`` when its precondition did not happen (a case is not
failed for another case's fault), and returns a short note when the I-VAN passed.
"""

from __future__ import annotations

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
    check,
)
from harness.client import parse_answer
from harness.message_kinds import RESULT


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
        _no_fabricated_receipt(record)
        receipts = [r for r in record.relayed(RECEIPT) if r.ma_gdich == status.ma_gdich]
        if not receipts:
            raise CaseFailed(
                f"the employer never got the receipt of MA_GDICH {status.ma_gdich}", evidence
            )
        if _at(receipts[0].at) - record.handed_at > limit:
            raise CaseFailed(f"the receipt reached the employer at {receipts[0].at}", evidence)
    return f"forwarded and receipt relayed within {limit}"


def _no_fabricated_receipt(record: JobRecord) -> None:
    """A receipt tells the employer BHXH took the dossier: one whose MA_GDICH no 202 of the
    gateway carried is made up, whatever BHXH said of the dossier."""
    made_up = [r for r in record.relayed(RECEIPT) if r.ma_gdich not in record.committed]
    if made_up:
        answers = ", ".join(f"#{r.id} {r.status} {r.outcome}" for r in record.attempts)
        raise CaseFailed(
            f"relayed a receipt of MA_GDICH {made_up[0].ma_gdich!r} that no 202 of BHXH "
            f"carried (the gateway answered {answers or 'nothing'}): relay a receipt only "
            "with the MA_GDICH of BHXH's 202",
            {"receipts relayed": "\n".join(f"{r.at} {r.ma_gdich}" for r in made_up),
             "MA_GDICH of BHXH's 202s": "\n".join(record.committed) or "none"},
        )  # fmt: skip


@check("surfaces_defective_result")
def surfaces_defective_result(obs: Observation) -> str:
    for record in obs.jobs:
        status = record.accepted()
        results = [m for m in status.feed if m.kind == RESULT]
        if not results:
            raise CaseBlocked(f"BHXH issued no {RESULT} for MA_GDICH {status.ma_gdich} yet")
        said = parse_answer(200, results[-1].content)
        if said.kind == "unreadable":  # parse_answer's kind for a body that is not XML
            raise CaseBlocked(f"the gateway's {RESULT} is not readable XML")
        first = next((f for f in said.findings if f.severity == "error"), None)  # = MA_LOI
        ma_loi, text = (first.code, first.message_vi) if first else ("", "")
        if said.ma_kqua != "2" or not ma_loi:
            raise CaseBlocked(
                f"the gateway's {RESULT} lists no defective row (MA_KQUA "
                f"{said.ma_kqua or 'empty'}) for the job's defect ({record.job.defect})"
            )
        told = _relayed(record, results[-1], status.ma_gdich)
        relays = [f"{r.kind} MA_LOI={r.ma_loi!r} {r.message_id}" for r in record.relays]
        evidence = {
            f"BHXH's {RESULT}": f"MA_KQUA {said.ma_kqua}, MA_LOI {ma_loi}: {text}",
            "relays": "\n".join(relays) or "none",
        }
        if not told:
            raise CaseFailed(
                f"BHXH's {RESULT} listing a defective row ({ma_loi}) never reached the employer",
                evidence,
            )
        if not any(r.ma_loi == ma_loi for r in told):
            raise CaseFailed(
                f"the employer was told of BHXH's {RESULT} without its MA_LOI {ma_loi}: a "
                "result with defective rows (MA_KQUA 2) reads as accepted",
                evidence,
            )
    return "defective result relayed to the employer with its MA_LOI"


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
                {"alerted and acknowledged": _fates(obs, record, distrusted, status.ma_gdich)},
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
                f"employer as issued: {_fates(obs, record, unrelayed, status.ma_gdich, '; ')}",
                {"not relayed": _fates(obs, record, unrelayed, status.ma_gdich),
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
        if record.recover_outcome == "refused":  # announced, then "not supported": a claim broken
            raise CaseFailed(
                f'the adapter announced recover but answered "not supported" when asked to '
                f"recover MA_GDICH {status.ma_gdich} ({record.recover_note}): implement recover, "
                "or leave it out of the adapter's capabilities (the case is then skipped as not "
                "supported, and the I-VAN is not certified)",
                {"recovery": record.recover_note},
            )
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


def _fates(
    obs: Observation, record: JobRecord, messages: list[FeedEntry], ma_gdich: str, sep: str = "\n"
) -> str:
    """What the employer got of each message: relayed as which kinds (an alert with its
    reason), under another job, or nothing, so a wrong kind names both kinds."""
    lines = []
    for message in messages:
        got = [
            r.kind + (f" ({r.detail})" if r.kind == ALERT and r.detail else "")
            for r in _about(record, message, ma_gdich)
        ]
        fate = f"relayed as {', '.join(got)}" if got else _misfiled(obs, record, message, ma_gdich)
        lines.append(f"{message.kind} {message.id}: {fate}")
    return sep.join(lines)


def _misfiled(obs: Observation, record: JobRecord, message: FeedEntry, ma_gdich: str) -> str:
    """A message relayed under a job_id that is not this job's reached another employer."""
    stray = JobRecord(record.job, record.handed_at, relays=obs.unrouted)
    elsewhere = sorted({r.job_id or "(none)" for r in _about(stray, message, ma_gdich)})
    if not elsewhere:
        return "never relayed"
    return (
        f"relayed under job {', '.join(elsewhere)}, belonging to another employer; "
        f"expected job {record.job.job_id}"
    )


def _hit(obs: Observation, kind: str) -> None:
    if not any(
        e.get("kind") == kind and e.get("ivan") == obs.context.ivan for e in obs.fault_events
    ):
        raise CaseBlocked(f"the {kind} fault never hit this I-VAN's feed")


@check("relayed_once")
def relayed_once(obs: Observation) -> str:
    statuses = [record.accepted() for record in obs.jobs]  # the real cause comes first
    _hit(obs, "duplicate-messages")
    for record, status in zip(obs.jobs, statuses, strict=True):
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
                + _fates(obs, record, missing, status.ma_gdich, "; "),
                {
                    "relays": lines,
                    "what the employer got": _fates(obs, record, status.feed, status.ma_gdich),
                },
            )
    return "each message relayed exactly once"


@check("relayed_despite_order")
def relayed_despite_order(obs: Observation) -> str:
    statuses = [record.accepted() for record in obs.jobs]  # the real cause comes first
    _hit(obs, "reorder-messages")
    for record, status in zip(obs.jobs, statuses, strict=True):
        missing = [m for m in status.feed if not _relayed(record, m, status.ma_gdich)]
        if missing:
            raise CaseFailed(
                "messages delivered out of order never reached the employer as issued: "
                + _fates(obs, record, missing, status.ma_gdich, "; "),
                {"missing": _fates(obs, record, missing, status.ma_gdich)},
            )
    return "every message relayed"


@check("accepts_rollover")
def accepts_rollover(obs: Observation) -> str:
    pki = ensure_pki(obs.context.pki_dir)
    certificate = pki.credential(str(obs.settings["rollover_credential"])).certificate
    rolled_serial = format(certificate.serial_number, "X")
    for record in obs.jobs:
        status = record.accepted()
        rolled = [m for m in status.feed if m.signing_serial == rolled_serial]
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
        _no_fabricated_receipt(record)
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
