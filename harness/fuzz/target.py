"""What the fuzzer talks to: a small ``Target`` seam, and one implementation over the checker.

Properties are written against this protocol, never against a gateway's internals, so the
same suite runs against :class:`harness.conformance.DossierChecker` today and against the
in-process mock gateway or a URL once an adapter implements the same two calls. The
shape mirrors the gateway API of DESIGN.md: ``POST /api/v1/dossiers`` answers an HTTP
status, the finding codes and (on 202) a receipt id; ``GET /api/v1/dossiers/{id}`` answers
whether the acknowledged dossier can be read back.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from harness.error_codes import describe
from harness.errors import Finding, UsageError

if TYPE_CHECKING:  # signxml: not at the CLI's start-up (an HTTP target needs no checker)
    from harness.conformance import DossierChecker

ACCEPTED = 202
"""Status of an accepted submission (the gateway answers 202 with a signed receipt)."""


@dataclass(frozen=True)
class Submitted:
    """The answer to one submission: HTTP status, finding codes, receipt id.

    ``codes`` holds every finding code the target reported, warnings included (an
    accepted dossier may carry RULE-101 or SIG-101), so properties can assert both.
    ``detail`` is where the first error points and what it says (a report shows what
    the gateway objected to); ``retry_after`` is the seconds a 429 or 503 asked to wait
    (None: it asked nothing), the mark of a gateway unavailable, not of a bug.
    ``body`` is the answer's bytes as sent (None: the target has no wire answer, as the
    checker) and ``signature`` why BHXH's signature of it does not hold ("" it holds,
    None not judged): properties judge what the I-VAN receives, not only its codes.
    """

    status: int
    codes: tuple[str, ...]
    receipt_id: str | None
    detail: str = field(default="", compare=False)
    retry_after: float | None = field(default=None, compare=False)
    body: bytes | None = field(default=None, compare=False, repr=False)
    signature: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Retrieved:
    """The answer to reading an acknowledged dossier back: status and stored body
    (``retry_after`` as in :class:`Submitted`)."""

    status: int
    body: bytes | None
    retry_after: float | None = field(default=None, compare=False)


@runtime_checkable
class Target(Protocol):
    """Anything that accepts dossiers the way the BHXH gateway does."""

    name: str

    def submit(self, body: bytes, message_id: str) -> Submitted:
        """Send one dossier under idempotency key ``message_id``."""
        ...

    def fetch(self, receipt_id: str) -> Retrieved:
        """Read back a dossier acknowledged with ``receipt_id``."""
        ...


def is_error(code: str) -> bool:
    """Whether ``code`` rejects a dossier (warnings such as RULE-101 do not).

    Codes missing from ``fixtures/error_codes.yaml`` count as errors: a target that
    invents codes is reported, never silently accepted.
    """
    try:
        return describe(code).severity != "warning"
    except UsageError:
        return True


def finding_detail(finding: Finding) -> str:
    """``XPATH: message — detail`` of a finding (English, else Vietnamese): what a failure
    line says the gateway objected to, beyond its code."""
    message = finding.message_en or finding.message_vi
    extra = finding.context.get("detail") or finding.detail
    text = " — ".join(str(x) for x in (message, extra) if x)
    return ": ".join(x for x in (finding.xpath, text) if x)


@dataclass
class CheckerTarget:
    """The gateway's dossier check, in process, with the gateway's status and receipts.

    Status is 202 when accepted, else the HTTP status ``error_codes.yaml`` gives the first
    error. Receipts are kept in memory so ``fetch`` and idempotency behave like the
    gateway's (same message id and body: same receipt; different body: 409 DUP-001).
    Only the last ``keep`` bodies are kept, so a long fuzz run does not grow without
    bound; properties read a dossier back right after it is acknowledged.
    """

    checker: DossierChecker
    ivan: str | None = None
    name: str = "checker"
    keep: int = 4096
    _stored: OrderedDict[str, bytes] = field(default_factory=OrderedDict, repr=False)
    _by_message: OrderedDict[str, tuple[str, str]] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def submit(self, body: bytes, message_id: str) -> Submitted:
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            seen = self._by_message.get(message_id)
        if seen is not None:
            if seen[0] != digest:
                return Submitted(describe("DUP-001").http, ("DUP-001",), None)
            return Submitted(ACCEPTED, (), seen[1])
        result = self.checker.check(body, ivan=self.ivan)
        codes = tuple(sorted({f.code for f in result.findings}))
        if not result.accepted:
            first = result.errors[0]
            return Submitted(describe(first.code).http, codes, None, finding_detail(first))
        receipt = f"R{hashlib.sha256(f'{message_id}:{digest}'.encode()).hexdigest()[:20]}"
        with self._lock:
            self._by_message[message_id] = (digest, receipt)
            self._stored[receipt] = body
            while len(self._stored) > self.keep:  # both were filled in the same order
                self._stored.popitem(last=False)
                self._by_message.popitem(last=False)
        return Submitted(ACCEPTED, codes, receipt)

    def fetch(self, receipt_id: str) -> Retrieved:
        with self._lock:
            body = self._stored.get(receipt_id)
        return Retrieved(200, body) if body is not None else Retrieved(404, None)


__all__ = [
    "ACCEPTED",
    "CheckerTarget",
    "Retrieved",
    "Submitted",
    "Target",
    "finding_detail",
    "is_error",
]
