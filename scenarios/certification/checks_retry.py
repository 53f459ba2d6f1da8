"""Checks on how an I-VAN retries: idempotent resends, backoff, Retry-After, maintenance.

Each judges one :class:`~harness.certification.Observation` (a scenario run for one
procedure) against one requirement, from what the gateway recorded and what the I-VAN
told the employer. A check raises ``CaseFailed`` with the evidence a vendor needs to fix
the fault alone, ``CaseBlocked`` when its precondition did not happen (a case is not
failed for another case's fault), and returns a short note when the I-VAN passed.
"""

from __future__ import annotations

import hashlib
import itertools
import statistics

from harness.certification import (
    RECEIPT,
    REJECTED,
    CaseBlocked,
    CaseFailed,
    JobRecord,
    Observation,
    TrafficRow,
    check,
)


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
        _same_bytes(record)
        if not receipts:
            raise CaseFailed("the receipt never reached the employer after the retry", evidence)
        if not hits:
            raise obs.blocked("the fault never hit this I-VAN's submission")
    return "retried with the same X-Message-Id and body; stored once; receipt relayed"


def _same_bytes(record: JobRecord) -> None:
    """A retry repeats the exact bytes under the same X-Message-Id (the guide's Sending):
    different ones are refused 409 DUP-001, and are never BHXH's refusal to relay."""
    first = record.attempts[0]
    changed = [
        r
        for r in record.attempts[1:]
        if r.message_id == first.message_id
        and hashlib.sha256(r.request).digest() != hashlib.sha256(first.request).digest()
    ]
    if not changed:
        return
    answers = sorted({f"{r.status} {r.outcome}" for r in changed})
    told = [r for r in record.relayed(REJECTED) if record.committed]
    relayed = (
        f"; and it told the employer 'rejected {told[0].ma_loi}' for a dossier BHXH had "
        f"accepted (MA_GDICH {record.committed[0]})"
        if told
        else ""
    )
    raise CaseFailed(
        f"your retry sent different bytes under the same X-Message-Id {first.message_id} "
        f"(answered {', '.join(answers)}): resend the exact bytes{relayed}",
        {"attempts": "\n".join(_attempt_line(r) + f" -> {r.status} {r.outcome}"
                                f" sha256={hashlib.sha256(r.request).hexdigest()[:16]}"
                                for r in record.attempts)},
    )  # fmt: skip


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
        limits = ("backoff_growth", "backoff_floor_ms", "backoff_first_ms")
        _waits_grow(record.attempts, *(float(obs.settings[k]) for k in limits))
        _same_bytes(record)
        if all(r.status == 503 for r in record.attempts):
            raise _not_resent(obs, "the dossier was never sent again after the burst")
    return f"at most {limit} attempts during the burst, waits growing"


