"""Faulty I-VANs: the reference I-VAN with exactly one defect each, named after it.

They are the suite's own quality test (STYLE.md, hypothesis' "quality" tests): a suite
that passes the reference and fails each of these on the case naming its defect, and on
no other, tells a correct I-VAN from a faulty one case by case. Which cases each must
fail is data (``scenarios/certification/variants.yaml``); the matrix test checks both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import requests
from lxml import etree

from harness.certification.model import ALERT, HANDOVER, RECEIPT, REJECTED, Job, JobForm, Relay
from harness.certification.reference import (
    CertClient,
    Pending,
    ReferenceIvan,
    SteadyBackoff,
    _when,
)
from harness.client import FeedMessage, IvanClient, RetryPolicy
from harness.envelope import EmbeddedFile
from harness.identities import token_of
from harness.signing import Credential, verify
from harness.xmlsafe import parse_xml


class UnsignedForm(ReferenceIvan):
    """Embeds the employer's forms without signing them (art. 9: every document signed)."""

    name = "unsigned-form"

    def sign_form(self, form: JobForm, credential: Credential, now: datetime) -> bytes:
        return self.declared(form)


class ExpiredCertificate(ReferenceIvan):
    """Signs with a stale token in its config: the employer's previous certificate,
    expired a month ago, so the employer's (CERT-SIG-01/02) but not valid (CERT-PKI-01)."""

    name = "expired-certificate"

    def signer(self, job: Job) -> Credential:
        return self.pki.credential("unit-previous")


class SignsAsIvan(ReferenceIvan):
    """Signs the employer's forms and the envelope with the I-VAN's own key: its chain is
    valid, so BHXH accepts the dossier, but none of the signatures is the employer's."""

    name = "signs-as-ivan"

    def signer(self, job: Job) -> Credential:
        return self.pki.credential(f"ivan-{self.context.ivan}")


class NfdText(ReferenceIvan):
    """Re-encodes the employer's text to Unicode NFD before signing (a macOS-era library)."""

    name = "nfd-text"

    def declared(self, form: JobForm) -> bytes:
        root = parse_xml(form.content)
        for node in root.iter():
            if isinstance(node.tag, str) and node.text:
                node.text = unicodedata.normalize("NFD", node.text)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


class WrongDoDaiFile(ReferenceIvan):
    """Declares DoDaiFile as the decoded size, not the base64 length the standard asks."""

    name = "wrong-dodaifile"

    def embed(self, form: JobForm, content: bytes) -> EmbeddedFile:
        return replace(super().embed(form, content), do_dai=len(content))


class MisstatesEnvelope(ReferenceIvan):
    """Fills the envelope from its own defaults, not the job: NgayLap as yyyy-MM-dd, its
    usual LoaiDoiTuong and its operator as NguoiKy. BHXH's schema accepts all three."""

    name = "misstates-envelope"

    def build(self, job: Job, now: datetime) -> bytes:
        day, month, year = job.ngay_lap.split("/")
        unit = replace(job.unit, loai="2" if job.unit.loai != "2" else "1", nguoi_ky="Admin")
        return super().build(replace(job, ngay_lap=f"{year}-{month}-{day}", unit=unit), now)


class _NewIdClient(CertClient):
    def before_attempt(self, attempt: int, kwargs: dict[str, Any]) -> None:
        headers = kwargs.get("headers") or {}
        if attempt > 1 and "X-Message-Id" in headers:
            kwargs["headers"] = {**headers, "X-Message-Id": self.new_message_id()}


class NewMessageIdOnRetry(ReferenceIvan):
    """Retries with a fresh X-Message-Id, so a dossier the gateway stored is stored twice."""

    name = "new-message-id-on-retry"

    def make_client(self) -> CertClient:
        client = super().make_client()
        client.__class__ = _NewIdClient
        return client


@dataclass(frozen=True)
class _Hammer(RetryPolicy):
    def delay(self, attempt: int, retry_after: float | None, rng: Any) -> float:
        return retry_after or 0.0  # no backoff of its own


