"""``--adapter "vendor-cli submit {dossier}"``: the vendor's command, run once per operation.

Templates are checked when the adapter is built (placeholders, braces, the program), so a
mistake is one usage error instead of the same error in every case. Commands run in the
folder ``certify`` was started in, so relative paths mean what they mean in the user's
shell (``{workdir}`` is the run's scratch folder); each runs in its own process group,
which a timeout kills whole, so a script's children do not outlive it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from string import Formatter
from typing import Any

from harness.certification.adapter_base import OPERATIONS, AdapterBase
from harness.certification.model import AdapterContext, AdapterFailed, Job, Relay
from harness.errors import ConfigError
from harness.suggestions import did_you_mean

PER_OPERATION = {
    "submit": ("dossier", "job", "folder", "job_id", "now"),
    "tick": ("now",),
    "recover": ("ma_gdich",),
    "restart": (),
}
"""Placeholders an operation's template may use besides the run's (AdapterContext)."""
RUN_PLACEHOLDERS = tuple(AdapterContext("", "", "", "", Path(), Path(), "").placeholders())
ERROR_LINE = re.compile(r"^([\w.$]*(Error|Exception)\b|Exception in thread)")
"""A stderr line naming the error (Node's ``TypeError: ...``, Java's ``Exception in ...``)."""
DEFAULT_TIMEOUT = 120.0
"""Seconds a command may run without ``--adapter-option timeout=``."""
KILL_WAIT = 5.0
"""Seconds to wait for a killed command's output pipes to close."""
INTERPRETER = re.compile(r"(python|pypy|node|nodejs|ruby|perl|php|bash|sh|zsh)[\d.]*(\.exe)?")
"""Programs that run the script named next (``python ./ivan.py``): a typo in that path is
the interpreter's "No such file" in every case, so it is checked before the first."""


def _tokens(template: str) -> list[str]:
    try:
        tokens = shlex.split(template)
    except ValueError as exc:  # unbalanced quotes
        raise ConfigError(f"command template {template!r}: {exc}") from None
    if not tokens:
        raise ConfigError("an empty command template", hint="e.g. 'vendor-cli submit {dossier}'")
    return tokens


def _anchored(template: str) -> str:
    """``template`` with a relative program path made absolute from the current folder,
    so the program named stays the same whatever folder the command runs in."""
    tokens = _tokens(template)
    program = tokens[0]
    if os.sep not in program or os.path.isabs(program) or "{" in program:
        return template
    return shlex.join([os.path.abspath(program), *tokens[1:]])


