"""What a failing case says: the real cause, in the vendor's terms (probe findings 4-9).

Each I-VAN here is the reference with one defect, run only on the cases concerned; every
assertion fails on the checks as they were (a wrong cause, or a skip instead of a fail).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from harness.certification import Job, Relay, run_certification
from harness.certification.reference import CertClient, ReferenceIvan
from harness.client import FeedMessage
from tests.certification.conftest import FAST, PROCEDURE


def run(adapter: Any, cases: list[str], out: Path) -> dict[str, tuple[str, str]]:
    bundle = run_certification(adapter, procedures=[PROCEDURE], cases=cases, out=out, settings=FAST)
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


class NeverForwards(ReferenceIvan):
    name = spec = "python:never-forwards"

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        return []


class _ChangingClient(CertClient):
    def before_attempt(self, attempt: int, kwargs: dict[str, Any]) -> None:
        if attempt > 1 and isinstance(kwargs.get("data"), bytes):
            kwargs["data"] = kwargs["data"] + b"\n" * attempt


class ChangesBytesOnRetry(ReferenceIvan):
    name = spec = "python:changes-bytes-on-retry"

    def make_client(self) -> CertClient:
        client = super().make_client()
        client.__class__ = _ChangingClient
        return client


class RelaysUnderAnotherJob(ReferenceIvan):
    name = spec = "python:relays-under-another-job"

    def accept(self, message: FeedMessage) -> list[Relay]:
        return [replace(r, job_id="job-of-another-employer") for r in super().accept(message)]


class DecomposesEnvelope(ReferenceIvan):
    name = spec = "python:decomposes-envelope"

    def build(self, job: Job, now: datetime) -> bytes:
        import unicodedata

        unit = replace(job.unit, ten=unicodedata.normalize("NFD", job.unit.ten))
        return super().build(replace(job, unit=unit), now)


class IsoPeriod(ReferenceIvan):
    name = spec = "python:iso-period"

    def build(self, job: Job, now: datetime) -> bytes:
        month, year = job.period.split("/")
        return super().build(replace(job, period=f"{year}-{month}"), now)


class DefersShortRetryAfter(ReferenceIvan):
    name = spec = "python:defers-short-retry-after"
    defer_after = 0.0  # every Retry-After counted on the {now} clock


def test_a_dossier_never_forwarded_fails_the_message_cases(tmp_path: Path, pki: Any) -> None:
    outcomes = run(NeverForwards(), ["CERT-MSG-02", "CERT-MSG-03"], tmp_path)
    for outcome, message in outcomes.values():
        assert outcome == "failed" and "never forwarded" in message, outcomes


def test_a_retry_with_other_bytes_is_named(tmp_path: Path, pki: Any) -> None:
    outcomes = run(ChangesBytesOnRetry(), ["CERT-IDM-02", "CERT-RTY-01"], tmp_path)
    for outcome, message in outcomes.values():
        assert outcome == "failed", outcomes
        assert "different bytes under the same X-Message-Id" in message, outcomes
        assert "resend the exact bytes" in message, outcomes


def test_relays_under_another_job_are_named(tmp_path: Path, pki: Any) -> None:
    outcomes = run(RelaysUnderAnotherJob(), ["CERT-MSG-02"], tmp_path)
    outcome, message = outcomes["CERT-MSG-02"]
    assert outcome == "failed", outcomes
    assert "relayed under job job-of-another-employer" in message, message
    assert "expected job" in message, message


def test_decomposed_envelope_text_is_named(tmp_path: Path, pki: Any) -> None:
    outcome, message = run(DecomposesEnvelope(), ["CERT-CNT-01"], tmp_path)["CERT-CNT-01"]
    assert outcome == "failed" and "TenDoiTuong" in message and "NFC" in message, message


def test_a_period_error_is_not_a_count_error(tmp_path: Path, pki: Any) -> None:
    outcomes = run(IsoPeriod(), ["CERT-ENV-01", "CERT-ENV-02"], tmp_path)
    assert outcomes["CERT-ENV-01"][0] == "passed", outcomes
    assert outcomes["CERT-ENV-02"][0] == "failed", outcomes
    assert "KyKeKhai" in outcomes["CERT-ENV-02"][1], outcomes


@pytest.mark.parametrize("words", ["real time", "two clocks"])
def test_a_short_retry_after_names_the_rule(words: str, tmp_path: Path, pki: Any) -> None:
    outcome, message = run(DefersShortRetryAfter(), ["CERT-RTY-02"], tmp_path)["CERT-RTY-02"]
    assert outcome == "failed" and words in message, message
