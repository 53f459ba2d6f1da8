"""The ``bhxh-harness`` command: a thin skin over the library.

Every command turns a :class:`~harness.errors.UsageError` into a short message on stderr
and exit code 2; a conformance failure (breaking change, rejected dossier) is exit code 1.
This module is the top-level group and that error handling; each command lives in its own
module (``cli_catalog``, ``cli_pki``, ``cli_dossier``, the suites' ``cli.py``), loaded when named.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from harness import __version__
from harness.cli_exits import exits_on_errors, stdout_reader_may_leave
from harness.paths import working_folder

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Report harness errors as one readable paragraph, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with exits_on_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


_ELSEWHERE = {
    "catalog": "harness.cli_catalog",
    "certify": "harness.certification.cli",
    "demo": "harness.demo",
    "dossier": "harness.cli_dossier",
    "fuzz": "harness.fuzz.cli",
    "load": "harness.load.cli",
    "pki": "harness.cli_pki",
    "record": "harness.regression.cli",
    "regress": "harness.regression.cli",
    "serve": "mock_gateway.cli",
}
"""Commands defined in other modules: the module holding each (as an attribute of its name)."""


class _Main(click.Group):
    """The command group; a file the user named that cannot be read or written, or a
    network failure, is one line and a hint (exit 2), not a traceback, whichever command
    met it."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Refuse in one message when the current folder was deleted, before `--help`: a
        command's module may read it on import (hypothesis does), and every relative path
        needs it."""
        with exits_on_errors():
            working_folder()
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `bhxh-harness` alone: its help
            _show_help(exc)
        except click.UsageError as exc:  # `bhxh-harness -V`: the shape of every other refusal
            _refuse(*_click_refusal(exc))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_ELSEWHERE})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with the commands defined elsewhere among its "Did you mean"
        suggestions (click draws them from the commands already loaded)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            names = sorted({*self.commands, *_ELSEWHERE})
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=names, ctx=ctx
            ) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a command's module only when that command is named or the help lists them
        all: `catalog check`, `pki --help` or a mistyped command must not load the others'
        xmlschema, signxml, hypothesis..."""
        if cmd_name in _ELSEWHERE and cmd_name not in self.commands:
            module = importlib.import_module(_ELSEWHERE[cmd_name])
            self.add_command(getattr(module, cmd_name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        _tolerate_narrow_terminals()
        signal.signal(signal.SIGTERM, _terminated)  # load and serve install their own
        try:
            with stdout_reader_may_leave():
                return super().invoke(ctx)
        except KeyboardInterrupt:  # click would say "Aborted!" and exit 1, like a FAILED run
            click.echo("\ninterrupted: stopped before it finished", err=True)
            _write_interrupted(signal.SIGINT)
            sys.exit(130)
        except _Terminated:
            click.echo("terminated: stopped before it finished", err=True)
            _write_interrupted(signal.SIGTERM)
            sys.exit(143)
        except click.exceptions.NoArgsIsHelpError as exc:  # `bhxh-harness catalog`: its help
            _show_help(exc)
        except click.UsageError as exc:  # an option's value click refused: the same shape
            _refuse(*_click_refusal(exc))
        except BrokenPipeError:  # stderr's reader left (stdout's is handled above): stop
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:  # requests' errors too (imported there, not at start-up)
            _refuse(*_what_failed(exc))
        except UnicodeEncodeError as exc:
            if not _locale_cannot_write(exc):
                raise
            _refuse(
                f"cannot write {_unwritable_line(exc)!r} under this locale (file names in "
                f"{sys.getfilesystemencoding()})",
                "run under a UTF-8 locale (LC_ALL=C.UTF-8 or PYTHONUTF8=1), or use ASCII file "
                "and folder names",
            )


def _locale_cannot_write(exc: UnicodeEncodeError) -> bool:
    """Text Python cannot write here: under an ASCII locale (``PYTHONUTF8=0 LC_ALL=C``) a
    non-ASCII file name, or an argument's bytes kept as surrogate escapes."""
    encoding = sys.getfilesystemencoding().lower().replace("-", "")
    return encoding != "utf8" or "surrogates" in exc.reason


def _unwritable_line(exc: UnicodeEncodeError) -> str:
    """The line holding what could not be encoded (the path, most often), printable."""
    from harness.reporting.writers import readable

    start = exc.object.rfind("\n", 0, exc.start) + 1
    end = exc.object.find("\n", exc.end)
    return readable(exc.object[start : None if end == -1 else end].strip())[:160]


def _what_failed(exc: OSError) -> tuple[str, str]:
    """The message and hint for a file the user named or a network failure."""
    import requests

    if isinstance(exc, requests.JSONDecodeError):  # a RequestException, but something answered
        return (
            f"an answer was not the JSON expected ({exc})",
            "check that the URL is the gateway's (or the hook's) and not a proxy or a "
            "login page answering in its place",
        )
    if isinstance(exc, requests.RequestException):
        return (
            f"the gateway stopped answering: {exc}",
            "check that it is still running and reachable, and its TLS options "
            "(--ca-bundle, --insecure)",
        )
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"{where}{exc.strerror or exc}", "check the path, that its folder exists and is writable"


class _Terminated(BaseException):  # like KeyboardInterrupt: no `except Exception` stops it
    """SIGTERM, raised where the command is, so its ``with`` blocks clean up (scratch
    folders such as /tmp/bhxh-certify-* were left behind, 3-9 MB each)."""


def _terminated(_signum: int, _frame: object) -> None:
    raise _Terminated


def _write_interrupted(signum: int) -> None:
    """A suite stopped halfway still gets its report, marked interrupted. Called while the
    stop is being handled: its traceback keeps the stopped run's bundle alive."""
    bundle = sys.modules.get("harness.reporting.bundle")  # not loaded: no run made one
    if bundle is None:
        return
    for stop in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut it short
        signal.signal(stop, signal.SIG_IGN)
    for folder in bundle.write_interrupted(signum):
        click.echo(f"partial report (interrupted): {folder / 'index.html'}", err=True)


def _tolerate_narrow_terminals() -> None:
    """Print Vietnamese on a terminal or redirect that cannot encode it (ASCII under
    ``PYTHONUTF8=0 LC_ALL=C``, cp1258 on Windows) with replacement characters, instead of
    dying in a UnicodeEncodeError after the report is written."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (getattr(stream, "encoding", "") or "").lower() not in (
            "utf-8",
            "utf8",
        ):
            with contextlib.suppress(Exception):  # not a text stream we may reconfigure
                reconfigure(errors="replace")


def _click_refusal(exc: click.UsageError) -> tuple[str, str]:
    """Click's message for an option it refused (``Invalid value for '--port': 'abc' is
    not a valid integer.``) and a hint naming the command's help, as every other usage
    error says it; click's own "Did you mean" lines join the hint."""
    first, *more = exc.format_message().splitlines()
    command = exc.ctx.command_path if exc.ctx is not None else "bhxh-harness"
    return first, " ".join([*(m.strip() for m in more if m.strip()), f"see `{command} --help`"])


def _show_help(exc: click.exceptions.NoArgsIsHelpError) -> NoReturn:
    """A group named without a subcommand: its help, as click prints it (on stderr, exit 2:
    nothing was done), not flattened into an error line."""
    exc.show()
    sys.exit(exc.exit_code)


def _refuse(message: str, hint: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    click.echo(f"Hint: {hint}", err=True)
    sys.exit(2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bhxh-harness")
def main() -> None:
    """Conformance and regression testbed for BHXH's electronic-transaction gateway.

    Start with `bhxh-harness demo`: it runs the mock gateway in-process, submits a signed
    dossier of every procedure through the reference I-VAN and writes a report.
    """
