"""An answer slower than the I-VAN's timeout never reached it (a busy machine), so the
retry that follows it does not ignore the Retry-After it carried: the maintenance and
Retry-After checks judge only what the I-VAN could read. The certification matrix failed
CERT-MNT-01 for a correct I-VAN this way when the machine was loaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from harness.certification import CaseBlocked, CaseFailed, TrafficRow, load_suite
from harness.certification.observe import JobRecord, Observation

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TIMEOUT_S = 1.0


def _row(
    n: int,
    at_s: float,
    took_ms: float,
    status: int = 503,
    outcome: str = "SRV-001",
    unread_ms: float = 0.0,
) -> Any:
    return TrafficRow(
        id=n, ivan="IVAN01", method="POST", path="/api/v1/dossiers", message_id=f"m{n}",
        status=status, request=b"", response=b"", started=T0 + timedelta(seconds=at_s),
        duration_ms=took_ms, outcome=outcome, unread_ms=unread_ms,
    )  # fmt: skip


def _observation(*attempts: Any, retry_after: float = 1) -> Observation:
    record = JobRecord(job=SimpleNamespace(job_id="j1"), handed_at=T0)  # type: ignore[arg-type]
    record.attempts.extend(attempts)
    settings = {"client_timeout": TIMEOUT_S, "retry_after": retry_after}
    obs = Observation("s", "600", settings, None, None, None, frozenset())  # type: ignore[arg-type]
    obs.jobs.append(record)
    return obs


def _check(name: str) -> Any:
    return load_suite().checks[name]


def test_a_retry_after_a_refusal_the_ivan_never_read_is_not_a_submission_in_the_window() -> None:
    # the first 503 took 1.5 s (the I-VAN gave up after 1 s); the second was read; then 202
    obs = _observation(_row(1, 0.0, 1500), _row(2, 1.7, 20), _row(3, 9.0, 30, 202, "accepted"))
    assert _check("respects_maintenance")(obs) == "deferred during the window, resumed after it"


def test_a_submission_after_a_refusal_the_ivan_read_still_fails() -> None:
    obs = _observation(_row(1, 0.0, 20), _row(2, 0.3, 20), _row(3, 9.0, 30, 202, "accepted"))
    with pytest.raises(CaseFailed, match="1 submission"):
        _check("respects_maintenance")(obs)


def test_a_resend_after_the_ivans_own_timeout_does_not_ignore_an_answer_sent_in_time() -> None:
    """The gateway answered in 20 ms, but a loaded machine held the answer past the I-VAN's
    timeout: it resent 0.6 s on (its timeout of 1 s ran from before the request arrived),
    read that refusal and deferred. The matrix failed CERT-MNT-01 for a correct I-VAN so."""
    obs = _observation(_row(1, 0.0, 20), _row(2, 0.6, 20), _row(3, 9.0, 30, 202, "accepted"))
    assert _check("respects_maintenance")(obs) == "deferred during the window, resumed after it"


def test_another_dossier_sent_in_the_window_fails_though_the_first_was_resent_after_it() -> None:
    """A refusal followed by a resend after the window was read: the I-VAN obeyed it for that
    dossier, so a second dossier it sent during the window ignored it."""
    obs = _observation(_row(1, 0.0, 20), _row(3, 9.0, 30, 202, "accepted"))
    second = JobRecord(job=SimpleNamespace(job_id="j2"), handed_at=T0)  # type: ignore[arg-type]
    second.attempts.extend([_row(2, 0.3, 20), _row(4, 9.1, 30, 202, "accepted")])
    obs.jobs.append(second)
    with pytest.raises(CaseFailed, match="1 submission"):
        _check("respects_maintenance")(obs)


def test_retry_after_is_judged_on_the_503s_the_ivan_read() -> None:
    honours = _check("honours_retry_after")
    late_then_read = _observation(_row(1, 0.0, 1500), _row(2, 1.6, 20), _row(3, 3.0, 30, 202))
    assert honours(late_then_read).startswith("waited at least Retry-After")
    with pytest.raises(CaseBlocked, match="never read"):
        honours(_observation(_row(1, 0.0, 1500), _row(2, 1.6, 30, 202)))
    with pytest.raises(CaseFailed, match=r"retried 0\.180 s \(real time\) after"):
        honours(_observation(_row(1, 0.0, 20), _row(2, 0.2, 30, 202)))


def test_a_resend_after_the_ivans_own_timeout_is_not_judged_against_retry_after() -> None:
    """Answered in 20 ms with Retry-After: 2, resent 1.1 s on: the I-VAN's whole 1 s
    timeout or more after it sent, so perhaps after giving up on an answer a loaded machine
    held back, and not after reading Retry-After. Sooner than its timeout, it read it."""
    honours = _check("honours_retry_after")
    with pytest.raises(CaseBlocked, match="after its own timeout"):
        honours(_observation(_row(1, 0.0, 20), _row(2, 1.1, 30, 202), retry_after=2))
    then_read = _observation(_row(1, 0.0, 20), _row(2, 1.1, 20), _row(3, 3.2, 30, 202))
    assert honours(then_read).startswith("waited at least Retry-After")
    with pytest.raises(CaseFailed, match=r"retried 0\.580 s \(real time\) after"):
        honours(_observation(_row(1, 0.0, 20), _row(2, 0.6, 30, 202), retry_after=2))


def test_a_fixed_interval_loop_through_the_window_ignores_it() -> None:
    """An I-VAN that resends every second whatever the 503 said is not excused as timing
    out: after one resend refused, it must obey; a third attempt in the window ignores it."""
    loop = [_row(n, n - 1.0, 20) for n in (1, 2, 3, 4)]
    obs = _observation(*loop, _row(5, 9.0, 30, 202, "accepted"))
    with pytest.raises(CaseFailed, match="3 submission"):
        _check("respects_maintenance")(obs)


def test_a_request_the_gateway_read_late_counts_from_when_it_may_have_been_sent() -> None:
    """The gateway's loop stalled 0.7 s before reading the first request (its traffic row
    says so in ``unread_ms``): the I-VAN's 1 s timeout ran from before, so the refusal it
    answered in 20 ms may never have reached the I-VAN, and the resend 0.35 s after the
    gateway read it is the I-VAN's own after its timeout. Without the stall it is a resend
    that ignored what it read."""
    resent = (_row(2, 0.35, 20), _row(3, 9.0, 30, 202, "accepted"))
    stalled = _observation(_row(1, 0.0, 20, unread_ms=700), *resent)
    assert _check("respects_maintenance")(stalled) == "deferred during the window, resumed after it"
    with pytest.raises(CaseFailed, match="1 submission") as failed:
        _check("respects_maintenance")(_observation(_row(1, 0.0, 20, unread_ms=40), *resent))
    # the evidence says how late each refusal may have been read, to tell a stall apart
    lines = failed.value.evidence["refused (start, answer time)"].splitlines()
    assert lines[0].endswith("m1 answered in 20 ms, read up to 40 ms late"), lines


def test_retry_after_counts_the_wait_before_the_gateway_read_the_request() -> None:
    """A 503 answered in 20 ms after 1 s unread reached no I-VAN with a 1 s timeout."""
    honours = _check("honours_retry_after")
    with pytest.raises(CaseBlocked, match="never read"):
        honours(_observation(_row(1, 0.0, 20, unread_ms=1000), _row(2, 0.1, 30, 202)))
    late_by_stall = _observation(
        _row(1, 0.0, 20, unread_ms=990), _row(2, 0.05, 20), _row(3, 2.0, 30, 202)
    )
    assert honours(late_by_stall).startswith("waited at least Retry-After")