class HammersOn503(ReferenceIvan):
    """Retries a 503 at once, again and again (it honours Retry-After when there is one)."""

    name = "hammers-on-503"
    retry = _Hammer(attempts=2000, base_delay=0.0, max_delay=0.0)


@dataclass(frozen=True)
class _Flat(RetryPolicy):
    def delay(self, attempt: int, retry_after: float | None, rng: Any) -> float:
        return retry_after or rng.uniform(0.002, 0.003)  # the same short wait every time


class RetriesWithoutBackoff(ReferenceIvan):
    """Retries a 503 eight times 2-3 ms apart, then leaves it for a later tick: within the
    attempt count, but hammering all the same (its waits never grow)."""

    name = "retries-without-backoff"
    retry = _Flat(attempts=8, base_delay=0.0, max_delay=0.0)


@dataclass(frozen=True)
class _Deaf(SteadyBackoff):
    """The reference's growing waits without Retry-After: it must break only the cases that
    read Retry-After (full jitter let an early wait outlast later ones: RTY-01 failed 1 in 30)."""

    def delay(self, attempt: int, retry_after: float | None, rng: Any) -> float:
        return super().delay(attempt, None, rng)


class IgnoresRetryAfter(ReferenceIvan):
    """Backs off on its own schedule and never reads Retry-After."""

    name = "ignores-retry-after"
    retry = _Deaf(attempts=6, base_delay=0.05, max_delay=2.0)
    defer_after = float("inf")

    def wait_hint(self, response: requests.Response | None) -> float | None:
        return None


class NeverAcks(ReferenceIvan):
    """Relays BHXH's messages but never acknowledges them."""

    name = "never-acks"

    def acknowledge(self, message_id: str) -> None:
        return None


class DropsOutOfOrder(ReferenceIvan):
    """Trusts the feed to be ordered: drops any message older than the newest it handled."""

    name = "drops-out-of-order"

    def incoming(self, page: list[FeedMessage]) -> list[FeedMessage]:
        high = getattr(self, "_high", 0)
        kept = []
        for message in page:
            if message.cursor > high:
                kept.append(message)
                high = message.cursor
        self._high = high
        return kept


class ForwardsLate(ReferenceIvan):
    """Batches dossiers and forwards them three hours after the employer handed them over."""

    name = "forwards-late"

    def due(self, item: Pending, now: datetime) -> bool:
        return super().due(item, now) and now >= _when(item.handed_at) + timedelta(hours=3)


class RelaysDuplicates(ReferenceIvan):
    """Relays every delivery of a message, so the employer sees a duplicate as a new one."""

    name = "relays-duplicates"

    def accept(self, message: FeedMessage) -> list[Relay]:
        if message.id in self.state.seen:
            self.state.seen.remove(message.id)
        return super().accept(message)


class RelaysWrongKind(ReferenceIvan):
    """Relays every BHXH message as a hand-over slip (02/TB-TS): the employer is never told
    that a 03/TB-TS is BHXH's result."""

    name = "relays-wrong-kind"

    def accept(self, message: FeedMessage) -> list[Relay]:
        relays = super().accept(message)
        return [replace(r, kind=HANDOVER) if r.kind != ALERT else r for r in relays]


class AlertsEveryMessage(ReferenceIvan):
    """Relays every BHXH message as an alert (its check switched off in staging) and still
    acknowledges it: BHXH hears it arrived intact, the employer that it is not to be trusted."""

    name = "alerts-every-message"

    def accept(self, message: FeedMessage) -> list[Relay]:
        relays = super().accept(message)
        return [replace(r, kind=ALERT, detail="signature check disabled") for r in relays]


class PinsGatewayCertificate(ReferenceIvan):
    """Pins BHXH's first signing certificate and refuses everything after a key rollover."""

    name = "pins-gateway-certificate"

    def distrust(self, content: bytes) -> str:
        problem = super().distrust(content)
        if problem:
            return problem
        root = parse_xml(content)
        serial = verify(root, signature_parent="XACNHAN_GDICH/TTCKY_BHXH", trust=self.trust).serial
        if not self.state.pinned:
            self.state.pinned = serial
        return "" if serial == self.state.pinned else f"certificate {serial} is not the pinned one"


