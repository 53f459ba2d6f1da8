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

import base64
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import requests

from harness.certification.model import (
    RECEIPT,
    AdapterContext,
    AdapterFailed,
    ContextHolder,
    IvanAdapter,
    Job,
    NotSupported,
    Relay,
)
from harness.certification.python_adapter import ENTRY_POINT_GROUP
from harness.errors import ConfigError

OPERATIONS = ("tick", "recover", "restart")


class _Base(ContextHolder):
    """Shared bookkeeping: the context, job folders, and MA_GDICH → job for relays."""

    name = "adapter"
    spec = ""
    capabilities: frozenset[str] = frozenset()

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

    def relays(self, items: list[dict[str, Any]], job_id: str = "") -> list[Relay]:
        out = []
        for item in items:
            relay = Relay.from_json({"job_id": job_id, **item})
            if not relay.job_id and relay.ma_gdich in self._jobs:
                relay = Relay(**{**relay.to_json(), "job_id": self._jobs[relay.ma_gdich]})
            if relay.kind == RECEIPT and relay.ma_gdich:
                self._jobs[relay.ma_gdich] = relay.job_id
            out.append(relay)
        return out

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


def _anchored(template: str) -> str:
    """``template`` with a relative program path made absolute from the current folder:
    the commands run in the suite's work folder, where ``./my-ivan`` is not."""
    try:
        tokens = shlex.split(template)
    except ValueError as exc:  # unbalanced quotes
        raise ConfigError(f"command template {template!r}: {exc}") from None
    if not tokens:
        raise ConfigError("an empty command template", hint="e.g. 'vendor-cli submit {dossier}'")
    program = tokens[0]
    if os.sep not in program or os.path.isabs(program) or "{" in program:
        return template
    return shlex.join([os.path.abspath(program), *tokens[1:]])


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise ConfigError(
            f"unknown placeholder {{{key}}}", hint=f"known: {', '.join(sorted(self))}"
        )


class CommandAdapter(_Base):
    """Runs the vendor's command for each operation; no shell, placeholders per argument."""

    name = "command"

    def __init__(self, submit: str, *, timeout: float = 120.0, **templates: str | None) -> None:
        super().__init__()
        unknown = sorted(set(templates) - set(OPERATIONS))
        if unknown:
            raise ConfigError(
                f"unknown adapter option {', '.join(unknown)}", hint=f"use {OPERATIONS}"
            )
        if "{dossier}" not in submit and "{job}" not in submit:
            raise ConfigError(
                f"command template {submit!r} never names the dossier", hint="add {dossier}"
            )
        given = {"submit": submit, **{k: v for k, v in templates.items() if v}}
        self.templates = {operation: _anchored(t) for operation, t in given.items()}
        self.spec, self.timeout = submit, timeout
        self.options = {k: v for k, v in self.templates.items() if k != "submit"}
        self.capabilities = frozenset(self.options)

    def start(self, context: AdapterContext) -> None:
        """Check that every command exists before any case runs: a missing one would
        otherwise fail every case with the same error."""
        super().start(context)
        for operation, template in self.templates.items():
            program = shlex.split(template)[0]
            if "{" in program:  # chosen per call by a placeholder
                continue
            found = Path(program).is_file() if os.sep in program else shutil.which(program)
            if not found:
                raise ConfigError(
                    f"the {operation} command {program!r} does not exist",
                    hint="install it, or give its path in the template",
                )

    def run(self, operation: str, **values: str) -> list[dict[str, Any]]:
        """Run one operation's command; its stdout's JSON lines come back as dictionaries."""
        fields = _Fields({**self.context.placeholders(), **values})
        argv = [token.format_map(fields) for token in shlex.split(self.templates[operation])]
        env = {**os.environ, **{f"BHXH_{k.upper()}": v for k, v in fields.items()}}
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=self.timeout,
                env=env,
                cwd=self.context.workdir,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AdapterFailed(f"{operation}: cannot run {argv[0]!r}: {exc}") from exc
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace")[-1500:]
            raise AdapterFailed(f"{operation}: {shlex.join(argv)} exited {done.returncode}\n{tail}")
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        return [json.loads(line) for line in lines if line.lstrip().startswith("{")]

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        path = self.write_job(job)
        values = {"dossier": str(path), "job": str(path), "folder": str(path.parent)}
        items = self.run("submit", job_id=job.job_id, now=now.isoformat(), **values)
        return self.relays(items, job.job_id)

    def tick(self, now: datetime) -> list[Relay]:
        if "tick" not in self.templates:
            return super().tick(now)
        return self.relays(self.run("tick", now=now.isoformat()))

    def recover(self, ma_gdich: str) -> list[bytes]:
        if "recover" not in self.templates:
            return super().recover(ma_gdich)
        items = self.run("recover", ma_gdich=ma_gdich)
        return [base64.b64decode(i["content_b64"]) for i in items if "content_b64" in i]

    def restart(self) -> None:
        if "restart" not in self.templates:
            super().restart()
        self.run("restart")


