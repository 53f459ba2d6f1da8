"""The reference I-VAN: :class:`harness.client.IvanClient` grown into a whole I-VAN service.

On top of the client's safe retries it does what Decree 166 asks of the service (art. 3, 9,
15, 30): sign the employer's forms and the envelope with the employer's credential,
forward within two hours from a durable outbox, relay the receipt and every BHXH message
to the employer, acknowledge every message, and keep a journal from which any exchange can
be recovered after a restart. Its time is the caller's ``now`` (the gateway's simulated
clock in certification), so a long ``Retry-After`` (a maintenance window) defers the job on
that clock instead of sleeping in real time, while a short outage (a burst of 503, a short
``Retry-After``) is waited out inside the call: an I-VAN driven without ``tick`` has no later
call in which to resend, and must not leave the job for whoever calls it next.

The faulty I-VANs (:mod:`harness.certification.faulty`) override one small method each,
so every method here is a seam named after the duty it fulfils.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from harness.certification.model import (
    ALERT,
    RECEIPT,
    REJECTED,
    AdapterContext,
    ContextHolder,
    Job,
    JobForm,
    Relay,
)
from harness.client import (
    RETRYABLE_STATUS,
    FeedMessage,
    IvanClient,
    Journal,
    RetryPolicy,
    retry_after,
)
from harness.dossiers.envelope_fill import fill_from
from harness.envelope import EmbeddedFile, EnvelopeInfo, build_envelope
from harness.errors import SignatureInvalid
from harness.signing import Credential, TestPKI, ensure_pki, sign, verify
from harness.xmlsafe import parse_xml

BHXH_SIGNATURE = "XACNHAN_GDICH/TTCKY_BHXH"
IVAN_NAMESPACE = uuid.UUID("5b0c2a58-6a43-4f39-9a2b-4b6f3c0e8d11")


class CertClient(IvanClient):
    """The client, with two seams: a long ``Retry-After`` returns at once (the I-VAN defers
    the job on its own clock), and :meth:`before_attempt` may change each attempt."""

    defer_after = 30.0
    last_response: requests.Response | None = None

    def before_attempt(self, attempt: int, kwargs: dict[str, Any]) -> None:
        """Nothing: a correct I-VAN repeats exactly the same request."""

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        last_error: Exception | None = None
        self.last_response = None
        for attempt in range(1, self.retry.attempts + 1):
            self.before_attempt(attempt, kwargs)
            wait_hint: float | None = None
            try:
                response = self.session.request(
                    method, self.base_url + path, timeout=self.retry.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = exc
            else:
                self.last_response = response
                if response.status_code not in RETRYABLE_STATUS and response.status_code < 500:
                    return response
                wait_hint = retry_after(response)
                if attempt == self.retry.attempts or (wait_hint or 0) > self.defer_after:
                    return response
            if attempt < self.retry.attempts:
                self.sleep(self.retry.delay(attempt, wait_hint, self.rng))
        assert last_error is not None
        raise last_error


@dataclass(frozen=True)
class SteadyBackoff(RetryPolicy):
    """Exponential backoff with "equal" jitter: each wait is at least half its cap, so the
    attempts of one call surely span a short outage instead of landing, by chance, inside it."""

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        cap = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff = cap / 2 + rng.uniform(0, cap / 2)
        return max(backoff, min(retry_after, self.max_delay)) if retry_after else backoff


@dataclass
class DurableJournal(Journal):
    """The client's journal, read back from its file on start (art. 6: logs kept and readable)."""

    def __post_init__(self) -> None:
        path = None if self.directory is None else self.directory / "journal.jsonl"
        if path is not None and path.is_file() and not self.entries:
            lines = path.read_text(encoding="utf-8").splitlines()
            self.entries.extend(json.loads(line) for line in lines if line.strip())


@dataclass
class Pending:
    """A job in the outbox: the exact envelope, its idempotency key, when it may go."""

    job_id: str
    message_id: str
    envelope: str  # base64: the very bytes every attempt repeats
    handed_at: str
    not_before: str


@dataclass
class IvanState:
    """Everything the I-VAN must not forget between runs of its process."""

    outbox: list[Pending] = field(default_factory=list)
    paused_until: str = ""
    cursor: int = 0
    seen: list[str] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)
    dossiers: dict[str, str] = field(default_factory=dict)  # MA_GDICH -> job id
    pinned: str = ""  # used only by the certificate-pinning faulty I-VAN

    @classmethod
    def load(cls, path: Path) -> IvanState:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        data["outbox"] = [Pending(**p) for p in data.get("outbox", [])]
        return cls(**data)

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self)), encoding="utf-8")
        temporary.replace(path)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


