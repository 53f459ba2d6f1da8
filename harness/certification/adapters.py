"""Adapters that drive a vendor's I-VAN, and ``resolve_adapter`` for ``--adapter`` values.

* ``reference`` / ``faulty:<name>``: the bundled I-VANs (Python, in-process).
* ``python:<entry point>`` or ``python:module:Class``: a vendor's class registered under
  the ``bhxh_harness.adapters`` entry-point group (it implements ``IvanAdapter``).
* ``http(s)://...``: an HTTP hook; the suite POSTs JSON to ``<url>/start``, ``/submit``,
  ``/tick``, ``/recover``, ``/restart``, ``/stop`` and reads relays back.
* a command template such as ``"vendor-cli submit {dossier}"``: run once per operation
  (``--adapter-option tick=... recover=... restart=...`` for the others); placeholders
  are listed by :meth:`AdapterContext.placeholders` plus ``{dossier}`` (the job's JSON
  file), ``{folder}``, ``{job_id}``, ``{now}`` and ``{ma_gdich}``; stdout carries JSON
  lines: relays (``{"kind": "receipt", "ma_gdich": ...}``) or recovered messages
  (``{"content_b64": ...}``).
* ``manual``: prompts an operator and reads what the I-VAN told the employer.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import IO

from harness.certification.adapter_base import OPERATIONS, AdapterBase
from harness.certification.command_adapter import CommandAdapter
from harness.certification.http_hook import HttpHookAdapter
from harness.certification.model import (
    AdapterContext,
    IvanAdapter,
    Job,
    Relay,
    RunAborted,
)
from harness.certification.python_adapter import ENTRY_POINT_GROUP
from harness.errors import ConfigError


def parse_relay_line(line: str) -> dict[str, str]:
    """``"receipt ma_gdich=X"`` or ``"rejected ma_loi=RULE-102 Mức lương..."`` as a relay."""
    kind, *rest = line.split()
    item = {"kind": kind}
    words = []
    for token in rest:
        key, sep, value = token.partition("=")
        if sep and key in ("ma_gdich", "ma_loi", "message_id", "job_id"):
            item[key] = value
        else:
            words.append(token)
    return item | ({"detail": " ".join(words)} if words else {})


class ManualAdapter(AdapterBase):
    """An operator drives the I-VAN by hand; the suite prompts and waits for their answers."""

    name = "manual"
    spec = "manual"
    capabilities = frozenset({"tick", "recover", "restart"})

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        super().__init__()
        self.stdin, self.stdout = stdin or sys.stdin, stdout or sys.stdout

    def say(self, text: str) -> None:
        self.stdout.write(text.rstrip() + "\n")
        self.stdout.flush()

    def lines(self) -> list[str]:
        """Lines typed until an empty one; the end of input stops the run, since every
        later prompt would be answered with nothing."""
        typed: list[str] = []
        while line := self.stdin.readline():
            if not line.strip():
                return typed
            typed.append(line.strip())
        raise RunAborted(
            "the operator's input ended (end of file) while the suite waited for an answer",
            hint="run --adapter manual in a terminal, or pipe every answer, each list ended "
            "by an empty line",
        )

    def start(self, context: AdapterContext) -> None:
        super().start(context)
        self.say(
            f"Connect your I-VAN to {context.gateway_url} as {context.ivan} "
            f"(Authorization: Bearer {context.token}). Test PKI: {context.pki_dir}."
        )

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        path = self.write_job(job)
        self.say(
            f"[{now.isoformat()}] SUBMIT job {job.job_id}: the employer's forms are in "
            f"{path.parent} ({path.name} describes them; sign with {job.signer}). Send it through "
            "your I-VAN, then type what it told the employer, one per line "
            "(receipt ma_gdich=... | rejected ma_loi=... text), and an empty line:"
        )
        return self.relays([parse_relay_line(x) for x in self.lines()], job.job_id)

    def tick(self, now: datetime) -> list[Relay]:
        self.say(
            f"[{now.isoformat()}] TICK: simulated time is now {now.isoformat()}. Let your I-VAN "
            "do its periodic work (forward, poll, acknowledge), then type its new relays "
            "(02/TB-TS ma_gdich=... message_id=...), and an empty line:"
        )
        return self.relays([parse_relay_line(x) for x in self.lines()])

    def recover(self, ma_gdich: str) -> list[bytes]:
        self.say(
            f"RECOVER: have your I-VAN recover every message of MA_GDICH {ma_gdich}; type the "
            "path of each recovered file, and an empty line:"
        )
        return [Path(p).read_bytes() for p in self.lines()]

    def restart(self) -> None:
        self.say("RESTART: restart your I-VAN now, then press Enter:")
        self.lines()


def adapter_timeout(options: dict[str, str]) -> float:
    """``--adapter-option timeout=`` as seconds (default 120), a positive number."""
    raw = options.pop("timeout", "120")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(
            f"--adapter-option timeout={raw!r} is not a positive number of seconds",
            hint="e.g. --adapter-option timeout=120",
        )
    return seconds


def _given_timeout(options: dict[str, str]) -> float | None:
    """``timeout=`` checked and taken out of ``options``; None when not given, so the
    adapter records only the options the user gave (its reproduce line repeats them)."""
    return adapter_timeout(options) if "timeout" in options else None


def _no_options(spec: str, options: dict[str, str], allowed: tuple[str, ...] = ()) -> None:
    extra = sorted(set(options) - set(allowed))
    if extra:
        takes = f"takes only {', '.join(allowed)}" if allowed else "takes no --adapter-option"
        raise ConfigError(
            f"adapter {spec!r} {takes} (given: {', '.join(extra)})",
            hint="tick=, recover=, restart= and timeout= are for command templates",
        )


_NAMES = ("reference", "manual")
_PREFIXES = ("faulty:", "python:", "http://", "https://")


def _misspelt(spec: str) -> str | None:
    """The built-in adapter ``spec`` names in the wrong case (``REFERENCE``), else None:
    taken as a command template, it would be refused for not naming {dossier}."""
    lowered = spec.strip().lower()
    if lowered in _NAMES:
        return lowered
    prefix = next((p for p in _PREFIXES if lowered.startswith(p)), None)
    return None if prefix is None else prefix + spec.strip()[len(prefix) :]


def resolve_adapter(spec: str, options: dict[str, str] | None = None) -> IvanAdapter:
    """The adapter an ``--adapter`` value names (``options`` from ``--adapter-option``;
    an option the adapter would ignore is refused)."""
    from harness.certification.faulty import FAULTY, faulty
    from harness.certification.python_adapter import python_adapter
    from harness.certification.reference import ReferenceIvan

    options = dict(options or {})
    if spec.startswith(("http://", "https://")):
        _no_options(spec, options, ("timeout",))
        return HttpHookAdapter(spec, _given_timeout(options))
    if spec in ("reference", "manual") or spec.startswith(("faulty:", "python:")):
        _no_options(spec, options)
    if spec == "reference":
        return ReferenceIvan()
    if spec.startswith("faulty:"):
        if spec[7:] not in FAULTY:
            raise ConfigError(
                f"unknown faulty I-VAN {spec[7:]!r}", hint=f"known: {', '.join(FAULTY)}"
            )
        return faulty(spec[7:])
    if spec == "manual":
        return ManualAdapter()
    if spec.startswith("python:"):
        return python_adapter(spec[7:])
    suggestion = _misspelt(spec)
    if suggestion is not None:
        raise ConfigError(
            f"--adapter {spec!r} is not an adapter: did you mean {suggestion!r}?",
            hint="adapter names are lower case: reference, manual, faulty:<name>, "
            "python:<entry point>, http(s)://hook",
        )
    timeout = _given_timeout(options)
    return CommandAdapter(spec, timeout=timeout, **options)


__all__ = [
    "ENTRY_POINT_GROUP",
    "OPERATIONS",
    "CommandAdapter",
    "HttpHookAdapter",
    "ManualAdapter",
    "adapter_timeout",
    "parse_relay_line",
    "resolve_adapter",
]