def _stderr_summary(stderr: str) -> str:
    """The lines of a failed command's stderr that say what went wrong: Python puts the
    error last, Node and Java earlier (``TypeError: ...``, ``Exception in thread ...``), so
    the first line naming an error (else the first line) and the last are kept, each once."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "(nothing on stderr)"
    error = next((line for line in lines if ERROR_LINE.match(line)), lines[0])
    return " … ".join(dict.fromkeys([error, lines[-1]]))[:300]


def check_template(operation: str, template: str) -> None:
    """Every ``{name}`` of ``template`` is a placeholder ``operation`` has, and every brace
    is part of one (``{{``/``}}`` are literal braces)."""
    known = sorted({*RUN_PLACEHOLDERS, *PER_OPERATION[operation]})
    hint = f"placeholders of {operation}: {', '.join('{' + k + '}' for k in known)}"
    for token in _tokens(template):
        try:
            fields = [name for _, name, _, _ in Formatter().parse(token) if name is not None]
            specs = [(s, c) for _, n, s, c in Formatter().parse(token) if n is not None]
        except ValueError as exc:  # a lone '{' or '}'
            raise ConfigError(
                f"the {operation} template {template!r}: {exc} in {token!r}",
                hint="write a literal brace as {{ or }}; " + hint,
            ) from None
        for name, (spec, conversion) in zip(fields, specs, strict=True):
            if name not in known or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "")
                shown += (f":{spec}" if spec else "") + "}"
                raise ConfigError(
                    f"the {operation} template {template!r} has an unknown placeholder {shown}",
                    hint=hint,
                )


ADAPTER_KINDS = "reference | faulty:<name> | python:<entry point> | http(s)://hook | manual"


def _no_dossier(submit: str) -> str:
    """What to do with a template naming no dossier: a lone word is most likely a
    mistyped adapter kind ('referense'), not a command."""
    if len(submit.split()) == 1 and shutil.which(submit) is None:
        guess = did_you_mean(submit, ("reference", "manual"))
        return f"{guess}--adapter takes {ADAPTER_KINDS}, or a command template with {{dossier}}"
    return "add {dossier}"


class CommandAdapter(AdapterBase):
    """Runs the vendor's command for each operation; no shell, placeholders per argument."""

    name = "command"

    def __init__(
        self, submit: str, *, timeout: float | None = None, **templates: str | None
    ) -> None:
        """``timeout`` None is the default (120 s), left out of :attr:`options`."""
        super().__init__()
        unknown = sorted(set(templates) - set(OPERATIONS))
        if unknown:
            raise ConfigError(
                f"unknown adapter option {', '.join(unknown)}",
                hint=f"command adapters take {', '.join(OPERATIONS)} and timeout",
            )
        given = {"submit": submit, **{k: v for k, v in templates.items() if v}}
        for operation, template in given.items():  # a misspelt {dosier} is named as such
            check_template(operation, template)
        if "{dossier}" not in submit and "{job}" not in submit:
            raise ConfigError(
                f"command template {submit!r} never names the dossier", hint=_no_dossier(submit)
            )
        self.templates = {operation: _anchored(t) for operation, t in given.items()}
        self.spec, self.timeout = submit, DEFAULT_TIMEOUT if timeout is None else timeout
        self.cwd = Path.cwd()  # where relative arguments were meant
        operations = {k: v for k, v in self.templates.items() if k != "submit"}
        self.capabilities = frozenset(operations)
        # every --adapter-option given, so a reproduce line and the report drive it the same
        self.options = operations | ({} if timeout is None else {"timeout": f"{timeout:g}"})

    def start(self, context: AdapterContext) -> None:
        """Check that every command exists before any case runs: a missing one would
        otherwise fail every case with the same error."""
        super().start(context)
        for operation, template in self.templates.items():
            self._check_script(operation, shlex.split(template))
            program = shlex.split(template)[0]
            if "{" in program:  # chosen per call by a placeholder
                continue
            found = Path(program).is_file() if os.sep in program else shutil.which(program)
            if not found:
                raise ConfigError(
                    f"the {operation} command {program!r} does not exist",
                    hint="install it, or give its path in the template",
                )
            if os.sep in program and not os.access(program, os.X_OK):
                raise ConfigError(
                    f"the {operation} command {program!r} is not executable "
                    "(every case would end in 'Permission denied')",
                    hint=f"chmod +x {shlex.quote(program)}, or name its interpreter first "
                    f"(e.g. 'node {program} ...')",
                )

    def _check_script(self, operation: str, tokens: list[str]) -> None:
        """An interpreter's script (the word right after it, unless an option or a
        placeholder) must exist, relative to the folder certify was started in."""
        if len(tokens) < 2 or not INTERPRETER.fullmatch(Path(tokens[0]).name):
            return
        script = tokens[1]
        if script.startswith("-") or "{" in script or (self.cwd / script).exists():
            return
        raise ConfigError(
            f"the {operation} command's script {script!r} does not exist (looked in "
            f"{self.cwd}): every case would end in {Path(tokens[0]).name}'s 'No such file'",
            hint="fix the path in the template, or run certify from the script's folder",
        )

    def _execute(
        self, operation: str, argv: list[str], env: dict[str, str]
    ) -> tuple[int, bytes, bytes]:
        """Run ``argv`` in its own session; on timeout kill the whole process group."""
        try:
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise AdapterFailed(f"{operation}: cannot run {argv[0]!r}: {exc}") from exc
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            try:
                out, err = process.communicate(timeout=KILL_WAIT)
            except subprocess.TimeoutExpired:  # a child left the group and kept the pipes
                out, err = b"", b""
            tail = err.decode("utf-8", "replace").strip()[-1500:]
            raise AdapterFailed(
                f"{operation}: {shlex.join(argv)} timed out after {self.timeout:g} seconds "
                f"(it and its child processes were killed)" + (f"\n{tail}" if tail else ""),
                hint="make it answer sooner, or raise --adapter-option timeout=SECONDS",
            ) from None
        return process.returncode, out, err

    def run(self, operation: str, **values: str) -> list[dict[str, Any]]:
        """Run one operation's command; its stdout's JSON lines come back as dictionaries."""
        fields = {**self.context.placeholders(), **values}
        argv = [token.format_map(fields) for token in shlex.split(self.templates[operation])]
        env = {**os.environ, **{f"BHXH_{k.upper()}": v for k, v in fields.items()}}
        code, out, err = self._execute(operation, argv, env)
        if code != 0:
            tail = err.decode("utf-8", "replace").strip()
            raise AdapterFailed(
                f"{operation}: {Path(argv[0]).name} exited {code}: {_stderr_summary(tail)}\n"
                f"command: {shlex.join(argv)}\n{tail[-1500:]}"
            )
        return self._json_lines(operation, out.decode("utf-8", "replace"))

    @staticmethod
    def _json_lines(operation: str, stdout: str) -> list[dict[str, Any]]:
        """Each non-blank line of stdout as a JSON object (anything else is an error that
        names the line: a relay silently dropped would fail a case for the wrong reason)."""
        items = []
        for number, line in enumerate(stdout.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise AdapterFailed(
                    f"{operation}: line {number} of its stdout is not JSON ({exc}): {line[:200]!r}",
                    hint="print one JSON object per line on stdout, and logs on stderr",
                ) from None
            if not isinstance(item, dict):
                raise AdapterFailed(
                    f"{operation}: line {number} of its stdout is not a JSON object: "
                    f"{line[:200]!r}",
                    hint="print one JSON object per line on stdout, and logs on stderr",
                )
            items.append(item)
        return items

    def how_to_add(self, operation: str) -> str:
        """A command adapter gains an operation from a template of its own."""
        example = {"tick": " {now}", "recover": " {ma_gdich}"}.get(operation, "")
        return f'add --adapter-option {operation}="vendor-cli {operation}{example}"'

    def submit(self, job: Job, now: datetime) -> list[Relay]:
        path = self.write_job(job)
        values = {"dossier": str(path), "job": str(path), "folder": str(path.parent)}
        items = self.run("submit", job_id=job.job_id, now=now.isoformat(), **values)
        return self.relays(items, job.job_id, source="submit: its stdout")

    def tick(self, now: datetime) -> list[Relay]:
        if "tick" not in self.templates:
            return super().tick(now)
        return self.relays(self.run("tick", now=now.isoformat()), source="tick: its stdout")

    def recover(self, ma_gdich: str) -> list[bytes]:
        if "recover" not in self.templates:
            return super().recover(ma_gdich)
        out = []
        for number, item in enumerate(self.run("recover", ma_gdich=ma_gdich), 1):
            try:
                out.append(base64.b64decode(item["content_b64"], validate=True))
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise AdapterFailed(
                    f"recover: JSON line {number} of its stdout has no base64 content_b64: "
                    f"{json.dumps(item)[:200]}",
                    hint='print {"content_b64": "..."} per recovered message',
                ) from None
        return out

    def restart(self) -> None:
        if "restart" not in self.templates:
            super().restart()
        self.run("restart")


__all__ = ["PER_OPERATION", "CommandAdapter", "check_template"]