def _waits_grow(
    attempts: list[TrafficRow], growth: float, floor_ms: float, first_ms: float
) -> None:
    """The guide's backoff rule: between two 503s in a row the waits grow, so the later
    half of them lasts ``growth`` times the earlier half, and reaches ``floor_ms``; a flat
    retry loop is hammering. The floor keeps a machine busy enough to stretch a 2-3 ms
    loop's later waits from passing it as backoff (a CI run did).

    One or two waits (a machine so busy that each 503 took a quarter of the burst) show
    no trend, and a backoff's first wait may be short of the floor (the reference's is
    25-50 ms, and a CI run failed it on one wait of 34 ms): the longer need only reach
    ``first_ms``, which a retry loop's 2-3 ms do not."""
    waits = [
        1000 * (b.started - a.ended).total_seconds()
        for a, b in itertools.pairwise(attempts)
        if a.status == 503 and b.status == 503
    ]
    if not waits:
        return
    if len(waits) < 3:  # too few for a trend: only waits that never leave a loop's tell
        if max(waits) >= first_ms:
            return
        rule = f"with one or two waits between 503s, the longer is at least {first_ms:g} ms"
    else:  # medians: one wait stretched by a busy machine is not a trend
        half = len(waits) // 2
        early, late = statistics.median(waits[:half]), statistics.median(waits[-half:])
        if late >= floor_ms and late >= growth * early:
            return
        rule = (
            f"the median wait of the later half of the waits between 503s is at least "
            f"{growth:g} times the earlier half's and at least {floor_ms:g} ms; here "
            f"{late:.0f} ms against {early:.0f} ms"
        )
    raise CaseFailed(
        f"retried the 503 burst after waits of {', '.join(f'{w:.0f}' for w in waits)} ms: "
        f"back off exponentially (the guide's Waiting rule: {rule})",
        {"waits after each 503 (ms)": "\n".join(f"{w:.1f}" for w in waits)},
    )


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
        _same_bytes(record)
        unread = 0
        for index in refused:
            if index + 1 >= len(record.attempts):
                raise _not_resent(obs, "the dossier was never sent again after the 503")
            gap = (
                record.attempts[index + 1].started - record.attempts[index].ended
            ).total_seconds()
            if gap >= 0.9 * wanted:
                continue
            if _resent_after_timeout(obs, record.attempts, index):
                unread += 1
            else:
                raise CaseFailed(
                    f"retried {gap:.3f} s (real time) after a 503 with Retry-After: "
                    f"{wanted:g}: the guide's Waiting rule has two clocks: a short "
                    "Retry-After (up to 10 s) is waited in real time before resending, only "
                    "a long one (a maintenance window) is counted on the {now} clock"
                )
        if unread == len(refused):
            raise CaseBlocked(
                "the I-VAN resent the dossier after its own timeout each time, so no 503's "
                "Retry-After was surely read (a busy machine?); run the suite again"
            )
    return f"waited at least Retry-After ({wanted:g} s)"


@check("respects_maintenance")
def respects_maintenance(obs: Observation) -> str:
    found = sorted(
        ((r, rec.attempts, i) for rec in obs.jobs for i, r in enumerate(rec.attempts)
         if r.outcome == "SRV-001"),
        key=lambda seen: seen[0].started,
    )  # fmt: skip
    refused = [r for r, _, _ in found]
    read = [
        r for r, attempts, i in found
        if _reached_ivan(obs, r) and not _refused_again_after_timeout(obs, attempts, i)
    ]  # fmt: skip
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


def _refused_again_after_timeout(obs: Observation, attempts: list[TrafficRow], index: int) -> bool:
    """Whether the I-VAN may have given up on refusal ``index`` before reading it: its
    resend, half its timeout or more later (the request's own trip may take the rest),
    was refused too and then obeyed (no third attempt in the window). A resend after the
    window shows the refusal was read; an I-VAN resending again and again ignores them."""
    refused = [r.outcome == "SRV-001" for r in attempts[index + 1 : index + 3]]
    obeyed = refused in ([True], [True, False])  # the resend refused, then no third in it
    return obeyed and _resent_after_timeout(obs, attempts, index, share=0.5)


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
    """Whether an answer came within the I-VAN's timeout, counted from when it may have sent
    the request (the gateway may have read it ``unread_ms`` late): one slower than that (a
    busy machine) was never read, so what the I-VAN did next does not ignore what it said."""
    return row.duration_ms + row.unread_ms <= 1000 * float(obs.settings["client_timeout"])


def _resent_after_timeout(
    obs: Observation, attempts: list[TrafficRow], index: int, share: float = 1.0
) -> bool:
    """Whether the I-VAN's next attempt at the dossier came late enough to be its resend
    after giving up on ``attempts[index]``: ``share`` of its timeout after the I-VAN may
    have sent it (the gateway read it up to ``unread_ms`` late), or more. An answer the
    gateway sent in time can still reach a busy machine's I-VAN after its timeout, which
    then resends; one that read the answer and ignored it resends after its backoff."""
    if index + 1 >= len(attempts):
        return False
    first = attempts[index]
    gap = (attempts[index + 1].started - first.started).total_seconds() + first.unread_ms / 1000
    return gap >= share * float(obs.settings["client_timeout"])


def _attempt_line(row: TrafficRow) -> str:
    answered = f"answered in {row.duration_ms:.0f} ms, read up to {row.unread_ms:.0f} ms late"
    return f"#{row.id} {row.started.isoformat()} {row.message_id} {answered}"
