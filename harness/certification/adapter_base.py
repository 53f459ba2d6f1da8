"""What the command, HTTP-hook and manual adapters share: job folders, relays read from
what a vendor's code answered (checked, so a wrong shape is one clear error naming the
shape expected rather than a relay silently dropped), and "not supported" defaults."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.certification.model import (
    ALERT,
    HANDOVER,
    RECEIPT,
    REJECTED,
    RESULT,
    AdapterFailed,
    ContextHolder,
    Job,
    NotSupported,
    Relay,
)

OPERATIONS = ("tick", "recover", "restart")
KINDS = (RECEIPT, REJECTED, HANDOVER, RESULT, ALERT)
RELAY_SHAPE = (
    'a relay is a JSON object such as {"kind": "receipt", "ma_gdich": "...", "job_id": "..."}; '
    f"kind is one of {', '.join(KINDS)}"
)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


class AdapterBase(ContextHolder):
    """Shared bookkeeping: the context, job folders, and MA_GDICH → job for relays."""

    name = "adapter"
    spec = ""
    capabilities: frozenset[str] = frozenset()
    assumed: frozenset[str] = frozenset()
    """Operations in ``capabilities`` the vendor never named (a hook whose /start lists
    none is tried on all): refusing one of them is "not supported", not a broken claim."""

    def __init__(self) -> None:
        self._jobs: dict[str, str] = {}

    def write_job(self, job: Job) -> Path:
        """The job as ``job.json`` plus each declared form as its own file, in a folder."""
        folder = self.context.workdir / "jobs" / re.sub(r"[^\w.-]+", "_", job.job_id)
        folder.mkdir(parents=True, exist_ok=True)
        for form in job.forms:
            (folder / form.file_name).write_bytes(form.content)
        path = folder / "job.json"
        path.write_text(json.dumps(job.to_json(self.context.pki_dir), ensure_ascii=False), "utf-8")
        return path

    def relays(self, items: Any, job_id: str = "", *, source: str = "") -> list[Relay]:
        """``items`` (what the vendor's code answered) as relays; ``source`` says where they
        came from (e.g. "submit: line 3 of stdout") for the error when one is malformed."""
        where = source or "the adapter's answer"
        if not isinstance(items, list):
            raise AdapterFailed(
                f"{where}: relays must be a list, got {_shown(items)}", hint=RELAY_SHAPE
            )
        out = []
        for index, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise AdapterFailed(
                    f"{where}: relay {index} is {_shown(item)}, not a JSON object", hint=RELAY_SHAPE
                )
            if item.get("kind") not in KINDS:
                raise AdapterFailed(
                    f"{where}: relay {index} has kind {_shown(item.get('kind'))}: {_shown(item)}",
                    hint=RELAY_SHAPE,
                )
            relay = Relay.from_json({"job_id": job_id, **item})
            if not relay.job_id and relay.ma_gdich in self._jobs:
                relay = Relay(**{**relay.to_json(), "job_id": self._jobs[relay.ma_gdich]})
            if relay.kind == RECEIPT and relay.ma_gdich:
                self._jobs[relay.ma_gdich] = relay.job_id
            out.append(relay)
        return out

    def how_to_add(self, operation: str) -> str:
        """How a vendor gives this kind of adapter ``operation`` (for skipped cases)."""
        return f"give the adapter a {operation} operation"

    def _unsupported(self, operation: str) -> NotSupported:
        return NotSupported(f"adapter {self.spec!r} has no {operation} operation")

    def tick(self, now: datetime) -> list[Relay]:
        raise self._unsupported("tick")

    def recover(self, ma_gdich: str) -> list[bytes]:
        raise self._unsupported("recover")

    def restart(self) -> None:
        raise self._unsupported("restart")

    def stop(self) -> None:
        """Nothing to release by default."""


__all__ = ["KINDS", "OPERATIONS", "RELAY_SHAPE", "AdapterBase"]
