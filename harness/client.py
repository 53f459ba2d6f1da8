"""The reference I-VAN client: a correct counterpart of the gateway, over ``requests``.

It does what Decree 166 asks of an I-VAN on the wire: submit with an idempotency key and
retry safely (exponential backoff with jitter, honouring ``Retry-After``, the same
``X-Message-Id`` every time so a dossier is never duplicated), read the feed with a
cursor, acknowledge every message, and keep every byte sent or received in a journal so
any message can be recovered. Suites drive it; faulty I-VANs subclass it.
"""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from harness.errors import ConfigError, Finding
from harness.tls import gateway_session
from harness.xmlsafe import parse_xml

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, exponential backoff with full jitter, a cap per wait."""

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 10.0
    timeout: float = 30.0
    server_error_attempts: int | None = None
    """Attempts at a request answered 5xx other than 502/503/504 (a 500: the gateway broke,
    it did not say it is unavailable); None: ``attempts``. One retry with the same
    ``X-Message-Id`` recovers an acknowledge-then-500; a regression replay stops there,
    a 500 that persists being the candidate's answer."""

    def attempts_for(self, status: int) -> int:
        """How many attempts an answer of ``status`` gets in all (retried statuses only)."""
        if status in RETRYABLE_STATUS or self.server_error_attempts is None:
            return self.attempts
        return min(self.attempts, self.server_error_attempts)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Wait before ``attempt`` (1-based); the server's Retry-After wins when it is longer."""
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return max(backoff, min(retry_after, self.max_delay)) if retry_after else backoff


@dataclass(frozen=True)
class Answer:
    """A parsed ``XACNHAN_GDICH``: the transaction id, result code and findings."""

    status: int
    kind: str
    ma_gdich: str
    ma_kqua: str
    so_hso: str
    findings: tuple[Finding, ...]
    raw: bytes

    @property
    def accepted(self) -> bool:
        return self.status == 202 and self.ma_kqua == "0"

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.findings if f.severity != "warning"})


def parse_answer(status: int, body: bytes) -> Answer:
    """Read a gateway answer; a body that is not the expected XML becomes a finding."""
    try:
        root = parse_xml(body)
    except ValueError:
        return Answer(status, "unreadable", "", "", "", (), body)
    tx = root.find("XACNHAN_GDICH/TTGDICH")
    if tx is None:
        return Answer(status, "unknown", "", "", "", (), body)
    findings = tuple(
        Finding(
            code=loi.findtext("MA_LOI", ""),
            xpath=loi.findtext("XPATH", ""),
            message_vi=loi.findtext("MOTA_VI", ""),
            message_en=loi.findtext("MOTA_EN", ""),
            severity=loi.findtext("MUC_DO", "error"),
            context={"detail": detail} if (detail := loi.findtext("CHI_TIET")) else {},
        )
        for loi in tx.iterfind("DS_LOI/LOI")
    )
    return Answer(
        status=status,
        kind=root.findtext("XACNHAN_GDICH/LOAI_TBAO", ""),
        ma_gdich=tx.findtext("MA_GDICH", ""),
        ma_kqua=tx.findtext("MA_KQUA", ""),
        so_hso=tx.findtext("SO_HSO", ""),
        findings=findings,
        raw=body,
    )


@dataclass(frozen=True)
class FeedMessage:
    """One BHXH message from the feed, with its exact signed bytes."""

    id: str
    kind: str
    ma_gdich: str
    cursor: int
    content: bytes

    @property
    def answer(self) -> Answer:
        return parse_answer(200, self.content)


