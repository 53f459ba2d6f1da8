"""Evidence for a failed case, as text a vendor can read without the harness.

STYLE.md: every finding carries its evidence. A certification failure shows the raw
exchange from the gateway's traffic log (request and answer bodies, truncated), the
gateway's log lines (fault events, access lines, warnings), what the I-VAN told the
employer, and whatever the check itself measured.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from harness.certification.observe import SUBMIT, Observation
from harness.certification.records import TrafficRow

BODY_LIMIT = 1500
EXCHANGE_LIMIT = 12_000


def _body(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"… ({len(text)} chars)"


def access_line(row: TrafficRow) -> str:
    """One traffic row as an access-log line."""
    msg = f" X-Message-Id={row.message_id}" if row.message_id else ""
    return (
        f"{row.started.isoformat(timespec='milliseconds')} #{row.id} {row.ivan or '-'} "
        f"{row.method} {row.path}{msg} -> {row.status} {row.outcome} ({row.duration_ms:.1f} ms)"
    )


def fault_line(entry: dict[str, Any]) -> str:
    """A fault event of ``/admin/faults/log`` as a log line."""
    msg = f" X-Message-Id={entry['message_id']}" if entry.get("message_id") else ""
    return (
        f"{entry['at']} [sim {entry['sim']}] fault {entry['profile']}/{entry['kind']} "
        f"{entry.get('ivan') or '-'} {entry['method']} {entry['path']}{msg}: {entry['action']}"
    )


def exchange(rows: Sequence[TrafficRow]) -> str:
    """The submissions with their bodies, then every other exchange as one line each."""
    parts: list[str] = []
    for row in rows:
        if row.route == SUBMIT:
            parts.append(
                f"{access_line(row)}\n--- request\n{_body(row.request)}\n"
                f"--- response\n{_body(row.response) or '(no answer: connection reset)'}"
            )
        else:
            parts.append(access_line(row))
    text = "\n".join(parts)
    if len(text) > EXCHANGE_LIMIT:
        text = text[:EXCHANGE_LIMIT] + f"\n… ({len(rows)} exchanges in all: see traffic.jsonl)"
    return text or "(the I-VAN sent nothing to the gateway in this scenario)"


def gateway_log(obs: Observation) -> str:
    lines = [fault_line(e) for e in obs.fault_events]
    lines += [access_line(r) for r in obs.traffic]
    lines += obs.log_lines
    return "\n".join(lines[:300]) or "(nothing logged)"


def relays(obs: Observation) -> str:
    lines = [
        f"{r.at} {r.job_id} {r.kind} MA_GDICH={r.ma_gdich or '-'} MA_LOI={r.ma_loi or '-'} "
        f"{r.message_id} {r.detail}".rstrip()
        for j in obs.jobs
        for r in j.relays
    ]
    lines += [
        f"{r.at} {r.job_id or '-'} (not a job of this scenario) {r.kind} "
        f"MA_GDICH={r.ma_gdich or '-'} MA_LOI={r.ma_loi or '-'} {r.message_id} {r.detail}".rstrip()
        for r in obs.unrouted
    ]
    return "\n".join(lines) or "(the I-VAN told the employer nothing)"


def evidence_for(obs: Observation, extra: dict[str, str]) -> dict[str, str]:
    """Everything shown under a failure in the report."""
    jobs = "\n".join(
        f"{j.job.job_id}: procedure {j.job.procedure}, unit {j.job.unit.ma_don_vi}, "
        f"handed over {j.handed_at.isoformat()} (simulated)"
        for j in obs.jobs
    )
    return {
        **extra,
        "jobs": jobs or "(none)",
        "raw exchange (gateway traffic log)": exchange(obs.traffic),
        "gateway log": gateway_log(obs),
        "relays to the employer": relays(obs),
    }


def reproduce(
    adapter_spec: str,
    procedure: str,
    case_id: str,
    *,
    seed: int,
    catalog: str,
    gateway_url: str | None,
    options: dict[str, str] | None = None,
    verify_tls: bool | str = True,
    extra: Sequence[str] = (),
) -> str:
    """The one-line command that runs just this case again."""
    parts = [
        "bhxh-harness certify",
        f"--adapter {shlex.quote(adapter_spec)}",
        *(f"--adapter-option {shlex.quote(f'{k}={v}')}" for k, v in (options or {}).items()),
        f"--procedures {shlex.quote(procedure)}",
        f"--case {case_id}",
        f"--catalog {shlex.quote(catalog)}",
        f"--seed {seed}",
    ]
    if gateway_url:
        parts.append(f"--gateway {shlex.quote(gateway_url)}")
    if verify_tls is False:
        parts.append("--insecure")
    elif isinstance(verify_tls, str):
        parts.append(f"--ca-bundle {shlex.quote(verify_tls)}")
    return " ".join([*parts, *extra])


__all__ = ["access_line", "evidence_for", "exchange", "fault_line", "reproduce"]
