"""Checks on what an I-VAN keeps to itself and keeps at all: its own token, BHXH's
signature, and its state across a restart.

Each judges one :class:`~harness.certification.Observation` from what the gateway
recorded and what the I-VAN told the employer, like the other check modules.
"""

from __future__ import annotations

from harness import ensure_pki
from harness.certification import (
    ALERT,
    CaseBlocked,
    CaseFailed,
    FeedEntry,
    JobRecord,
    Observation,
    Relay,
    check,
)


def _relays_of(record: JobRecord, message: FeedEntry, ma_gdich: str) -> list[Relay]:
    """Relays about ``message``: naming its id, or (naming none) its kind and MA_GDICH."""
    return [
        r
        for r in record.relays
        if r.message_id == message.id
        or (not r.message_id and r.kind == message.kind and r.ma_gdich == ma_gdich)
    ]


@check("own_token_only")
def own_token_only(obs: Observation) -> str:
    if obs.foreign:  # the gateway saw them under a token that is not the I-VAN's
        ivans = sorted({r.ivan for r in obs.foreign})
        raise CaseFailed(
            f"{len(obs.foreign)} request(s) reached BHXH under the token of {', '.join(ivans)}, "
            f"not {obs.context.ivan}'s: an I-VAN uses only its own credential",
            {"requests": "\n".join(f"#{r.id} {r.ivan} {r.method} {r.path}" for r in obs.foreign)},
        )
    if obs.strangers:  # the probe with the I-VAN's own token does not know these dossiers
        raise CaseFailed(
            "relayed to this employer BHXH messages about dossiers that are not its own "
            f"(MA_GDICH {', '.join(sorted({r.ma_gdich for r in obs.strangers}))})",
            {"relays": "\n".join(f"{r.kind} {r.ma_gdich} {r.message_id}" for r in obs.strangers)},
        )
    return "only its own token used, only its own employer's dossiers relayed"


@check("alerts_untrusted")
def alerts_untrusted(obs: Observation) -> str:
    pki = ensure_pki(obs.context.pki_dir)
    certificate = pki.credential(str(obs.settings["untrusted_credential"])).certificate
    serial = format(certificate.serial_number, "X")
    for record in obs.jobs:
        status = record.accepted()
        forged = [m for m in status.feed if m.signing_serial == serial]
        if not forged:
            raise CaseBlocked("no message was signed with the untrusted key")
        fates = {m: _relays_of(record, m, status.ma_gdich) for m in forged}
        trusted = [
            f"{m.kind} {m.id}" for m, got in fates.items() if any(r.kind != ALERT for r in got)
        ]
        acked = [f"{m.kind} {m.id}" for m in forged if m.acked_at]
        silent = [f"{m.kind} {m.id}" for m, got in fates.items() if not got]
        if trusted or acked or silent:
            raise CaseFailed(
                "a message whose BHXH signature does not verify (untrusted certificate) must be "
                "relayed as alert and not acknowledged",
                {"relayed as BHXH's": "\n".join(trusted) or "none",
                 "acknowledged": "\n".join(acked) or "none",
                 "never relayed": "\n".join(silent) or "none"},
            )  # fmt: skip
    return "messages signed with an untrusted key alerted and not acknowledged"


def _acks_after(obs: Observation, after: int) -> list[str]:
    """Ids of the messages the I-VAN acknowledged (200) after traffic row ``after``."""
    return [
        r.route[1].split("/")[-2]
        for r in obs.traffic
        if r.id > after and r.method == "POST" and r.route[1].endswith("/ack") and r.status == 200
    ]


def _outbox_kept(obs: Observation, at: str) -> None:
    """Each job reached BHXH once: the maintenance ends long before the scenario does, so a
    job still unsent (or sent twice) was lost (or repeated) by the restart."""
    for record in obs.jobs:
        answers = ", ".join(f"#{r.id} {r.status} {r.outcome}" for r in record.attempts)
        deferred = all(r.status == 429 or r.status >= 500 for r in record.attempts)
        if record.forwarded() and deferred and not record.committed:  # refused: blocks below
            raise CaseFailed(
                f"job {record.job.job_id}, in the outbox when the I-VAN restarted, never reached "
                f"BHXH afterwards (the gateway answered {answers}): keep the outbox on disk",
                {"restarted at (simulated)": at, "submissions": answers},
            )
        if len(record.committed) > 1:
            raise CaseFailed(
                f"job {record.job.job_id} reached BHXH {len(record.committed)} times",
                {"MA_GDICH": "\n".join(record.committed), "submissions": answers},
            )


def _messages_kept(obs: Observation) -> None:
    """Every message of the scenario's dossiers reached the employer, under its job."""
    for record in obs.jobs:
        status = record.accepted()
        feed = status.feed
        lost = [f"{m.kind} {m.id}" for m in feed if not _relays_of(record, m, status.ma_gdich)]
        if lost:
            raise CaseFailed(
                f"after the restart BHXH's {', '.join(lost)} never reached the employer",
                {"relays": "\n".join(f"{r.at} {r.kind} {r.message_id}" for r in record.relays)},
            )


@check("durable_across_restart")
def durable_across_restart(obs: Observation) -> str:
    if not obs.restarts:
        raise CaseBlocked("the I-VAN was not restarted")
    mark = obs.restarts[-1]
    _outbox_kept(obs, mark.at.isoformat())
    _messages_kept(obs)
    again = sorted({r.message_id for r in mark.relays if r.message_id in mark.relayed})
    reacked = sorted(set(_acks_after(obs, mark.traffic_id)) & mark.acked)
    if again or reacked:
        raise CaseFailed(
            f"after the restart at {mark.at.isoformat()} the I-VAN handled again messages it had "
            "already handled (its cursor or list of seen messages was not kept)",
            {"relayed again": "\n".join(again) or "none",
             "acknowledged again": "\n".join(reacked) or "none"},
        )  # fmt: skip
    return "outbox, cursor and seen messages kept across the restart"
