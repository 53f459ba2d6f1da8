"""How a command ends on a harness error: one line (and its hint), never a traceback, and an
exit code that says whose problem it is, the same in every command."""

from __future__ import annotations

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


__all__ = ["UNAVAILABLE", "USAGE", "exits_on_errors"]