@dataclass
class Journal:
    """Every exchange, kept so any message can be recovered (Decree 166: store, recover).

    In memory always; also as JSON lines under ``directory`` when one is given.
    """

    directory: Path | None = None
    entries: list[dict[str, str]] = field(default_factory=list)

    def record(self, direction: str, kind: str, key: str, content: bytes) -> None:
        entry = {
            "direction": direction,
            "kind": kind,
            "key": key,
            "at": f"{time.time():.3f}",
            "content": base64.b64encode(content).decode("ascii"),
        }
        self.entries.append(entry)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            with (self.directory / "journal.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    def recover(self, key: str) -> list[bytes]:
        """Every stored body under ``key`` (a message id or MA_GDICH), oldest first."""
        return [base64.b64decode(e["content"]) for e in self.entries if e["key"] == key]


class IvanClient:
    """Talks to a gateway at ``base_url`` as one I-VAN (its bearer token)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        journal: Journal | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        verify_tls: bool | str = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"gateway URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.session = session or gateway_session(verify_tls)
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.verify = verify_tls
        self.retry = retry or RetryPolicy()
        self.journal = journal or Journal()
        self.rng = random.Random(seed)
        self.sleep = sleep
        self.cursor = 0

    # -- sending --------------------------------------------------------------------

    def new_message_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def submit(self, envelope: bytes, message_id: str | None = None) -> Answer:
        """Send a dossier until the gateway answers for good; retries reuse ``message_id``."""
        message_id = message_id or self.new_message_id()
        self.journal.record("out", "dossier", message_id, envelope)
        headers = {"Content-Type": "application/xml", "X-Message-Id": message_id}
        response = self._send("POST", "/api/v1/dossiers", data=envelope, headers=headers)
        answer = parse_answer(response.status_code, response.content)
        self.journal.record("in", answer.kind or "answer", message_id, response.content)
        if answer.ma_gdich:
            self.journal.record("in", answer.kind or "answer", answer.ma_gdich, response.content)
        return answer

    def _send(self, method: str, path: str, **kwargs: object) -> requests.Response:
        last_error: Exception | None = None
        for attempt in range(1, self.retry.attempts + 1):
            wait_hint: float | None = None
            try:
                response = self.session.request(
                    method,
                    self.base_url + path,
                    timeout=self.retry.timeout,
                    **kwargs,  # type: ignore[arg-type]
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = exc
            else:
                if response.status_code not in RETRYABLE_STATUS and response.status_code < 500:
                    return response
                if attempt >= self.retry.attempts_for(response.status_code):
                    return response
                wait_hint = retry_after(response)
            if attempt < self.retry.attempts:
                self.sleep(self.retry.delay(attempt, wait_hint, self.rng))
        assert last_error is not None
        raise last_error

    # -- receiving ------------------------------------------------------------------

    def dossier(self, ma_gdich: str) -> requests.Response:
        return self._send("GET", f"/api/v1/dossiers/{ma_gdich}")

    def poll(self, limit: int = 100) -> list[FeedMessage]:
        """New messages after the cursor; the cursor advances past what was returned."""
        response = self._send("GET", f"/api/v1/messages?after={self.cursor}&limit={limit}")
        response.raise_for_status()
        root = parse_xml(response.content)
        messages = []
        for node in root.iterfind("DS_THONGBAO/THONGBAO"):
            message = FeedMessage(
                id=node.findtext("ID", ""),
                kind=node.findtext("LOAI", ""),
                ma_gdich=node.findtext("MA_GDICH", ""),
                cursor=int(node.findtext("CON_TRO", "0") or 0),
                content=base64.b64decode(node.findtext("NOI_DUNG", "")),
            )
            self.journal.record("in", message.kind, message.ma_gdich, message.content)
            messages.append(message)
        self.cursor = int(root.findtext("CON_TRO_TIEP", str(self.cursor)) or self.cursor)
        return messages

    def ack(self, message_id: str) -> None:
        response = self._send("POST", f"/api/v1/messages/{message_id}/ack")
        response.raise_for_status()

    def poll_and_ack(self) -> list[FeedMessage]:
        """Read every new message and acknowledge each one (an I-VAN must ack all)."""
        messages = self.poll()
        for message in messages:
            self.ack(message.id)
        return messages

    # -- closing ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the session and its pooled connections (a session passed in too): an
        HTTPS gateway stopping waits on every connection a client left open."""
        self.session.close()

    def __enter__(self) -> IvanClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds from a ``Retry-After`` header (None when absent or unreadable)."""
    return parse_retry_after(None if response is None else response.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` value asks for: whole seconds or an HTTP date (RFC 9110),
    as urllib3 reads them; None when absent or unreadable (``nan``, ``-1``, ``soon``)."""
    if not value:
        return None
    try:
        return float(_RETRY.parse_retry_after(value))
    except InvalidHeader:
        return None


_RETRY = Retry()
"""Only its Retry-After parser is used: the retries themselves follow :class:`RetryPolicy`."""


__all__ = [
    "Answer",
    "FeedMessage",
    "IvanClient",
    "Journal",
    "RetryPolicy",
    "parse_answer",
    "parse_retry_after",
    "retry_after",
]