class HttpHookAdapter(_Base):
    """POSTs JSON to the vendor's hook; the hook answers ``{"relays": [...]}``."""

    name = "http-hook"

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        super().__init__()
        self.spec, self.url, self.timeout = url, url.rstrip("/"), timeout
        self._session = requests.Session()

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = self._session.post(f"{self.url}/{operation}", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AdapterFailed(f"{operation}: hook {self.url} unreachable: {exc}") from exc
        if answer.status_code in (404, 501):
            raise self._unsupported(operation)
        if answer.status_code >= 400:
            raise AdapterFailed(
                f"{operation}: hook answered {answer.status_code}: {answer.text[:500]}"
            )
        data = answer.json() if answer.content else {}
        return data if isinstance(data, dict) else {}

    def start(self, context: AdapterContext) -> None:
        super().start(context)
        answer = self.call("start", {**context.placeholders(), "ivan_name": context.ivan_name})
        self.capabilities = frozenset(answer.get("capabilities", OPERATIONS)) & set(OPERATIONS)

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        body = {"job": job.to_json(self.context.pki_dir), "now": now.isoformat()}
        return self.relays(self.call("submit", body).get("relays", []), job.job_id)

    def tick(self, now: datetime) -> list[Relay]:
        return self.relays(self.call("tick", {"now": now.isoformat()}).get("relays", []))

    def recover(self, ma_gdich: str) -> list[bytes]:
        answer = self.call("recover", {"ma_gdich": ma_gdich})
        return [base64.b64decode(m) for m in answer.get("messages_b64", [])]

    def restart(self) -> None:
        self.call("restart", {})

    def stop(self) -> None:
        with contextlib.suppress(AdapterFailed):
            self.call("stop", {})
        self._session.close()


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


class ManualAdapter(_Base):
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
        """Lines typed until an empty one (or the end of input)."""
        typed = []
        while (line := self.stdin.readline()) and line.strip():
            typed.append(line.strip())
        return typed

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


def resolve_adapter(spec: str, options: dict[str, str] | None = None) -> IvanAdapter:
    """The adapter an ``--adapter`` value names (``options`` from ``--adapter-option``)."""
    from harness.certification.faulty import FAULTY, faulty
    from harness.certification.python_adapter import python_adapter
    from harness.certification.reference import ReferenceIvan

    options = dict(options or {})
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
    if spec.startswith(("http://", "https://")):
        return HttpHookAdapter(spec, float(options.get("timeout", 120)))
    if spec.startswith("python:"):
        return python_adapter(spec[7:])
    timeout = float(options.pop("timeout", 120))
    return CommandAdapter(spec, timeout=timeout, **options)


__all__ = [
    "ENTRY_POINT_GROUP",
    "CommandAdapter",
    "HttpHookAdapter",
    "ManualAdapter",
    "parse_relay_line",
    "resolve_adapter",
]