class SwallowsRejection(ReferenceIvan):
    """Tells the employer 'rejected' without BHXH's MA_LOI or its reason."""

    name = "swallows-rejection"

    def rejection(self, item: Pending, raw: bytes) -> Relay:
        return Relay(item.job_id, REJECTED, detail="Hồ sơ bị từ chối")


class SwallowsDefects(ReferenceIvan):
    """Relays BHXH's result without its MA_LOI: a 03/TB-TS listing defective rows reaches
    the employer as if the dossier were simply accepted."""

    name = "swallows-defects"

    def accept(self, message: FeedMessage) -> list[Relay]:
        return [replace(r, ma_loi="") for r in super().accept(message)]


class FabricatesReceipt(ReferenceIvan):
    """Tells the employer "received" with a MA_GDICH of its own before BHXH has answered,
    refused dossiers included."""

    name = "fabricates-receipt"

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        made_up = Relay(job.job_id, RECEIPT, ma_gdich=f"ACME-{job.job_id[-6:]}")
        return [made_up, *super().submit(job, now)]


class ForgetsAfterRestart(ReferenceIvan):
    """Keeps its journal in memory only: after a restart nothing can be recovered."""

    name = "forgets-after-restart"
    durable_journal = False


class ReadsOtherIvan(ReferenceIvan):
    """A multi-tenant mix-up: with another I-VAN's token from a shared config it also
    drains that I-VAN's feed, relaying and acknowledging its messages as this employer's."""

    name = "reads-other-ivan"

    def receive(self) -> list[Relay]:
        relays = super().receive()
        other = getattr(self, "_other", None)
        if other is None:
            code = "IVAN02" if self.context.ivan != "IVAN02" else "IVAN01"
            other = self._other = IvanClient(self.context.gateway_url, token_of(code))
        try:
            for message in other.poll():
                other.ack(message.id)
                relays.append(Relay("", message.kind, message.ma_gdich, message_id=message.id))
        except requests.RequestException:
            pass
        return relays


class TrustsAnySignature(ReferenceIvan):
    """Never verifies BHXH's signature: a message signed with any key is relayed and acked."""

    name = "trusts-any-signature"

    def distrust(self, content: bytes) -> str:
        return ""


class VolatileState(ReferenceIvan):
    """Keeps its outbox, feed cursor and seen messages in memory (only the journal is on
    disk): after a restart a deferred dossier is lost and the feed is read from the start."""

    name = "volatile-state"

    def restart(self) -> None:
        self.client.close()
        (self.context.workdir / "state.json").unlink(missing_ok=True)
        self._load()


FAULTY: dict[str, type[ReferenceIvan]] = {
    v.name: v
    for v in (
        UnsignedForm,
        ExpiredCertificate,
        SignsAsIvan,
        NfdText,
        WrongDoDaiFile,
        MisstatesEnvelope,
        NewMessageIdOnRetry,
        HammersOn503,
        RetriesWithoutBackoff,
        IgnoresRetryAfter,
        NeverAcks,
        DropsOutOfOrder,
        ForwardsLate,
        RelaysDuplicates,
        RelaysWrongKind,
        AlertsEveryMessage,
        PinsGatewayCertificate,
        SwallowsRejection,
        SwallowsDefects,
        FabricatesReceipt,
        ForgetsAfterRestart,
        ReadsOtherIvan,
        TrustsAnySignature,
        VolatileState,
    )
}
"""Every faulty I-VAN by name (``--adapter faulty:<name>``)."""


def faulty(name: str) -> ReferenceIvan:
    """A fresh faulty I-VAN whose ``spec`` recreates it."""
    variant = FAULTY[name]()
    variant.spec = f"faulty:{name}"
    return variant


__all__ = ["FAULTY", "faulty"]