class ReferenceIvan(ContextHolder):
    """A correct I-VAN; one adapter among the others (``--adapter reference``)."""

    name = "reference"
    spec = "reference"
    capabilities = frozenset({"tick", "recover", "restart"})
    # 8 attempts span 3.2 to 6.4 s: a 503 burst of a few seconds ends within one submit
    retry: RetryPolicy = SteadyBackoff(attempts=8, base_delay=0.05, max_delay=10.0)
    defer_after = 10.0  # a longer Retry-After is waited out on our clock, not in a sleep
    retry_later = timedelta(minutes=1)
    durable_journal = True

    # -- lifecycle --------------------------------------------------------------------

    def start(self, context: AdapterContext) -> None:
        super().start(context)
        self.pki: TestPKI = ensure_pki(context.pki_dir)
        self.trust = self.pki.trust_store()
        self._load()

    def _load(self) -> None:
        workdir = self.context.workdir
        self.state = IvanState.load(workdir / "state.json")
        self.journal = DurableJournal(workdir if self.durable_journal else None)
        self.client = self.make_client()
        self.client.cursor = self.state.cursor

    def make_client(self) -> CertClient:
        ctx = self.context
        client = CertClient(
            ctx.gateway_url,
            ctx.token,
            retry=replace(self.retry, timeout=ctx.client_timeout),
            journal=self.journal,
            seed=ctx.seed,
            verify_tls=ctx.verify_tls,
        )
        client.defer_after = self.defer_after
        return client

    def _save(self) -> None:
        self.state.cursor = self.client.cursor
        self.state.save(self.context.workdir / "state.json")

    def restart(self) -> None:
        """Stop and start again from what is on disk, as after a crash or a deploy."""
        self._save()
        self.client.close()
        self._load()

    def stop(self) -> None:
        if self._context is not None:
            self._save()
            self.client.close()

    # -- from the employer to BHXH -----------------------------------------------------

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        """Take the employer's job: sign, build the envelope, queue it durably, forward."""
        envelope = self.build(job, now)
        item = Pending(
            job.job_id, self.message_id(job), base64.b64encode(envelope).decode(), "", ""
        )
        item.handed_at = item.not_before = _iso(now)
        self.state.outbox.append(item)
        self._save()
        return self.flush(now)

    def message_id(self, job: Job) -> str:
        """One idempotency key per dossier, for every attempt, across restarts."""
        return str(uuid.uuid5(IVAN_NAMESPACE, f"{self.context.seed}/{job.job_id}"))

    def signer(self, job: Job) -> Credential:
        """The employer's credential (in real life the employer's token, via our software)."""
        return self.pki.credential(job.signer)

    def declared(self, form: JobForm) -> bytes:
        """The form's bytes as the employer declared them; never re-encoded."""
        return form.content

    def sign_form(self, form: JobForm, credential: Credential, now: datetime) -> bytes:
        root = parse_xml(self.declared(form))
        signed = sign(root, credential, signature_parent=form.signature_node, signing_time=now)
        return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))

    def embed(self, form: JobForm, content: bytes) -> EmbeddedFile:
        """A FileToKhai; DoDaiFile is the length of the base64 text."""
        return EmbeddedFile.from_bytes(form.code, form.description, form.file_name, content)

    def build(self, job: Job, now: datetime) -> bytes:
        credential = self.signer(job)
        files = tuple(self.embed(f, self.sign_form(f, credential, now)) for f in job.forms)
        info = EnvelopeInfo(
            ma_ivan=self.context.ivan,
            ten_ivan=self.context.ivan_name,
            unit=job.unit,
            ma_thu_tuc=job.procedure,
            ten_thu_tuc=job.procedure_name,
            ky_ke_khai=job.period,
            ngay_lap=job.ngay_lap,
            so_luong_file=str(len(files)),
            files=files,
        )
        root = build_envelope(info, signature_node=job.envelope_signature_node)
        fill_from(root, job.catalog_version, job.envelope_fields)  # what Hoso.xsd adds
        node = job.envelope_signature_node
        signed = sign(root, credential, signature_parent=node, signing_time=now)
        return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))

    def paused(self, now: datetime) -> bool:
        return bool(self.state.paused_until) and now < _when(self.state.paused_until)

    def due(self, item: Pending, now: datetime) -> bool:
        """Forward at once (and retry when the last attempt said so): art. 30's 2 hours."""
        return now >= _when(item.not_before)

    def flush(self, now: datetime) -> list[Relay]:
        relays: list[Relay] = []
        for item in list(self.state.outbox):
            if self.paused(now):
                break
            if self.due(item, now):
                relays += self._forward(item, now)
        self._save()
        return relays

    def _forward(self, item: Pending, now: datetime) -> list[Relay]:
        envelope = base64.b64decode(item.envelope)
        try:
            answer = self.client.submit(envelope, item.message_id)
        except requests.RequestException:
            item.not_before = _iso(now + self.retry_later)
            return []
        if answer.status == 202 and answer.ma_gdich:
            self.state.outbox.remove(item)
            self.state.dossiers[answer.ma_gdich] = item.job_id
            self.journal.record("out", "dossier", answer.ma_gdich, envelope)
            problem = self.distrust(answer.raw)
            kind = ALERT if problem else RECEIPT
            return [Relay(item.job_id, kind, answer.ma_gdich, detail=problem)]
        if answer.status in RETRYABLE_STATUS or answer.status >= 500:
            wait = self.wait_hint(self.client.last_response)
            later = now + (timedelta(seconds=wait) if wait else self.retry_later)
            if wait is not None and wait > self.defer_after:
                self.state.paused_until = _iso(later)  # the whole gateway is away, not one job
            item.not_before = _iso(later)
            return []
        self.state.outbox.remove(item)
        return [self.rejection(item, answer.raw)]

    def wait_hint(self, response: requests.Response | None) -> float | None:
        """How long BHXH asked us to stay away (Retry-After), honoured on our clock."""
        return retry_after(response)

    def rejection(self, item: Pending, raw: bytes) -> Relay:
        """Tell the employer why BHXH refused: MA_LOI and its text, as BHXH said them."""
        root = parse_xml(raw)
        ma_loi = root.findtext("XACNHAN_GDICH/TTGDICH/MA_LOI") or ""
        text = root.findtext("XACNHAN_GDICH/TTGDICH/MOTA_LOI") or ""
        return Relay(item.job_id, REJECTED, ma_loi=ma_loi, detail=text)

    # -- from BHXH to the employer ------------------------------------------------------

    def tick(self, now: datetime) -> list[Relay]:
        """Periodic work: forward what is due, read the feed, relay and acknowledge."""
        relays = self.flush(now)
        if not self.paused(now):
            relays += self.receive()
        self._save()
        return relays

    def receive(self) -> list[Relay]:
        relays: list[Relay] = []
        for message_id in list(self.state.unacked):
            self.acknowledge(message_id)
        for _ in range(50):
            before = self.client.cursor
            try:
                page = self.client.poll()
            except requests.RequestException:
                break
            for message in self.incoming(page):
                relays += self.accept(message)
            if not page or self.client.cursor == before:
                break
        return relays

    def incoming(self, page: list[FeedMessage]) -> list[FeedMessage]:
        """Messages to handle: each once, whatever order or repetition the feed uses."""
        return page

    def accept(self, message: FeedMessage) -> list[Relay]:
        if message.id in self.state.seen:
            if message.id in self.state.unacked:
                self.acknowledge(message.id)
            return []
        self.state.seen.append(message.id)
        job_id = self.state.dossiers.get(message.ma_gdich, "")
        problem = self.distrust(message.content)
        if problem:  # not from BHXH as far as we can tell: alert, do not confirm receipt
            return [Relay(job_id, ALERT, message.ma_gdich, message_id=message.id, detail=problem)]
        answer = message.answer
        ma_loi = answer.codes[0] if answer.ma_kqua not in ("", "0") and answer.codes else ""
        self.state.unacked.append(message.id)
        self.acknowledge(message.id)
        return [Relay(job_id, message.kind, message.ma_gdich, ma_loi, message.id)]

    def acknowledge(self, message_id: str) -> None:
        """Confirm receipt to BHXH; a failed ack is retried on the next tick."""
        try:
            self.client.ack(message_id)
        except requests.RequestException:
            return
        if message_id in self.state.unacked:
            self.state.unacked.remove(message_id)

    def distrust(self, content: bytes) -> str:
        """'' when BHXH's signature verifies against the trusted CAs, else why not."""
        try:
            verify(parse_xml(content), signature_parent=BHXH_SIGNATURE, trust=self.trust)
        except (SignatureInvalid, ValueError) as exc:
            return f"BHXH signature rejected: {exc}"
        return ""

    # -- store and recover -------------------------------------------------------------

    def recover(self, ma_gdich: str) -> list[bytes]:
        """Every message sent or received for the dossier, byte for byte (art. 3 cl. 6)."""
        return self.journal.recover(ma_gdich)


__all__ = [
    "CertClient",
    "DurableJournal",
    "IvanState",
    "Pending",
    "ReferenceIvan",
    "SteadyBackoff",
]
