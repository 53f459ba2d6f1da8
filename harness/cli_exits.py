"""How a command ends on a harness error: one line (and its hint), never a traceback, and an
exit code that says whose problem it is, the same in every command."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from harness.errors import GatewayUnavailable, HarnessError, UsageError

USAGE = 2
"""The harness was used wrongly (nothing judged)."""
UNAVAILABLE = 3
"""The gateway stopped answering during the run (no verdict)."""


@contextmanager
def exits_on_errors() -> Iterator[None]:
    """``UsageError`` exits 2, ``GatewayUnavailable`` 3, any other ``HarnessError`` 1."""
    try:
        yield
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(USAGE)
    except GatewayUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(UNAVAILABLE)
    except HarnessError as exc:
        click.echo(f"failed: {exc}", err=True)
        sys.exit(1)


class _ReaderMayLeave(io.RawIOBase):
    """File descriptor 1 that, once its reader has left (EPIPE), sends the rest to
    /dev/null: ``bhxh-harness demo | head -3`` finishes its run and exits with its verdict,
    which ``set -o pipefail`` reads, instead of exit 1 at the first line not read."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.left = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if not self.left:
            try:
                return os.write(self._fd, data)
            except BrokenPipeError:
                self.left = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._fd)
                os.close(devnull)
        return len(data)


@contextmanager
def stdout_reader_may_leave() -> Iterator[None]:
    """Run a command with stdout (when it is the process's own, not a test's capture)
    written through :class:`_ReaderMayLeave`; :func:`delivered` says whether all of it
    was read."""
    stream = sys.stdout
    fd = _descriptor(stream)
    if fd is None or not isinstance(stream, io.TextIOWrapper):
        yield
        return
    stream.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_ReaderMayLeave(fd)),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = stream


def _descriptor(stream: object) -> int | None:
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # a test's capture: no descriptor
        return None


def delivered(what: str) -> None:
    """For a command whose stdout is its product (``dossier build`` without ``-o``): exit 1
    when the reader left before reading all of ``what``, since a truncated dossier must not
    pass a pipeline as made."""
    sys.stdout.flush()
    reader = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    if isinstance(reader, _ReaderMayLeave) and reader.left:
        click.echo(f"failed: {what} was not written in full: stdout was closed first", err=True)
        sys.exit(1)


__all__ = ["UNAVAILABLE", "USAGE", "delivered", "exits_on_errors", "stdout_reader_may_leave"]
