"""``--adapter https://vendor.example/hook``: the suite POSTs JSON to ``<url>/<operation>``.

Every way a hook's answer can be wrong (not JSON, not an object, relays of the wrong
shape) is an :class:`AdapterFailed` naming the hook URL, the status, the content type and
the first bytes, so it never passes for the gateway's failure (requests' JSON error is a
``RequestException``, which the CLI blames on the gateway).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from datetime import datetime
from typing import Any

import requests

from harness.certification.adapter_base import OPERATIONS, AdapterBase
from harness.certification.model import AdapterContext, AdapterFailed, Job, NotSupported, Relay
from harness.tls import failure

ANSWERS = (
    '{"capabilities": [...]} for /start, {"relays": [...]} for /submit and /tick, '
    '{"messages_b64": [...]} for /recover (see the adapter guide)'
)


def _answer(response: requests.Response) -> str:
    """Status, content type and the first bytes of an answer, as text (not a bytes repr)."""
    kind = response.headers.get("Content-Type") or "no Content-Type"
    head = response.content[:200].decode("utf-8", "replace")
    more = "…" if len(response.content) > 200 else ""
    return f"{response.status_code} {kind}: {json.dumps(head, ensure_ascii=False)}{more}"


class HttpHookAdapter(AdapterBase):
    """POSTs JSON to the vendor's hook; the hook answers ``{"relays": [...]}``."""

    name = "http-hook"

    def __init__(self, url: str, timeout: float | None = None) -> None:
        """``timeout`` None is the default (120 s), left out of :attr:`options`."""
        super().__init__()
        self.spec, self.url = url, url.rstrip("/")
        self.timeout = 120.0 if timeout is None else timeout
        self.options = {} if timeout is None else {"timeout": f"{timeout:g}"}  # for reproduce
        self._session = requests.Session()

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``<url>/<operation>``; its JSON object answer (``{}`` if empty)."""
        where = f"{self.url}/{operation}"
        try:
            answer = self._session.post(where, json=body, timeout=self.timeout)
        except requests.exceptions.ReadTimeout:
            raise AdapterFailed(
                f"{operation}: hook {where} did not answer within {self.timeout:g} s",
                hint="make the hook answer sooner, or raise --adapter-option timeout=SECONDS",
            ) from None
        except requests.RequestException as exc:
            raise AdapterFailed(
                f"{operation}: hook {where} unreachable: {failure(exc)}",
                hint=f"start the vendor's hook (it answers POST {self.url}/<operation>), "
                "or give --adapter the URL it listens on",
            ) from exc
        if answer.status_code in (404, 501) and operation != "start":
            raise self._refused(operation, answer.status_code)
        if answer.status_code >= 400:
            raise AdapterFailed(
                f"{operation}: hook {where} answered {_answer(answer)}",
                hint=f"give --adapter the URL the hook listens on (the suite POSTs to {where})"
                if operation == "start"
                else "see the hook's log for why; 404 or 501 means the hook lacks the operation",
            )
        if not answer.content.strip():
            return {}
        try:
            data = answer.json()
        except ValueError:  # requests' JSONDecodeError: the hook's fault, not the gateway's
            raise AdapterFailed(
                f"{operation}: hook {where} answered {_answer(answer)}, which is not JSON",
                hint=f"answer application/json: {ANSWERS}",
            ) from None
        if not isinstance(data, dict):
            raise AdapterFailed(
                f"{operation}: hook {where} answered JSON that is not an object: {_answer(answer)}",
                hint=ANSWERS,
            )
        return data

    def _refused(self, operation: str, status: int) -> NotSupported:
        """A 404 or 501: "not supported", saying whether /start had named the operation."""
        if operation in self.assumed:
            return NotSupported(
                f"hook {self.url}/{operation} answered {status}: not supported (its /start "
                "named no capabilities, so every operation was tried)",
                hint="answer /start with the operations the hook has, e.g. "
                + json.dumps({"capabilities": list(OPERATIONS)}),
            )
        said = " although its /start listed it" if operation in self.capabilities else ""
        return NotSupported(f"hook {self.url}/{operation} answered {status}: not supported{said}")

    def _relays(self, operation: str, answer: dict[str, Any], job_id: str = "") -> list[Relay]:
        source = f'{operation}: hook {self.url}/{operation}\'s "relays"'
        return self.relays(answer.get("relays", []), job_id, source=source)

    def start(self, context: AdapterContext) -> None:
        super().start(context)
        answer = self.call("start", {**context.placeholders(), "ivan_name": context.ivan_name})
        named = answer.get("capabilities", list(OPERATIONS))  # none named: try every one
        if not isinstance(named, list) or not all(isinstance(c, str) for c in named):
            raise AdapterFailed(
                f"start: hook {self.url}/start answered capabilities {named!r}",
                hint=f'a list of names, e.g. {{"capabilities": {list(OPERATIONS)}}}',
            )
        self.capabilities = frozenset(named) & set(OPERATIONS)
        self.assumed = frozenset() if "capabilities" in answer else self.capabilities

    def how_to_add(self, operation: str) -> str:
        """A hook gains an operation by answering its URL and naming it at /start."""
        return (
            f"make the hook answer POST {self.url}/{operation} and list {operation!r} in the "
            f"capabilities its /start answers"
        )

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        body = {"job": job.to_json(self.context.pki_dir), "now": now.isoformat()}
        return self._relays("submit", self.call("submit", body), job.job_id)

    def tick(self, now: datetime) -> list[Relay]:
        return self._relays("tick", self.call("tick", {"now": now.isoformat()}))

    def recover(self, ma_gdich: str) -> list[bytes]:
        messages = self.call("recover", {"ma_gdich": ma_gdich}).get("messages_b64", [])
        try:
            if not isinstance(messages, list):
                raise TypeError
            return [base64.b64decode(m, validate=True) for m in messages]
        except (TypeError, ValueError, binascii.Error):
            raise AdapterFailed(
                f"recover: hook {self.url}/recover answered messages_b64 {str(messages)[:200]}",
                hint="a list of base64 strings, one per message, byte for byte",
            ) from None

    def restart(self) -> None:
        self.call("restart", {})

    def stop(self) -> None:
        with contextlib.suppress(AdapterFailed):
            self.call("stop", {})
        self._session.close()


__all__ = ["HttpHookAdapter"]
