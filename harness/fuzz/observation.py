"""What happened when one fuzz case was sent: the answer, or the crash or timeout, and
the words a report uses for it. Its own module: properties judge it and the sender makes
it, and neither needs the other to read it."""

from __future__ import annotations

from dataclasses import dataclass

from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Retrieved, Submitted, is_error

DEFAULT_TIMEOUT = 5.0
"""Seconds a target may take for one case (the checker needs milliseconds)."""
EXCERPT = 3000
"""Characters of a failing answer a report shows (an answer's signature block alone is
about 3 KB, after its findings)."""
_NO_ANSWER = Submitted(0, (), None)


@dataclass(frozen=True)
class Observation:
    """What happened when one case was sent: the answer, or the crash or timeout.

    ``unavailable`` says why no answer counts: the gateway kept asking to wait (429, or
    503 with ``Retry-After``) past :data:`~harness.fuzz.exchange.MAX_WAIT`; no property is
    judged on it.
    """

    case: FuzzCase
    answer: Submitted | None
    elapsed: float
    timeout: float
    error: str | None = None
    retrieved: Retrieved | None = None
    strict: bool = True
    replayed: Submitted | None = None  # the same body resent under the same message id
    unavailable: str | None = None
    conflicting: Submitted | None = None  # another body sent under the same message id

    @property
    def timed_out(self) -> bool:
        return self.answer is None and self.error is None and self.unavailable is None

    @property
    def errors(self) -> tuple[str, ...]:
        return () if self.answer is None else tuple(c for c in self.answer.codes if is_error(c))

    @property
    def detail(self) -> str:
        """Where the first error of the answer points and what it says ("" if none)."""
        return "" if self.answer is None else self.answer.detail

    def describe(self) -> str:
        if self.error is not None:
            return f"raised {self.error.splitlines()[-1]}"
        if self.answer is None:
            return f"no answer within {self.timeout:g} s"
        return f"{answered(self.answer)} in {self.elapsed * 1000:.0f} ms"

    def body_for(self, check: str, limit: int = EXCERPT) -> str:
        """The bytes of the answer that broke ``check`` (the resent or conflicting one for
        the message-id properties), as text, cut at ``limit`` characters: the exchange
        that proved the failure, which codes alone do not show (a leaked stack trace, a
        missing signature). Empty where the target has no wire answer."""
        answer = {"idempotent": self.replayed, "other-body-refused": self.conflicting}.get(check)
        body = (answer or self.answer or _NO_ANSWER).body
        if not body:
            return ""
        text = body.decode("utf-8", "replace")
        return text if len(text) <= limit else f"{text[:limit]}\n… ({len(body)} bytes in all)"

    def answer_for(self, check: str) -> str:
        """The answer that broke ``check``: the resent one for ``idempotent``, the read
        back for ``acknowledged-retrievable``, each after the first answer it follows."""
        first = self.describe()
        if check == "idempotent" and self.replayed is not None:
            again = answered(self.replayed, receipt=True)
            return f"{first}, then resent under the same X-Message-Id: {again}"
        if check == "other-body-refused" and self.conflicting is not None:
            again = answered(self.conflicting, receipt=True)
            return f"{first}, then another body under the same X-Message-Id: {again}"
        if check == "acknowledged-retrievable":
            got = "nothing" if self.retrieved is None else f"HTTP {self.retrieved.status}"
            return f"{first}, then reading it back: {got}"
        return first


def answered(answer: Submitted, *, receipt: bool = False) -> str:
    """``HTTP 409 DUP-001`` (each code once, in the order answered), with ``receipt`` also
    the receipt or ``no receipt``."""
    codes = ",".join(dict.fromkeys(answer.codes)) or "no codes"
    text = f"HTTP {answer.status} {codes}"
    if receipt:
        text += f", receipt {answer.receipt_id}" if answer.receipt_id else ", no receipt"
    return text


__all__ = ["DEFAULT_TIMEOUT", "EXCERPT", "Observation", "answered"]
